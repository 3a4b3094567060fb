"""Alerting: turn the monitors' state changes into routed, escalated, acknowledged notifications.

Entry point for the serving process: :class:`monitors.alerting.service.AlertingService`.
"""
