"""The hand-written migration mqtt_0001 creates exactly what the models declare."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from device_registry.db import Base
from provisioning.mqtt import models  # noqa: F401  (registers the table)
from telemetry.ingest import models as ingest_models  # noqa: F401

MQTT_TABLES = {"mqtt_credentials", "mqtt_dead_letters", "mqtt_last_seen"}


def test_migration_matches_the_mqtt_models(sqlite_template: Path) -> None:
    engine = create_engine(f"sqlite:///{sqlite_template}")
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    ours = [diff for diff in diffs if any(table in repr(diff) for table in MQTT_TABLES)]
    assert ours == []
