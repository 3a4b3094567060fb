"""Log a problem once per process, however often it is met again.

Pollers and monitors re-read the registry every few seconds: a stored row or record that does not
validate must be said once, not every cycle, and must neither stop the readers nor fill the log.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable

_logged: set[tuple[str, str, tuple[Hashable, ...]]] = set()
"""(logger, message, arguments) already logged by this process."""


def error_once(log: logging.Logger, message: str, *args: Hashable) -> None:
    """``log.error(message, *args)``, the first time this process meets these very arguments."""
    key = (log.name, message, args)
    if key not in _logged:
        _logged.add(key)
        log.error(message, *args)
