"""The tests' face of :mod:`simulators.process`: a missing binary fails the test loudly with the Debian
install command (never a silent skip)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from simulators.process import ManagedProcess, MissingBinary, find_binary, free_port, port_free, wait_for_tcp

__all__ = ["ManagedProcess", "free_port", "port_free", "require_binary", "wait_for_tcp"]


def require_binary(name: str, apt_package: str, *, search: Sequence[str] = ()) -> str:
    """Path of ``name`` on PATH or in ``search``; fails the test with the install command otherwise."""
    try:
        return find_binary(name, apt_package, search=search)
    except MissingBinary as error:
        pytest.fail(str(error), pytrace=False)
