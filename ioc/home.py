"""IOC_HOME holds the registry database, the telemetry spool and the secret key: private to the user
that runs the platform, whatever the umask says."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

HOME_MODE = 0o700
DATABASE_MODE = 0o600


def prepare_home(home: Path) -> None:
    """Create IOC_HOME 0700 (and tighten an existing one: it is ours alone)."""
    home.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(home.stat().st_mode) != HOME_MODE:
        home.chmod(HOME_MODE)


def prepare_sqlite_file(database_url: str) -> None:
    """Create the SQLite file 0600 before SQLAlchemy does (it would follow the umask), and tighten an
    existing one. Other databases keep their files elsewhere."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, DATABASE_MODE)
    os.close(fd)
    if stat.S_IMODE(path.stat().st_mode) != DATABASE_MODE:
        path.chmod(DATABASE_MODE)


def warn_if_readable_by_others(path: Path) -> bool:
    """A key file others can read decrypts every stored credential: say so (once per start)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "secret key file %s is readable by group or others (mode %o): run `chmod 600 %s`",
            path,
            mode,
            path,
        )
        return True
    return False
