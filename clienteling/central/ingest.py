"""The retailer's systems feed the centre (issue 13): integration clients, which system owns which field, and bulk
upserts and deletes per collection, each record judged on its own.

The rules every record meets, in this order:
1. it is well formed (`IngestRecord`), names its source as the integration that sent it, and carries the source's
   `version` (a number) or `updated_at` (a moment);
2. versions are per record and source: one older than what the centre holds from that source is `stale` and changes
   nothing; the same one again is `unchanged` (an event delivered twice). A delete keeps its version, so an older
   upsert that arrives after it does not bring the record back;
3. a field belongs to the system `field_owners` names for it (none named: to every system that may write the
   collection); a record that would change a field another system owns is refused, with the field and its owner.
   A value equal to the one held is no change, so a system may send whole documents. The owner of `*` is the one
   system that creates and deletes the collection's records;
4. the merged record is the contract's document (clienteling.contract), with its references (customer, store, SKU)
   known to the centre and its unique values (card, email, GTIN, SKU) not another record's.

A refused record rolls back alone (a savepoint); the rest of the batch is kept. Every accepted change takes a feed
position, so it reaches the store devices like any other change, and names its source in the document's `sources`
(stock: the row's `source`), so the app can say where a fact came from and how old it is.

A batch is written in transactions of `CHUNK` records. Each holds the feed's counter row from its start (db.py), so
ingest transactions and commands take turns: a version check and the write it allows can never interleave with
another writer's, in any process.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from clienteling import rules
from clienteling.central.base import StoreBase, hash_token, iso
from clienteling.central.db import Conn
from clienteling.central.problems import ProblemError
from clienteling.contract import (
    INGEST_COLLECTIONS,
    Activity,
    Conversation,
    Customer,
    FieldOwner,
    IngestedStock,
    IngestLine,
    IngestRecord,
    IngestReport,
    Order,
    Product,
    Promotion,
    Store,
    UtcDatetime,
    WishlistItem,
)

log = logging.getLogger("clienteling.central.ingest")

CHUNK = 500
"""Records per transaction: long enough to amortise a commit, short enough that commands wait at most a few tens of
milliseconds behind an ingest."""
MAX_RECORDS = 20_000
"""Records per request; a larger load is sent as several batches."""
WHOLE_RECORD = "*"
_MOMENT: TypeAdapter = TypeAdapter(UtcDatetime)
BOOKKEEPING = frozenset({"created_at", "updated_at", "sources", "credited_to"})
"""Fields no system owns: the centre keeps them (an order's `credited_to`: the centre works it out, issue 14)."""
CENTRE_FIELDS = frozenset({"sources", "credited_to"})
"""Fields a system may not even send: the centre sets them."""


@dataclass(frozen=True)
class Integration:
    """A client of the ingest API: one of the retailer's systems, and the collections it may write."""

    name: str
    may: tuple[str, ...]


class Refused(Exception):
    """One record refused: its code, what is wrong in words, and the field if one is to blame."""

    def __init__(self, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.field = code, detail, field


@dataclass(frozen=True)
class Held:
    """What the centre holds of one chunk's records: the source's version and the document, by id (None: deleted)."""

    versions: dict[str, str]
    documents: dict[str, dict[str, Any] | None]


@dataclass(frozen=True)
class Kind:
    """How one collection is read and written."""

    model: type[BaseModel]
    key: str  # the document's field that is its id
    table: str


KINDS: dict[str, Kind] = {
    "stores": Kind(Store, "code", "stores"),
    "products": Kind(Product, "style", "products"),
    "promotions": Kind(Promotion, "id", "promotions"),
    "stock": Kind(IngestedStock, "id", "stock"),
    "customers": Kind(Customer, "id", "customers"),
    "wishlists": Kind(WishlistItem, "id", "wishlists"),
    "orders": Kind(Order, "number", "orders"),
    "conversations": Kind(Conversation, "id", "conversations"),
    "activities": Kind(Activity, "id", "activities"),
}
assert tuple(KINDS) == INGEST_COLLECTIONS


def _version(record: IngestRecord) -> str:
    """The record's version as text that sorts as it compares: `n:` and 20 digits, or `t:` and a UTC moment."""
    if record.version is not None:
        return f"n:{record.version:020d}"
    assert record.updated_at is not None
    return f"t:{record.updated_at.isoformat(timespec='microseconds')}"


def _problem_lines(error: ValidationError) -> tuple[str, str | None]:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ())) or None
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())) or 'record'}: {e.get('msg', '')}" for e in error.errors()[:3]
    )
    return detail, field


class Ingest(StoreBase):
    """Integration clients, field owners, and the ingest of records from the retailer's systems."""

    # ------------------------------------------------------------------ clients and owners

    def add_integration(self, name: str, may: Iterable[str]) -> str:
        """Register one of the retailer's systems and return its new token (`cls_…`); only the hash is kept."""
        allowed = tuple(dict.fromkeys(m.strip() for m in may if m.strip()))
        unknown = [m for m in allowed if m not in INGEST_COLLECTIONS]
        if unknown or not allowed:
            raise ProblemError(
                "invalid_request",
                f"--may names what the system may write, from: {', '.join(INGEST_COLLECTIONS)}"
                + (f"; not {', '.join(unknown)}" if unknown else ""),
            )
        token = "cls_" + secrets.token_urlsafe(32)
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM integrations WHERE name = ?", (name,)).fetchone():
                raise ProblemError("invalid_request", f"there already is an integration named {name!r}")
            conn.execute(
                "INSERT INTO integrations VALUES (?, ?, ?, ?)",
                (hash_token(token), name, ",".join(allowed), iso(self.clock())),
            )
        return token

    def integration(self, token: str) -> Integration | None:
        row = self.query_one("SELECT name, may FROM integrations WHERE token_hash = ?", (hash_token(token),))
        return Integration(row[0], tuple(row[1].split(","))) if row else None

    def field_owners(self, collection: str | None = None) -> list[FieldOwner]:
        rows = self.query(
            "SELECT collection, field, source FROM field_owners"
            + (" WHERE collection = ?" if collection else "")
            + " ORDER BY collection, field",
            (collection,) if collection else (),
        )
        return [FieldOwner(collection=c, field=f, source=s) for c, f, s in rows]

    def set_field_owner(self, collection: str, field: str, source: str | None) -> None:
        """Say which system owns `collection.field` (`*`: creates and deletes its records); None: no one."""
        kind = KINDS.get(collection)
        if kind is None:
            raise ProblemError("invalid_request", f"there is no collection {collection!r} to ingest")
        if field != WHOLE_RECORD and (
            field not in kind.model.model_fields or field in BOOKKEEPING or field == kind.key
        ):
            raise ProblemError(
                "invalid_request", f"{collection} has no field {field!r} a system can own (or '*' for the records)"
            )
        with self.write() as conn:
            if source is None:
                conn.execute("DELETE FROM field_owners WHERE collection = ? AND field = ?", (collection, field))
            else:
                try:
                    FieldOwner(collection=collection, field=field, source=source)  # a valid system name
                except ValidationError:
                    raise ProblemError(
                        "invalid_request", f"{source!r} is not a system's name (lower-case letters, digits, - and _)"
                    ) from None
                conn.execute(
                    "INSERT INTO field_owners VALUES (?, ?, ?) ON CONFLICT (collection, field) DO UPDATE"
                    " SET source = excluded.source",
                    (collection, field, source),
                )

    # ------------------------------------------------------------------ ingest

    def ingest(
        self, integration: Integration, collection: str, records: Iterable[tuple[int, dict[str, Any] | Refused]]
    ) -> IngestReport:
        """Take a batch of `(line, record)` (or `(line, Refused)` for a line that could not be read)."""
        kind = KINDS[collection]
        owners = {o.field: o.source for o in self.field_owners(collection)}
        counts = {"accepted": 0, "unchanged": 0, "stale": 0, "refused": 0}
        lines: list[IngestLine] = []
        batch = list(records)
        for start in range(0, len(batch), CHUNK):
            chunk = []  # (line, the record or why it was refused, its id if it names one)
            for line, raw in batch[start : start + CHUNK]:
                try:
                    if isinstance(raw, Refused):
                        raise raw
                    record = self._record(raw, integration, kind)
                    chunk.append((line, record, record.id))
                except Refused as refused:
                    record_id = raw.get("id") if isinstance(raw, dict) else None
                    chunk.append((line, refused, record_id if isinstance(record_id, str) else None))
            ids = sorted({record_id for _, record, record_id in chunk if isinstance(record, IngestRecord)})
            with self.write() as conn:
                self._hold_feed(conn)
                now = self.clock()
                held = self._held(conn, collection, kind, integration.name, ids)
                with self.db.pipeline(conn):  # PostgreSQL: a round trip per result read, not per statement
                    self._ingest_chunk(
                        conn, collection, kind, integration.name, owners, now, held, chunk, counts, lines
                    )
        return IngestReport(collection=collection, source=integration.name, received=len(batch), **counts, lines=lines)

    def _ingest_chunk(
        self,
        conn: Conn,
        collection: str,
        kind: Kind,
        source: str,
        owners: dict[str, str],
        now: datetime,
        held: Held,
        chunk: list[tuple[int, IngestRecord | Refused, str | None]],
        counts: dict[str, int],
        lines: list[IngestLine],
    ) -> None:
        """Judge and write one chunk's records in the transaction `conn`, each within a savepoint of its own."""
        for line, record, record_id in chunk:
            try:
                if isinstance(record, Refused):
                    raise record
                conn.execute("SAVEPOINT record")
                try:
                    status = self._ingest_one(conn, collection, kind, record, source, owners, now, held)
                except BaseException:
                    conn.execute("ROLLBACK TO record")
                    raise
                finally:
                    conn.execute("RELEASE record")
            except Refused as refused:
                counts["refused"] += 1
                lines.append(
                    IngestLine(
                        line=line,
                        id=record_id,
                        status="refused",
                        code=refused.code,
                        detail=refused.detail,
                        field=refused.field,
                    )
                )
                continue
            counts[status] += 1
            if status != "accepted":
                lines.append(IngestLine(line=line, id=record_id, status=status))

    @staticmethod
    def _hold_feed(conn: Conn) -> None:
        """Take the feed counter's row lock now (PostgreSQL), so this transaction writes alone from here on."""
        conn.execute("UPDATE meta SET value = value WHERE key = 'seq'")

    @staticmethod
    def _record(raw: dict[str, Any], integration: Integration, kind: Kind) -> IngestRecord:
        try:
            record = IngestRecord.model_validate(raw)
        except ValidationError as error:
            detail, field = _problem_lines(error)
            raise Refused("invalid_record", detail, field) from None
        if record.source is not None and record.source != integration.name:
            raise Refused(
                "source_mismatch",
                f"this token is {integration.name!r}'s; it cannot send records as {record.source!r}",
                "source",
            )
        if record.deleted and record.data is not None:
            raise Refused("invalid_record", "a record is either deleted or has data, not both", "data")
        if not record.deleted and record.data is None:
            raise Refused("invalid_record", "an upsert carries the record in 'data'", "data")
        if record.version is None and record.updated_at is None:
            if kind.model is IngestedStock and record.data and "as_of" in record.data:  # a count's time is its version
                try:
                    record.updated_at = _MOMENT.validate_python(record.data["as_of"])
                except ValidationError:
                    raise Refused("invalid_record", "as_of: not a moment with its UTC offset", "as_of") from None
            else:
                raise Refused("version_missing", "give the source's 'version' (a number) or 'updated_at' (a moment)")
        if record.version is not None and record.updated_at is not None:
            raise Refused("invalid_record", "give 'version' or 'updated_at', not both", "version")
        data_id = _id_of(kind, record.data) if record.data is not None else None
        if record.id is None:
            if data_id is None:
                raise Refused("invalid_record", f"the record has no id (its data lacks {kind.key!r})", kind.key)
            record.id = data_id
        elif data_id is not None and data_id != record.id:
            raise Refused("id_mismatch", f"the record's id {record.id!r} is not its data's {data_id!r}", kind.key)
        return record

    def _ingest_one(
        self,
        conn: Conn,
        collection: str,
        kind: Kind,
        record: IngestRecord,
        source: str,
        owners: dict[str, str],
        now: datetime,
        held: Held,
    ) -> str:
        assert record.id is not None
        version = _version(record)
        before = held.versions.get(record.id)
        if before is not None:
            if before[:2] != version[:2]:
                raise Refused(
                    "version_kind_changed",
                    f"{source} sent this record with {'a version' if before[0] == 'n' else 'updated_at'} before; "
                    "keep to one",
                    "version",
                )
            if version == before:
                return "unchanged"
            if version < before:
                return "stale"
        current = held.documents.get(record.id)
        whole = owners.get(WHOLE_RECORD)
        if (current is None or record.deleted) and whole is not None and whole != source:
            raise Refused(
                "record_owned_elsewhere",
                f"{whole} creates and deletes {collection}; {source} may only change the fields it owns",
            )
        at = record.updated_at or now
        if record.deleted:
            if current is not None:
                self._remove(conn, collection, record.id)
            after = None
        else:
            assert record.data is not None
            document = self._merged(collection, kind, current, record.data, source, owners, at, now)
            self._save(conn, collection, document, source, current is None)
            after = document.model_dump(mode="json")
        held.versions[record.id], held.documents[record.id] = version, after  # for a later record of the same id
        conn.execute(
            "INSERT INTO source_versions VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (collection, id, source) DO UPDATE"
            " SET version = excluded.version, received_at = excluded.received_at, deleted = excluded.deleted",
            (collection, record.id, source, version, iso(now), int(record.deleted)),
        )
        return "accepted"

    def _merged(
        self,
        collection: str,
        kind: Kind,
        current: dict[str, Any] | None,
        data: dict[str, Any],
        source: str,
        owners: dict[str, str],
        at: datetime,
        now: datetime,
    ) -> BaseModel:
        fields = kind.model.model_fields
        unknown = sorted(set(data) - set(fields) - ({"id"} if kind.model is IngestedStock else set()))
        if unknown:
            raise Refused("unknown_field", f"{collection} have no field {unknown[0]!r}", unknown[0])
        for kept in sorted(CENTRE_FIELDS & set(data)):
            raise Refused("invalid_record", f"{kept!r} is kept by the centre", kept)
        merged = {
            **(current or {}),
            **{k: v for k, v in data.items() if not (kind.model is IngestedStock and k == "id")},
        }
        if kind.model is not IngestedStock:
            if "created_at" in fields:
                merged.setdefault("created_at", iso(now))
            if "updated_at" in fields and "updated_at" not in data:
                merged["updated_at"] = iso(now)
            merged["sources"] = {**(current or {}).get("sources", {}), source: at.isoformat()}
        try:
            document = kind.model.model_validate(merged)
        except ValidationError as error:
            detail, field = _problem_lines(error)
            raise Refused("invalid_record", detail, field) from None
        if current is not None:
            before = kind.model.model_validate(current).model_dump(mode="json")
            after = document.model_dump(mode="json")
            for field in data:
                owner = owners.get(field)
                if owner is not None and owner != source and before.get(field) != after.get(field):
                    raise Refused(
                        "field_owned_elsewhere",
                        f"{field} of {collection} is owned by {owner}; {source} may not change it",
                        field,
                    )
        return document

    # ------------------------------------------------------------------ per collection

    @staticmethod
    def _held(conn: Conn, collection: str, kind: Kind, source: str, ids: list[str]) -> Held:
        """What the centre holds of the records `ids`: this source's versions and the documents, in two queries."""
        held = Held({}, {})
        if not ids:
            return held
        marks = ", ".join("?" for _ in ids)
        held.versions.update(
            conn.execute(
                f"SELECT id, version FROM source_versions WHERE collection = ? AND source = ? AND id IN ({marks})",
                (collection, source, *ids),
            ).fetchall()
        )
        if collection == "stock":
            for record_id, *row in conn.execute(
                f"SELECT id, store, sku, on_hand, as_of FROM stock WHERE id IN ({marks})", ids
            ).fetchall():
                held.documents[record_id] = dict(zip(("store", "sku", "on_hand", "as_of"), row, strict=True))
        else:
            for record_id, doc in conn.execute(
                f"SELECT id, CAST(doc AS TEXT) FROM {kind.table} WHERE id IN ({marks})", ids
            ).fetchall():
                held.documents[record_id] = json.loads(doc)
        return held

    def _save(self, conn: Conn, collection: str, document: BaseModel, source: str, new: bool) -> None:
        SAVERS[collection](self, conn, document, source, new)

    def _remove(self, conn: Conn, collection: str, record_id: str) -> None:
        if collection == "customers":
            self._forget(conn, record_id)  # type: ignore[attr-defined]
        elif collection == "stores":
            if conn.execute("SELECT 1 FROM customers WHERE home_store = ? LIMIT 1", (record_id,)).fetchone():
                raise Refused("in_use", f"store {record_id} is the home store of customers; move them first")
            for (stock_id,) in conn.execute("SELECT id FROM stock WHERE store = ?", (record_id,)).fetchall():
                self.delete(conn, "stock", stock_id)
            self.delete(conn, "stores", record_id)
        elif collection == "products":
            skus = [r[0] for r in conn.execute("SELECT sku FROM variants WHERE style = ?", (record_id,)).fetchall()]
            for sku in skus:
                for (stock_id,) in conn.execute("SELECT id FROM stock WHERE sku = ?", (sku,)).fetchall():
                    self.delete(conn, "stock", stock_id)
            conn.execute("DELETE FROM variants WHERE style = ?", (record_id,))
            self.delete(conn, "products", record_id)
        else:
            self.delete(conn, collection, record_id)

    def _save_store(self, conn: Conn, store: Store, source: str, new: bool) -> None:
        conn.execute(
            "INSERT INTO stores VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq,"
            " latitude = excluded.latitude, longitude = excluded.longitude, doc = excluded.doc",
            (store.code, self.next_seq(conn), store.latitude, store.longitude, store.model_dump_json()),
        )

    def _save_product(self, conn: Conn, product: Product, source: str, new: bool) -> None:
        for variant in product.variants:
            taken = conn.execute(
                "SELECT style FROM variants WHERE (sku = ? OR gtin14 = ?) AND style <> ?",
                (variant.sku, variant.gtin.zfill(14), product.style),
            ).fetchone()
            if taken is not None:
                raise Refused(
                    "in_use", f"{variant.sku} / GTIN {variant.gtin} belongs to product {taken[0]}", "variants"
                )
        conn.execute("DELETE FROM variants WHERE style = ?", (product.style,))
        conn.executemany(
            "INSERT INTO variants VALUES (?, ?, ?)",
            [(v.sku, v.gtin.zfill(14), product.style) for v in product.variants],
        )
        conn.execute(
            "INSERT INTO products VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq,"
            " search = excluded.search, doc = excluded.doc",
            (product.style, self.next_seq(conn), rules.product_search_text(product), product.model_dump_json()),
        )

    def _save_promotion(self, conn: Conn, promotion: Promotion, source: str, new: bool) -> None:
        if promotion.ends_at <= promotion.starts_at:
            raise Refused("invalid_record", "a promotion ends after it starts", "ends_at")
        if not (promotion.categories or promotion.styles or promotion.skus):
            raise Refused("invalid_record", "a promotion names the categories, styles or SKUs it holds for", "skus")
        conn.execute(
            "INSERT INTO promotions VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq,"
            " doc = excluded.doc",
            (promotion.id, self.next_seq(conn), promotion.model_dump_json()),
        )

    def _save_stock(self, conn: Conn, level: IngestedStock, source: str, new: bool) -> None:
        _known_store(conn, level.store)
        _known_sku(conn, level.sku)
        before = self._available(conn, level.store, level.sku)  # type: ignore[attr-defined]
        conn.execute(
            "INSERT INTO stock (id, seq, store, sku, on_hand, reserved, as_of, source) VALUES (?, ?, ?, ?, ?, 0, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, on_hand = excluded.on_hand, as_of = excluded.as_of,"
            " source = excluded.source",
            (
                f"{level.store}:{level.sku}",
                self.next_seq(conn),
                level.store,
                level.sku,
                level.on_hand,
                iso(level.as_of),
                source,
            ),
        )
        # back in stock: the customers waiting for it get a follow-up (clienteling.central.followups)
        after = self._available(conn, level.store, level.sku)  # type: ignore[attr-defined]
        self._stock_moved(conn, level.store, level.sku, before, after, self.clock())  # type: ignore[attr-defined]

    def _save_customer(self, conn: Conn, customer: Customer, source: str, new: bool) -> None:
        _known_store(conn, customer.home_store)
        email = customer.email.strip().lower()
        for other, card, email_lc in conn.execute(
            "SELECT id, card, email_lc FROM customers WHERE (card = ? OR email_lc = ?) AND id <> ?",
            (customer.card_number, email, customer.id),
        ).fetchall():
            what, value = ("card_number", card) if card == customer.card_number else ("email", email_lc)
            raise Refused("in_use", f"{what} {value} belongs to customer {other}", what)
        from clienteling.central.customers import customer_search_text

        name = f"{customer.first_name} {customer.last_name}"
        doc, seq = customer.model_dump_json(), self.next_seq(conn)
        if self.db.dialect == "postgresql":
            conn.execute(
                "INSERT INTO customers (id, seq, card, email_lc, home_store, doc, search_text) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, card = excluded.card, email_lc = excluded.email_lc,"
                " home_store = excluded.home_store, doc = excluded.doc, search_text = excluded.search_text",
                (
                    customer.id,
                    seq,
                    customer.card_number,
                    email,
                    customer.home_store,
                    doc,
                    customer_search_text(name, customer.email, customer.phone),
                ),
            )
        else:
            conn.execute(
                "INSERT INTO customers (id, seq, card, email_lc, home_store, doc) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, card = excluded.card, email_lc = excluded.email_lc,"
                " home_store = excluded.home_store, doc = excluded.doc",
                (customer.id, seq, customer.card_number, email, customer.home_store, doc),
            )
            rowid = conn.execute("SELECT rowid FROM customers WHERE id = ?", (customer.id,)).fetchone()[0]
            conn.execute("DELETE FROM customers_fts WHERE rowid = ?", (rowid,))
            conn.execute(
                "INSERT INTO customers_fts (rowid, name, email, phone) VALUES (?, ?, ?, ?)",
                (rowid, name, customer.email, customer.phone),
            )
        if new:  # nothing of theirs to send again: the row itself has just taken its position
            conn.execute("INSERT INTO customer_scope VALUES (?, ?, 'home')", (customer.id, customer.home_store))
        else:
            self._add_to_scope(conn, customer.id, customer.home_store, "home")

    def _save_wishlist_item(self, conn: Conn, item: WishlistItem, source: str, new: bool) -> None:
        _known_customer(conn, item.customer_id)
        style = _known_sku(conn, item.sku)
        if style != item.style:
            raise Refused("invalid_record", f"{item.sku} is a SKU of {style}, not of {item.style}", "style")
        if item.id != f"{item.customer_id}:{item.sku}":
            raise Refused("invalid_record", "a wishlist item's id is '<customer id>:<sku>'", "id")
        conn.execute(
            "INSERT INTO wishlists VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq,"
            " doc = excluded.doc",
            (item.id, self.next_seq(conn), item.customer_id, item.model_dump_json()),
        )

    def _save_order(self, conn: Conn, order: Order, source: str, new: bool) -> None:
        _known_customer(conn, order.customer_id)
        for store in {order.store, order.fulfilled_by} - {None}:
            _known_store(conn, store)
        held = conn.execute("SELECT customer_id FROM orders WHERE id = ?", (order.number,)).fetchone()
        if held is not None and held[0] != order.customer_id:
            raise Refused("in_use", f"order {order.number} belongs to another customer", "customer_id")
        # an online order after an associate's message or consult is credited to them (clienteling.central.outreach)
        order = self.credited(conn, order)  # type: ignore[attr-defined]
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq,"
            " created_at = excluded.created_at, doc = excluded.doc",
            (order.number, self.next_seq(conn), order.customer_id, iso(order.created_at), order.model_dump_json()),
        )
        if order.store is not None:
            self._add_to_scope(conn, order.customer_id, order.store, "buyer")

    def _save_conversation(self, conn: Conn, conversation: Conversation, source: str, new: bool) -> None:
        _known_customer(conn, conversation.customer_id)
        before = conn.execute("SELECT doc FROM conversations WHERE id = ?", (conversation.id,)).fetchone()
        self._listen(conn, conversation, json.loads(before[0])["messages"] if before else [])
        conn.execute(
            "INSERT INTO conversations VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq,"
            " customer_id = excluded.customer_id, updated_at = excluded.updated_at, doc = excluded.doc",
            (
                conversation.id,
                self.next_seq(conn),
                conversation.customer_id,
                iso(conversation.updated_at),
                conversation.model_dump_json(),
            ),
        )

    def _listen(self, conn: Conn, conversation: Conversation, known: list[dict]) -> None:
        """Social listening (issue 15): her messages this conversation did not hold before are read for sentiment
        (clienteling.sentiment, offline, Dutch or English); a negative one puts a service-recovery follow-up on her
        home store's list, so that the next associate who opens her knows before she speaks. Where the `sentiment`
        extra is not installed, nothing is read (and the centre's log says so once)."""
        seen = {(m.get("author"), m.get("text"), m.get("at")) for m in known}
        new = [
            m for m in conversation.messages if m.author == "customer" and ("customer", m.text, iso(m.at)) not in seen
        ]
        if not new or not _sentiment_available():
            return
        from clienteling import sentiment

        unhappy = next((m for m in new if sentiment.score(m.text).label == "negative"), None)
        if unhappy is None:
            return
        home = conn.execute("SELECT doc->>'home_store' FROM customers WHERE id = ?", (conversation.customer_id,))
        store = home.fetchone()[0]
        self._service_recovery(  # type: ignore[attr-defined]
            conn,
            conversation.customer_id,
            store,
            "service_recovery_chat",
            {"channel": conversation.channel, "quote": unhappy.text[:200]},
            self.clock(),
        )

    def _save_activity(self, conn: Conn, activity: Activity, source: str, new: bool) -> None:
        """What a customer did online (issue 15): of a known customer, about a known product if it names one, at a
        moment within its retention (`rules.implausible_activity_time`). Any well-formed kind and channel is taken
        (see `contract.ACTIVITY_KINDS`); the style is set from the SKU."""
        _known_customer(conn, activity.customer_id)
        if activity.sku is not None:
            style = _known_sku(conn, activity.sku)
            if activity.style is not None and activity.style != style:
                raise Refused("invalid_record", f"{activity.sku} is a SKU of {style}, not of {activity.style}", "style")
            activity.style = style
        elif (
            activity.style is not None
            and conn.execute("SELECT 1 FROM products WHERE id = ?", (activity.style,)).fetchone() is None
        ):
            raise Refused("unknown_style", f"there is no product {activity.style!r}: send the product first", "style")
        refusal = rules.implausible_activity_time(activity.at, self.clock())
        if refusal is not None:
            earliest, latest = (iso(refusal.params[end]) for end in ("earliest", "latest"))
            raise Refused(
                refusal.code,
                f"at {iso(activity.at)} is outside what the centre keeps: from {earliest} to {latest}",
                "at",
            )
        held = conn.execute("SELECT customer_id FROM activities WHERE id = ?", (activity.id,)).fetchone()
        if held is not None and held[0] != activity.customer_id:
            raise Refused("in_use", f"activity {activity.id} belongs to another customer", "customer_id")
        conn.execute(
            "INSERT INTO activities (id, seq, customer_id, at, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
            " SET seq = excluded.seq, customer_id = excluded.customer_id, at = excluded.at, doc = excluded.doc",
            (activity.id, self.next_seq(conn), activity.customer_id, iso(activity.at), activity.model_dump_json()),
        )


@functools.cache
def _sentiment_available() -> bool:
    from clienteling import sentiment

    if not sentiment.available():
        log.warning("conversations are not read for sentiment: install clienteling[sentiment] on the centre")
        return False
    return True


SAVERS: dict[str, Callable[[Ingest, Conn, Any, str, bool], None]] = {
    "stores": Ingest._save_store,
    "products": Ingest._save_product,
    "promotions": Ingest._save_promotion,
    "stock": Ingest._save_stock,
    "customers": Ingest._save_customer,
    "wishlists": Ingest._save_wishlist_item,
    "orders": Ingest._save_order,
    "conversations": Ingest._save_conversation,
    "activities": Ingest._save_activity,
}


def _id_of(kind: Kind, data: dict[str, Any]) -> str | None:
    if kind.model is IngestedStock:
        store, sku = data.get("store"), data.get("sku")
        return f"{store}:{sku}" if isinstance(store, str) and isinstance(sku, str) else None
    value = data.get(kind.key)
    return value if isinstance(value, str) else None


def _known_store(conn: Conn, code: str) -> None:
    if conn.execute("SELECT 1 FROM stores WHERE id = ?", (code,)).fetchone() is None:
        raise Refused("unknown_store", f"there is no store {code!r}: send the store first")


def _known_sku(conn: Conn, sku: str) -> str:
    row = conn.execute("SELECT style FROM variants WHERE sku = ?", (sku,)).fetchone()
    if row is None:
        raise Refused("unknown_sku", f"there is no product with SKU {sku!r}: send the product first", "sku")
    return row[0]


def _known_customer(conn: Conn, customer_id: str) -> None:
    if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
        raise Refused("unknown_customer", f"there is no customer {customer_id}: send the customer first", "customer_id")


def parse_ndjson(body: bytes) -> list[tuple[int, dict[str, Any] | Refused]]:
    """The records of an NDJSON body, each with its line number; a line that is not a JSON object is refused alone.
    Blank lines are skipped (but counted)."""
    records: list[tuple[int, dict[str, Any] | Refused]] = []
    for number, text in enumerate(body.decode("utf-8").split("\n"), start=1):
        if not text.strip():
            continue
        records.append((number, _object(text)))
    return records


def parse_json(body: bytes) -> list[tuple[int, dict[str, Any] | Refused]]:
    """The records of a JSON body: an array of records, or `{"records": [...]}`."""
    try:
        value = json.loads(body)
    except ValueError as error:
        raise ProblemError("invalid_request", f"the body is not JSON: {error}") from None
    if isinstance(value, dict) and isinstance(value.get("records"), list):
        value = value["records"]
    if not isinstance(value, list):
        raise ProblemError("invalid_request", 'send an array of records, or {"records": [...]}, or NDJSON')
    return [
        (number, item if isinstance(item, dict) else Refused("not_an_object", "a record is a JSON object"))
        for number, item in enumerate(value, start=1)
    ]


def _object(text: str) -> dict[str, Any] | Refused:
    try:
        value = json.loads(text)
    except ValueError as error:
        return Refused("not_json", f"the line is not JSON: {error}")
    return value if isinstance(value, dict) else Refused("not_an_object", "a record is a JSON object")
