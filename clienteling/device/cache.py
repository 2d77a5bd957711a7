"""The device's cache: one SQLite file that every screen reads, kept in step with the centre.

WAL with `synchronous=FULL`. The schema has a version and migrations that only ever add. The commands made on the
device are not here: they live in the command journal (journal.py), a file of its own; a cache made before the
journal hands its outbox and local commands over to it (migration 6) before it drops them.

A sync page is applied by SQLite itself (`json_each` over the page's JSON), in one
transaction together with its cursor: rows are kept as the centre's contract JSON beside
the columns that lookups need, and the screens parse them with the contract models.

The cache can always be made again from the centre, so a damaged cache file (empty, a broken header, cut short,
damaged pages), found when it is opened or when a read or write later fails with SQLite's "malformed" or "not a
database", is set aside (renamed `cache.damaged-<UTC time>.db`, with its log) and a new, empty one takes its place;
the next sync fills it. The new file records when and why (`Cache.rebuilt`), so the screen can say so.
This module is the only one that runs SQL on the cache.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from clienteling.contract import CURSOR_PATTERN, SYNC_COLLECTIONS, utc_now
from clienteling.device.errors import CacheRebuilt, CentralRefused
from clienteling.device.journal import LOCAL_COMMAND_COLUMNS, OUTBOX_COLUMNS, file_problem, is_damage, run_script
from clienteling.text_search import folded, prefix_words

MIGRATIONS: list[str] = [
    # 1: the synced collections, cursors, the outbox and the local commands the screens show.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE cursors (
        collection TEXT PRIMARY KEY, cursor TEXT NOT NULL DEFAULT '0', gen INTEGER NOT NULL DEFAULT 0,
        resetting INTEGER NOT NULL DEFAULT 0, synced_at REAL);
    CREATE TABLE stores (
        id TEXT PRIMARY KEY, latitude REAL NOT NULL, longitude REAL NOT NULL, kind TEXT NOT NULL,
        doc TEXT NOT NULL, gen INTEGER NOT NULL);
    CREATE TABLE products (id TEXT PRIMARY KEY, search TEXT NOT NULL, doc TEXT NOT NULL, gen INTEGER NOT NULL);
    CREATE TABLE variants (sku TEXT PRIMARY KEY, gtin14 TEXT NOT NULL, style TEXT NOT NULL);
    CREATE INDEX variants_gtin ON variants(gtin14);
    CREATE INDEX variants_style ON variants(style);
    CREATE TABLE stock (
        id TEXT PRIMARY KEY, store TEXT NOT NULL, sku TEXT NOT NULL, on_hand INTEGER NOT NULL,
        reserved INTEGER NOT NULL, available INTEGER NOT NULL, as_of TEXT NOT NULL, gen INTEGER NOT NULL);
    CREATE INDEX stock_sku ON stock(sku);
    CREATE TABLE customers (
        id TEXT PRIMARY KEY, card TEXT NOT NULL, email_lc TEXT NOT NULL, home_store TEXT NOT NULL,
        name TEXT NOT NULL, email TEXT NOT NULL, phone TEXT, doc TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'sync', gen INTEGER NOT NULL, last_used REAL);
    CREATE INDEX customers_card ON customers(card);
    CREATE INDEX customers_email ON customers(email_lc);
    CREATE TABLE wishlists (
        id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, sku TEXT NOT NULL, doc TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'sync', gen INTEGER NOT NULL);
    CREATE INDEX wishlists_customer ON wishlists(customer_id);
    CREATE TABLE orders (
        id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'sync', gen INTEGER NOT NULL);
    CREATE INDEX orders_customer ON orders(customer_id);
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, updated_at TEXT NOT NULL, doc TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'sync', gen INTEGER NOT NULL);
    CREATE INDEX conversations_customer ON conversations(customer_id);
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
    """,
    # 2: full-text search over customers (name, email, phone), kept up to date by triggers.
    """
    CREATE VIRTUAL TABLE customers_fts USING fts5(
        name, email, phone, content = 'customers', content_rowid = 'rowid', prefix = '2 3',
        tokenize = "unicode61 remove_diacritics 2");
    CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
        INSERT INTO customers_fts(rowid, name, email, phone) VALUES (new.rowid, new.name, new.email, new.phone);
    END;
    CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
        INSERT INTO customers_fts(customers_fts, rowid, name, email, phone)
        VALUES ('delete', old.rowid, old.name, old.email, old.phone);
    END;
    CREATE TRIGGER customers_fts_update AFTER UPDATE OF name, email, phone ON customers BEGIN
        INSERT INTO customers_fts(customers_fts, rowid, name, email, phone)
        VALUES ('delete', old.rowid, old.name, old.email, old.phone);
        INSERT INTO customers_fts(rowid, name, email, phone) VALUES (new.rowid, new.name, new.email, new.phone);
    END;
    INSERT INTO customers_fts(customers_fts) VALUES ('rebuild');
    """,
    # 3: the search index follows inserts and updates a page at a time (`_search_index_follows`), not by
    # row triggers: FTS5 fed from a trigger costs ~60 µs a row against ~15 µs for one INSERT … SELECT,
    # and customers are most of an initial sync. Deletes are rare and keep their trigger.
    """
    DROP TRIGGER customers_fts_insert;
    DROP TRIGGER customers_fts_update;
    """,
    # 4: this store's staff (synced, PINs only as hashes) and their sign-in attempts, which outlive a restart:
    # `failures` wrong PINs in a row, and `locked_until` (UTC ISO 8601) once there were too many.
    """
    CREATE TABLE staff (
        id TEXT PRIMARY KEY, store TEXT NOT NULL, name TEXT NOT NULL, active INTEGER NOT NULL, doc TEXT NOT NULL,
        gen INTEGER NOT NULL);
    CREATE TABLE sign_in_attempts (
        staff_id TEXT PRIMARY KEY, failures INTEGER NOT NULL DEFAULT 0, locked_until TEXT);
    """,
    # 5: the customer search index again, made for typing (`Cache.search_customers`): prefix indexes for words of
    # 1 to 4 characters, so that every typed word of up to 4 characters is read from an index instead of merging
    # every word that starts with it (a lone `d` merged 250,000 customers at 1 M), and no positions (detail = none):
    # a search never needs them, and the index is half the size and a quarter cheaper to keep. Rebuilt from the
    # customers (about 15 s of CPU at 1 M customers, once).
    """
    DROP TABLE customers_fts;
    CREATE VIRTUAL TABLE customers_fts USING fts5(
        name, email, phone, content = 'customers', content_rowid = 'rowid', prefix = '1 2 3 4', detail = none,
        tokenize = "unicode61 remove_diacritics 2");
    INSERT INTO customers_fts(customers_fts) VALUES ('rebuild');
    """,
    # 6: the outbox and the local commands moved to the command journal (journal.py), a file of its own: their rows
    # are handed over to it (`Cache.__init__`'s `hand_over`) in the transaction of this migration, before it runs.
    """
    DROP TABLE outbox;
    DROP TABLE local_commands;
    """,
    # 7: price promotions from the retailer's systems (the review prices an order as the centre will charge it), and
    # the system each stock figure came from (issue 13).
    """
    CREATE TABLE promotions (id TEXT PRIMARY KEY, doc TEXT NOT NULL, gen INTEGER NOT NULL);
    ALTER TABLE stock ADD COLUMN source TEXT;
    """,
    # 8: notes and tags about customers, made in any store (issue 14)
    """
    CREATE TABLE notes (
        id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'sync', gen INTEGER NOT NULL);
    CREATE INDEX notes_customer ON notes(customer_id);
    """,
    # 9: what a customer said no to when staff showed it (a SKU or a style), so it is not suggested again; kept on
    # this device (issue 14)
    """
    CREATE TABLE declined (
        customer_id TEXT NOT NULL, item TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (customer_id, item));
    CREATE INDEX stock_store ON stock(store, available);
    """,
    # 10: follow-up tasks about customers, from the centre's feed (issue 14), and the customers each associate
    # follows on this device (their client book; kept here only, like what she declined)
    """
    CREATE TABLE follow_ups (
        id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, store TEXT NOT NULL, assignee TEXT, doc TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'sync', gen INTEGER NOT NULL);
    CREATE INDEX follow_ups_customer ON follow_ups(customer_id);
    CREATE INDEX follow_ups_store ON follow_ups(store, assignee);
    CREATE TABLE follows (
        staff_id TEXT NOT NULL, customer_id TEXT NOT NULL, since TEXT NOT NULL, PRIMARY KEY (staff_id, customer_id));
    """,
    # 11: what customers did online (issue 15): synced for the customers of this store, kept 90 days from `at`
    """
    CREATE TABLE activities (
        id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, at TEXT NOT NULL, doc TEXT NOT NULL,
        origin TEXT NOT NULL DEFAULT 'sync', gen INTEGER NOT NULL);
    CREATE INDEX activities_customer ON activities(customer_id, at);
    CREATE INDEX activities_at ON activities(at);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
_HAND_OVER = 5  # the migration before which the commands leave for the journal
# A cache of at most this size is checked in full (`PRAGMA quick_check`) when it is opened: about 0.1 s per 100 MB
# with the file in the system's cache (more from a cold disk). A larger one is checked by its header and size, and
# then by every read.
FULL_CHECK_BYTES = 512 * 1024 * 1024


def _field(name: str) -> str:
    return f"json_extract(item.value, '$.{name}')"


# How each collection's page is applied: one INSERT … SELECT over json_each(page, path). `origin` is
# 'sync' for rows of this store's scope and 'lookup' for customers fetched online; max() keeps
# 'sync' once a row has it ('sync' > 'lookup'), so a lookup never demotes a synced row.
_UPSERTS: dict[str, str] = {
    "stores": f"""
        INSERT INTO stores (id, latitude, longitude, kind, doc, gen)
        SELECT {_field("code")}, {_field("latitude")}, {_field("longitude")}, {_field("kind")}, item.value, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET latitude = excluded.latitude, longitude = excluded.longitude,
            kind = excluded.kind, doc = excluded.doc, gen = excluded.gen""",
    "staff": f"""
        INSERT INTO staff (id, store, name, active, doc, gen)
        SELECT {_field("id")}, {_field("store")}, {_field("name")}, {_field("active")}, item.value, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET store = excluded.store, name = excluded.name, active = excluded.active,
            doc = excluded.doc, gen = excluded.gen""",
    "products": f"""
        INSERT INTO products (id, search, doc, gen)
        SELECT {_field("style")},
            lower({_field("style")} || ' ' || {_field("name")} || ' ' || {_field("category")} || ' ' ||
                  (SELECT group_concat(DISTINCT json_extract(v.value, '$.colour')) FROM json_each(item.value, '$.variants') v)),
            item.value, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET search = excluded.search, doc = excluded.doc, gen = excluded.gen""",
    "promotions": f"""
        INSERT INTO promotions (id, doc, gen)
        SELECT {_field("id")}, item.value, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, gen = excluded.gen""",
    "stock": f"""
        INSERT INTO stock (id, store, sku, on_hand, reserved, available, as_of, source, gen)
        SELECT {_field("store")} || ':' || {_field("sku")}, {_field("store")}, {_field("sku")}, {_field("on_hand")},
            {_field("reserved")}, {_field("available")}, {_field("as_of")}, {_field("source")}, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved,
            available = excluded.available, as_of = excluded.as_of, source = excluded.source, gen = excluded.gen""",
    "customers": f"""
        INSERT INTO customers (id, card, email_lc, home_store, name, email, phone, doc, origin, gen)
        SELECT {_field("id")}, {_field("card_number")}, lower({_field("email")}), {_field("home_store")},
            {_field("first_name")} || ' ' || {_field("last_name")}, {_field("email")}, {_field("phone")}, item.value, :origin, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET card = excluded.card, email_lc = excluded.email_lc,
            home_store = excluded.home_store, name = excluded.name, email = excluded.email, phone = excluded.phone,
            doc = excluded.doc, origin = max(origin, excluded.origin), gen = excluded.gen""",
    "wishlists": f"""
        INSERT INTO wishlists (id, customer_id, sku, doc, origin, gen)
        SELECT {_field("id")}, {_field("customer_id")}, {_field("sku")}, item.value, :origin, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET customer_id = excluded.customer_id, sku = excluded.sku, doc = excluded.doc,
            origin = max(origin, excluded.origin), gen = excluded.gen""",
    "orders": f"""
        INSERT INTO orders (id, customer_id, created_at, doc, origin, gen)
        SELECT {_field("number")}, {_field("customer_id")}, {_field("created_at")}, item.value, :origin, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET customer_id = excluded.customer_id, created_at = excluded.created_at,
            doc = excluded.doc, origin = max(origin, excluded.origin), gen = excluded.gen""",
    "notes": f"""
        INSERT INTO notes (id, customer_id, created_at, doc, origin, gen)
        SELECT {_field("id")}, {_field("customer_id")}, {_field("created_at")}, item.value, :origin, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET customer_id = excluded.customer_id, created_at = excluded.created_at,
            doc = excluded.doc, origin = max(origin, excluded.origin), gen = excluded.gen""",
    "follow_ups": f"""
        INSERT INTO follow_ups (id, customer_id, store, assignee, doc, origin, gen)
        SELECT {_field("id")}, {_field("customer_id")}, {_field("store")}, {_field("assignee")}, item.value, :origin,
            :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET customer_id = excluded.customer_id, store = excluded.store,
            assignee = excluded.assignee, doc = excluded.doc, origin = max(origin, excluded.origin), gen = excluded.gen""",
    "activities": f"""
        INSERT INTO activities (id, customer_id, at, doc, origin, gen)
        SELECT {_field("id")}, {_field("customer_id")}, {_field("at")}, item.value, :origin, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET customer_id = excluded.customer_id, at = excluded.at,
            doc = excluded.doc, origin = max(origin, excluded.origin), gen = excluded.gen""",
    "conversations": f"""
        INSERT INTO conversations (id, customer_id, updated_at, doc, origin, gen)
        SELECT {_field("id")}, {_field("customer_id")}, {_field("updated_at")}, item.value, :origin, :gen
        FROM json_each(:page, :path) AS item WHERE true
        ON CONFLICT(id) DO UPDATE SET customer_id = excluded.customer_id, updated_at = excluded.updated_at,
            doc = excluded.doc, origin = max(origin, excluded.origin), gen = excluded.gen""",
}
_VARIANTS = """
    INSERT OR REPLACE INTO variants (sku, gtin14, style)
    SELECT json_extract(v.value, '$.sku'), substr('00000000000000' || json_extract(v.value, '$.gtin'), -14),
        json_extract(p.value, '$.style')
    FROM json_each(:page, :path) p, json_each(p.value, '$.variants') v"""
# The same upserts for one item at a time, as NDJSON brings them: the item is stored as it came.
_ROW_UPSERTS: dict[str, str] = {
    collection: _UPSERTS[collection]
    .replace("json_extract(item.value", "json_extract(:doc")
    .replace("item.value", ":doc")
    .replace("SELECT ", "VALUES (", 1)
    .replace("FROM json_each(:page, :path) AS item WHERE true", ")")
    for collection in (
        "staff",
        "promotions",
        "stock",
        "customers",
        "wishlists",
        "orders",
        "conversations",
        "notes",
        "follow_ups",
        "activities",
    )
}
# The search index entries of the customers a page brings (their ids in temp.page_ids).
_SEARCH_OUT = """
    INSERT INTO customers_fts(customers_fts, rowid, name, email, phone)
    SELECT 'delete', rowid, name, email, phone FROM customers WHERE id IN temp.page_ids"""
_SEARCH_IN = """
    INSERT INTO customers_fts(rowid, name, email, phone)
    SELECT rowid, name, email, phone FROM customers WHERE id IN temp.page_ids"""


@contextmanager
def _search_index_follows(conn: sqlite3.Connection, collection: str, docs: str, path: str) -> Iterator[None]:
    """Keep the customer search index right around an upsert of `docs` (JSON, items at `path`) into `collection`.

    The old entries of customers already here leave before the upsert, the new ones come in after it,
    in the caller's transaction: a customer who arrived in the last sync is found at once.
    """
    if collection != "customers":
        yield
        return
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS page_ids (id TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute("DELETE FROM temp.page_ids")
    conn.execute(
        "INSERT OR IGNORE INTO temp.page_ids SELECT json_extract(value, '$.id') FROM json_each(?, ?) WHERE true",
        (docs, path),
    )
    conn.execute(_SEARCH_OUT)
    yield
    conn.execute(_SEARCH_IN)


# ---------------------------------------------------------------------------- customer search

# The prefix indexes of customers_fts (migration 5): a word of these lengths is read as a prefix straight from
# an index, lazily and in rowid order. A longer word is read through its first `_INDEXED` characters and checked.
_PREFIX_INDEXES = (1, 2, 3, 4)
_INDEXED = max(_PREFIX_INDEXES)
# Checking one candidate in Python costs about as much as FTS5 reading this many postings of a doclist.
_CHECK_COST = 200
# Candidates checked before a plan that finds too few of them is given up for a safer one.
_SAMPLE = 300
# How many postings of a word are read to estimate how many customers have it.
_PROBE = 64
# A number of this many digits or more (a phone number) goes into the FTS query whole: each digit narrows it about
# tenfold, so few words start with it (about 1,000 for 6 digits of 1 M mobile numbers) and merging them is cheap.
_WHOLE_NUMBER = 6


class _Estimates:
    """How many customers have a word starting with each prefix, as a share of the cache, kept while it is of a size.

    Only the plan of a search depends on these; a stale or wrong one makes a search slower, never wrong.
    """

    def __init__(self) -> None:
        self.size = 0
        self.shares: dict[str, float] = {}

    def of(self, conn: sqlite3.Connection, prefix: str, size: int) -> float:
        if not self.size <= 2 * size < 4 * self.size or len(self.shares) > 50_000:  # its size halved or doubled
            self.size, self.shares = max(size, 1), {}
        share = self.shares.get(prefix)
        if share is None:
            rows = conn.execute(
                "SELECT rowid FROM customers_fts WHERE customers_fts MATCH ? LIMIT ?", (_match([prefix]), _PROBE)
            ).fetchall()
            # The first postings of a doclist are in rowid order: their spread tells how dense the rest is.
            share = len(rows) / self.size if len(rows) < _PROBE else _PROBE / max(rows[-1][0], _PROBE)
            self.shares[prefix] = share
        return share * size


def _match(words: list[str]) -> str:
    """An FTS5 query for customers with a word starting with each of `words` (tokens: no quotes, no spaces)."""
    return " ".join(f'"{w}"*' for w in words)


def _is_whole(word: str) -> bool:
    return len(word) >= _WHOLE_NUMBER and word.isascii() and word.isdigit()


def _unimplied(words: list[str]) -> list[str]:
    """`words` without those another word implies (a word starting with `jansen` starts with `jan`)."""
    return [w for w in words if not any(o != w and o.startswith(w) for o in words)]


class _CustomerSearch:
    """One search: the rowids of the first `limit` customers (in rowid order) having, for each word, a word
    of name, email or phone that starts with it, as folded by the index's tokenizer.

    FTS5 answers an AND of prefixes read lazily from prefix indexes, and stops at the limit; but to get there it
    reads every posting of each list it joins (`de` has 190,000 at 1 M customers), and a prefix longer than its
    prefix indexes is merged in full before the first row (all 1 M customers for `example`). So words go into
    the FTS query only as far as the prefix indexes reach (`vries` as `vrie`), and a list is joined only while
    it is shorter than `_CHECK_COST` times the candidates the lists joined before it give; the other words
    are checked on each candidate in Python (`sanne de vries` joins `sann` and `vrie`, and checks `de`, `sanne`
    and `vries` on the 18 customers those two give). If the candidates hold too few customers (the words went
    together less than their counts promised, or a long word is rare among those starting like it), every
    prefix is joined, and a rare long word whole.
    """

    def __init__(self, conn: sqlite3.Connection, estimates: _Estimates) -> None:
        self.conn = conn
        self.estimates = estimates

    def rowids(self, words: list[str], limit: int) -> list[int]:
        if not words or limit <= 0:
            return []
        prefixes = _unimplied(list(dict.fromkeys(w if _is_whole(w) else w[:_INDEXED] for w in words)))
        joined = self._plan(prefixes)
        checked = [w for w in words if w not in joined]
        if not checked:
            return [
                r[0]
                for r in self.conn.execute(
                    "SELECT rowid FROM customers_fts WHERE customers_fts MATCH ? LIMIT ?", (_match(joined), limit)
                )
            ]
        found, passed, looked, complete = self._candidates(joined, checked, limit, _SAMPLE)
        if complete:
            return found
        scarce = [w for w in checked if len(w) > _INDEXED and 2 * passed[w] < looked]
        joined = _unimplied([*prefixes, *scarce])
        return self._candidates(joined, [w for w in words if w not in joined], limit, None)[0]

    def _plan(self, prefixes: list[str]) -> list[str]:
        """The prefixes worth joining in the FTS query, the rarest first.

        Joined or not, the lists joined before it are read up to the same rowid (where `limit` customers are
        found, or their end); joining a list reads its postings up to there, not joining it checks each
        candidate up to there. Candidates are counted as if words went together by chance.
        """
        if len(prefixes) == 1:
            return prefixes
        size = self.conn.execute("SELECT max(rowid) FROM customers").fetchone()[0] or 1
        counts = {p: self.estimates.of(self.conn, p, size) for p in prefixes}
        ordered = sorted(prefixes, key=counts.__getitem__)
        joined, candidates = ordered[:1], counts[ordered[0]]
        for prefix in ordered[1:]:
            if counts[prefix] > _CHECK_COST * candidates:
                break
            joined.append(prefix)
            candidates *= counts[prefix] / size
        return joined

    def _candidates(
        self, joined: list[str], checked: list[str], limit: int, sample: int | None
    ) -> tuple[list[int], dict[str, int], int, bool]:
        """The customers the FTS query for `joined` gives that have every word of `checked`, up to `limit`.

        With a `sample`, it gives up early when the candidates seen do not promise `limit` customers within
        2 × `sample` of them: (found, how many candidates had each checked word, candidates seen, whether complete).
        """
        found: list[int] = []
        passed = dict.fromkeys(checked, 0)
        needles = [(w, " " + w) for w in checked]
        looked = 0
        cursor = self.conn.execute(
            "SELECT c.rowid, c.name, c.email, c.phone FROM customers_fts CROSS JOIN customers AS c"
            " ON c.rowid = customers_fts.rowid WHERE customers_fts MATCH ?",
            (_match(joined),),
        )
        try:
            for rowid, name, email, phone in cursor:
                looked += 1
                words = " " + folded(f"{name} {email} {phone or ''}")
                every = True
                for word, needle in needles:
                    if needle in words:
                        passed[word] += 1
                    else:
                        every = False
                if every:
                    found.append(rowid)
                    if len(found) >= limit:
                        return found, passed, looked, True
                # At a quarter, all and twice `sample`, give up if what was found does not promise `limit` by then.
                if (
                    sample
                    and looked in (sample // 4, sample, 2 * sample)
                    and (looked == 2 * sample or len(found) * 2 * sample < limit * looked)
                ):
                    return found, passed, looked, False
        finally:
            cursor.close()
        return found, passed, looked, True


# Rows that belong to a customer; when the customer goes, they go too.
CUSTOMER_ROWS = ("wishlists", "orders", "conversations", "notes", "follow_ups")
CUSTOMER_ROWS = ("wishlists", "orders", "conversations", "notes", "activities")


def _heals(*, retry: bool = True) -> Callable:
    """A damaged cache found by a read or write is set aside and made afresh; then the call is made once more on the
    new file (`retry`), or `CacheRebuilt` is raised (applying a sync page: its cursor belongs to the old file)."""

    def wrap(method: Callable) -> Callable:
        @functools.wraps(method)
        def healed(self: Cache, *args: Any, **kwargs: Any) -> Any:
            generation = self._generation
            try:
                return method(self, *args, **kwargs)
            except sqlite3.ProgrammingError:
                if self._generation == generation:
                    raise
                # the connection was closed under this call by a rebuild in another thread: use the new file
            except sqlite3.DatabaseError as error:
                if not is_damage(error):
                    raise
                self._rebuild(generation, "malformed")
            if not retry:
                self._pull_stale = False
                raise CacheRebuilt(CACHE_REBUILT_MESSAGE)
            return method(self, *args, **kwargs)

        return healed

    return wrap


CACHE_REBUILT_MESSAGE = (
    "this device's copy of the store's data was damaged; it has been set aside and is being filled again from the"
    " centre (no order, return or note was lost)"
)
_REBUILT_KEYS = ("rebuilt_at", "rebuilt_because", "set_aside_as")


class Cache:
    """The cache file. Writes go through one connection, one at a time; reads use one connection per thread.

    `hand_over(outbox, local_commands)` takes the commands of a cache made before the command journal (rows as
    journal.OUTBOX_COLUMNS and journal.LOCAL_COMMAND_COLUMNS) and must have stored them durably when it returns;
    `on_rebuilt()` is called after a damaged cache was set aside and a new one made while the app runs.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        hand_over: Callable[[list[tuple], list[tuple]], None] | None = None,
        on_rebuilt: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.hand_over = hand_over
        self.on_rebuilt = on_rebuilt
        self.clock = clock
        self._local = threading.local()
        self._estimates = _Estimates()
        self._write_lock = threading.RLock()
        self._generation = 0  # one more each time the file is made afresh or found replaced
        self._pull_stale = False  # a page fetched for the old file's cursor must not be applied to the new one
        self._readers: list[sqlite3.Connection] = []
        self._open()

    # ------------------------------------------------------------------ connections, schema and damage

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        sqlite_utils.Database(conn).enable_wal()
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA wal_autocheckpoint = 16384")
        return conn

    def _open(self) -> None:
        """Open the file, checking it first: a damaged one is set aside and an empty one made in its place."""
        problem = self._problem()
        if problem is None:
            try:
                self._start()
                return
            except sqlite3.DatabaseError as error:
                if not is_damage(error):
                    raise
                problem = "malformed"  # `_start` has closed what it opened
        aside = self._set_aside(problem)
        self._start()
        self._record_rebuild(problem, aside)

    def _problem(self) -> str | None:
        """What is wrong with the file before it is used (see journal.file_problem, and `malformed`); None if fine."""
        if not self.path.exists():
            return None
        problem = file_problem(self.path)
        if problem or self.path.stat().st_size > FULL_CHECK_BYTES:
            return problem
        try:
            conn = sqlite3.connect(self.path, timeout=30)
            try:
                return None if conn.execute("PRAGMA quick_check").fetchall() == [("ok",)] else "malformed"
            finally:
                conn.close()
        except sqlite3.DatabaseError as error:
            if is_damage(error):
                return "malformed"
            raise

    def _start(self) -> None:
        self._writer = self._connect()
        self._inode = _inode(self.path)
        try:
            self._migrate()
        except BaseException:
            self._writer.close()
            raise

    def _migrate(self) -> None:
        with self.write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise CentralRefused(
                    f"the cache at {self.path} was made by a newer version of the app (schema {version}); update the app"
                )
            for number in range(version, SCHEMA_VERSION):
                if number == _HAND_OVER:
                    self._hand_over_commands(conn)
                run_script(conn, MIGRATIONS[number])
                conn.execute(f"PRAGMA user_version = {number + 1}")
            conn.executemany("INSERT OR IGNORE INTO cursors (collection) VALUES (?)", [(c,) for c in SYNC_COLLECTIONS])

    def _hand_over_commands(self, conn: sqlite3.Connection) -> None:
        """Give the commands of a cache made before the journal to the journal, before migration 6 drops them."""
        outbox = conn.execute(f"SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY position").fetchall()
        local = conn.execute(f"SELECT {LOCAL_COMMAND_COLUMNS} FROM local_commands ORDER BY created_at").fetchall()
        if not (outbox or local):
            return
        if self.hand_over is None:
            raise RuntimeError(f"the cache at {self.path} holds commands: open it with a journal to hand them to")
        self.hand_over(outbox, local)

    def _salvage_commands(self) -> None:
        """Before a damaged cache made before the journal is set aside: hand over whatever commands can be read."""
        if self.hand_over is None or file_problem(self.path) in ("empty", "header"):
            return
        try:
            conn = sqlite3.connect(self.path, timeout=30)
            try:
                if conn.execute("PRAGMA user_version").fetchone()[0] > _HAND_OVER:
                    return
                self._hand_over_commands(conn)
            finally:
                conn.close()
        except sqlite3.Error:
            pass  # what cannot be read stays in the file set aside, for support

    def _set_aside(self, problem: str) -> Path:
        """Rename the damaged file (and its log) to `<name>.damaged-<UTC time><suffix>`; returns the new name."""
        self._salvage_commands()
        stamp = self.clock().strftime("%Y%m%dT%H%M%S%fZ")
        aside = self.path.with_name(f"{self.path.stem}.damaged-{stamp}{self.path.suffix}")
        for suffix in ("-wal", "-shm", ""):  # the file last: who sees it gone finds no stale log beside the new one
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                os.replace(source, aside.with_name(aside.name + suffix))
        return aside

    def _record_rebuild(self, problem: str, aside: Path) -> None:
        with self.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                zip(_REBUILT_KEYS, (self.clock().isoformat(), problem, str(aside)), strict=True),
            )

    def _rebuild(self, generation: int, problem: str) -> None:
        """The file was found damaged while in use: set it aside and make a new one (once, whoever finds it first)."""
        with self._write_lock:
            if generation != self._generation:
                return  # another thread has made it afresh already
            self._close_connections()
            aside = self._set_aside(problem)
            self._start()
            self._record_rebuild(problem, aside)
        if self.on_rebuilt:
            self.on_rebuilt()

    def _close_connections(self) -> None:
        """Close the writer and this thread's reader; every other thread reconnects at its next read. On Windows a
        file that is open cannot be renamed, so there every reader is closed (a read it breaks is made again)."""
        self._generation += 1
        self._pull_stale = True
        self._estimates = _Estimates()
        for conn in [self._writer, *(self._readers if os.name == "nt" else [])]:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        mine = getattr(self._local, "conn", None)
        if mine is not None:
            mine.close()
            self._local.conn = None
        self._readers = [] if os.name == "nt" else self._readers

    def _follow(self) -> None:
        """Another process set the file aside and made a new one: use the new one too."""
        with self._write_lock:
            if self._replaced():
                self._close_connections()
                self._start()

    def _replaced(self) -> bool:
        return _inode(self.path) != self._inode

    def _reader(self) -> sqlite3.Connection:
        if self._replaced():
            self._follow()
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.generation != self._generation:
            if conn is not None:
                conn.close()
            conn = self._local.conn = self._connect()
            self._local.generation = self._generation
            with self._write_lock:
                self._readers = [c for c in self._readers if c is not conn][-64:] + [conn]
        return conn

    def close(self) -> None:
        with self._write_lock:
            self._writer.close()
            for conn in self._readers:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._readers = []
        self._local.conn = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (nested calls join the outer one)."""
        with self._write_lock:
            if not self._writer.in_transaction and self._replaced():
                self._follow()
            conn = self._writer
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # a damaged file may refuse even that; the caller's error says more
                raise
            conn.execute("COMMIT")

    @_heals()
    def query(self, sql: str, params: tuple | list | dict = ()) -> list[tuple]:
        return self._reader().execute(sql, params).fetchall()

    @_heals()
    def query_one(self, sql: str, params: tuple | list | dict = ()) -> tuple | None:
        return self._reader().execute(sql, params).fetchone()

    def scalar(self, sql: str, params: tuple | list | dict = ()):
        row = self.query_one(sql, params)
        return row[0] if row else None

    # ------------------------------------------------------------------ meta

    def meta(self, key: str) -> str | None:
        return self.scalar("SELECT value FROM meta WHERE key = ?", (key,))

    @_heals()
    def set_meta(self, key: str, value: str) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value)
            )

    def rebuilt(self) -> tuple[datetime, str, str] | None:
        """(when, why, the name it was set aside as) if this cache was made afresh after one was found damaged."""
        found = dict(self.query(f"SELECT key, value FROM meta WHERE key IN {_REBUILT_KEYS}"))
        if "rebuilt_at" not in found:
            return None
        return (
            datetime.fromisoformat(found["rebuilt_at"]),
            found.get("rebuilt_because", ""),
            found.get("set_aside_as", ""),
        )

    @_heals()
    def forget_rebuilt(self) -> None:
        """Staff have read that the cache was made afresh."""
        with self.write() as conn:
            conn.execute(f"DELETE FROM meta WHERE key IN {_REBUILT_KEYS}")

    # ------------------------------------------------------------------ pulling

    @_heals()
    def cursor(self, collection: str) -> tuple[str, int, bool]:
        """(cursor, generation, resetting) of a collection."""
        row = (
            self._reader()
            .execute("SELECT cursor, gen, resetting FROM cursors WHERE collection = ?", (collection,))
            .fetchone()
        )
        return row[0], row[1], bool(row[2])

    @_heals()
    def start_reset(self, collection: str) -> None:
        """The centre no longer has what this cursor needs: fetch the collection afresh from 0.

        Rows stay visible meanwhile; those the fresh pass does not bring are swept at its end.
        """
        with self.write() as conn:
            conn.execute(
                "UPDATE cursors SET cursor = '0', gen = gen + 1, resetting = 1 WHERE collection = ?", (collection,)
            )

    @_heals(retry=False)
    def apply_page(self, collection: str, page: str) -> tuple[int, int, str, bool]:
        """Apply one sync page and move the cursor, in one transaction: (upserted, deleted, next cursor, has more).

        The page is the centre's JSON `SyncPage`, or its NDJSON form (a head line, then one item a line),
        whose items are stored exactly as they came. A page that is not what the contract promises
        (damaged, cut short, rows without their keys) changes nothing and raises `CentralRefused`.
        A page fetched before the cache was made afresh changes nothing and raises `CacheRebuilt`.
        """
        refused = CentralRefused(f"the centre sent a sync page of {collection} that is not valid; nothing was changed")
        first, _, rest = page.partition("\n")  # compact JSON never holds a raw newline: NDJSON's head line
        try:
            kind, items_field, deleted_type, deleted_text, cursor, more = (
                self._reader()
                .execute(
                    "SELECT json_type(:t, '$.items'), CASE json_type(:t, '$.items') WHEN 'integer' THEN"
                    " json_extract(:t, '$.items') ELSE json_array_length(:t, '$.items') END, json_type(:t, '$.deleted'),"
                    " json_extract(:t, '$.deleted'), json_extract(:t, '$.next_cursor'), json_extract(:t, '$.has_more')",
                    {"t": first},
                )
                .fetchone()
            )
        except sqlite3.Error as error:
            if is_damage(error):
                raise
            raise refused from None
        if kind not in ("array", "integer") or deleted_type != "array" or not re.fullmatch(CURSOR_PATTERN, str(cursor)):
            raise refused
        deleted_ids = json.loads(deleted_text)
        if not all(isinstance(i, str) for i in deleted_ids):
            raise refused
        items = None if kind == "array" else (rest.split("\n") if rest else [])
        count = items_field  # the JSON array's length, or the count NDJSON's head line promises
        if items is not None and len(items) != count:  # cut short on the way
            raise refused
        next_cursor, has_more = str(cursor), bool(more)
        with self.write() as conn:
            if self._pull_stale:
                self._pull_stale = False
                raise CacheRebuilt(CACHE_REBUILT_MESSAGE)
            _, gen, resetting = self._cursor_in(conn, collection)
            try:
                if count:
                    self._upsert(conn, collection, page if items is None else None, items, gen)
                deleted = self._delete_ids(conn, collection, deleted_ids)
            except sqlite3.IntegrityError as error:
                raise CentralRefused(
                    f"the centre sent {collection} rows without what every row must have ({error}); nothing was changed"
                ) from None
            except sqlite3.OperationalError:
                raise refused from None
            if resetting and not has_more:  # the fresh pass is complete: sweep what it did not bring
                stale = [
                    r[0]
                    for r in conn.execute(
                        f"SELECT id FROM {collection} WHERE gen < ?" + self._only_synced(collection), (gen,)
                    ).fetchall()
                ]
                deleted += self._delete_ids(conn, collection, stale)
            conn.execute(
                "UPDATE cursors SET cursor = ?, synced_at = ?, resetting = ? WHERE collection = ?",
                (next_cursor, time.time(), int(resetting and has_more), collection),
            )
        return count, deleted, next_cursor, has_more

    @staticmethod
    def _upsert(conn: sqlite3.Connection, collection: str, page: str | None, items: list[str] | None, gen: int) -> None:
        """Store a page's items: row by row from NDJSON lines, or with json_each over a JSON document."""
        source, path = (page, "$.items") if items is None else ("[" + ",".join(items) + "]", "$")
        with _search_index_follows(conn, collection, source, path):
            Cache._store_items(conn, collection, source, path, items, gen)

    @staticmethod
    def _store_items(
        conn: sqlite3.Connection, collection: str, source: str, path: str, items: list[str] | None, gen: int
    ) -> None:
        if items is not None and collection in _ROW_UPSERTS:
            conn.executemany(_ROW_UPSERTS[collection], ({"doc": line, "origin": "sync", "gen": gen} for line in items))
            return
        params = {"page": source, "path": path, "origin": "sync", "gen": gen}
        if collection == "products":
            conn.execute(
                "DELETE FROM variants WHERE style IN (SELECT json_extract(value, '$.style') FROM json_each(:page, :path))",
                params,
            )
            conn.execute(_VARIANTS, params)
        conn.execute(_UPSERTS[collection], params)

    @staticmethod
    def _only_synced(collection: str) -> str:
        return " AND origin = 'sync'" if collection in ("customers", *CUSTOMER_ROWS) else ""

    @staticmethod
    def _cursor_in(conn: sqlite3.Connection, collection: str) -> tuple[str, int, bool]:
        row = conn.execute("SELECT cursor, gen, resetting FROM cursors WHERE collection = ?", (collection,)).fetchone()
        return row[0], row[1], bool(row[2])

    @staticmethod
    def _delete_ids(conn: sqlite3.Connection, collection: str, ids: list[str]) -> int:
        if not ids:
            return 0
        conn.executemany(f"DELETE FROM {collection} WHERE id = ?", [(i,) for i in ids])
        if collection == "products":
            conn.executemany("DELETE FROM variants WHERE style = ?", [(i,) for i in ids])
        return len(ids)

    # ------------------------------------------------------------------ customers fetched online

    @_heals()
    def keep_customer(self, customer: str, wishlist: list[str], orders: list[str], conversations: list[str]) -> None:
        """Keep a customer fetched online (outside this store's scope), with their history, as `lookup` rows."""
        with self.write() as conn:
            for collection, docs in (
                ("customers", [customer]),
                ("wishlists", wishlist),
                ("orders", orders),
                ("conversations", conversations),
            ):
                if docs:
                    params = {"page": "[" + ",".join(docs) + "]", "path": "$", "origin": "lookup", "gen": 0}
                    with _search_index_follows(conn, collection, params["page"], "$"):
                        conn.execute(_UPSERTS[collection], params)
            conn.execute(
                "UPDATE customers SET last_used = ? WHERE id = json_extract(?, '$.id')", (time.time(), customer)
            )

    # ------------------------------------------------------------------ reads for the screens

    def customer_doc(self, where: str, value: str) -> str | None:
        return self.scalar(f"SELECT doc FROM customers WHERE {where} = ?", (value,))

    def customer_origin(self, customer_id: str) -> str | None:
        """`sync` (this store's own), `lookup` (fetched online and kept), or None (not on this device)."""
        return self.scalar("SELECT origin FROM customers WHERE id = ?", (customer_id,))

    def customer_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM customers"))

    @_heals()
    def search_customers(self, text: str, limit: int = 20) -> list[str]:
        """Customers with a word of name, email or phone starting with each word of `text`, as `CustomerSummary` JSON.

        At most `limit` of them: the first `limit` in the order they came into the cache (see `_CustomerSearch`).
        """
        rowids = _CustomerSearch(self._reader(), self._estimates).rowids(prefix_words(text), limit)
        if not rowids:
            return []
        return [
            r[0]
            for r in self._reader().execute(
                "SELECT json_object('id', id, 'first_name', json_extract(doc, '$.first_name'),"
                " 'last_name', json_extract(doc, '$.last_name'), 'email', email, 'phone', phone,"
                " 'home_store', home_store, 'tier', json_extract(doc, '$.tier'))"
                " FROM customers WHERE rowid IN (SELECT value FROM json_each(?)) ORDER BY rowid",
                (json.dumps(rowids),),
            )
        ]

    @_heals()
    def touch_customer(self, customer_id: str) -> None:
        with self.write() as conn:
            conn.execute("UPDATE customers SET last_used = ? WHERE id = ?", (time.time(), customer_id))

    def docs_of(self, collection: str, customer_id: str, order_by: str) -> list[str]:
        return [
            r[0]
            for r in self.query(
                f"SELECT doc FROM {collection} WHERE customer_id = ? ORDER BY {order_by}", (customer_id,)
            )
        ]

    def order_doc(self, number: str) -> str | None:
        return self.scalar("SELECT doc FROM orders WHERE id = ?", (number,))

    # ------------------------------------------------------------------ catalogue and stock

    def product_and_sku(self, *, gtin14: str | None = None, sku: str | None = None) -> tuple[str, str] | None:
        """(the product's document, the variant's SKU) of a variant by its GTIN-14 or its SKU."""
        column, value = ("gtin14", gtin14) if gtin14 is not None else ("sku", sku)
        return self.query_one(
            f"SELECT p.doc, v.sku FROM variants v JOIN products p ON p.id = v.style WHERE v.{column} = ?", (value,)
        )

    def search_products(self, words: list[str], limit: int = 30) -> list[str]:
        """Product documents whose search text holds every one of `words` (lower case), by style."""
        if not words:
            return []
        where = " AND ".join("instr(search, ?) > 0" for _ in words)
        return [
            r[0] for r in self.query(f"SELECT doc FROM products WHERE {where} ORDER BY id LIMIT ?", (*words, limit))
        ]

    def store_docs(self) -> list[str]:
        return [r[0] for r in self.query("SELECT doc FROM stores ORDER BY id")]

    def stock_of(self, sku: str) -> list[tuple[str, int, int, int, str, str | None]]:
        """Every location's stock of a SKU: (store, on_hand, reserved, available, as_of, source)."""
        return self.query("SELECT store, on_hand, reserved, available, as_of, source FROM stock WHERE sku = ?", (sku,))

    def pictures_of(self, skus: list[str]) -> dict[str, str]:
        """The product picture of each SKU the catalogue knows and has one for, in one read."""
        if not skus:
            return {}
        marks = ", ".join("?" for _ in skus)
        return dict(
            self.query(
                "SELECT v.sku, json_extract(p.doc, '$.image') FROM variants v JOIN products p ON p.id = v.style"
                f" WHERE v.sku IN ({marks}) AND json_extract(p.doc, '$.image') IS NOT NULL",
                skus,
            )
        )

    def in_stock_here(self, store: str, categories: list[str]) -> list[tuple[str, str, int]]:
        """(product JSON, SKU, available) of every SKU of `categories` available at `store`, most available first.
        Each product's document is read once, however many of its SKUs are in stock."""
        if not categories:
            return []
        marks = ", ".join("?" for _ in categories)
        styles = dict(
            self.query(f"SELECT id, doc FROM products WHERE json_extract(doc, '$.category') IN ({marks})", categories)
        )
        if not styles:
            return []
        rows = self.query(
            "SELECT v.style, s.sku, s.available FROM stock s JOIN variants v ON v.sku = s.sku"
            " WHERE s.store = ? AND s.available > 0 ORDER BY s.available DESC, s.sku",
            (store,),
        )
        return [(styles[style], sku, available) for style, sku, available in rows if style in styles]

    def categories_of(self, styles: list[str]) -> dict[str, str]:
        """The category of each style the cached catalogue knows."""
        if not styles:
            return {}
        marks = ", ".join("?" for _ in styles)
        return dict(
            self.query(f"SELECT id, json_extract(doc, '$.category') FROM products WHERE id IN ({marks})", styles)
        )

    def activity_docs(self, customer_id: str, since: str, limit: int) -> list[str]:
        """What a customer did online from `since` (UTC ISO 8601) on, newest first, at most `limit`."""
        return [
            r[0]
            for r in self.query(
                "SELECT doc FROM activities WHERE customer_id = ? AND at >= ? ORDER BY at DESC, id DESC LIMIT ?",
                (customer_id, since, limit),
            )
        ]

    def product_facts(self, styles: list[str]) -> dict[str, tuple[str, str]]:
        """The name and category of each style the cached catalogue knows."""
        if not styles:
            return {}
        marks = ", ".join("?" for _ in styles)
        rows = self.query(
            f"SELECT id, json_extract(doc, '$.name'), json_extract(doc, '$.category') FROM products"
            f" WHERE id IN ({marks})",
            styles,
        )
        return {style: (name, category) for style, name, category in rows}

    def declined(self, customer_id: str) -> set[str]:
        return {r[0] for r in self.query("SELECT item FROM declined WHERE customer_id = ?", (customer_id,))}

    def decline(self, customer_id: str, item: str, at: str) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO declined VALUES (?, ?, ?) ON CONFLICT (customer_id, item) DO UPDATE SET at = excluded.at",
                (customer_id, item, at),
            )

    def follow_up_docs(self, *, store: str | None = None, customer_id: str | None = None) -> list[str]:
        """Follow-ups on `store`'s list (anyone's there) or about `customer_id`, or both."""
        where, params = ["1"], []
        if store is not None:
            where.append("store = ?")
            params.append(store)
        if customer_id is not None:
            where.append("customer_id = ?")
            params.append(customer_id)
        return [r[0] for r in self.query(f"SELECT doc FROM follow_ups WHERE {' AND '.join(where)} ORDER BY id", params)]

    def followed(self, staff_id: str) -> list[tuple[str, str]]:
        """(customer id, since) of the customers `staff_id` follows on this device."""
        return self.query("SELECT customer_id, since FROM follows WHERE staff_id = ? ORDER BY since", (staff_id,))

    def set_follow(self, staff_id: str, customer_id: str, follow: bool, at: str) -> None:
        with self.write() as conn:
            if follow:
                conn.execute("INSERT OR IGNORE INTO follows VALUES (?, ?, ?)", (staff_id, customer_id, at))
            else:
                conn.execute("DELETE FROM follows WHERE staff_id = ? AND customer_id = ?", (staff_id, customer_id))

    def promotion_docs(self) -> list[str]:
        """Every price promotion the centre has sent (those over and those to come too: the rules pick)."""
        return [r[0] for r in self.query("SELECT doc FROM promotions ORDER BY id")]

    # ------------------------------------------------------------------ staff and their sign-in attempts

    def staff_docs(self, store: str | None = None) -> list[str]:
        """The active staff (of `store`, if given), as `StaffMember` JSON."""
        if store:
            return [r[0] for r in self.query("SELECT doc FROM staff WHERE active = 1 AND store = ?", (store,))]
        return [r[0] for r in self.query("SELECT doc FROM staff WHERE active = 1")]

    def staff_doc(self, staff_id: str) -> str | None:
        return self.scalar("SELECT doc FROM staff WHERE id = ?", (staff_id,))

    def staff_count(self) -> int:
        return int(self.scalar("SELECT count(*) FROM staff"))

    def all_staff_docs(self) -> list[str]:
        """Every staff row kept, of any store, active or not, as `StaffMember` JSON."""
        return [r[0] for r in self.query("SELECT doc FROM staff")]

    @_heals()
    def forget_staff(self) -> None:
        """Drop the staff list (its PIN hashes overwritten on disk, not only unlinked) and fetch it afresh at the
        next sync: it was sealed for another device token, or kept unsealed by an older version."""
        with self.write() as conn:
            conn.execute("PRAGMA secure_delete = ON")
            try:
                conn.execute("DELETE FROM staff")
                conn.execute("UPDATE cursors SET cursor = '0', gen = gen + 1, resetting = 0 WHERE collection = 'staff'")
            finally:
                conn.execute("PRAGMA secure_delete = OFF")

    @_heals()
    def count_sign_in(self, staff_id: str, judge: Callable[[int, str | None], tuple[int, str | None] | None]) -> None:
        """Read, judge and record one sign-in attempt in one transaction, so that no try goes uncounted.

        `judge(failures, locked_until)` gets the wrong PINs in a row and the end of a lockout (UTC ISO 8601, or
        None) and returns what to keep: (failures, locked_until), or None to start afresh.
        """
        with self.write() as conn:
            row = conn.execute(
                "SELECT failures, locked_until FROM sign_in_attempts WHERE staff_id = ?", (staff_id,)
            ).fetchone()
            kept = judge(*(row or (0, None)))
            if kept is None:
                conn.execute("DELETE FROM sign_in_attempts WHERE staff_id = ?", (staff_id,))
            else:
                conn.execute(
                    "INSERT INTO sign_in_attempts VALUES (?, ?, ?) ON CONFLICT(staff_id) DO UPDATE SET"
                    " failures = excluded.failures, locked_until = excluded.locked_until",
                    (staff_id, *kept),
                )

    # ------------------------------------------------------------------ housekeeping

    def size(self) -> tuple[int, int]:
        """(customers cached, bytes the cache file and its log take)."""
        files = (self.path, self.path.with_name(self.path.name + "-wal"))
        return self.customer_count(), sum(f.stat().st_size for f in files if f.exists())

    @_heals()
    def purge(self, older_than_days: int, keep: Iterable[str] = (), now: float | None = None) -> int:
        """Forget customers kept from online lookups and not used for `older_than_days`, but those in `keep`
        (the customers that commands still to send are about)."""
        cutoff = (now or time.time()) - older_than_days * 86400
        kept = json.dumps(sorted(keep))
        with self.write() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM customers WHERE origin = 'lookup' AND coalesce(last_used, 0) < ?"
                    " AND id NOT IN (SELECT value FROM json_each(?))",
                    (cutoff, kept),
                ).fetchall()
            ]
            for customer_id in ids:
                for collection in CUSTOMER_ROWS:
                    conn.execute(
                        f"DELETE FROM {collection} WHERE customer_id = ? AND origin = 'lookup'", (customer_id,)
                    )
                conn.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
        return len(ids)

    @_heals()
    def prune_activities(self, before: str) -> int:
        """Drop what customers did online before `before` (UTC ISO 8601): past its retention
        (rules.ACTIVITY_RETENTION), whether or not the centre's tombstone has arrived yet."""
        with self.write() as conn:
            return conn.execute("DELETE FROM activities WHERE at < ?", (before,)).rowcount


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None
