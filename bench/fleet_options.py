"""The command line every registry-sized bench takes: how big a fleet, and which database."""

from __future__ import annotations

import argparse
import logging


def fleet_parser(doc: str | None) -> argparse.ArgumentParser:
    """``--devices``, ``--sites`` and ``--postgres`` (else a fresh SQLite file); the bench adds its own.
    Logging is set to warnings, so the figures are not buried under the product's info lines."""
    logging.basicConfig(level=logging.WARNING, force=True)
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=1_000)
    parser.add_argument("--postgres", default=None, help="postgresql+asyncpg URL of an empty database")
    return parser
