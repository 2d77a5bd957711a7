"""The centre's storage, the part every aggregate stands on: the database (db.py), its schema (migrations.py), the
epoch it is in (epochs.py), the change feed's positions, numbers, and commands run once per idempotency key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from clienteling.central import epochs
from clienteling.central.db import Conn, is_postgres, open_database
from clienteling.central.migrations import migrate
from clienteling.central.problems import ProblemError
from clienteling.contract import (
    CentreInfo,
    utc_now,
)

# How long the centre keeps what it records about a customer beyond their own data; `prune_expired` (run at every
# start and by `clienteling central prune`) drops what is older.
PROFILE_VIEW_RETENTION = timedelta(days=365)
"""A profile view is kept a year: long enough for a customer who asks who looked at their profile (and for the
privacy officer looking into a complaint) to see a full year, short enough that the log of who looked at whom does
not grow into a second customer file. Views arrive at most 90 days late (rules.PROFILE_VIEW_MAX_AGE), well inside."""
IDEMPOTENCY_RETENTION = timedelta(days=30)
"""A stored answer is kept 30 days. Devices keep a ledger of acknowledged commands for 14 days and send them again
after the centre is restored from a backup; every such resend must still find its answer, or it would be done a
second time. 30 days is that and the outbox's own retries with room to spare; older answers only hold personal data
(the shipping address) that nothing needs any more."""


# Collections whose rows belong to a customer, and so to the stores in that customer's scope.
CUSTOMER_SCOPED = {
    "customers": "id",
    "wishlists": "customer_id",
    "orders": "customer_id",
    "conversations": "customer_id",
    "notes": "customer_id",
    "follow_ups": "customer_id",
    "activities": "customer_id",
}

# Collections whose rows belong to one store: a device gets only its own store's.
STORE_SCOPED = {"staff"}


def iso(moment: datetime) -> str:
    """The wire and database form of a UTC timestamp."""
    return moment.isoformat(timespec="seconds")


def hash_token(token: str) -> str:
    # Device tokens are 256-bit random strings, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(token.encode()).hexdigest()


_SEQ = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq'"


class CommandAnswer(NamedTuple):
    """The centre's answer to a command: status, JSON body, whether it is a replay of the first answer, and (for an
    acceptance) where it lies in the centre's history."""

    status: int
    body: str
    replayed: bool
    position: str | None


class StoreBase:
    """The database and what every aggregate needs of it. Safe to share between threads."""

    def __init__(self, where: str | Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        """The centre's storage at `where`: a SQLite file path, or a PostgreSQL URL (`postgresql://…`). The schema
        is brought up to date first (migrations.py), then an epoch begins (epochs.py)."""
        self.db = open_database(where)
        self.path = None if is_postgres(where) else Path(where)  # the file, for SQLite
        self.clock = clock  # the centre's "now" (UTC): settable, so that a test can stand at any moment
        try:
            self.migrated = migrate(self.db)
            with self.write() as conn:  # every opening starts an epoch: see epochs.py for why
                self.centre = epochs.begin(conn, self.clock()).centre
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def write(self) -> AbstractContextManager[Conn]:
        """One write transaction; the sequence moves only inside one of these (see db.py for how it stays gap-free)."""
        return self.db.write()

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        return self.db.query(sql, params)

    def query_one(self, sql: str, params: tuple | list = ()) -> tuple | None:
        return self.db.query_one(sql, params)

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.query_one("SELECT value FROM meta WHERE key = ?", (key,))
        return row[0] if row else default

    @staticmethod
    def set_meta(conn: Conn, key: str, value: str) -> None:
        conn.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value)
        )

    @staticmethod
    def next_seq(conn: Conn) -> int:
        """The next position of the change feed, under the lock of the counter's row until the transaction ends."""
        return int(
            conn.execute(
                "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'seq' RETURNING value"
            ).fetchone()[0]
        )

    @staticmethod
    def _number(conn: Conn, prefix: str, counter: str, restoring: str | None) -> str:
        """A new number of a kind in the current series, or `restoring` if the command had it before a restore."""
        if epochs.reusable(conn, prefix, restoring):
            assert restoring is not None
            return restoring
        return epochs.take_number(conn, prefix, counter)

    def centre_info(self) -> CentreInfo:
        """Who this centre is and which history it holds (`GET /v1/centre`)."""
        with self.db.read() as conn:
            return epochs.info(conn)

    @property
    def is_demo(self) -> bool:
        return self.meta("demo") == "1"

    def delete(self, conn: Conn, collection: str, row_id: str) -> bool:
        """Delete one row of a synced collection, leaving a tombstone. True if it existed."""
        if conn.execute(f"DELETE FROM {collection} WHERE id = ?", (row_id,)).rowcount == 0:
            return False
        conn.execute(
            "INSERT INTO tombstones VALUES (?, ?, ?, ?)", (self.next_seq(conn), collection, row_id, iso(self.clock()))
        )
        return True

    def _touch(self, conn: Conn, collection: str, row_id: str, doc: str | None = None) -> None:
        """Give a row the next sequence value (and a new doc), so that the feed sends it again."""
        if doc is None:
            conn.execute(f"UPDATE {collection} SET seq = ? WHERE id = ?", (self.next_seq(conn), row_id))
        else:
            conn.execute(f"UPDATE {collection} SET seq = ?, doc = ? WHERE id = ?", (self.next_seq(conn), doc, row_id))

    def _add_to_scope(self, conn: Conn, customer_id: str, store: str, reason: str) -> None:
        """Bring a customer into a store's scope; their rows go out again so that store's devices get them."""
        if conn.execute(
            "INSERT INTO customer_scope VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (customer_id, store, reason)
        ).rowcount:
            self._touch(conn, "customers", customer_id)
            for collection in ("wishlists", "orders", "conversations", "notes", "follow_ups", "activities"):
                for (row_id,) in conn.execute(
                    f"SELECT id FROM {collection} WHERE customer_id = ?", (customer_id,)
                ).fetchall():
                    self._touch(conn, collection, row_id)

    def _idempotent(
        self, store: str, key: str, endpoint: str, body: str, work, customer_id: str | None
    ) -> CommandAnswer:
        """Run `work(conn)` once per idempotency key of `store`: (status, JSON body, replayed, position).

        A key belongs to the store whose device sent it: the same key from another store is that
        store's own request, never an answer to the first. The key is stored with the answer in the
        same transaction as the work. A refusal (`ProblemError` below 500) is an answer too: the same
        request gets it again. `customer_id` is the customer the command is about (erased with them).
        An acceptance takes a position of its own in the history (`<centre>.<epoch>.<seq>`): a device keeps it in its
        ledger and sends the command again if a restored centre turns out not to hold it (`CentreInfo.misses`).
        """
        request_hash = hashlib.sha256(f"{endpoint}\n{body}".encode()).hexdigest()
        with self.write() as conn:
            self.db.lock(conn, f"idempotency\n{store}\n{key}")  # one at a time per key, across processes
            seen = conn.execute(
                "SELECT request_hash, status, body, position FROM idempotency WHERE store = ? AND key = ?",
                (store, key),
            ).fetchone()
            if seen is not None:
                if seen[0] != request_hash:
                    raise ProblemError(
                        "idempotency_key_reused",
                        f"the idempotency key {key!r} was first used with a different request; "
                        "use a new key for a new request",
                    )
                held = seen[3]
                if held is None and seen[1] < 400:  # stored before positions: the centre holds it now at the latest
                    now = epochs.current(conn)
                    held = f"{now.centre}.{now.epoch}.{conn.execute(_SEQ).fetchone()[0]}"
                return CommandAnswer(seen[1], seen[2], True, held if seen[1] < 400 else None)
            conn.execute("SAVEPOINT work")
            try:
                status, answer = 201, work(conn)
                conn.execute("RELEASE work")
            except ProblemError as refusal:
                if refusal.status >= 500:
                    raise
                conn.execute("ROLLBACK TO work")
                conn.execute("RELEASE work")
                status, answer = refusal.status, refusal.to_json()
            position = None
            if status < 400:
                seq = self.next_seq(conn)  # first the position (under the counter's lock), then its epoch
                now = epochs.current(conn)
                position = f"{now.centre}.{now.epoch}.{seq}"
            conn.execute(
                "INSERT INTO idempotency (store, key, request_hash, status, body, created_at, customer_id, position)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (store, key, request_hash, status, answer, iso(self.clock()), customer_id, position),
            )
        return CommandAnswer(status, answer, False, position)
