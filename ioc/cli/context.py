"""Running a command's async body against the platform, with registry errors turned into CLI errors."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from device_registry.authz import Principal
from device_registry.crypto import SecretBoxError
from device_registry.errors import ImportRejected, NotFound, RegistryError
from ioc.cli.output import CliError, console, device_error
from monitors.alerting.errors import AlertingError
from provisioning.errors import DeviceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from device_registry.models import User
    from ioc.runtime import Platform

T = TypeVar("T")


def cli_principal() -> Principal:
    return Principal.system(f"cli:{getpass.getuser()}")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """The one runner of a command's async body: each domain error becomes its ``CliError`` here."""
    try:
        return asyncio.run(coro)
    except DeviceError as error:
        raise device_error(error) from None
    except ImportRejected as error:
        raise CliError(str(error), exit_code=2, details=[str(e) for e in error.errors]) from None
    except RegistryError as error:
        raise CliError(str(error), exit_code=2) from None
    except AlertingError as error:
        field = getattr(error, "field", None)
        raise CliError(str(error), exit_code=2, details=field and {"field": field}) from None
    except SecretBoxError as error:
        raise CliError(str(error)) from None


def with_platform(body: Callable[[Platform], Awaitable[T]], *, create_key: bool = False) -> T:
    """Open the platform, run ``body``, close the platform."""
    from ioc.runtime import Platform
    from ioc.settings import Settings

    async def main() -> T:
        platform = Platform.open(Settings(), create_key=create_key)
        try:
            return await body(platform)
        finally:
            await platform.close()

    return run(main())


def in_transaction(body: Callable[[Platform, AsyncSession], Awaitable[T]], *, create_key: bool = False) -> T:
    """Open the platform, run ``body`` in one transaction (all or nothing), close the platform."""

    async def in_one(platform: Platform) -> T:
        async with platform.sessions() as session, session.begin():
            return await body(platform, session)

    return with_platform(in_one, create_key=create_key)


async def registry_user(session: AsyncSession, username: str) -> User:
    """The registry user named on the command line (or the login), or a usage error naming the field."""
    from sqlalchemy import select

    from device_registry.models import User

    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no registry user {username!r}", field="username")
    return user


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (stdout stays clean for --json); yields an ``update(done, total)``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
