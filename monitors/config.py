"""Monitoring settings: how many failures make a device DOWN, how often to check, when it flaps.

One :class:`StatePolicy` per device kind (``kinds``), falling back to ``default``. Mounted on
``ioc.settings.Settings.monitors`` (env ``IOC_MONITORS__DEFAULT__FAIL_THRESHOLD=5`` and so on).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StatePolicy(BaseModel):
    """Thresholds of the per-device state machine (the soft/hard idea of Icinga's checkables)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    fail_threshold: int = Field(default=3, ge=1, description="consecutive failures: SOFT_DOWN -> DOWN")
    recover_threshold: int = Field(default=2, ge=1, description="consecutive successes: DOWN -> UP")
    interval_s: float = Field(default=60.0, gt=0, description="check period while UP")
    retry_interval_s: float = Field(
        default=10.0, gt=0, description="check period while SOFT_DOWN: DOWN confirmed fast"
    )
    flap_enter_changes: int = Field(default=4, ge=2, description="hard changes within the window: FLAPPING")
    flap_leave_changes: int = Field(default=1, ge=0, description="this many or fewer: calm")
    flap_window_s: float = Field(default=1800.0, gt=0)

    @model_validator(mode="after")
    def _hysteresis(self) -> StatePolicy:
        if self.flap_leave_changes >= self.flap_enter_changes:
            raise ValueError("flap_leave_changes must be below flap_enter_changes")
        return self


class MonitorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: bool = True
    default: StatePolicy = Field(default_factory=StatePolicy)
    kinds: dict[str, StatePolicy] = Field(default_factory=dict, description="policy per device kind")
    tick_s: float = Field(default=1.0, gt=0, le=60, description="scheduler tick: granularity of due times")
    max_concurrency: int = Field(default=500, ge=1, description="checks in flight at once")
    check_timeout_s: float = Field(default=2.0, gt=0)
    mqtt_publish_interval_s: float = Field(
        default=60.0,
        gt=0,
        description="how often MQTT devices publish: silent for three of these, their freshness check fails",
    )
    clock_drift_warn_s: float = Field(
        default=300.0,
        gt=0,
        description="a camera clock off by more than this is reported (the check's reason starts "
        "clock_drift); five minutes is the usual WS-Security window, past which logins fail",
    )
    registry_refresh_s: float = Field(
        default=30.0, gt=0, description="how often registry changes (devices, uplinks, windows) are picked up"
    )
    parent_check_fresh_s: float = Field(
        default=10.0, ge=0, description="an uplink observed this recently is not re-checked on demand"
    )

    def policy_for(self, kind: str) -> StatePolicy:
        return self.kinds.get(kind, self.default)
