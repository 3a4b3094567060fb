"""The durable spool: encoded points on local disk until the server acknowledges them.

Why SQLite in WAL mode rather than append-only segment files (figures in ``bench/telemetry_bench.py``):
a bare segment append + fsync is faster (roughly 1.5-4x on this machine), but SQLite already commits
~150-200k points/s per fsync'd batch, about twice what the writer delivers end to end, so it is not the
bottleneck. In exchange it gives "forget the acknowledged chunks + quarantine the refused points with
the server's reason + bump the counters" in one atomic transaction, and a crash (``kill -9`` at any
instant) leaves either the whole transaction or none of it. Segment files would need our own torn-write
detection, compaction and a side index for quarantine — code SQLite already has, tested.

Group commit: one :meth:`Spool.append` call is one transaction and one fsync (``synchronous=FULL`` makes
the WAL fsync on commit), however many points it holds.

Chunk ids are ``AUTOINCREMENT``: never reused, so a late settle for a chunk that is gone (dropped, or
already settled) can never hit a newer chunk that happened to get the same id.

A row is a *chunk*: up to ``chunk_points`` encoded lines joined by newlines, plus their lengths (string
fields may contain newlines, so the lengths, not the separators, say where a line ends). Rows per point
cost a Python object and an index entry per point on every append, read and delete; chunks make the
common path (append, send, acknowledge) per-batch work. Refused batches are split back into lines, and
a chunk that is only partly settled is rewritten with what is left, in the same transaction.

Bounded: when the encoded bytes pending would exceed ``max_bytes``, the oldest chunks (so up to one
batch more than strictly needed) are deleted in the same transaction, counted in ``points_dropped`` and
reported by the writer (log + self-metric). Newest data wins because operators look at "now" first.

Not thread-safe by design: the writer owns one instance and calls it from one worker thread, which also
keeps SQLite's blocking I/O off the event loop.
"""

from __future__ import annotations

import sqlite3
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body BLOB NOT NULL,
    sizes BLOB NOT NULL,
    count INTEGER NOT NULL,
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
class Chunk:
    """Consecutive pending points stored as one row."""

    id: int
    body: bytes
    sizes: bytes
    count: int

    def lines(self) -> list[bytes]:
        lengths = array("I")
        lengths.frombytes(self.sizes)
        out, offset = [], 0
        for length in lengths:
            out.append(self.body[offset : offset + length])
            offset += length + 1
        return out


@dataclass
class Settlement:
    """What the server did with the lines of some chunks: line indexes written, and refused with why."""

    written: dict[int, set[int]] = field(default_factory=dict)
    refused: dict[int, dict[int, tuple[int, str]]] = field(default_factory=dict)

    def write_all(self, chunks: Sequence[Chunk]) -> None:
        for chunk in chunks:
            self.written[chunk.id] = set(range(chunk.count))

    def write(self, chunk_id: int, index: int) -> None:
        self.written.setdefault(chunk_id, set()).add(index)

    def refuse(self, chunk_id: int, index: int, status: int, reason: str) -> None:
        self.refused.setdefault(chunk_id, {})[index] = (status, reason)

    def __bool__(self) -> bool:
        return bool(self.written or self.refused)


def pack(lines: Sequence[bytes]) -> tuple[bytes, bytes]:
    return b"\n".join(lines), array("I", [len(line) for line in lines]).tobytes()


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

    def __init__(self, directory: Path, max_bytes: int, chunk_points: int = 5000) -> None:
        if max_bytes <= 0:
            raise ValueError(f"spool max_bytes must be positive, got {max_bytes}")
        if chunk_points <= 0:
            raise ValueError(f"spool chunk_points must be positive, got {chunk_points}")
        self.path = directory / SPOOL_FILE
        self.max_bytes = max_bytes
        self.chunk_points = chunk_points
        self._conn = connect(self.path)
        row = self._conn.execute(
            "SELECT COALESCE(SUM(count), 0), COALESCE(SUM(LENGTH(body)), 0) FROM pending"
        ).fetchone()
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
        step = self.chunk_points
        rows = []
        added = 0
        for start in range(0, len(lines), step):
            piece = lines[start : start + step]
            body, sizes = pack(piece)
            added += len(body)
            rows.append((body, sizes, len(piece), now))
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT INTO pending(body, sizes, count, spooled_ns) VALUES (?, ?, ?, ?)", rows)
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
        """Delete the oldest chunks until ``total_bytes`` fits; inside the caller's transaction."""
        excess = total_bytes - self.max_bytes
        if excess <= 0:
            return 0, 0
        freed = count = 0
        cutoff = None
        for row_id, points, size in self._conn.execute(
            "SELECT id, count, LENGTH(body) FROM pending ORDER BY id"
        ):
            freed += size
            count += points
            cutoff = row_id
            if freed >= excess:
                break
        if cutoff is not None:
            self._conn.execute("DELETE FROM pending WHERE id <= ?", (cutoff,))
        return count, freed

    def peek(self, limit: int, after_id: int = 0) -> list[Chunk]:
        """Oldest whole chunks after ``after_id``, at most ``limit`` points (but always one chunk)."""
        chunks: list[Chunk] = []
        total = 0
        for row_id, body, sizes, count in self._conn.execute(
            "SELECT id, body, sizes, count FROM pending WHERE id > ? ORDER BY id", (after_id,)
        ):
            if chunks and total + count > limit:
                break
            chunks.append(Chunk(int(row_id), bytes(body), bytes(sizes), int(count)))
            total += count
            if total >= limit:
                break
        return chunks

    def settle(self, chunks: Sequence[Chunk], outcome: Settlement) -> None:
        """Apply what the server did, in one transaction: forget written points, quarantine refused ones
        with the server's reason, and rewrite a partly settled chunk with the points still owed.

        A chunk that vanished meanwhile (dropped because the spool was full) is skipped: its points were
        already counted as dropped.

        Committed without its own fsync (``synchronous=NORMAL`` for this transaction): a crash survives
        it either way, and if a power cut loses it, the points are simply sent again and overwrite
        themselves. Only ``append`` needs the fsync, so the writer pays one per batch, not two.
        """
        conn = self._conn
        now = time.time_ns()
        written = quarantined = removed_bytes = 0
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for chunk in chunks:
                done = outcome.written.get(chunk.id, set())
                refused = outcome.refused.get(chunk.id, {})
                if not done and not refused:
                    continue
                row = conn.execute("SELECT spooled_ns FROM pending WHERE id = ?", (chunk.id,)).fetchone()
                if row is None:
                    continue
                lines = chunk.lines()
                for index, (status, reason) in refused.items():
                    conn.execute(
                        "INSERT INTO quarantine(line, reason, status, spooled_ns, quarantined_ns) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (lines[index], reason, status, row[0], now),
                    )
                written += len(done)
                quarantined += len(refused)
                left = [line for i, line in enumerate(lines) if i not in done and i not in refused]
                if left:
                    body, sizes = pack(left)
                    conn.execute(
                        "UPDATE pending SET body = ?, sizes = ?, count = ? WHERE id = ?",
                        (body, sizes, len(left), chunk.id),
                    )
                    removed_bytes += len(chunk.body) - len(body)
                else:
                    conn.execute("DELETE FROM pending WHERE id = ?", (chunk.id,))
                    removed_bytes += len(chunk.body)
            deltas = {"points_written": written, "points_quarantined": quarantined, "batches_written": 1}
            self._bump(deltas)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute("PRAGMA synchronous=FULL")
        self._commit_counters(deltas)
        self.pending_points -= written + quarantined
        self.pending_bytes -= removed_bytes
        self.quarantined_points += quarantined
        self.oldest_ns = self._query_oldest()

    def record_failure(self, points: int, error: str) -> None:
        """A delivery attempt failed transiently: count it and remember the error for ``status``."""
        deltas = {"points_failed": points, "batches_failed": 1}
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._bump(deltas)
            self._set_state({"last_error": error, "last_error_ns": time.time_ns()})
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._commit_counters(deltas)

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
    count, size = conn.execute(
        "SELECT COALESCE(SUM(count), 0), COALESCE(SUM(LENGTH(body)), 0) FROM pending"
    ).fetchone()
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
