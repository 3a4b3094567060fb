"""Composition root: settings, app assembly and the ``ioc`` command line."""

import sys

# httpx imports its own command line (rich, click, pygments: ~130 modules) whenever those are installed,
# as the ``ioc`` CLI makes them; a missing ``httpx._main`` is its documented fallback. Set here, in the
# composition root, so every ``ioc`` process (CLI, serve, ingest workers) skips it wherever httpx is
# first imported.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
