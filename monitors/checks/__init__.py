"""Health checks: one small interface (``Check.run(target) -> CheckResult``), one module per kind of check."""

from monitors.checks.base import Check, CheckResult

__all__ = ["Check", "CheckResult"]
