"""mqtt: per-device broker credentials, dead letters, last-seen times

Revision ID: mqtt_0001
Revises: 0001_registry
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mqtt_0001"
down_revision: str | Sequence[str] | None = "0001_registry"
branch_labels: str | Sequence[str] | None = ("mqtt",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mqtt_credentials",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_mqtt_credentials_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_mqtt_credentials")),
    )
    op.create_table(
        "mqtt_dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("topic", sa.String(length=256), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=1024), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mqtt_dead_letters")),
    )
    op.create_index(op.f("ix_mqtt_dead_letters_device_id"), "mqtt_dead_letters", ["device_id"])
    op.create_index(op.f("ix_mqtt_dead_letters_reason"), "mqtt_dead_letters", ["reason"])
    op.create_table(
        "mqtt_last_seen",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_mqtt_last_seen_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_mqtt_last_seen")),
    )


def downgrade() -> None:
    op.drop_table("mqtt_last_seen")
    op.drop_index(op.f("ix_mqtt_dead_letters_reason"), table_name="mqtt_dead_letters")
    op.drop_index(op.f("ix_mqtt_dead_letters_device_id"), table_name="mqtt_dead_letters")
    op.drop_table("mqtt_dead_letters")
    op.drop_table("mqtt_credentials")
