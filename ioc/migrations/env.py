"""Alembic environment for the platform's one database.

Lives in the composition root because it must see every package's tables (registry, monitors,
alerting, dead letters), and only ``ioc`` may import them all.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import device_registry.models  # noqa: F401  (registers tables)
import monitors.alerting.models
import monitors.models  # noqa: F401
import provisioning.mqtt.models  # noqa: F401  (mqtt_credentials)
import telemetry.ingest.models  # noqa: F401  (mqtt_last_seen, mqtt_dead_letters)
from device_registry.db import Base, create_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
