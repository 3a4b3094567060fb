"""Alerting's part of the one ``Settings`` object (``IOC_ALERTING__...``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class GrafanaAnnotationSettings(BaseModel):
    url: str | None = Field(default=None, description="Grafana base URL; annotations are off when unset")
    token: SecretStr | None = Field(default=None, description="Service-account token (Bearer)")
    dashboard_uid: str = Field(default="ioc-fleet", description="UID of the fleet dashboard annotated")
    timeout_s: float = Field(default=5.0, gt=0)


class OutboxSettings(BaseModel):
    poll_interval_s: float = Field(default=1.0, gt=0)
    batch_size: int = Field(default=200, ge=1)
    concurrency: int = Field(default=8, ge=1, description="Deliveries running at once (threads)")
    gather_s: float = Field(
        default=0.05, ge=0, description="After a wake-up, wait this long for more rows to batch them"
    )
    base_backoff_s: float = Field(default=5.0, gt=0)
    max_backoff_s: float = Field(default=900.0, gt=0)


class AlertingSettings(BaseModel):
    timezone: str = "Asia/Ho_Chi_Minh"
    templates_dir: Path | None = Field(
        default=None,
        description="Directory of user templates (vi/firing_subject.j2, ...) overriding built-ins",
    )
    dashboard_url: str | None = Field(
        default=None, description="Link put in messages, e.g. https://grafana.example/d/ioc-fleet"
    )
    escalation_interval_s: float = Field(default=30.0, gt=0)
    grafana: GrafanaAnnotationSettings = Field(default_factory=GrafanaAnnotationSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
