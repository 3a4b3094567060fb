"""Render notification subject and body from Jinja2 templates, Vietnamese by default.

A user directory (``templates_dir/<lang>/<kind>_subject.j2`` and ``..._body.j2``) overrides the built-in
templates file by file. A broken user template must never block an alert: rendering falls back to the
built-in template and the failure is returned as ``note`` (stored on the outbox row) and logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from monitors.alerting.models import Language

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).parent / "templates"
MESSAGE_KINDS = ("firing", "flapping", "escalation", "resolved")
PATH_SEPARATOR = " › "

KIND_LABELS = {
    Language.VI: {
        "camera": "camera",
        "nvr": "đầu ghi hình",
        "switch": "bộ chuyển mạch",
        "router": "bộ định tuyến",
        "firewall": "tường lửa",
        "ups": "bộ lưu điện",
        "sensor": "cảm biến",
        "gateway": "cổng kết nối",
        "other": "thiết bị khác",
    },
    Language.EN: {},
}
SEVERITY_LABELS = {
    Language.VI: {"critical": "NGHIÊM TRỌNG", "warning": "CẢNH BÁO", "info": "THÔNG TIN"},
    Language.EN: {"critical": "CRITICAL", "warning": "WARNING", "info": "INFO"},
}
TIME_FORMAT = {Language.VI: "%H:%M ngày %d/%m/%Y", Language.EN: "%Y-%m-%d %H:%M"}


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    note: str | None = None
    """Set when a user template failed and the built-in one was used instead."""


def _environment(folder: Path) -> jinja2.Environment:
    """Sandboxed and immutable: a template can format the values it is given, never reach Python's
    internals (``__class__.__mro__``, ``__globals__``, ``os``) or change the values it is given."""
    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        auto_reload=False,  # no stat() per message on the event loop; edited templates need a restart
    )


def format_duration(delta: timedelta, language: Language) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    units = ("ngày", "giờ", "phút") if language == Language.VI else ("d", "h", "min")
    parts = [f"{value} {unit}" for value, unit in zip((days, hours, minutes), units, strict=True) if value]
    return " ".join(parts) or f"0 {units[2]}"


class MessageRenderer:
    def __init__(self, *, timezone: str = "Asia/Ho_Chi_Minh", user_dir: Path | None = None) -> None:
        self._zone = ZoneInfo(timezone)
        self._builtin = _environment(BUILTIN_DIR)
        self._user = _environment(user_dir) if user_dir is not None else None
        self._reported: set[str] = set()

    def local_time(self, at: datetime, language: Language) -> str:
        return at.astimezone(self._zone).strftime(TIME_FORMAT[language])

    def context(self, alert_context: Mapping[str, Any], language: Language, **extra: Any) -> dict[str, Any]:
        """Template variables from an alert's stored context plus message-specific ``extra``."""
        path = list(alert_context.get("site_path") or [])
        kind = str(alert_context.get("device_kind", ""))
        severity = str(alert_context.get("severity", "critical"))
        started = datetime.fromisoformat(alert_context["started_at"])
        values: dict[str, Any] = {
            "alert_id": alert_context["alert_id"],
            "device_name": alert_context.get("device_name", ""),
            "device_kind": kind,
            "kind_label": KIND_LABELS[language].get(kind, kind),
            "site_path": path,
            "site_path_text": PATH_SEPARATOR.join(path) or "?",
            "site_leaf": path[-1] if path else "?",
            "site_codes": list(alert_context.get("site_codes") or []),
            "severity": severity,
            "severity_label": SEVERITY_LABELS[language].get(severity, severity),
            "since": self.local_time(started, language),
            "reason": alert_context.get("reason", ""),
            "affected_count": alert_context.get("affected_count", 0),
            "root_cause_name": alert_context.get("root_cause_name"),
            "dashboard_url": alert_context.get("dashboard_url"),
            "escalation_level": 0,
            "minutes_open": 0,
            "resolved_by": None,
            "until": "",
            "duration": "",
        }
        ended = extra.pop("ended_at", None)
        if ended is not None:
            values["until"] = self.local_time(ended, language)
            values["duration"] = format_duration(ended - started, language)
        values.update(extra)
        return values

    def render(self, kind: str, language: Language, values: Mapping[str, Any]) -> Rendered:
        if self._user is not None:
            try:
                subject = self._render(self._user, language, kind, "subject", values)
                body = self._render(self._user, language, kind, "body", values)
                return Rendered(subject, body)
            except jinja2.TemplateNotFound:
                pass
            except Exception as error:  # a user template may fail in any way; the alert must not
                note = f"template {language}/{kind} failed ({type(error).__name__}: {error}); built-in used"
                if note not in self._reported:
                    self._reported.add(note)
                    log.warning("%s", note)
                built = self.render_builtin(kind, language, values)
                return Rendered(built.subject, built.body, note)
        return self.render_builtin(kind, language, values)

    def render_builtin(self, kind: str, language: Language, values: Mapping[str, Any]) -> Rendered:
        subject = self._render(self._builtin, language, kind, "subject", values)
        body = self._render(self._builtin, language, kind, "body", values)
        return Rendered(subject, body)

    @staticmethod
    def _render(
        env: jinja2.Environment, language: Language, kind: str, part: str, values: Mapping[str, Any]
    ) -> str:
        text = env.get_template(f"{language}/{kind}_{part}.j2").render(values)
        return " ".join(text.split()) if part == "subject" else text.strip() + "\n"
