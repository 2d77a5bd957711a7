"""The command journal: every order, return, exchange, note, consent change, enrolment, message, rating link and profile
view made on this device, in a SQLite file of its own.

The cache (cache.py) can be thrown away and filled again from the centre; this file cannot. It holds the outbox (the
commands still to send, in the order they were made), the local rows the screens show for each command (`waiting`,
`sent`, `attention`, `dismissed`), and a ledger of the commands the centre acknowledged, kept for `ACK_RETENTION`
(14 days) so that a centre restored from a backup can be given them again (`Journal.acknowledged`).

WAL with `synchronous=FULL`. The file is checked every time it is opened (its header and size, `PRAGMA quick_check`,
the tables it must have), through a read-only connection, before anything writes to it. A damaged journal is never
repaired, overwritten or moved by the app: opening raises `JournalDamaged`, which says what happened and what to do.
A new journal is made in a file beside it and put in place with one link, so that a journal found empty is always a
damaged one, never one that was being made.

A customer enrolled here (issue 14) has a provisional id (`P…`, contract.ProvisionalId) until the centre answers the
enrolment; commands made for her meanwhile (a note, a consent change) name that id. When the answer is settled
(`settle(…, maps=(provisional, customer_id))`), in the same transaction the mapping is kept (`local_ids`) and every
command still waiting that names the provisional id is rewritten to the centre's id (its path and body) and so is
every local row: the outbox is sent in order, so a command queued after the enrolment always leaves with the real id.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import random
import re
import sqlite3
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from clienteling.contract import CentreInfo, utc_now
from clienteling.device.errors import JournalDamaged

COMMAND_PATHS = {
    "ship_to_home": "/v1/orders/ship-to-home",
    "return": "/v1/returns",
    "exchange": "/v1/exchanges",
    "note": "/v1/customers/{customer_id}/notes",
    "profile_view": "/v1/customers/{customer_id}/views",
    "consent": "/v1/customers/{customer_id}/consent",
    "touchpoint": "/v1/customers/{customer_id}/touchpoints",
    "pulse": "/v1/pulse",
    "enrol": "/v1/customers",
    "message": "/v1/customers/{customer_id}/messages",
    "follow_up": "/v1/customers/{customer_id}/follow-ups",
    "follow_up_state": "/v1/customers/{customer_id}/follow-ups/state",
}
# Commands that staff did not make on purpose (a record that a profile was opened): they go out like any
# other and are never dropped, but they are not counted or listed as work waiting for staff.
BACKGROUND_KINDS = ("profile_view", "touchpoint", "pulse")
_NOT_BACKGROUND = f"kind NOT IN ({', '.join(repr(k) for k in BACKGROUND_KINDS)})"
ACK_RETENTION = timedelta(days=14)
LOCAL_COMMAND_COLUMNS = "command_id, kind, customer_id, body, state, answer, reason, staff, created_at, updated_at"
OUTBOX_COLUMNS = "command_id, kind, path, body, attempts, last_error, created_at"

MIGRATIONS: list[str] = [
    # 1: the outbox, the local rows the screens show, and the ledger of acknowledged commands.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE outbox (
        position INTEGER PRIMARY KEY AUTOINCREMENT, command_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
        path TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        created_at TEXT NOT NULL);
    CREATE TABLE local_commands (
        command_id TEXT PRIMARY KEY, kind TEXT NOT NULL, customer_id TEXT, body TEXT NOT NULL,
        state TEXT NOT NULL, answer TEXT, reason TEXT, staff TEXT, created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL);
    CREATE INDEX local_commands_customer ON local_commands(customer_id);
    CREATE INDEX local_commands_state ON local_commands(state);
    CREATE TABLE acknowledged (
        command_id TEXT PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL, body TEXT NOT NULL, answer TEXT,
        acknowledged_at TEXT NOT NULL);
    CREATE INDEX acknowledged_at ON acknowledged(acknowledged_at);
    """,
    # 2: where each acknowledged command lies in the centre's history (`<centre>.<epoch>.<seq>`), and, on a command
    # queued again for a centre restored from a backup, the number the centre gave it the first time.
    """
    ALTER TABLE acknowledged ADD COLUMN position TEXT;
    ALTER TABLE outbox ADD COLUMN restoring TEXT;
    """,
    # 3 (issue 14, enrolment): the centre's id of each customer enrolled here under a provisional id, and how she
    # got it (`enrolled`: a new member; `merged`: her email was a member's already, the provisional customer is her).
    """
    CREATE TABLE local_ids (
        provisional TEXT PRIMARY KEY, customer_id TEXT NOT NULL, how TEXT NOT NULL, mapped_at TEXT NOT NULL);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
# The tables (and their columns) a journal of each schema version has: anything else is not a journal of ours.
EXPECTED_TABLES = {
    1: {
        "meta": ("key", "value"),
        "outbox": ("position", "command_id", "kind", "path", "body", "attempts", "last_error", "created_at"),
        "local_commands": tuple(c.strip() for c in LOCAL_COMMAND_COLUMNS.split(",")),
        "acknowledged": ("command_id", "kind", "path", "body", "answer", "acknowledged_at"),
    },
}
EXPECTED_TABLES[2] = {
    **EXPECTED_TABLES[1],
    "outbox": (*EXPECTED_TABLES[1]["outbox"], "restoring"),
    "acknowledged": (*EXPECTED_TABLES[1]["acknowledged"], "position"),
}
EXPECTED_TABLES[3] = {
    **EXPECTED_TABLES[2],
    "local_ids": ("provisional", "customer_id", "how", "mapped_at"),
}
_KEPT_TABLES = ("outbox", "local_commands", "acknowledged")
_SQLITE_HEADER = b"SQLite format 3\x00"
_DAMAGE_CODES = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB


def new_command_id() -> str:
    """A UUIDv7: time-ordered, so ids sort the way commands were made, and unique without coordination."""
    millis = time.time_ns() // 1_000_000
    value = (
        (millis & ((1 << 48) - 1)) << 80
        | 0x7 << 76
        | random.getrandbits(12) << 64
        | 0b10 << 62
        | random.getrandbits(62)
    )
    return str(uuid.UUID(int=value))


def is_damage(error: BaseException) -> bool:
    """Whether a SQLite error says the file itself is damaged (not busy, locked or full)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _DAMAGE_CODES
    return type(error) is sqlite3.DatabaseError


def file_problem(path: Path) -> str | None:
    """What is wrong with a SQLite file that can be seen without opening it, as a code; None if nothing is.

    `empty` (zero bytes), `header` (not a SQLite file, or its header is broken) or `cut_short` (shorter than its
    header says, or not a whole number of pages).
    """
    size = path.stat().st_size
    if size == 0:
        return "empty"
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_HEADER):
        return "header"
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "header"
    change_counter, pages = struct.unpack(">II", header[24:32])
    (valid_for,) = struct.unpack(">I", header[92:96])
    if size % page_size or (valid_for == change_counter and pages * page_size > size):
        return "cut_short"
    return None


def check_migration_keeps_commands(script: str) -> None:
    """Refuse a journal migration that would drop, empty or rebuild the outbox, the local commands or the ledger.
    Adding a column is allowed: it keeps every row."""
    for table in _KEPT_TABLES:
        if re.search(
            rf"\b(DROP\s+TABLE(\s+IF\s+EXISTS)?|DELETE\s+FROM)\s+{table}\b|\bALTER\s+TABLE\s+{table}\s+(?!ADD\s)",
            script,
            re.IGNORECASE,
        ):
            raise RuntimeError(f"a journal migration may not drop, empty or rebuild the {table} table")


def _guarded(method: Callable) -> Callable:
    """A damaged journal found while it is used is said as `JournalDamaged`, never as a raw SQLite error."""

    @functools.wraps(method)
    def guarded(self: Journal, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as error:
            if is_damage(error):
                raise JournalDamaged.at(self.path, "malformed") from error
            raise

    return guarded


class Journal:
    """The command journal file: the outbox, the commands the screens show, and what the centre acknowledged.

    One connection, one operation at a time (every operation is a few rows). Several `Journal`s, in one process or
    several, may use the same file: SQLite's locks keep them apart.
    """

    def __init__(
        self, path: str | Path, *, retention: timedelta = ACK_RETENTION, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.path = Path(path)
        self.retention = retention
        self.clock = clock
        self._lock = threading.RLock()
        if not self.path.exists():
            if _companion(self.path, "-wal").exists():
                raise JournalDamaged.at(self.path, "missing")
            self._create()
        self._check()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA busy_timeout = 30000")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        self._migrate()

    # ------------------------------------------------------------------ opening

    def _create(self) -> None:
        """Make an empty journal beside the path and link it into place (unless another process was quicker)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        making = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.new")
        making.unlink(missing_ok=True)
        conn = sqlite3.connect(making, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("BEGIN IMMEDIATE")
            run_script(conn, MIGRATIONS[0])
            for number in range(1, SCHEMA_VERSION):
                run_script(conn, MIGRATIONS[number])
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        finally:
            conn.close()
        try:
            os.link(making, self.path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError:  # no hard links on this file system: a rename that never replaces
            if not self.path.exists():
                os.rename(making, self.path)
        finally:
            making.unlink(missing_ok=True)
        _sync_folder(self.path.parent)

    def _check(self) -> None:
        """Check the file before anything writes to it; raise `JournalDamaged` if it is not a sound journal."""
        problem = file_problem(self.path)
        if problem:
            raise JournalDamaged.at(self.path, problem)
        # Read-only, and immutable when there is no log beside it: checking creates nothing and changes nothing.
        mode = "ro" if _companion(self.path, "-wal").exists() else "ro&immutable=1"
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode={mode}", uri=True, timeout=30)
        except sqlite3.Error:
            raise JournalDamaged.at(self.path, "malformed") from None
        try:
            if conn.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                raise JournalDamaged.at(self.path, "malformed")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise JournalDamaged.at(self.path, "newer")
            expected = EXPECTED_TABLES.get(version)
            tables = {
                name: tuple(r[1] for r in conn.execute(f"PRAGMA table_info({name})"))
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not name.startswith("sqlite_")
            }
            if expected is None or tables != expected:
                raise JournalDamaged.at(self.path, "schema")
        except sqlite3.DatabaseError:
            raise JournalDamaged.at(self.path, "malformed") from None
        finally:
            conn.close()

    def _migrate(self) -> None:
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number in range(version, SCHEMA_VERSION):
                check_migration_keeps_commands(MIGRATIONS[number])
                run_script(conn, MIGRATIONS[number])
                conn.execute(f"PRAGMA user_version = {number + 1}")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # ------------------------------------------------------------------ the outbox

    @_guarded
    def add(self, kind: str, body: dict[str, Any], *, customer_id: str | None, staff: str | None) -> str:
        """Queue a command and its local row (what the screens show) in one transaction; returns its id."""
        with self._write() as conn:
            return self._add(conn, kind, body, customer_id, staff)

    def _add(
        self, conn: sqlite3.Connection, kind: str, body: dict[str, Any], customer_id: str | None, staff: str | None
    ) -> str:
        command_id = new_command_id()
        now = self.clock().isoformat()
        if customer_id and customer_id.startswith("P") and kind != "enrol":  # mapped meanwhile: the centre's id
            mapped = conn.execute("SELECT customer_id FROM local_ids WHERE provisional = ?", (customer_id,)).fetchone()
            if mapped is not None:
                body = json.loads(json.dumps(body).replace(json.dumps(customer_id), json.dumps(mapped[0])))
                customer_id = mapped[0]
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        conn.execute(
            "INSERT INTO outbox (command_id, kind, path, body, created_at) VALUES (?, ?, ?, ?, ?)",
            (command_id, kind, COMMAND_PATHS[kind].format(customer_id=customer_id), text, now),
        )
        conn.execute(
            "INSERT INTO local_commands VALUES (?, ?, ?, ?, 'waiting', NULL, NULL, ?, ?, ?)",
            (command_id, kind, customer_id, text, staff, now, now),
        )
        return command_id

    @_guarded
    def head(self) -> tuple[str, str, str, str] | None:
        """The oldest command still to send: (id, kind, path, body)."""
        rows = self._query("SELECT command_id, kind, path, body FROM outbox ORDER BY position LIMIT 1")
        return rows[0] if rows else None

    @_guarded
    def settle(
        self,
        command_id: str,
        state: str,
        *,
        answer: str | None = None,
        reason: str | None = None,
        position: str | None = None,
        maps: tuple[str, str, str] | None = None,
        then: tuple[str, dict[str, Any], str, str | None] | None = None,
    ) -> None:
        """Record the centre's answer and take the command out of the outbox, in one transaction.

        A command the centre acknowledged (`sent`) goes into the ledger with its answer and where it lies in the
        centre's history (`position`); the ledger's rows older than the retention window leave it in the same
        transaction. `maps` (provisional id, the centre's customer id, `enrolled` or `merged`): an enrolment's
        answer, mapped as the module's docstring says. `then` (kind, body, customer id, staff): a command the
        answer calls for (the consent given at the counter, for a member found by her email), queued at the end.
        """
        now = self.clock()
        with self._write() as conn:
            if maps is not None:
                self._map(conn, *maps, now.isoformat())
            conn.execute(
                "UPDATE local_commands SET state = ?, answer = ?, reason = ?, updated_at = ? WHERE command_id = ?",
                (state, answer, reason, now.isoformat(), command_id),
            )
            if state == "sent":
                conn.execute(
                    "INSERT OR REPLACE INTO acknowledged (command_id, kind, path, body, answer, acknowledged_at, position)"
                    " SELECT command_id, kind, path, body, ?, ?, ? FROM outbox WHERE command_id = ?",
                    (answer, now.isoformat(), position, command_id),
                )
                conn.execute(
                    "DELETE FROM acknowledged WHERE acknowledged_at < ?", ((now - self.retention).isoformat(),)
                )
            conn.execute("DELETE FROM outbox WHERE command_id = ?", (command_id,))
            if then is not None:
                self._add(conn, *then)

    @staticmethod
    def _map(conn: sqlite3.Connection, provisional: str, customer_id: str, how: str, now: str) -> None:
        conn.execute(
            "INSERT INTO local_ids VALUES (?, ?, ?, ?) ON CONFLICT (provisional) DO NOTHING",
            (provisional, customer_id, how, now),
        )
        # A provisional id is `P` and 16 hex digits: as a path segment or a JSON string it is nothing else.
        quoted_old, quoted_new = json.dumps(provisional), json.dumps(customer_id)
        conn.execute(
            "UPDATE outbox SET path = replace(path, ?, ?), body = replace(body, ?, ?)"
            " WHERE instr(path, ?) > 0 OR instr(body, ?) > 0",
            (f"/{provisional}/", f"/{customer_id}/", quoted_old, quoted_new, f"/{provisional}/", quoted_old),
        )
        conn.execute(
            "UPDATE local_commands SET customer_id = ?, body = replace(body, ?, ?) WHERE customer_id = ?"
            " AND kind != 'enrol'",
            (customer_id, quoted_old, quoted_new, provisional),
        )

    @_guarded
    def mapped(self, provisional: str) -> tuple[str, str] | None:
        """The centre's id of a customer enrolled here under `provisional`, and how (`enrolled`, `merged`)."""
        rows = self._query("SELECT customer_id, how FROM local_ids WHERE provisional = ?", (provisional,))
        return (rows[0][0], rows[0][1]) if rows else None

    @_guarded
    def enrolment_of(self, customer_id: str) -> tuple | None:
        """The local row of the enrolment made here of this customer, by her provisional id or the centre's."""
        rows = self._query(
            f"SELECT {LOCAL_COMMAND_COLUMNS} FROM local_commands WHERE kind = 'enrol' AND (customer_id = ?1 OR"
            " customer_id IN (SELECT provisional FROM local_ids WHERE customer_id = ?1))"
            " ORDER BY created_at DESC LIMIT 1",
            (customer_id,),
        )
        return rows[0] if rows else None

    @_guarded
    def failed(self, command_id: str, error: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE command_id = ?", (error, command_id)
            )

    @_guarded
    def counts(self) -> tuple[int, int]:
        """(commands waiting to be sent, commands needing attention), but the background ones."""
        row = self._query(
            f"SELECT (SELECT count(*) FROM outbox WHERE {_NOT_BACKGROUND}),"
            f" (SELECT count(*) FROM local_commands WHERE state = 'attention' AND {_NOT_BACKGROUND})"
        )[0]
        return row[0], row[1]

    @_guarded
    def background_waiting(self) -> int:
        """Background commands (profile views) still to send."""
        return self._query(f"SELECT count(*) FROM outbox WHERE NOT ({_NOT_BACKGROUND})")[0][0]

    @_guarded
    def waiting(self) -> list[tuple]:
        """Every command still to send, oldest first: (id, kind, path, body, attempts, last_error, created_at)."""
        return self._query(f"SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY position")

    # ------------------------------------------------------------------ what the screens show

    @_guarded
    def command(self, command_id: str) -> tuple | None:
        """One command's local row (columns as `LOCAL_COMMAND_COLUMNS`)."""
        rows = self._query(f"SELECT {LOCAL_COMMAND_COLUMNS} FROM local_commands WHERE command_id = ?", (command_id,))
        return rows[0] if rows else None

    @_guarded
    def commands(
        self,
        *,
        customer_id: str | None = None,
        kind: str | None = None,
        states: tuple[str, ...] | None = None,
        include_background: bool = False,
    ) -> list[tuple]:
        """Local rows, newest first; background kinds only with `include_background` or when asked for by `kind`."""
        where, params = ["1"], []
        if not include_background and kind not in BACKGROUND_KINDS:
            where.append(f"kind NOT IN ({','.join('?' * len(BACKGROUND_KINDS))})")
            params.extend(BACKGROUND_KINDS)
        if customer_id:
            where.append("customer_id = ?")
            params.append(customer_id)
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            params.extend(states)
        return self._query(
            f"SELECT {LOCAL_COMMAND_COLUMNS} FROM local_commands WHERE {' AND '.join(where)}"
            " ORDER BY created_at DESC, command_id DESC",
            params,
        )

    @_guarded
    def dismiss(self, command_id: str) -> None:
        """A refused command staff have dealt with leaves "needs attention" (and stays on record)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE local_commands SET state = 'dismissed' WHERE command_id = ? AND state = 'attention'",
                (command_id,),
            )

    @_guarded
    def waiting_customers(self) -> set[str]:
        """The customers that commands still to send are about (their data must stay on the device)."""
        rows = self._query(
            "SELECT DISTINCT customer_id FROM local_commands WHERE state = 'waiting' AND customer_id IS NOT NULL"
        )
        return {r[0] for r in rows}

    # ------------------------------------------------------------------ the ledger

    @_guarded
    def acknowledged(self, since: datetime | None = None) -> list[tuple[str, str, str, str, str]]:
        """Commands the centre acknowledged within the retention window (or since `since`), oldest first:
        (id, kind, path, body, acknowledged_at). What a centre restored from a backup is given again."""
        cutoff = max(since, self.clock() - self.retention) if since else self.clock() - self.retention
        return self._query(
            "SELECT command_id, kind, path, body, acknowledged_at FROM acknowledged WHERE acknowledged_at >= ?"
            " ORDER BY acknowledged_at, command_id",
            (cutoff.isoformat(),),
        )

    @_guarded
    def centre_seen(self) -> str | None:
        """The centre and epoch (`<centre>.<epoch>`) the ledger was last checked against."""
        rows = self._query("SELECT value FROM meta WHERE key = 'centre_seen'")
        return rows[0][0] if rows else None

    @_guarded
    def send_again(self, centre: CentreInfo) -> int:
        """Queue again, ahead of everything waiting, each acknowledged command of this centre that `centre` does not
        hold (it was restored from a backup), in the order the centre first took them, with the number it gave them;
        then remember this centre and epoch. Returns how many were queued. One transaction.

        A command acknowledged by another centre is not this one's to hold and stays where it is; so does one
        acknowledged before positions were kept (a journal of 0.3: which centre took it cannot be told, and sending
        it to one that never had it would place it a second time).
        """
        cutoff = (self.clock() - self.retention).isoformat()
        with self._write() as conn:
            rows = conn.execute(
                "SELECT command_id, kind, path, body, answer, position FROM acknowledged WHERE acknowledged_at >= ?"
                " AND command_id NOT IN (SELECT command_id FROM outbox) ORDER BY acknowledged_at, command_id",
                (cutoff,),
            ).fetchall()
            lost = ("unknown_epoch", "beyond_epoch", "ahead")  # not "another_centre", nor "no_epoch" (from before 0.4)
            again = [row for row in rows if centre.misses(row[5]) in lost]
            first = conn.execute("SELECT coalesce(min(position), 1) FROM outbox").fetchone()[0]
            now = self.clock().isoformat()
            for at, (command_id, kind, path, body, answer, _) in enumerate(again):
                conn.execute(
                    f"INSERT INTO outbox (position, {OUTBOX_COLUMNS}, restoring) VALUES (?, ?, ?, ?, ?, 0, NULL, ?, ?)",
                    (first - len(again) + at, command_id, kind, path, body, now, _number_in(kind, answer)),
                )
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('centre_seen', ?)", (f"{centre.centre}.{centre.epoch}",))
        return len(again)

    @_guarded
    def restoring(self, command_id: str) -> str | None:
        """The number to ask a restored centre for, on a command queued again by `send_again`."""
        rows = self._query("SELECT restoring FROM outbox WHERE command_id = ?", (command_id,))
        return rows[0][0] if rows else None

    @_guarded
    def prune_acknowledged(self) -> int:
        """Forget acknowledged commands older than the retention window; returns how many."""
        with self._write() as conn:
            return conn.execute(
                "DELETE FROM acknowledged WHERE acknowledged_at < ?", ((self.clock() - self.retention).isoformat(),)
            ).rowcount

    # ------------------------------------------------------------------ commands from an older cache

    @_guarded
    def take_over(self, outbox: Iterable[tuple], local_commands: Iterable[tuple]) -> None:
        """Take the commands an older cache held (rows as `OUTBOX_COLUMNS` and `LOCAL_COMMAND_COLUMNS`), durably.

        Safe to repeat: a command the journal already has is left as it is, and one it has settled is not queued
        again. Commands that were sent within the retention window enter the ledger too.
        """
        local_commands = list(local_commands)
        cutoff = (self.clock() - self.retention).isoformat()
        with self._write() as conn:
            conn.executemany(
                f"INSERT OR IGNORE INTO local_commands ({LOCAL_COMMAND_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                local_commands,
            )
            for row in outbox:
                conn.execute(
                    f"INSERT INTO outbox ({OUTBOX_COLUMNS}) SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS ("
                    " SELECT 1 FROM outbox WHERE command_id = ?1 UNION ALL SELECT 1 FROM acknowledged"
                    " WHERE command_id = ?1 UNION ALL SELECT 1 FROM local_commands WHERE command_id = ?1"
                    " AND state != 'waiting')",
                    row,
                )
            for command_id, kind, customer_id, body, state, answer, _, _, _, updated in local_commands:
                if state == "sent" and updated >= cutoff and kind in COMMAND_PATHS:
                    conn.execute(
                        "INSERT OR IGNORE INTO acknowledged (command_id, kind, path, body, answer, acknowledged_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (command_id, kind, COMMAND_PATHS[kind].format(customer_id=customer_id), body, answer, updated),
                    )


def new_feedback_token() -> str:
    """A touchpoint's token (`contract.FEEDBACK_TOKEN`): 60 random bits as 12 lower-case base32 letters."""
    return base64.b32encode(os.urandom(8)).decode().lower()[:12]


def _number_in(kind: str, answer: str | None) -> str | None:
    """The number the centre gave a command, read from its stored answer."""
    try:
        found = json.loads(answer or "null")
    except ValueError:
        return None
    value = (
        found.get("id" if kind in ("note", "profile_view", "consent", "message") else "number")
        if isinstance(found, dict)
        else None
    )
    return value if isinstance(value, str) else None


def _companion(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _sync_folder(folder: Path) -> None:
    """Make a new name in `folder` durable (where the system allows opening a folder)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run a migration's statements inside the current transaction (executescript would commit first)."""
    for statement in statements(script):
        conn.execute(statement)


def statements(script: str) -> list[str]:
    found, current = [], []
    for line in script.splitlines():
        current.append(line)
        candidate = "\n".join(current).strip()
        if candidate.endswith(";") and sqlite3.complete_statement(candidate):
            found.append(candidate)
            current = []
    rest = "\n".join(current).strip()
    if rest:
        found.append(rest)
    return found
