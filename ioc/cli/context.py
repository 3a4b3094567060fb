"""Running a command's async body against the platform, with registry errors turned into CLI errors."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.crypto import SecretBoxError
from device_registry.errors import ImportRejected, RegistryError
from ioc.cli.output import CliError, device_error, stderr_console
from ioc.runtime import Platform
from ioc.settings import Settings
from provisioning.errors import DeviceError

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
    except SecretBoxError as error:
        raise CliError(str(error)) from None


def in_transaction(body: Callable[[Platform, AsyncSession], Awaitable[T]], *, create_key: bool = False) -> T:
    """Open the platform, run ``body`` in one transaction (all or nothing), close the platform."""

    async def main() -> T:
        platform = Platform.open(Settings(), create_key=create_key)
        try:
            async with platform.sessions() as session, session.begin():
                return await body(platform, session)
        finally:
            await platform.close()

    return run(main())


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr (stdout stays clean for --json); yields an ``update(done, total)``."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr_console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update
