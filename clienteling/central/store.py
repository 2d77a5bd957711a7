"""The centre's storage: one SQLite file (WAL) with a change feed.

Every row of a synced collection carries `seq`, the value the server sequence had
when the row was last inserted or updated; deletes leave a tombstone with its own
`seq`. The sync feed reads both in `seq` order. Rows are kept as their contract
JSON (`doc`) beside the columns that queries need, so reads serve JSON as stored.

Writes run one at a time (a process lock and `BEGIN IMMEDIATE`), which keeps the
sequence gap-free in commit order: a reader never sees seq N+1 before N.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from clienteling import codes, pins, rules
from clienteling.central import epochs
from clienteling.central.db import Conn, is_postgres, open_database
from clienteling.central.migrations import migrate
from clienteling.central.problems import ProblemError
from clienteling.contract import (
    SYNC_COLLECTIONS,
    AddNoteCommand,
    CentreInfo,
    CustomerNote,
    Money,
    Order,
    ProfileView,
    ProfileViewCommand,
    Return,
    ReturnCommand,
    ReturnLine,
    ShipToHomeOrderCommand,
    StaffMember,
    StatusChange,
    utc_now,
)
from clienteling.geo import distance_km
from clienteling.text_search import fts_query, fts_words, prefix_words

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
}

# Collections whose rows belong to one store: a device gets only its own store's.
STORE_SCOPED = {"staff"}

_STOCK_DOC = (
    "{json_object}('store', store, 'sku', sku, 'on_hand', on_hand, 'reserved', reserved, "
    "'available', CASE WHEN on_hand > reserved THEN on_hand - reserved ELSE 0 END, 'as_of', as_of)"
)


_CURSOR_MISSES = {
    "no_epoch": "is from a centre of an older version, before epochs",
    "another_centre": "is from another centre",
    "unknown_epoch": "is from an epoch this centre does not hold: it was restored from a backup",
    "beyond_epoch": "lies beyond what this centre holds of its epoch: it was restored from a backup",
    "ahead": "lies ahead of this centre",
}


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


class CentralStore:
    """The centre's database. Safe to share between threads: reads use one connection per thread."""

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

    # ------------------------------------------------------------------ meta and sequence

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

    # ------------------------------------------------------------------ devices

    def add_device(self, store: str, label: str | None = None) -> str:
        """Register a device of `store` and return its new token; only the token's hash is kept."""
        if self.store_doc(store) is None:
            raise ProblemError("unknown_store", f"there is no store {store!r}")
        token = "clt_" + secrets.token_urlsafe(32)
        with self.write() as conn:
            conn.execute(
                "INSERT INTO devices VALUES (?, ?, ?, 0, ?)", (hash_token(token), store, label, iso(utc_now()))
            )
        return token

    def add_demo_devices(self, conn: Conn, stores: list[str]) -> None:
        conn.executemany(
            "INSERT INTO devices VALUES (?, ?, 'demo', 1, ?) ON CONFLICT (token_hash) DO UPDATE SET store = excluded.store,"
            " label = excluded.label, demo = excluded.demo, created_at = excluded.created_at",
            [(hash_token(f"demo-{code}"), code, iso(utc_now())) for code in stores],
        )

    def device_store(self, token: str, *, allow_demo: bool) -> str | None:
        row = self.query_one("SELECT store, demo FROM devices WHERE token_hash = ?", (hash_token(token),))
        if row is None or (row[1] and not allow_demo):
            return None
        return row[0]

    def add_admin(self, label: str | None = None) -> str:
        """Register an administrator (head office: privacy, security) and return the new token; only its hash is
        kept. An administrator's token reads what no store device may, such as who viewed a customer's profile."""
        token = "cla_" + secrets.token_urlsafe(32)
        with self.write() as conn:
            conn.execute("INSERT INTO admins VALUES (?, ?, ?)", (hash_token(token), label, iso(utc_now())))
        return token

    def is_admin(self, token: str) -> bool:
        return self.query_one("SELECT 1 FROM admins WHERE token_hash = ?", (hash_token(token),)) is not None

    # ------------------------------------------------------------------ staff

    def put_staff(self, members: list[StaffMember]) -> None:
        """Add or change staff members; each goes out again in its store's feed.

        A member stays in the store they were made for: someone who moves is made inactive here and
        added anew there, so that every device of the old store hears of the change.
        """
        with self.write() as conn:
            for member in members:
                if conn.execute("SELECT 1 FROM stores WHERE id = ?", (member.store,)).fetchone() is None:
                    raise ProblemError("unknown_store", f"there is no store {member.store!r}")
                if not pins.is_centre_hash(member.pin_hash):  # a sealed row is a device's, never the centre's
                    raise ProblemError("invalid_request", f"staff member {member.id}: pin_hash is not a centre's hash")
                known = conn.execute("SELECT store FROM staff WHERE id = ?", (member.id,)).fetchone()
                if known is not None and known[0] != member.store:
                    raise ProblemError(
                        "invalid_request",
                        f"staff member {member.id} belongs to {known[0]}; make them inactive there and add them anew",
                    )
                conn.execute(
                    "INSERT INTO staff VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq,"
                    " doc = excluded.doc",
                    (member.id, self.next_seq(conn), member.store, member.model_dump_json()),
                )

    def staff_doc(self, staff_id: str) -> str | None:
        row = self.query_one("SELECT doc FROM staff WHERE id = ?", (staff_id,))
        return row[0] if row else None

    # ------------------------------------------------------------------ reads

    def store_doc(self, code: str) -> str | None:
        row = self.query_one("SELECT doc FROM stores WHERE id = ?", (code,))
        return row[0] if row else None

    def customer_by_id(self, customer_id: str) -> str | None:
        row = self.query_one("SELECT doc FROM customers WHERE id = ?", (customer_id,))
        return row[0] if row else None

    def customer_by_card(self, card: str) -> str | None:
        row = self.query_one("SELECT doc FROM customers WHERE card = ?", (card,))
        return row[0] if row else None

    def customer_by_email(self, email: str) -> str | None:
        row = self.query_one("SELECT doc FROM customers WHERE email_lc = ?", (email.strip().lower(),))
        return row[0] if row else None

    def search_customers(self, text: str, limit: int = 50) -> list[str]:
        """Customers whose name, email or phone starts with the words of `text`, as summaries."""
        summary = (
            f"{self.db.json_object}('id', c.id, 'first_name', c.doc->>'first_name', 'last_name', c.doc->>'last_name',"
            " 'email', c.doc->>'email', 'phone', c.doc->>'phone', 'home_store', c.home_store, 'tier', c.doc->>'tier')"
        )
        if self.db.dialect == "postgresql":  # a text search over the folded words (customer_search_text)
            words = [w.replace("'", "").replace("\\", "") for w in prefix_words(text)]
            query = " & ".join(f"'{w}':*" for w in words if w)
            if not query:
                return []
            rows = self.query(
                f"SELECT {summary}::text FROM customers c WHERE to_tsvector('simple', c.search_text)"
                " @@ to_tsquery('simple', ?) ORDER BY ts_rank(to_tsvector('simple', c.search_text),"
                " to_tsquery('simple', ?)) DESC, c.id LIMIT ?",
                (query, query, limit),
            )
            return [r[0] for r in rows]
        fts = fts_query(text)
        if fts is None:
            return []
        rows = self.query(
            f"SELECT {summary} FROM customers_fts f JOIN customers c ON c.rowid = f.rowid"
            " WHERE customers_fts MATCH ? ORDER BY f.rank LIMIT ?",
            (fts, limit),
        )
        return [r[0] for r in rows]

    def wishlist(self, customer_id: str) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT doc FROM wishlists WHERE customer_id = ? ORDER BY doc->>'added_at' DESC", (customer_id,)
            )
        ]

    def orders(self, customer_id: str) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT doc FROM orders WHERE customer_id = ? ORDER BY created_at DESC, id DESC", (customer_id,)
            )
        ]

    def conversations(self, customer_id: str) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT doc FROM conversations WHERE customer_id = ? ORDER BY updated_at DESC, id DESC",
                (customer_id,),
            )
        ]

    def order_doc(self, number: str) -> str | None:
        row = self.query_one("SELECT doc FROM orders WHERE id = ?", (number,))
        return row[0] if row else None

    def search_products(self, text: str, limit: int = 50) -> list[str]:
        """Products whose search text (`rules.product_search_text`) holds every word typed (`rules.product_matches`)."""
        words = rules.product_search_words(text)
        if not words:
            return []
        where = " AND ".join("search LIKE ? ESCAPE '!'" for _ in words)
        patterns = ["%" + w.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%" for w in words]
        return [
            r[0] for r in self.query(f"SELECT doc FROM products WHERE {where} ORDER BY id LIMIT ?", (*patterns, limit))
        ]

    def product_by_code(self, code: str) -> tuple[str, str] | None:
        """(product JSON, SKU) for a GTIN (8, 12, 13 or 14 digits) or a SKU, or None."""
        code = code.strip()
        if code.isdigit() and len(code) in (8, 12, 13, 14):
            row = self.query_one("SELECT style, sku FROM variants WHERE gtin14 = ?", (code.zfill(14),))
        else:
            row = self.query_one("SELECT style, sku FROM variants WHERE sku = ?", (code.upper(),))
        if row is None:
            return None
        return self.query_one("SELECT doc FROM products WHERE id = ?", (row[0],))[0], row[1]

    def stock_overview(self, sku: str, from_store: str) -> list[dict] | None:
        """Every location's stock of `sku` with its distance from `from_store`, nearest first; None if no such SKU."""
        if self.query_one("SELECT 1 FROM variants WHERE sku = ?", (sku,)) is None:
            return None
        origin = self.query_one("SELECT latitude, longitude FROM stores WHERE id = ?", (from_store,))
        rows = self.query(
            "SELECT s.id, s.doc->>'name', s.doc->>'city', s.doc->>'kind', s.latitude, s.longitude,"
            " coalesce(k.on_hand, 0), coalesce(k.reserved, 0), coalesce(k.as_of, s.doc->>'updated_at')"
            " FROM stores s LEFT JOIN stock k ON k.store = s.id AND k.sku = ?",
            (sku,),
        )
        levels = []
        for code, name, city, kind, lat, lon, on_hand, reserved, as_of in rows:
            levels.append(
                {
                    "store": code,
                    "sku": sku,
                    "on_hand": on_hand,
                    "reserved": reserved,
                    "available": max(on_hand - reserved, 0),
                    "as_of": as_of,
                    "store_name": name,
                    "city": city,
                    "kind": kind,
                    "distance_km": distance_km(origin[0], origin[1], lat, lon) if origin else 0.0,
                }
            )
        levels.sort(key=lambda level: (level["store"] != from_store, level["distance_km"], level["store"]))
        return levels

    # ------------------------------------------------------------------ change feed

    def sync_page(
        self,
        collection: str,
        cursor: str,
        limit: int,
        store: str,
        *,
        ndjson: bool = False,
        each: Callable[[str], str] | None = None,
    ) -> str:
        """One page of `collection` after `cursor`, as the JSON of a `SyncPage`.

        With `ndjson`, the same page as lines: first `{"deleted", "next_cursor", "has_more", "items": N}`,
        then each item's JSON on a line of its own, so that a device can store each item as it came.

        `each` changes every item's JSON on its way out (the staff feed seals PIN hashes to the calling device).

        A cursor is `<centre>.<epoch>.<position>`, opaque to the caller (see epochs.py). `0` starts a
        fresh pass: its cursors carry an `F` until the pass is complete, and a fresh pass never needs
        the tombstones from before it. When a page reaches the end of the feed, `next_cursor` is the
        position of that moment, so an idle collection's cursor does not grow old.

        `ProblemError('reset_required')` (the caller must fetch the collection afresh) for a cursor the
        centre cannot serve: from another centre, from an epoch this database does not hold or beyond
        where it holds that epoch (it was restored from a backup), ahead of the centre, from before
        epochs, or (not in a fresh pass) older than the tombstones kept.
        """
        if collection not in SYNC_COLLECTIONS:
            raise ProblemError("collection_not_found", f"there is no sync collection {collection!r}")
        fresh = cursor == "0" or cursor.startswith("F")
        after = int(cursor.rpartition(".")[2].lstrip("F"))
        with self.db.read() as conn:  # one snapshot for rows, tombstones, the floor and the sequence
            centre = epochs.info(conn, around=cursor.lstrip("F").split(".")[1] if "." in cursor else "")
            now = centre.seq
            why = centre.misses(cursor) if cursor != "0" else None
            if why is not None:
                raise ProblemError(
                    "reset_required",
                    f"cursor {cursor} {_CURSOR_MISSES[why]}; fetch the collection afresh from the start",
                    collection=collection,
                    reason=why,
                )
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"tombstone_floor:{collection}",)).fetchone()
            floor = int(row[0]) if row else 0
            if not fresh and after < floor:
                raise ProblemError(
                    "reset_required",
                    f"cursor {cursor} is older than the tombstones kept (from {floor}); "
                    "fetch the collection afresh from the start",
                    collection=collection,
                )
            items = conn.execute(
                self._feed_sql(collection),
                (after, store, limit + 1)
                if collection in CUSTOMER_SCOPED or collection in STORE_SCOPED
                else (after, limit + 1),
            ).fetchall()
            deleted = (
                conn.execute(
                    "SELECT seq, id FROM tombstones WHERE collection = ? AND seq > ? ORDER BY seq LIMIT ?",
                    (collection, after, limit + 1),
                ).fetchall()
                if after > 0
                else []
            )
        merged = sorted([(seq, doc, False) for seq, doc in items] + [(seq, id_, True) for seq, id_ in deleted])
        page = merged[:limit]
        has_more = len(merged) > limit
        next_cursor = centre.position(page[-1][0], fresh=fresh) if has_more else centre.position(max(now, after))
        docs = [doc if each is None else each(doc) for _, doc, gone in page if not gone]
        deleted_ids = [id_ for _, id_, gone in page if gone]
        if ndjson:
            head = {"deleted": deleted_ids, "next_cursor": next_cursor, "has_more": has_more, "items": len(docs)}
            return "\n".join([json.dumps(head), *docs])
        return (
            '{"items":['
            + ",".join(docs)
            + '],"deleted":'
            + json.dumps(deleted_ids)
            + f',"next_cursor":"{next_cursor}","has_more":{"true" if has_more else "false"}}}'
        )

    def _feed_sql(self, collection: str) -> str:
        json_object = self.db.json_object
        if collection == "stock":
            return f"SELECT seq, {_STOCK_DOC.format(json_object=json_object)} FROM stock WHERE seq > ? ORDER BY seq LIMIT ?"
        if collection in CUSTOMER_SCOPED:
            key = CUSTOMER_SCOPED[collection]
            return (
                f"SELECT t.seq, t.doc FROM {collection} t WHERE t.seq > ? AND EXISTS (SELECT 1 FROM customer_scope s"
                f" WHERE s.customer_id = t.{key} AND s.store = ?) ORDER BY t.seq LIMIT ?"
            )
        if collection in STORE_SCOPED:
            return f"SELECT seq, doc FROM {collection} WHERE seq > ? AND store = ? ORDER BY seq LIMIT ?"
        return f"SELECT seq, doc FROM {collection} WHERE seq > ? ORDER BY seq LIMIT ?"

    def delete(self, conn: Conn, collection: str, row_id: str) -> bool:
        """Delete one row of a synced collection, leaving a tombstone. True if it existed."""
        if conn.execute(f"DELETE FROM {collection} WHERE id = ?", (row_id,)).rowcount == 0:
            return False
        conn.execute(
            "INSERT INTO tombstones VALUES (?, ?, ?, ?)", (self.next_seq(conn), collection, row_id, iso(self.clock()))
        )
        return True

    def forget_customer(self, customer_id: str) -> bool:
        """Erase a customer and everything personal about them (a GDPR erasure), with tombstones.

        Besides their synced rows: the notes staff made about them, the returns of their orders, the log of who
        viewed their profile, and every stored idempotency answer about them (an order's answer holds the address).
        A device that sends one of their commands again afterwards gets it judged afresh: refused, as they are gone.
        """
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
                return False
            if self.db.dialect == "sqlite":
                conn.execute(
                    "DELETE FROM customers_fts WHERE rowid = (SELECT rowid FROM customers WHERE id = ?)", (customer_id,)
                )
            conn.execute(
                "DELETE FROM returns WHERE order_number IN (SELECT id FROM orders WHERE customer_id = ?)",
                (customer_id,),
            )
            for table in ("notes", "profile_views", "idempotency"):
                conn.execute(f"DELETE FROM {table} WHERE customer_id = ?", (customer_id,))
            for collection in ("wishlists", "orders", "conversations"):
                for (row_id,) in conn.execute(
                    f"SELECT id FROM {collection} WHERE customer_id = ?", (customer_id,)
                ).fetchall():
                    self.delete(conn, collection, row_id)
            self.delete(conn, "customers", customer_id)
            conn.execute("DELETE FROM customer_scope WHERE customer_id = ?", (customer_id,))
        return True

    def prune_tombstones(self, older_than: timedelta) -> int:
        """Drop tombstones older than `older_than`; cursors of a collection from before its dropped
        tombstones will get `reset_required`."""
        cutoff = iso(utc_now() - older_than)
        with self.write() as conn:
            floors = conn.execute(
                "SELECT collection, max(seq) FROM tombstones WHERE deleted_at < ? GROUP BY collection", (cutoff,)
            ).fetchall()
            count = 0
            for collection, top in floors:
                count += conn.execute(
                    "DELETE FROM tombstones WHERE collection = ? AND seq <= ?", (collection, top)
                ).rowcount
                self.set_meta(conn, f"tombstone_floor:{collection}", str(top))
        return count

    def prune_expired(self) -> tuple[int, int]:
        """Drop profile views and stored idempotency answers older than their retention at the centre's clock.

        Returns (views dropped, answers dropped). A view's age counts from when it happened, an answer's from when
        it was given.
        """
        now = self.clock()
        with self.write() as conn:
            views = conn.execute(
                "DELETE FROM profile_views WHERE viewed_at < ?", (iso(now - PROFILE_VIEW_RETENTION),)
            ).rowcount
            answers = conn.execute(
                "DELETE FROM idempotency WHERE created_at < ?", (iso(now - IDEMPOTENCY_RETENTION),)
            ).rowcount
        return views, answers

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
            for collection in ("wishlists", "orders", "conversations"):
                for (row_id,) in conn.execute(
                    f"SELECT id FROM {collection} WHERE customer_id = ?", (customer_id,)
                ).fetchall():
                    self._touch(conn, collection, row_id)

    # ------------------------------------------------------------------ commands

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

    @staticmethod
    def _staff_of_store(conn: Conn, store: str, field: str, staff_id: str | None) -> None:
        """Refuse a command whose `field` names anyone but a staff member of `store`, the calling device's store.

        Inactive members count (a command made offline before they left still arrives). The detail does not say
        whether the id belongs to another store, so that a device cannot map other stores' staff with it.
        """
        if staff_id is None:
            return
        if conn.execute("SELECT 1 FROM staff WHERE id = ? AND store = ?", (staff_id, store)).fetchone() is None:
            raise ProblemError(
                "unknown_staff",
                f"{field} must be the id of a staff member of {store}, the store of this device; "
                f"{staff_id!r} is not one",
                field=field,
                staff_id=staff_id,
            )

    def place_ship_to_home(
        self, command: ShipToHomeOrderCommand, key: str, device_store: str, *, restoring: str | None = None
    ) -> CommandAnswer:
        """Place a ship-to-home order. `restoring` is the number the device was given for it before this centre was
        restored from a backup: the order gets it again if `epochs.reusable` allows."""
        return self._idempotent(
            device_store,
            key,
            "ship-to-home",
            command.model_dump_json(),
            lambda conn: self._ship_to_home(conn, command, device_store, restoring),
            command.customer_id,
        )

    def _ship_to_home(
        self, conn: Conn, command: ShipToHomeOrderCommand, device_store: str, restoring: str | None
    ) -> str:
        now = utc_now()
        self._staff_of_store(conn, device_store, "placed_by", command.placed_by)
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (command.customer_id,)).fetchone() is None:
            raise ProblemError("unknown_customer", f"there is no customer {command.customer_id}")
        if conn.execute("SELECT 1 FROM stores WHERE id = ?", (command.fulfilling_store,)).fetchone() is None:
            raise ProblemError("unknown_store", f"there is no store or DC {command.fulfilling_store}")
        wanted: dict[str, int] = {}
        for line in command.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        short = []
        lines = []
        for number, (sku, quantity) in enumerate(wanted.items(), start=1):
            found = conn.execute(
                "SELECT p.doc FROM variants v JOIN products p ON p.id = v.style WHERE v.sku = ?", (sku,)
            ).fetchone()
            if found is None:
                raise ProblemError("unknown_sku", f"there is no product with SKU {sku}", sku=sku)
            product = json.loads(found[0])
            variant = next(v for v in product["variants"] if v["sku"] == sku)
            level = conn.execute(
                "SELECT on_hand - reserved FROM stock WHERE store = ? AND sku = ?", (command.fulfilling_store, sku)
            ).fetchone()
            available = max(level[0], 0) if level else 0
            if available < quantity:
                short.append({"sku": sku, "requested": quantity, "available": available})
            unit = variant["price"]
            lines.append(
                {
                    "line_no": number,
                    "sku": sku,
                    "name": product["name"],
                    "colour": variant["colour"],
                    "size": variant["size"],
                    "quantity": quantity,
                    "unit_price": unit,
                    "returned_quantity": 0,
                }
            )
        if short:
            described = ", ".join(f"{s['sku']}: {s['requested']} wanted, {s['available']} available" for s in short)
            raise ProblemError(
                "out_of_stock",
                f"not enough stock at {command.fulfilling_store} ({described})",
                store=command.fulfilling_store,
                lines=short,
            )
        for sku, quantity in wanted.items():
            # Reserved only if still there: the condition is checked again under the row's lock, so two centre
            # processes selling the last one never both get it (on SQLite writers are one at a time anyway).
            taken = conn.execute(
                "UPDATE stock SET reserved = reserved + ?, as_of = ?, seq = ? WHERE store = ? AND sku = ?"
                " AND on_hand - reserved >= ?",
                (quantity, iso(now), self.next_seq(conn), command.fulfilling_store, sku, quantity),
            ).rowcount
            if not taken:
                level = conn.execute(
                    "SELECT on_hand - reserved FROM stock WHERE store = ? AND sku = ?", (command.fulfilling_store, sku)
                ).fetchone()
                available = max(level[0], 0) if level else 0
                raise ProblemError(
                    "out_of_stock",
                    f"not enough stock at {command.fulfilling_store} ({sku}: {quantity} wanted, {available} available)",
                    store=command.fulfilling_store,
                    lines=[{"sku": sku, "requested": quantity, "available": available}],
                )
        totals = rules.order_totals((Money.model_validate(line["unit_price"]), line["quantity"]) for line in lines)
        number = self._number(conn, "ORD", "order_number", restoring)
        order = Order.model_validate(
            {
                "number": number,
                "customer_id": command.customer_id,
                "channel": "store",
                "fulfilment": "delivery",
                "store": device_store,
                "fulfilled_by": command.fulfilling_store,
                "status": "reserved",
                "status_history": [
                    {"status": "placed", "at": now, "note": f"ship to home, placed in store {device_store}"},
                    {"status": "reserved", "at": now, "note": f"stock reserved at {command.fulfilling_store}"},
                ],
                "lines": lines,
                "shipping_address": command.shipping_address,
                "totals": totals,
                "placed_by": command.placed_by,
                "created_at": now,
                "updated_at": now,
            }
        )
        doc = order.model_dump_json()
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
            (number, self.next_seq(conn), command.customer_id, iso(now), doc),
        )
        for sku in wanted:  # what is ordered leaves the wishlist
            self.delete(conn, "wishlists", f"{command.customer_id}:{sku}")
        self._add_to_scope(conn, command.customer_id, device_store, "buyer")
        return doc

    def register_return(
        self, command: ReturnCommand, key: str, device_store: str, *, restoring: str | None = None
    ) -> CommandAnswer:
        buyer = self.query_one("SELECT customer_id FROM orders WHERE id = ?", (command.order_number,))
        return self._idempotent(
            device_store,
            key,
            "return",
            command.model_dump_json(),
            lambda conn: self._return(conn, command, device_store, restoring),
            buyer[0] if buyer else None,
        )

    def _return(self, conn: Conn, command: ReturnCommand, device_store: str, restoring: str | None) -> str:
        now = utc_now()
        self._staff_of_store(conn, device_store, "received_by", command.received_by)
        row = conn.execute("SELECT doc FROM orders WHERE id = ?", (command.order_number,)).fetchone()
        if row is None:
            raise ProblemError("order_not_found", f"there is no order {command.order_number}")
        order = Order.model_validate_json(row[0])
        eligibility = rules.return_eligibility(order, now)
        refusal = rules.refuse_return(eligibility, command.lines)
        if refusal is not None:
            raise _return_problem(order, refusal)
        by_number = {line.line_no: line for line in order.lines}
        returned = []
        for request in command.lines:
            line = by_number[request.line_no]
            line.returned_quantity += request.quantity
            returned.append(
                ReturnLine(**request.model_dump(), sku=line.sku, refund=rules.line_refund(line, request.quantity))
            )
            if request.condition == "resellable":
                self._restock(conn, device_store, line.sku, request.quantity, now)
        fully = all(line.returned_quantity == line.quantity for line in order.lines)
        order.status = "returned" if fully else "partially_returned"
        number = self._number(conn, "RET", "return_number", restoring)
        order.status_history.append(StatusChange(status=order.status, at=now, note=f"{number} at {device_store}"))
        order.updated_at = now
        self._touch(conn, "orders", order.number, order.model_dump_json())
        receipt = Return(
            number=number,
            order_number=order.number,
            customer_id=order.customer_id,
            store=device_store,
            lines=returned,
            refund=rules.refund(order, {line.line_no: line.quantity for line in command.lines}),
            received_by=command.received_by,
            created_at=now,
        )
        doc = receipt.model_dump_json()
        conn.execute("INSERT INTO returns VALUES (?, ?, ?, ?)", (number, order.number, iso(now), doc))
        return doc

    def add_note(
        self, customer_id: str, command: AddNoteCommand, key: str, device_store: str, *, restoring: str | None = None
    ) -> CommandAnswer:
        body = f"{customer_id}\n{command.model_dump_json()}"
        return self._idempotent(
            device_store,
            key,
            "note",
            body,
            lambda conn: self._note(conn, customer_id, command, device_store, restoring),
            customer_id,
        )

    def _note(
        self,
        conn: Conn,
        customer_id: str,
        command: AddNoteCommand,
        device_store: str,
        restoring: str | None,
    ) -> str:
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
            raise ProblemError("customer_not_found", f"there is no customer {customer_id}")
        now = utc_now()
        note = CustomerNote(
            id=self._number(conn, "N", "note_number", restoring),
            customer_id=customer_id,
            text=command.text,
            author=command.author,
            store=device_store,
            created_at=now,
        )
        doc = note.model_dump_json()
        conn.execute("INSERT INTO notes VALUES (?, ?, ?, ?)", (note.id, customer_id, iso(now), doc))
        return doc

    def notes(self, customer_id: str) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT doc FROM notes WHERE customer_id = ? ORDER BY created_at DESC, id DESC", (customer_id,)
            )
        ]

    def record_profile_view(
        self,
        customer_id: str,
        command: ProfileViewCommand,
        key: str,
        device_store: str,
        *,
        restoring: str | None = None,
    ) -> CommandAnswer:
        body = f"{customer_id}\n{command.model_dump_json()}"
        return self._idempotent(
            device_store,
            key,
            "profile-view",
            body,
            lambda conn: self._profile_view(conn, customer_id, command, device_store, restoring),
            customer_id,
        )

    def _profile_view(
        self,
        conn: Conn,
        customer_id: str,
        command: ProfileViewCommand,
        device_store: str,
        restoring: str | None,
    ) -> str:
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
            raise ProblemError("customer_not_found", f"there is no customer {customer_id}")
        self._staff_of_store(conn, device_store, "staff_id", command.staff_id)
        now = self.clock()
        refusal = rules.implausible_view_time(command.viewed_at, now)
        if refusal is not None:
            earliest, latest = (iso(refusal.params[end]) for end in ("earliest", "latest"))
            why = "is in the future" if refusal.code == "in_the_future" else "was too long ago"
            raise ProblemError(
                "implausible_time",
                f"viewed_at {iso(command.viewed_at)} {why}: the centre records views from {earliest} to {latest}",
                earliest=earliest,
                latest=latest,
            )
        view = ProfileView(
            id=self._number(conn, "V", "view_number", restoring),
            customer_id=customer_id,
            staff_id=command.staff_id,
            store=device_store,
            viewed_at=command.viewed_at,
            recorded_at=now,
        )
        doc = view.model_dump_json()
        conn.execute(
            "INSERT INTO profile_views VALUES (?, ?, ?, ?, ?, ?)",
            (view.id, customer_id, view.staff_id, device_store, iso(view.viewed_at), doc),
        )
        return doc

    def profile_views(self, customer_id: str) -> list[str]:
        """Who opened this customer's profile, where and when: newest first."""
        return [
            r[0]
            for r in self.query(
                "SELECT doc FROM profile_views WHERE customer_id = ? ORDER BY viewed_at DESC, id DESC", (customer_id,)
            )
        ]

    def _restock(self, conn: Conn, store: str, sku: str, quantity: int, now: datetime) -> None:
        conn.execute(
            "INSERT INTO stock VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT(id) DO UPDATE SET"
            " on_hand = stock.on_hand + excluded.on_hand, as_of = excluded.as_of, seq = excluded.seq",
            (f"{store}:{sku}", self.next_seq(conn), store, sku, quantity, iso(now)),
        )


def _return_problem(order: Order, refusal: rules.Refusal) -> ProblemError:
    """The centre's answer to a return that the rules refuse: the same codes as ever, with the rule's reason."""
    params = refusal.params
    if refusal.code == "bought_in_store":
        return ProblemError(
            "not_an_online_order",
            f"order {order.number} was bought in store; take it back at the till, not as an online return",
        )
    if refusal.code == "not_delivered":
        return ProblemError(
            "order_not_delivered", f"order {order.number} is {order.status}; it can be returned once delivered"
        )
    if refusal.code == "window_closed":
        delivered, closed = params["delivered_at"], params["closed_at"]
        return ProblemError(
            "return_window_closed",
            f"order {order.number} was delivered on {delivered.date().isoformat()}; "
            f"its {params['days']}-day return window closed on {closed.date().isoformat()}",
            delivered_at=iso(delivered),
            window_closed_at=iso(closed),
        )
    if refusal.code == "unknown_line":
        return ProblemError(
            "order_line_not_found",
            f"order {order.number} has no line {params['line_no']}"
            + (" (or it was named twice)" if params["twice"] else ""),
            line_no=params["line_no"],
        )
    line = next(line for line in order.lines if line.line_no == params["line_no"])
    return ProblemError(
        "return_quantity_exceeded",
        f"line {line.line_no} of order {order.number} ({line.name}) has {params['left']} item(s) left to return, "
        f"not {params['requested']}",
        line_no=line.line_no,
        returnable=params["left"],
    )


class Backup(NamedTuple):
    path: Path
    bytes: int
    seq: int  # the sequence value the copy holds: a restored centre's history ends here
    seconds: float


def backup(source: str | Path, target: str | Path, *, pages_per_step: int = 1024) -> Backup:
    """A consistent copy of the centre's database `source` to `target`, also while the centre runs: SQLite's online
    backup, a step of pages at a time, so writers wait at most one step, never the whole copy.

    The copy is made beside the target and moved into place when whole, so a file at `target` is always a complete
    backup. It is one self-contained file (no -wal beside it). It opens nothing for writing in `source` (it starts no
    epoch). Restoring is copying it back while the centre is stopped (see the README); the devices notice by the
    epochs (epochs.py) and send what the copy lacks again.
    """
    started = time.monotonic()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    making = target.with_name(f".{target.name}.making")
    making.unlink(missing_ok=True)
    reader = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(making)
    try:
        reader.execute("PRAGMA busy_timeout=30000")
        reader.backup(copy, pages=pages_per_step)
        copy.execute("PRAGMA journal_mode=DELETE")
        seq = int(copy.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
    finally:
        copy.close()
        reader.close()
    os.replace(making, target)
    return Backup(target, target.stat().st_size, seq, time.monotonic() - started)


def customer_search_text(name: str, email: str, phone: str | None) -> str:
    """The words a customer is found by on PostgreSQL: the same words SQLite's full-text index makes of them."""
    return " ".join(fts_words(f"{name} {email} {phone or ''}"))


def card_or_problem(text: str) -> str:
    """The card number in `text`, or a 422 problem that says what is wrong with it."""
    try:
        return codes.parse_card_number(text)
    except codes.CodeError as error:
        raise ProblemError("invalid_card_number", str(error)) from None
