"""`ioc users …` and `ioc credentials …`: people, scopes, tokens and stored device credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.credentials import Credential, SnmpCommunityCredential, UsernamePasswordCredential
from device_registry.models import Credential as CredentialRow
from device_registry.models import Role, Site, User
from device_registry.models.types import utcnow
from device_registry.queries.audit import AuditFilter, list_audit
from device_registry.schemas.bounds import MAX_ROW_ID
from device_registry.schemas.users import TokenCreate, UserCreate, UserUpdate
from device_registry.services import users as service
from device_registry.services.credentials import create_credential, visible_clause
from ioc.cli.context import cli_principal, in_transaction, registry_user
from ioc.cli.main import app
from ioc.cli.output import CliError, console, emit, print_table
from ioc.runtime import Platform

users_app = typer.Typer(help="Users, roles, scopes and API tokens.", no_args_is_help=True)
credentials_app = typer.Typer(help="Stored device credentials (write-only secrets).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(credentials_app, name="credentials")
app.add_typer(audit_app, name="audit")


@users_app.command("add")
def add(
    username: str,
    role: Role = typer.Option(..., help="admin, engineer, operator or maintenance"),
    scope: str | None = typer.Option(None, help="Site code: the user's subtree (none = everything)."),
    full_name: str = typer.Option(""),
    email: str | None = typer.Option(None),
    token: bool = typer.Option(True, help="Also issue an API token (printed once)."),
) -> None:
    """Create a user (and an API token)."""

    async def body(platform: Platform, session: AsyncSession) -> dict[str, Any]:
        principal = cli_principal()
        data = UserCreate(
            username=username, role=role, scope_site_code=scope, full_name=full_name, email=email
        )
        user = await service.create_user(session, principal, data)
        view = (await service.user_view(session, user)).model_dump(mode="json")
        if token:
            view["token"] = (
                await service.issue_token(
                    session, principal, user, TokenCreate(name="cli"), platform.settings.tokens.lifetime
                )
            ).token
        return view

    def human(d: dict[str, Any]) -> None:
        console().print(f"user {d['username']} ({d['role']}) created, id {d['id']}")
        if d.get("token"):
            console().print("token (shown once):")
            console().print(d["token"], markup=False, highlight=False)

    emit(in_transaction(body), human)


@users_app.command("list")
def list_() -> None:
    """List users with their role and scope."""

    async def body(_: Platform, session: AsyncSession) -> list[dict[str, Any]]:
        users = (await session.scalars(select(User).order_by(User.id))).all()
        return [(await service.user_view(session, u)).model_dump(mode="json") for u in users]

    emit(
        in_transaction(body),
        lambda rows: print_table(
            "users",
            ["id", "username", "role", "scope", "frozen", "active"],
            [
                (
                    u["id"],
                    u["username"],
                    u["role"],
                    u["scope_site_code"] or "(all)",
                    u["scope_frozen"],
                    u["active"],
                )
                for u in rows
            ],
        ),
    )


@users_app.command("update")
def update(
    username: str,
    role: Role | None = typer.Option(None),
    scope: str | None = typer.Option(None, help="New scope site code (clears a frozen scope)."),
    clear_scope: bool = typer.Option(False, help="Remove the scope: the user sees everything."),
    active: bool | None = typer.Option(None, "--active/--inactive"),
) -> None:
    """Change a user's role, scope or state."""

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        data = UserUpdate(role=role, scope_site_code=scope, clear_scope=clear_scope, active=active)
        target = await registry_user(session, username)
        user = await service.update_user(session, cli_principal(), target, data)
        return (await service.user_view(session, user)).model_dump(mode="json")

    emit(
        in_transaction(body),
        lambda d: console().print(
            f"user {d['username']}: {d['role']}, scope {d['scope_site_code'] or '(all)'}"
        ),
    )


def parse_expires(value: str, now: datetime) -> datetime:
    """``30d``, ``12h`` or an ISO 8601 date-time with its offset (a bare date: midnight UTC)."""
    text = value.strip().lower()
    if text[:-1].isdigit() and text[-1:] in ("d", "h") and int(text[:-1]) > 0:
        amount = int(text[:-1])
        if amount > 3650 * 24:
            raise CliError("--expires: too far in the future", exit_code=2)
        return now + (timedelta(days=amount) if text[-1] == "d" else timedelta(hours=amount))
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError("--expires: give 30d, 12h or an ISO 8601 time with its offset", exit_code=2) from None
    if parsed.tzinfo is None:
        if len(value.strip()) > 10:
            raise CliError("--expires: include a UTC offset, e.g. 2027-01-31T17:00:00+07:00", exit_code=2)
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@users_app.command("token")
def token(
    username: str,
    name: str = typer.Option("cli"),
    expires: str | None = typer.Option(
        None,
        "--expires",
        help="30d, 12h or an ISO 8601 time (default: settings tokens.default_lifetime_days).",
    ),
) -> None:
    """Issue another API token for a user (printed once); it expires like every token."""

    async def body(platform: Platform, session: AsyncSession) -> dict[str, Any]:
        expires_at = parse_expires(expires, utcnow()) if expires else None
        issued = await service.issue_token(
            session,
            cli_principal(),
            await registry_user(session, username),
            TokenCreate(name=name, expires_at=expires_at),
            platform.settings.tokens.lifetime,
        )
        return issued.model_dump(mode="json")

    def human(d: dict[str, Any]) -> None:
        console(stderr=True).print(f"token {d['id']} expires at {d['expires_at']} (shown once):")
        console().print(d["token"], markup=False, highlight=False)

    emit(in_transaction(body), human)


@users_app.command("tokens")
def tokens(username: str) -> None:
    """A user's API tokens: prefix, expiry, last use, revoked or not (never the token itself)."""

    async def body(_: Platform, session: AsyncSession) -> list[dict[str, Any]]:
        user = await registry_user(session, username)
        return [
            t.model_dump(mode="json") for t in await service.list_tokens(session, cli_principal(), user.id)
        ]

    emit(
        in_transaction(body),
        lambda rows: print_table(
            f"tokens of {username}",
            ["id", "name", "prefix", "created", "expires", "last used", "revoked"],
            [
                (
                    t["id"],
                    t["name"],
                    t["prefix"],
                    t["created_at"],
                    t["expires_at"],
                    t["last_used_at"],
                    t["revoked"],
                )
                for t in rows
            ],
        ),
    )


@users_app.command("revoke-token")
def revoke_token(
    token_id: int | None = typer.Argument(
        None, min=1, max=MAX_ROW_ID, help="Token id (see `ioc users tokens`)."
    ),
    all_: bool = typer.Option(False, "--all", help="Revoke every token of --user."),
    user: str | None = typer.Option(None, "--user", help="With --all: whose tokens."),
) -> None:
    """Revoke one token by id, or every token of a user with ``--all --user NAME``."""
    if all_ == (token_id is not None) or (all_ and not user):
        raise CliError("give a token id, or --all --user NAME", exit_code=2)

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        if token_id is not None:
            await service.revoke_token(session, cli_principal(), token_id)
            return {"revoked": 1, "token_id": token_id}
        owner = await registry_user(session, user or "")
        return {"revoked": await service.revoke_all_tokens(session, cli_principal(), owner), "user": user}

    emit(in_transaction(body), lambda d: console().print(f"{d['revoked']} token(s) revoked"))


@credentials_app.command("add")
def add_credential(
    name: str,
    protocol: str = typer.Option(..., help="snmp (v1/v2c community), onvif, rtsp or http"),
    community: str | None = typer.Option(None, help="SNMP community (prompted when omitted)."),
    snmp_version: str = typer.Option("2c", help="1 or 2c"),
    username: str | None = typer.Option(None),
    password: str | None = typer.Option(
        None, help="Prompted when omitted; avoid putting it in shell history."
    ),
    site: str | None = typer.Option(
        None, help="Owning site code: only devices in its subtree may use it (default: registry-wide)."
    ),
) -> None:
    """Store a credential under a name that devices and imports refer to."""
    value: Credential
    if protocol == "snmp":
        secret = community or typer.prompt("community", hide_input=True)
        if snmp_version not in ("1", "2c"):
            raise CliError("--snmp-version: 1 or 2c")
        value = SnmpCommunityCredential(
            community=SecretStr(secret), version="1" if snmp_version == "1" else "2c"
        )
    elif protocol in ("onvif", "rtsp", "http"):
        if not username:
            raise CliError("--username is required for this protocol")
        secret = password or typer.prompt("password", hide_input=True)
        value = UsernamePasswordCredential(protocol=protocol, username=username, password=SecretStr(secret))
    else:
        raise CliError("--protocol: snmp, onvif, rtsp or http (SNMPv3 credentials: see `ioc onboard snmp`)")

    async def body(platform: Platform, session: AsyncSession) -> dict[str, Any]:
        row = await create_credential(session, cli_principal(), platform.box, name, value, site)
        return {"id": row.id, "name": row.name, "protocol": row.protocol, "site_id": row.site_id}

    emit(in_transaction(body), lambda d: console().print(f"credential {d['name']} stored (encrypted)"))


@credentials_app.command("list")
def list_credentials() -> None:
    """Names and protocols; secrets are never shown."""

    async def body(_: Platform, session: AsyncSession) -> list[dict[str, Any]]:
        rows = (
            await session.execute(
                select(CredentialRow, Site.code)
                .outerjoin(Site, Site.id == CredentialRow.site_id)
                .where(visible_clause(cli_principal()))
                .order_by(CredentialRow.name)
            )
        ).all()
        return [{"id": r.id, "name": r.name, "protocol": r.protocol, "site": code} for r, code in rows]

    emit(
        in_transaction(body),
        lambda rows: print_table(
            "credentials",
            ["id", "name", "protocol", "site"],
            [(r["id"], r["name"], r["protocol"], r["site"] or "(all)") for r in rows],
        ),
    )


@audit_app.command("list")
def audit_list(
    object_type: str | None = typer.Option(None, help="site, device, user, token, credential"),
    object_id: int | None = typer.Option(None, min=1, max=MAX_ROW_ID),
    action: str | None = typer.Option(None),
    limit: int = typer.Option(50, min=1, max=10000),
) -> None:
    """Most recent changes first."""

    async def body(_: Platform, session: AsyncSession) -> dict[str, Any]:
        flt = AuditFilter(object_type=object_type, object_id=object_id, action=action)
        return (await list_audit(session, flt, limit)).model_dump(mode="json")

    emit(
        in_transaction(body),
        lambda d: print_table(
            "audit",
            ["at", "actor", "action", "object", "id", "name"],
            [
                (e["at"], e["actor"], e["action"], e["object_type"], e["object_id"], e["object_repr"])
                for e in d["items"]
            ],
        ),
    )
