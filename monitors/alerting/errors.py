"""Typed failures of alerting: configuration rejected with a reason, lifecycle misuse, delivery results."""

from __future__ import annotations


class AlertingError(Exception):
    """Base of every alerting failure the CLI and API turn into a clear message."""


class AlertConfigError(AlertingError):
    """Configuration rejected before anything is written; ``field`` names what was wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class AlertNotFound(AlertingError):
    def __init__(self, alert_id: int) -> None:
        super().__init__(f"alert {alert_id} does not exist")
        self.alert_id = alert_id


class AlertStateError(AlertingError):
    """The transition asked for is not allowed from the alert's current status."""


class DeliveryError(Exception):
    """A channel or Grafana refused or could not be reached. ``retryable`` decides the outbox's next move.

    The message never contains the channel URL: apprise URLs carry passwords and bot tokens.
    """

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
