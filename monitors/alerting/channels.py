"""Notification channels through apprise: validate a URL when configured, send one message when delivered.

apprise is synchronous (it uses requests and smtplib): :func:`send` blocks and is only ever called from a
worker thread by the outbox. An apprise URL may carry a password or bot token, so neither the URL nor
apprise's own log lines (which may quote it) leave this module; errors name the service instead.
"""

from __future__ import annotations

import logging

import apprise

from monitors.alerting.errors import AlertConfigError, DeliveryError

logging.getLogger(apprise.logger.name).propagate = False
"""apprise logs every failed attempt, sometimes quoting the URL. Its lines are captured into the typed
errors below and recorded on each delivery row instead; the outbox logs a failing channel once."""


def _without(text: str, secret: str) -> str:
    return text.replace(secret, "<url>") if secret else text


def validate_url(url: str, *, field: str = "url") -> str:
    """The service name apprise recognised (e.g. ``JSON``, ``E-Mail``); raises with apprise's reason."""
    if not url.strip():
        raise AlertConfigError(field, "an apprise URL is required")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        lines = [line.split(" - ", 2)[-1] for line in captured.getvalue().splitlines() if line.strip()]
        reason = "; ".join(_without(line, url) for line in lines) or "not a URL apprise supports"
        raise AlertConfigError(field, f"invalid apprise URL: {reason}")
    return str(plugin.service_name)


def redacted(url: str) -> str:
    """The URL as apprise prints it with secrets masked, for listings."""
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    return str(plugin.url(privacy=True)) if plugin is not None else "<invalid>"


def send(url: str, subject: str, body: str, *, timeout: float = 30.0) -> None:
    """Hand one message to the channel; returns when accepted, raises :class:`DeliveryError` otherwise.

    apprise reports only success or failure, so every failure is treated as retryable: a dead SMTP
    server and a rejected message look alike from here, and retrying a rejected one costs little.
    """
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise DeliveryError("channel URL is no longer valid", retryable=False)
    result = notifier.notify(body=body, title=subject, body_format=apprise.NotifyFormat.TEXT, timeout=timeout)
    if result.failed_count or not result.success_count:
        messages = [
            _without(entry.message, url) for entry in result.logs() if entry.level in ("WARNING", "ERROR")
        ]
        service = next(iter(notifier)).service_name
        raise DeliveryError(f"{service}: {'; '.join(messages) or 'not delivered'}", retryable=True)
