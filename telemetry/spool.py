"""The durable spool: encoded points on local disk until the server acknowledges them.

Why SQLite in WAL mode rather than append-only segment files (figures in ``bench/telemetry_bench.py``):
both cost one fsync per group commit, which dominates; SQLite additionally gives atomic
"delete the acknowledged range + bump the counters" and "move one point to quarantine with its reason"
in one transaction, and a crash (``kill -9`` at any instant) leaves either the whole transaction or none
of it. Segment files would need our own torn-write detection, compaction and a side index for
quarantine — code SQLite already has, tested.

Group commit: one :meth:`Spool.append` call is one transaction and one fsync (``synchronous=FULL`` makes
the WAL fsync on commit), however many points it holds.

Bounded: when the encoded bytes pending would exceed ``max_bytes``, the oldest points are deleted in the
same transaction, counted in ``points_dropped`` and reported by the writer (log + self-metric). Newest
data wins because operators look at "now" first.

Not thread-safe by design: the writer owns one instance and calls it from one worker thread, which also
keeps SQLite's blocking I/O off the event loop.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SPOOL_FILE = "telemetry.sqlite3"

COUNTERS = (
    "points_spooled",
    "points_written",
    "points_failed",
    "points_quarantined",
    "points_dropped",
    "batches_written",
    "batches_failed",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    id INTEGER PRIMARY KEY,
    line BLOB NOT NULL,
    spooled_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    line BLOB NOT NULL,
    reason TEXT NOT NULL,
    status INTEGER NOT NULL,
    spooled_ns INTEGER NOT NULL,
    quarantined_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value);
"""


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    line: bytes


@dataclass(frozen=True, slots=True)
class Quarantined:
    id: int
    line: str
    reason: str
    status: int
    spooled_ns: int
    quarantined_ns: int


@dataclass(frozen=True, slots=True)
class SpoolStatus:
    path: Path
    pending_points: int
    pending_bytes: int
    oldest_spooled_ns: int | None
    quarantined_points: int
    counters: dict[str, int]
    state: dict[str, object]
    file_bytes: int

    def oldest_age_s(self, now_ns: int | None = None) -> float:
        if self.oldest_spooled_ns is None:
            return 0.0
        return max(0.0, ((now_ns or time.time_ns()) - self.oldest_spooled_ns) / 1e9)


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(_SCHEMA)
    return conn


class Spool:
    """Pending points in insertion order, the quarantine, and persistent counters, in one SQLite file."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"spool max_bytes must be positive, got {max_bytes}")
        self.path = directory / SPOOL_FILE
        self.max_bytes = max_bytes
        self._conn = connect(self.path)
        row = self._conn.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(line)), 0) FROM pending").fetchone()
        self.pending_points = int(row[0])
        self.pending_bytes = int(row[1])
        self.oldest_ns = self._query_oldest()
        self.quarantined_points = int(self._conn.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])
        self.counters = {name: 0 for name in COUNTERS}
        for name, value in self._conn.execute("SELECT name, value FROM counters"):
            self.counters[name] = int(value)

    def close(self) -> None:
        self._conn.close()

    def _query_oldest(self) -> int | None:
        row = self._conn.execute("SELECT spooled_ns FROM pending ORDER BY id LIMIT 1").fetchone()
        return None if row is None else int(row[0])

    def _bump(self, deltas: dict[str, int]) -> None:
        for name, delta in deltas.items():
            if delta:
                self._conn.execute(
                    "INSERT INTO counters(name, value) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                    (name, delta),
                )

    def _commit_counters(self, deltas: dict[str, int]) -> None:
        for name, delta in deltas.items():
            self.counters[name] = self.counters.get(name, 0) + delta

    def append(self, lines: Sequence[bytes]) -> int:
        """Store ``lines`` durably in one transaction; returns how many old points were dropped to fit."""
        if not lines:
            return 0
        now = time.time_ns()
        added = sum(len(line) for line in lines)
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO pending(line, spooled_ns) VALUES (?, ?)", [(line, now) for line in lines]
            )
            dropped, dropped_bytes = self._trim(self.pending_bytes + added)
            deltas = {"points_spooled": len(lines), "points_dropped": dropped}
            self._bump(deltas)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._commit_counters(deltas)
        self.pending_points += len(lines) - dropped
        self.pending_bytes += added - dropped_bytes
        if dropped or self.oldest_ns is None:
            self.oldest_ns = self._query_oldest()
        return dropped

    def _trim(self, total_bytes: int) -> tuple[int, int]:
        """Delete the oldest rows until ``total_bytes`` fits; inside the caller's transaction."""
        excess = total_bytes - self.max_bytes
        if excess <= 0:
            return 0, 0
        freed = 0
        cutoff = None
        count = 0
        for row_id, size in self._conn.execute("SELECT id, LENGTH(line) FROM pending ORDER BY id"):
            freed += size
            count += 1
            cutoff = row_id
            if freed >= excess:
                break
        if cutoff is not None:
            self._conn.execute("DELETE FROM pending WHERE id <= ?", (cutoff,))
        return count, freed

    def peek(self, limit: int, after_id: int = 0) -> list[Pending]:
        """The oldest ``limit`` pending points after ``after_id``, oldest first (contiguous in id order)."""
        rows = self._conn.execute(
            "SELECT id, line FROM pending WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
        )
        return [Pending(int(row_id), bytes(line)) for row_id, line in rows]

    def acknowledge(self, first_id: int, last_id: int, *, batches: int = 1) -> int:
        """The server stored points ``first_id..last_id``: forget them. Returns how many were removed.

        The range is safe because :meth:`peek` hands out contiguous id ranges and new points always get
        higher ids; points dropped meanwhile are simply not there any more.
        """
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            count, size = conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(line)), 0) FROM pending WHERE id BETWEEN ? AND ?",
                (first_id, last_id),
            ).fetchone()
            conn.execute("DELETE FROM pending WHERE id BETWEEN ? AND ?", (first_id, last_id))
            deltas = {"points_written": int(count), "batches_written": batches}
            self._bump(deltas)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._commit_counters(deltas)
        self.pending_points -= int(count)
        self.pending_bytes -= int(size)
        self.oldest_ns = self._query_oldest()
        return int(count)

    def quarantine(self, point_id: int, status: int, reason: str) -> bool:
        """Move one point the server refused into the quarantine with the server's reason."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT line, spooled_ns FROM pending WHERE id = ?", (point_id,)).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                return False
            conn.execute(
                "INSERT INTO quarantine(line, reason, status, spooled_ns, quarantined_ns) "
                "VALUES (?, ?, ?, ?, ?)",
                (row[0], reason, status, row[1], time.time_ns()),
            )
            conn.execute("DELETE FROM pending WHERE id = ?", (point_id,))
            deltas = {"points_quarantined": 1}
            self._bump(deltas)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._commit_counters(deltas)
        self.pending_points -= 1
        self.pending_bytes -= len(row[0])
        self.quarantined_points += 1
        self.oldest_ns = self._query_oldest()
        return True

    def record_failure(self, points: int, error: str) -> None:
        """A delivery attempt failed transiently: count it and remember the error for ``status``."""
        deltas = {"points_failed": points, "batches_failed": 1}
        with self._conn:
            self._bump(deltas)
            self._set_state({"last_error": error, "last_error_ns": time.time_ns()})
        self._commit_counters(deltas)

    def record_state(self, values: dict[str, object]) -> None:
        with self._conn:
            self._set_state(values)

    def _set_state(self, values: dict[str, object]) -> None:
        self._conn.executemany(
            "INSERT INTO state(name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    def status(self) -> SpoolStatus:
        return read_status(self._conn, self.path)

    def list_quarantine(self, limit: int = 100) -> list[Quarantined]:
        return list_quarantine(self._conn, limit)


def read_status(conn: sqlite3.Connection, path: Path) -> SpoolStatus:
    """Everything ``ioc telemetry status`` prints, read from the file (works while a writer runs)."""
    count, size = conn.execute("SELECT COUNT(*), COALESCE(SUM(LENGTH(line)), 0) FROM pending").fetchone()
    oldest = conn.execute("SELECT spooled_ns FROM pending ORDER BY id LIMIT 1").fetchone()
    quarantined = conn.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
    counters = {name: 0 for name in COUNTERS}
    counters.update({name: int(value) for name, value in conn.execute("SELECT name, value FROM counters")})
    state = {name: value for name, value in conn.execute("SELECT name, value FROM state")}
    file_bytes = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
    return SpoolStatus(
        path=path,
        pending_points=int(count),
        pending_bytes=int(size),
        oldest_spooled_ns=None if oldest is None else int(oldest[0]),
        quarantined_points=int(quarantined),
        counters=counters,
        state=state,
        file_bytes=file_bytes,
    )


def list_quarantine(conn: sqlite3.Connection, limit: int = 100) -> list[Quarantined]:
    rows = conn.execute(
        "SELECT id, line, reason, status, spooled_ns, quarantined_ns"
        " FROM quarantine ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [
        Quarantined(int(i), bytes(line).decode(errors="replace"), reason, int(status), int(s), int(q))
        for i, line, reason, status, s, q in rows
    ]
