"""`ioc init`, `ioc migrate`, `ioc serve`: setting the platform up and running it."""

from __future__ import annotations

import asyncio
import logging

import typer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.models import Role, User
from device_registry.schemas.users import TokenCreate, UserCreate
from device_registry.services.users import create_user as create_user_service
from device_registry.services.users import issue_token
from ioc.cli.context import cli_principal, in_transaction, run
from ioc.cli.main import app
from ioc.cli.output import CliError, console, emit
from ioc.home import prepare_home, prepare_sqlite_file
from ioc.migrate import upgrade
from ioc.runtime import Platform, seal_clear_secrets, secret_box
from ioc.services import SERVICES, serve_until_signalled
from ioc.settings import Settings


@app.command()
def init(
    admin: str = typer.Option("admin", help="User name of the first administrator."),
    new_token: bool = typer.Option(False, help="Issue another token for the administrator."),
) -> None:
    """Create IOC_HOME, the secret key and the database; print the first admin token once."""
    settings = Settings()
    prepare_home(settings.home)
    prepare_sqlite_file(settings.effective_database_url)
    secret_box(settings, create=True)
    upgrade(settings.effective_database_url)

    async def body(platform: Platform, session: AsyncSession) -> dict[str, object]:
        principal = cli_principal()
        user = await session.scalar(select(User).where(User.username == admin))
        created = False
        if user is None:
            if await session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN)):
                raise CliError(f"another administrator exists; `ioc users add {admin} --role admin` instead")
            user = await create_user_service(session, principal, UserCreate(username=admin, role=Role.ADMIN))
            created = True
        token = None
        if created or new_token:
            lifetime = platform.settings.tokens.lifetime
            token = (
                await issue_token(session, principal, user, TokenCreate(name="ioc init"), lifetime)
            ).token
        return {
            "home": str(settings.home),
            "database": settings.display_database_url,
            "admin": admin,
            "admin_created": created,
            "token": token,
        }

    result = in_transaction(body)

    def human(data: dict[str, object]) -> None:
        console().print(f"IOC_HOME: {data['home']}\ndatabase: {data['database']}")
        if data["token"]:
            console().print(f"admin token for [bold]{admin}[/] (shown once, keep it safe):")
            console().print(str(data["token"]), markup=False, highlight=False)
        else:
            console().print("already initialised; `ioc init --new-token` issues another admin token")

    emit(result, human)


@app.command()
def migrate() -> None:
    """Apply database migrations (``ioc init`` does this too), then seal secrets stored in clear by
    earlier versions (alert channel URLs), which needs the secret key."""
    settings = Settings()
    prepare_home(settings.home)
    prepare_sqlite_file(settings.effective_database_url)
    upgrade(settings.effective_database_url)
    try:
        sealed: int | None = in_transaction(lambda platform, _: seal_clear_secrets(platform))
    except CliError as error:  # no key here: `ioc serve` seals them at its start
        console(stderr=True).print(f"channel URLs not sealed: {error}", markup=False, highlight=False)
        sealed = None

    def human(d: dict[str, object]) -> None:
        console().print(f"database at head: {d['database']}")
        if d["sealed_channel_urls"]:
            console().print(f"sealed {d['sealed_channel_urls']} channel URL(s) stored in clear")

    emit({"database": settings.display_database_url, "migrated": True, "sealed_channel_urls": sealed}, human)


@app.command()
def serve(
    only: list[str] = typer.Option([], "--only", help=f"Run only these services: {', '.join(SERVICES)}."),
    host: str | None = typer.Option(None, help="API bind address (default from settings)."),
    port: int | None = typer.Option(None, help="API port (default from settings)."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=16, help="With --only ingest: N ingest processes under one supervisor."
    ),
) -> None:
    """Run every configured service in one process (or ``--only NAME`` to scale one out)."""
    unknown = [name for name in only if name not in SERVICES]
    if unknown:
        raise CliError(f"--only: unknown service(s) {unknown}; known: {sorted(SERVICES)}")
    if workers > 1 and only != ["ingest"]:
        raise CliError("--workers: only with --only ingest (each worker is one ingest process)")
    settings = Settings()
    if host:
        settings.api.host = host
    if port:
        settings.api.port = port
    logging.getLogger().setLevel(settings.log_level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every 1 s tick at INFO
    if only == ["ingest"]:
        from ioc.ingest_workers import exec_ingest

        upgrade(settings.effective_database_url)
        exec_ingest(workers)  # a lighter process image: see ioc/ingest_workers.py
    run(_serve(settings, only or list(SERVICES)))


async def _serve(settings: Settings, names: list[str]) -> None:
    await asyncio.to_thread(upgrade, settings.effective_database_url)
    await serve_until_signalled(settings, names)
