"""registry: shared credentials get an owning site

Existing shared credentials (names not ``device/N``) are given the deepest site that contains every
device using them today (the common ancestor of those devices' sites), so nothing that works stops
working and no wider scope is granted than the use already spans. A credential no device uses, or
one whose devices share no ancestor (two provinces), keeps ``site_id`` NULL: registry-wide, which
only unscoped users may list or reference until an admin re-creates it under a site.
Private credentials (``device/N``) need no site: their device owns them.

Revision ID: harden_api_0001_credential_owner
Revises: 0001_registry
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "harden_api_0001_credential_owner"
down_revision: str | Sequence[str] | None = "0001_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _common_site(paths: list[str], site_by_path: dict[str, int]) -> int | None:
    """The deepest site whose materialised path ("/1/7/42/") prefixes every one of ``paths``."""
    if not paths:
        return None
    parts = [p.strip("/").split("/") for p in paths]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return site_by_path.get("/" + "/".join(common) + "/") if common else None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # ADD COLUMN with its REFERENCES clause: a batch copy of the table would have to drop
        # ``credentials``, which SQLite refuses while devices reference it and foreign keys are enforced.
        op.execute(
            "ALTER TABLE credentials ADD COLUMN site_id INTEGER "
            "CONSTRAINT fk_credentials_site_id_sites REFERENCES sites (id)"
        )
    else:
        op.add_column("credentials", sa.Column("site_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_credentials_site_id_sites"), "credentials", "sites", ["site_id"], ["id"]
        )
    op.create_index(op.f("ix_credentials_site_id"), "credentials", ["site_id"], unique=False)

    bind = op.get_bind()
    site_by_path = {path: id_ for id_, path in bind.execute(sa.text("SELECT id, path FROM sites")).all()}
    uses: dict[int, list[str]] = {}
    for credential_id, path in bind.execute(
        sa.text(
            "SELECT d.credential_id, s.path FROM devices d JOIN sites s ON s.id = d.site_id "
            "JOIN credentials c ON c.id = d.credential_id WHERE c.name NOT LIKE 'device/%'"
        )
    ).all():
        uses.setdefault(credential_id, []).append(path)
    for credential_id, paths in uses.items():
        owner = _common_site(paths, site_by_path)
        if owner is not None:
            bind.execute(
                sa.text("UPDATE credentials SET site_id = :site WHERE id = :id"),
                {"site": owner, "id": credential_id},
            )


def downgrade() -> None:
    op.drop_index(op.f("ix_credentials_site_id"), table_name="credentials")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_credentials_site_id_sites"), "credentials", type_="foreignkey")
    op.drop_column("credentials", "site_id")  # SQLite >= 3.35 drops a column without a copy
