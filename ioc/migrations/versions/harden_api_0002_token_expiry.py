"""registry: every API token expires

Tokens issued before this revision had no expiry. They stay valid, but no longer forever: each live
one (not revoked) gets ``expires_at`` = the upgrade time + 90 days, the default token lifetime, so
integrations keep working while their owners replace them (``ioc users tokens NAME`` shows when).
Revoked tokens are left as they are.

Revision ID: harden_api_0002_token_expiry
Revises: harden_api_0001_credential_owner
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "harden_api_0002_token_expiry"
down_revision: str | Sequence[str] | None = "harden_api_0001_credential_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GRACE = timedelta(days=90)


def upgrade() -> None:
    tokens = sa.table(
        "api_tokens",
        sa.column("expires_at", sa.DateTime(timezone=True)),
        sa.column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        tokens.update()
        .where(tokens.c.expires_at.is_(None), tokens.c.revoked_at.is_(None))
        .values(expires_at=datetime.now(UTC) + GRACE)
    )


def downgrade() -> None:
    """Expiries cannot be told apart from ones people chose: they stay."""
