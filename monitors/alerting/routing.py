"""Pick the one route an alert follows: the most specific match wins, like Alertmanager's routing tree.

Specificity is compared as a tuple: the depth of the matched site subtree first (a commune route beats
its district's, which beats the province's), then whether the route names a device kind, then whether it
names a severity. Ties go to the route created first, so the outcome never depends on row order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitors.events import Severity

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def severity_at_least(severity: str, minimum: str) -> bool:
    return SEVERITY_RANK[Severity(severity)] >= SEVERITY_RANK[Severity(minimum)]


@dataclass(frozen=True, slots=True)
class RouteRule:
    route_id: int
    team_id: int
    site_id: int | None = None
    device_kind: str | None = None
    severity: str | None = None


def specificity(
    rule: RouteRule, ancestors: Sequence[int], kind: str, severity: str
) -> tuple[int, ...] | None:
    """None when ``rule`` does not match; otherwise a sortable score (higher is more specific)."""
    if rule.site_id is None:
        depth = 0
    elif rule.site_id in ancestors:
        depth = ancestors.index(rule.site_id) + 1
    else:
        return None
    if rule.device_kind is not None and rule.device_kind != kind:
        return None
    if rule.severity is not None and not severity_at_least(severity, rule.severity):
        return None
    return (depth, rule.device_kind is not None, rule.severity is not None, -rule.route_id)


def choose_route(
    rules: Iterable[RouteRule], ancestors: Sequence[int], kind: str, severity: str
) -> RouteRule | None:
    best: tuple[tuple[int, ...], RouteRule] | None = None
    for rule in rules:
        score = specificity(rule, ancestors, kind, severity)
        if score is not None and (best is None or score > best[0]):
            best = (score, rule)
    return best[1] if best else None
