"""The centre's schema and its versioned migrations, for both backends (`clienteling central migrate`; also run at
every start: every step is safe to run on a live database and none drops data a command made).

A database records its schema version in `meta.schema_version`. A SQLite file made by an older centre is brought up
step by step (the steps below). A PostgreSQL database is made at the current version directly: there never was an
older one. A database of a newer centre than this one is refused with a message, never touched.

Versions:
1. the tables of 0.1–0.3 (the change feed, customers, catalogue and stock, orders and returns, devices, staff).
2. an idempotency key belongs to the store whose device sent it.
3. a stored answer names the customer it concerns (erased with them).
4. epochs (clienteling.central.epochs), and where a stored acceptance lies in the history (`position`).
5. the retailer's systems (issue 13): integration clients and their tokens, which system owns which field, each
   source's last version of each record, and the transactional outbox of events with its webhook deliveries.

6. notes are a synced collection (`notes.seq`: every store sees them), and the log of consent changes made at a
   counter (issue 14).
7: outreach (issue 14): the messages associates sent (`outreach_messages`, with where their delivery to the provider
   stands) and the local sink provider's received messages (`outreach_sink`).

7. how it went (issue 15): touchpoints a customer may rate, their answers, the staff pulse.

7: follow-up tasks, a synced collection scoped to the customer like notes (`follow_ups`), and an index of wishlists
   by style, for the tasks the centre makes when a wishlisted item comes back in stock (issue 14).

7: what customers did online (issue 15): `activities`, a customer-scoped synced collection the retailer's systems
   ingest, kept 90 days (rules.ACTIVITY_RETENTION).

A PostgreSQL database made by an older centre gets the tables and indexes it lacks (every statement of its schema is
`IF NOT EXISTS`); no step so far changes a PostgreSQL table that exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from clienteling.central.db import Conn, Database, SqliteDatabase

SCHEMA_VERSION = 7

# A command's idempotency key belongs to the store whose device sent it (schema version 2). `customer_id` names the
# customer the command was about (version 3), so that erasing them erases their stored answers (which hold their
# address) and refusals too.
IDEMPOTENCY_TABLE = """CREATE TABLE IF NOT EXISTS idempotency (
    store TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
    created_at TEXT NOT NULL, customer_id TEXT, position TEXT, PRIMARY KEY (store, key))"""

EPOCHS_TABLE_SQLITE = """CREATE TABLE IF NOT EXISTS epochs (
    ordinal INTEGER PRIMARY KEY AUTOINCREMENT, epoch TEXT NOT NULL UNIQUE, series TEXT NOT NULL UNIQUE,
    from_seq INTEGER NOT NULL, started_at TEXT NOT NULL)"""

# Version 5: the retailer's systems. The same text on both backends (their types are spelt alike here).
# `integrations`: a client of the ingest API (a webshop, a loyalty system), its token's hash and the collections it may
# write. `field_owners`: per collection and field, the one source that holds the truth (clienteling.central.ingest).
# `source_versions`: the last version of each record each source sent (an older one never overwrites it; a delete
# keeps its version, so a late upsert does not bring the record back). `events`: the outbox, one row per thing the
# stores did that the retailer's systems hear of, written in the transaction of the change itself; its id is a feed
# position, so ids are in commit order (db.py). `webhooks` and `deliveries`: who hears of which events, and where each
# delivery stands (clienteling.central.events). `promotions`: price promotions, a synced collection (rules.price_order). `stock.source` names the system a figure came from (NULL: the centre).
INTEGRATION_TABLES = """
CREATE TABLE IF NOT EXISTS integrations (
    token_hash TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, may TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS field_owners (
    collection TEXT NOT NULL, field TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (collection, field));
CREATE TABLE IF NOT EXISTS source_versions (
    collection TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL, version TEXT NOT NULL, received_at TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (collection, id, source));
CREATE TABLE IF NOT EXISTS events (
    id BIGINT PRIMARY KEY, type TEXT NOT NULL, subject TEXT NOT NULL, occurred_at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL, types TEXT NOT NULL, created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS deliveries (
    event_id BIGINT NOT NULL, webhook_id TEXT NOT NULL, subject TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_at TEXT NOT NULL, last_error TEXT, delivered_at TEXT,
    PRIMARY KEY (webhook_id, event_id));
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(status, next_at);
CREATE INDEX IF NOT EXISTS deliveries_subject ON deliveries(webhook_id, subject, event_id);
CREATE INDEX IF NOT EXISTS events_subject ON events(subject, id);
CREATE TABLE IF NOT EXISTS promotions (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS promotions_seq ON promotions(seq);
"""

# Version 6 (issue 14): `consent_log`, every change of a customer's consent made at a counter: who, where, when, what.
CUSTOMER_TABLES = """
CREATE TABLE IF NOT EXISTS consent_log (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, staff_id TEXT, store TEXT NOT NULL, changed_at TEXT NOT NULL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS consent_log_customer ON consent_log(customer_id, changed_at);
"""

# Version 7 (issue 15): store touchpoints a customer may rate (`token` is the survey link's), the answers (one per
# touchpoint), and the staff pulse (anonymous: the store, the day and the score only).
EXPERIENCE_TABLES = """
CREATE TABLE IF NOT EXISTS touchpoints (
    token TEXT PRIMARY KEY, customer_id TEXT NOT NULL, store TEXT NOT NULL, staff_id TEXT, type TEXT NOT NULL,
    at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS touchpoints_customer ON touchpoints(customer_id);
CREATE TABLE IF NOT EXISTS feedback (
    token TEXT PRIMARY KEY, customer_id TEXT NOT NULL, store TEXT NOT NULL, staff_id TEXT, type TEXT NOT NULL,
    score INTEGER NOT NULL, touchpoint_at TEXT NOT NULL, answered_at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_touchpoint_at ON feedback(touchpoint_at);
CREATE INDEX IF NOT EXISTS feedback_customer ON feedback(customer_id);
CREATE TABLE IF NOT EXISTS pulse (id TEXT PRIMARY KEY, store TEXT NOT NULL, day TEXT NOT NULL, score INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS pulse_day ON pulse(day);
"""

# Version 7 (issue 14): outreach. `outreach_messages`: every message an associate sent, its delivery to the provider
# (`status` pending/sent/failed, `attempts`, `next_at`: when it may next be tried, or until when a deliverer holds it);
# it is also what an online order's credit is worked out from. `outreach_sink`: what the local sink provider received,
# one row per reference (a message handed over twice is received once).
OUTREACH_TABLES = """
CREATE TABLE IF NOT EXISTS outreach_messages (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, staff_id TEXT NOT NULL, store TEXT NOT NULL, channel TEXT NOT NULL,
    to_address TEXT NOT NULL, conversation_id TEXT NOT NULL, sent_at TEXT NOT NULL, status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_at TEXT NOT NULL, last_error TEXT, provider_id TEXT, delivered_at TEXT,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outreach_messages_customer ON outreach_messages(customer_id, sent_at);
CREATE INDEX IF NOT EXISTS outreach_messages_due ON outreach_messages(status, next_at);
CREATE TABLE IF NOT EXISTS outreach_sink (
    reference TEXT PRIMARY KEY, provider_id TEXT NOT NULL, channel TEXT NOT NULL, to_address TEXT NOT NULL,
    text TEXT NOT NULL, received_at TEXT NOT NULL);
"""

# Version 7 (issue 14): `follow_ups`, tasks about a customer for an associate or a store's list (a synced collection,
# customer-scoped; `sku` and `state` beside the document for "never twice for the same open customer and SKU").
FOLLOWUP_TABLES = """
CREATE TABLE IF NOT EXISTS follow_ups (
    id TEXT PRIMARY KEY, seq BIGINT NOT NULL, customer_id TEXT NOT NULL, store TEXT NOT NULL, sku TEXT,
    state TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS follow_ups_seq ON follow_ups(seq);
CREATE INDEX IF NOT EXISTS follow_ups_customer ON follow_ups(customer_id, sku);
"""
FOLLOWUP_INDEXES = """
CREATE INDEX IF NOT EXISTS wishlists_style ON wishlists((doc->>'style'));
"""

# Version 7 (issue 15): `activities`, what a customer did in an online channel (a product viewed, a question to the
# chatbot), from the retailer's systems (ingest.py); synced to the stores serving her; `at` is when she did it, by
# which it is pruned. The same text on both backends (the document is kept as text, as the feed sends it).
ACTIVITY_TABLES = """
CREATE TABLE IF NOT EXISTS activities (
    id TEXT PRIMARY KEY, seq BIGINT NOT NULL, customer_id TEXT NOT NULL, at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS activities_seq ON activities(seq);
CREATE INDEX IF NOT EXISTS activities_customer ON activities(customer_id, at);
CREATE INDEX IF NOT EXISTS activities_at ON activities(at);
"""

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    token_hash TEXT PRIMARY KEY, store TEXT NOT NULL, label TEXT, demo INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admins (
    token_hash TEXT PRIMARY KEY, label TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stores (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, latitude REAL NOT NULL, longitude REAL NOT NULL,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS staff (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, store TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, search TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS variants (sku TEXT PRIMARY KEY, gtin14 TEXT NOT NULL UNIQUE, style TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stock (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, store TEXT NOT NULL, sku TEXT NOT NULL,
    on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, as_of TEXT NOT NULL, source TEXT);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, card TEXT NOT NULL UNIQUE, email_lc TEXT NOT NULL UNIQUE,
    home_store TEXT NOT NULL, doc TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS customers_fts USING fts5(
    name, email, phone, tokenize = "unicode61 remove_diacritics 2");
CREATE TABLE IF NOT EXISTS customer_scope (
    customer_id TEXT NOT NULL, store TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (customer_id, store)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS wishlists (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, customer_id TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, customer_id TEXT NOT NULL, created_at TEXT NOT NULL,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, customer_id TEXT NOT NULL, updated_at TEXT NOT NULL,
    doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS returns (
    id TEXT PRIMARY KEY, order_number TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL, seq INTEGER);
CREATE INDEX IF NOT EXISTS notes_customer ON notes(customer_id, created_at);
CREATE TABLE IF NOT EXISTS profile_views (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, staff_id TEXT NOT NULL, store TEXT NOT NULL,
    viewed_at TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS profile_views_customer ON profile_views(customer_id, viewed_at);
CREATE TABLE IF NOT EXISTS tombstones (
    seq INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL, deleted_at TEXT NOT NULL);
"""
    + IDEMPOTENCY_TABLE
    + ";\n"
    + EPOCHS_TABLE_SQLITE
    + ";\n"
    + INTEGRATION_TABLES
    + CUSTOMER_TABLES
    + EXPERIENCE_TABLES
    + OUTREACH_TABLES
    + FOLLOWUP_TABLES
    + ACTIVITY_TABLES
)

# Made after a bulk load, so that loading does not pay for them row by row.
INDEXES = (
    """
CREATE INDEX IF NOT EXISTS stores_seq ON stores(seq);
CREATE INDEX IF NOT EXISTS staff_store_seq ON staff(store, seq);
CREATE INDEX IF NOT EXISTS products_seq ON products(seq);
CREATE INDEX IF NOT EXISTS stock_seq ON stock(seq);
CREATE INDEX IF NOT EXISTS stock_sku ON stock(sku);
CREATE INDEX IF NOT EXISTS customers_seq ON customers(seq);
CREATE INDEX IF NOT EXISTS customer_scope_store ON customer_scope(store);
CREATE INDEX IF NOT EXISTS wishlists_seq ON wishlists(seq);
CREATE INDEX IF NOT EXISTS wishlists_customer ON wishlists(customer_id);
CREATE INDEX IF NOT EXISTS orders_seq ON orders(seq);
CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id, created_at);
CREATE INDEX IF NOT EXISTS orders_created ON orders(created_at);
CREATE INDEX IF NOT EXISTS conversations_seq ON conversations(seq);
CREATE INDEX IF NOT EXISTS conversations_customer ON conversations(customer_id, updated_at);
CREATE INDEX IF NOT EXISTS returns_order ON returns(order_number);
CREATE INDEX IF NOT EXISTS notes_seq ON notes(seq);
CREATE INDEX IF NOT EXISTS tombstones_collection ON tombstones(collection, seq);
"""
    + FOLLOWUP_INDEXES
)

POSTGRES_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    token_hash TEXT PRIMARY KEY, store TEXT NOT NULL, label TEXT, demo INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admins (token_hash TEXT PRIMARY KEY, label TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stores (
    id TEXT PRIMARY KEY, seq BIGINT NOT NULL, latitude DOUBLE PRECISION NOT NULL, longitude DOUBLE PRECISION NOT NULL,
    doc JSON NOT NULL);
CREATE TABLE IF NOT EXISTS staff (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, store TEXT NOT NULL, doc JSON NOT NULL);
CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, search TEXT NOT NULL, doc JSON NOT NULL);
CREATE TABLE IF NOT EXISTS variants (sku TEXT PRIMARY KEY, gtin14 TEXT NOT NULL UNIQUE, style TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stock (
    id TEXT PRIMARY KEY, seq BIGINT NOT NULL, store TEXT NOT NULL, sku TEXT NOT NULL,
    on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL, as_of TEXT NOT NULL, source TEXT);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, seq BIGINT NOT NULL, card TEXT NOT NULL UNIQUE, email_lc TEXT NOT NULL UNIQUE,
    home_store TEXT NOT NULL, doc JSON NOT NULL, search_text TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS customer_scope (
    customer_id TEXT NOT NULL, store TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (customer_id, store));
CREATE TABLE IF NOT EXISTS wishlists (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, customer_id TEXT NOT NULL, doc JSON NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, seq BIGINT NOT NULL, customer_id TEXT NOT NULL, created_at TEXT NOT NULL, doc JSON NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, seq BIGINT NOT NULL, customer_id TEXT NOT NULL, updated_at TEXT NOT NULL, doc JSON NOT NULL);
CREATE TABLE IF NOT EXISTS returns (id TEXT PRIMARY KEY, order_number TEXT NOT NULL, created_at TEXT NOT NULL, doc JSON NOT NULL);
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, created_at TEXT NOT NULL, doc JSON NOT NULL, seq BIGINT);
ALTER TABLE notes ADD COLUMN IF NOT EXISTS seq BIGINT;
CREATE INDEX IF NOT EXISTS notes_customer ON notes(customer_id, created_at);
CREATE TABLE IF NOT EXISTS profile_views (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, staff_id TEXT NOT NULL, store TEXT NOT NULL,
    viewed_at TEXT NOT NULL, doc JSON NOT NULL);
CREATE INDEX IF NOT EXISTS profile_views_customer ON profile_views(customer_id, viewed_at);
CREATE TABLE IF NOT EXISTS tombstones (
    seq BIGINT PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL, deleted_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    store TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
    created_at TEXT NOT NULL, customer_id TEXT, position TEXT, PRIMARY KEY (store, key));
CREATE TABLE IF NOT EXISTS epochs (
    ordinal BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, epoch TEXT NOT NULL UNIQUE, series TEXT NOT NULL UNIQUE,
    from_seq BIGINT NOT NULL, started_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS customers_search ON customers USING gin (to_tsvector('simple', search_text));
ALTER TABLE stock ADD COLUMN IF NOT EXISTS source TEXT;
"""
    + INTEGRATION_TABLES
    + CUSTOMER_TABLES
    + EXPERIENCE_TABLES
    + OUTREACH_TABLES
    + FOLLOWUP_TABLES
    + ACTIVITY_TABLES
)

POSTGRES_TABLES = tuple(
    line.split("EXISTS ", 1)[1].split(" ", 1)[0].split("(", 1)[0]
    for line in POSTGRES_SCHEMA.splitlines()
    if line.startswith("CREATE TABLE")
)

# The indexes are the same on both (INDEXES above); a PostgreSQL bulk load makes them after the rows too.
POSTGRES_INDEXES = INDEXES


@dataclass(frozen=True)
class Migrated:
    where: str
    before: int  # 0: a new database
    after: int
    steps: list[str]


class NewerSchema(RuntimeError):
    """The database was made by a newer centre than this one: it is left as it is."""


def _meta(conn: Conn, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def version_of(db: Database) -> int:
    """The schema version of `db` (0 if it has no schema yet)."""
    with db.read() as conn:
        if db.dialect == "sqlite":
            has_meta = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        else:
            has_meta = conn.execute("SELECT to_regclass('meta')").fetchone()[0]
        if not has_meta:
            return 0
        value = _meta(conn, "schema_version")
        if value is None:  # a file of 0.1, before versions were kept
            return 1 if conn.execute("SELECT 1 FROM meta WHERE key = 'seq'").fetchone() else 0
        return int(value)


def migrate(db: Database) -> Migrated:
    """Bring `db` to `SCHEMA_VERSION` (make it if it is new). Safe to run again; refuses a newer database."""
    before = version_of(db)
    if before > SCHEMA_VERSION:
        raise NewerSchema(
            f"the database at {db.where} has schema version {before}, made by a newer centre; this centre knows up "
            f"to {SCHEMA_VERSION}: upgrade the centre"
        )
    steps: list[str] = []
    if db.dialect == "sqlite":
        assert isinstance(db, SqliteDatabase)
        raw = db.raw_writer()
        raw.executescript(SCHEMA)  # every table of the current version that is missing (IF NOT EXISTS)
        _add_columns_sqlite(raw)  # before the indexes, some of which are on them
        raw.executescript(INDEXES)
        with db.write() as conn:
            steps = _upgrade_sqlite(conn) if before else ["made the schema"]
            _finish(conn)
    else:
        with db.write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('clienteling schema', 0))")
            found = version_of_in(conn)  # another process may have made or upgraded it meanwhile
            if found < SCHEMA_VERSION:
                for statement in filter(str.strip, POSTGRES_SCHEMA.split(";")):
                    conn.execute(statement)
                for statement in filter(str.strip, POSTGRES_INDEXES.split(";")):
                    conn.execute(statement)
                steps = ["made the schema"] if found == 0 else [f"{found} → {SCHEMA_VERSION}: the tables it lacked"]
            _finish(conn)
    return Migrated(db.where, before, SCHEMA_VERSION, steps)


def version_of_in(conn: Conn) -> int:
    """The schema version as seen inside a transaction that holds the schema lock (another process may have just
    made it)."""
    if not conn.execute("SELECT to_regclass('meta')").fetchone()[0]:
        return 0
    value = _meta(conn, "schema_version")
    return int(value) if value else 0


def _add_columns_sqlite(raw) -> None:
    """Columns later versions added to tables that a SQLite file of an older centre already has."""
    for table, column, kind in (("stock", "source", "TEXT"), ("notes", "seq", "INTEGER")):
        if column not in [row[1] for row in raw.execute(f"PRAGMA table_info({table})")]:
            raw.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _finish(conn: Conn) -> None:
    conn.execute("INSERT INTO meta VALUES ('seq', '0') ON CONFLICT (key) DO NOTHING")
    # notes made before they were a synced collection take feed positions now, oldest first (version 6)
    for (note_id,) in conn.execute("SELECT id FROM notes WHERE seq IS NULL ORDER BY created_at, id").fetchall():
        seq = conn.execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'seq' RETURNING value"
        ).fetchone()[0]
        conn.execute("UPDATE notes SET seq = ? WHERE id = ?", (int(seq), note_id))
    conn.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(SCHEMA_VERSION),),
    )


def _upgrade_sqlite(conn: Conn) -> list[str]:
    """The steps a SQLite file of an older centre needs, in one transaction.

    Version 2 keys the idempotency record by (store, key): a key belongs to the store whose device sent it.
    A stored answer that was a success names its store (every command's answer carries `store`), so it keeps
    replaying for that store. A stored refusal names none; it changed nothing at the centre, so it is dropped:
    the same request sent again is judged afresh for the store that sends it.
    Version 3 adds the customer a stored answer concerns, taken from the answers that name one.
    Version 4 adds the epochs table (made with the schema) and where a stored acceptance lies in the history; an
    acceptance stored before has none: a replay of it says where the centre holds it now.
    """
    steps = []
    columns = [row[1] for row in conn.execute("PRAGMA table_info(idempotency)")]
    if "store" not in columns:
        conn.execute("ALTER TABLE idempotency RENAME TO idempotency_v1")
        conn.execute(IDEMPOTENCY_TABLE)
        conn.execute(
            "INSERT INTO idempotency (store, key, request_hash, status, body, created_at, customer_id)"
            " SELECT body->>'store', key, request_hash, status, body, created_at, body->>'customer_id'"
            " FROM idempotency_v1"
            " WHERE status < 400 AND json_valid(body) AND body->>'store' IS NOT NULL"
        )
        conn.execute("DROP TABLE idempotency_v1")
        columns = [row[1] for row in conn.execute("PRAGMA table_info(idempotency)")]
        steps.append("2: idempotency keys belong to a store")
    if "customer_id" not in columns:
        conn.execute("ALTER TABLE idempotency ADD COLUMN customer_id TEXT")
        conn.execute(
            "UPDATE idempotency SET customer_id = body->>'customer_id' WHERE json_valid(body)"
            " AND json_type(body, '$.customer_id') = 'text'"
        )
        steps.append("3: stored answers name their customer")
    if "position" not in columns:
        conn.execute("ALTER TABLE idempotency ADD COLUMN position TEXT")
        steps.append("4: epochs, and positions of stored acceptances")
    if int(_meta(conn, "schema_version") or 1) < 5:  # its tables were made with the schema (IF NOT EXISTS)
        steps.append("5: integrations, field owners, source versions, the outbox of events")
    if int(_meta(conn, "schema_version") or 1) < 6:
        steps.append("6: notes in the feed, the consent log")
    if int(_meta(conn, "schema_version") or 1) < 7:
        steps.append("7: outreach messages and the local sink; touchpoints, their ratings, the staff pulse")
    if int(_meta(conn, "schema_version") or 1) < 7:  # made with the schema and the indexes (IF NOT EXISTS)
        steps.append("7: follow-ups, wishlists by style")
        steps.append("7: what customers did online (activities)")
    return steps
