"""Why the ``ioc`` process holds its garbage collector off while a command's modules load.

A one-shot command such as ``ioc sites list`` imports SQLAlchemy, pydantic, typer and the registry:
some 130,000 objects that live until the process ends. With the collector on, every full collection
during those imports walks all of them again, and the interpreter walks them once more on its way out.
Measured here on a quiet machine (bench/cli_bench.py), that was about 0.08 s of the command's 0.44 s.

So the process entry point (:func:`ioc.cli.main.main`) disables the collector, and the root callback,
which runs once the command's modules are imported, freezes what they built and turns the collector
back on: the command body, and a long-running ``ioc serve``, collect their own garbage as usual. This is
the ``gc.disable()`` … ``gc.freeze()`` pattern of Python's ``gc`` documentation; the imports leave
500 to 2,000 unreachable objects behind (measured), which stay. On exit everything is frozen, so the
interpreter skips its last full collection; ``atexit`` handlers, logging's flush and finalizers of
objects that are not in a cycle still run.

``ioc.cli.main.run`` alone (tests calling the CLI inside their own process) touches none of this.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass


@dataclass
class _Collector:
    held: bool = False


_COLLECTOR = _Collector()


def hold_collector() -> None:
    """Before the command's modules load: no collection until :func:`release_collector`."""
    if gc.isenabled():
        gc.disable()
        _COLLECTOR.held = True


def release_collector() -> None:
    """Once the command's modules are loaded: freeze them and collect again from here on."""
    if _COLLECTOR.held:
        gc.freeze()
        gc.enable()
        _COLLECTOR.held = False


def skip_final_collection() -> None:
    """The process is about to exit: nothing left is worth a full walk of every object."""
    gc.freeze()
