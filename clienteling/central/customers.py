"""Customers: profiles, their wishlists and chats, the customer search, notes, consent per channel and its log, the
log of who viewed a profile, erasure and retention.

Consent (issue 14). A change made at a counter (`ConsentCommand`, `change_consent`) is one command run once per
idempotency key: in its transaction the customer's document gets the new channels (`marketing` set to whether any
channel is agreed, `updated_at` of the consent to when the customer agreed, the document's own `updated_at` to now)
and a new feed position, so every store's devices get it; the change is written to `consent_log` and published as
`consent.changed`. Devices are offline for hours, so changes arrive out of order: a change agreed before the consent
the centre holds (`rules.consent_supersedes`) changes nothing and is not published, but is logged all the same and
answered 201 with `superseded: true` (it was received, and the customer's word at that moment is on record; the
device has nothing to put right, so it is no refusal).

Enrolment (issue 14). `enrol` makes a new customer from an `EnrolCommand` sent by a store's device, once per
idempotency key (a replay answers the same customer, the same card). Her number comes from the centre's counter
`meta.enrol_serial`, which starts at `ENROL_SERIAL_BASE` (9,000,000,000): far above the demo chain's numbers, whose
customer ids and cards are made from their number the same way. One serial gives both her id (`C` and the serial) and
her card (`codes.make_card_number(serial)`, a valid GS1 number with its check digit); a serial whose id or card is
already taken (a customer sent by the retailer's systems) is skipped. She is a basic member with no points, her home
store the enrolling store (in its scope, so its devices get her in the feed), her consent per channel as she gave it
at the counter; `customer.enrolled` is published in the same transaction. An email address the centre holds (in any
case) is refused with `email_already_enrolled`, naming the existing customer, her card and since when she is a
member: the device then shows her, and applies the consent given at the counter to her as a consent change.
"""

from __future__ import annotations

import json

from clienteling import codes, rules
from clienteling.central.base import IDEMPOTENCY_RETENTION, PROFILE_VIEW_RETENTION, CommandAnswer, iso
from clienteling.central.db import Conn
from clienteling.central.epochs import NUMBERED_ORDER
from clienteling.central.events import Events
from clienteling.central.problems import ProblemError, implausible_time
from clienteling.contract import (
    AddNoteCommand,
    ChannelConsent,
    ConsentChange,
    ConsentCommand,
    Customer,
    CustomerNote,
    EnrolCommand,
    ProfileView,
    ProfileViewCommand,
    utc_now,
)
from clienteling.text_search import fts_query, fts_words, prefix_words

ENROL_SERIAL_BASE = 9_000_000_000
"""The first serial the centre gives an enrolled customer (see the module's docstring)."""


def customer_search_text(name: str, email: str, phone: str | None) -> str:
    """The words a customer is found by on PostgreSQL: the same words SQLite's full-text index makes of them."""
    return " ".join(fts_words(f"{name} {email} {phone or ''}"))


class Customers(Events):
    """Customers and what is recorded about them."""

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

    def conversations(self, customer_id: str) -> list[str]:
        return [
            r[0]
            for r in self.query(
                "SELECT doc FROM conversations WHERE customer_id = ? ORDER BY updated_at DESC, id DESC",
                (customer_id,),
            )
        ]

    def forget_customer(self, customer_id: str) -> bool:
        """Erase a customer and everything personal about them (a GDPR erasure), with tombstones.

        Besides their synced rows (follow-ups and what they did online among them): the notes staff made about them, the returns of their orders, the log of who
        viewed their profile, the log of their consent changes, every stored idempotency answer about them (an order's answer holds the address), and
        the outbox's events about them or their orders, with their deliveries (sent or not).
        A device that sends one of their commands again afterwards gets it judged afresh: refused, as they are gone.
        """
        with self.write() as conn:
            return self._forget(conn, customer_id)

    def _forget(self, conn: Conn, customer_id: str) -> bool:
        """`forget_customer` inside the transaction `conn` (the ingest API's delete of a customer is one too)."""
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
        subjects = [f"customer:{customer_id}"] + [
            f"order:{number}"
            for (number,) in conn.execute("SELECT id FROM orders WHERE customer_id = ?", (customer_id,)).fetchall()
        ]
        for subject in subjects:  # the outbox's events about them, delivered or not (events.py)
            conn.execute(
                "DELETE FROM deliveries WHERE event_id IN (SELECT id FROM events WHERE subject = ?)", (subject,)
            )
            conn.execute("DELETE FROM events WHERE subject = ?", (subject,))
        conn.execute(  # what the local sink received for her (a retailer's provider keeps its own)
            "DELETE FROM outreach_sink WHERE reference IN (SELECT id FROM outreach_messages WHERE customer_id = ?)",
            (customer_id,),
        )
        for table in ("profile_views", "idempotency", "consent_log", "outreach_messages", "touchpoints", "feedback"):
            conn.execute(f"DELETE FROM {table} WHERE customer_id = ?", (customer_id,))
        for collection in ("wishlists", "orders", "conversations", "notes", "follow_ups", "activities"):
            for (row_id,) in conn.execute(
                f"SELECT id FROM {collection} WHERE customer_id = ?", (customer_id,)
            ).fetchall():
                self.delete(conn, collection, row_id)
        self.delete(conn, "customers", customer_id)
        conn.execute("DELETE FROM customer_scope WHERE customer_id = ?", (customer_id,))
        return True

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
        self.prune_activities()
        return views, answers

    def prune_activities(self) -> int:
        """Drop what customers did online longer ago than `rules.ACTIVITY_RETENTION` at the centre's clock (run by
        `prune_expired`), each with a tombstone so that the devices drop it too, and its sources' versions (an
        older record is refused at ingest anyway). Returns how many were dropped."""
        cutoff = iso(rules.activity_cutoff(self.clock()))
        dropped = 0
        while True:  # in chunks, so that a backlog never holds the feed for long
            with self.write() as conn:
                ids = [
                    r[0]
                    for r in conn.execute(
                        "SELECT id FROM activities WHERE at < ? ORDER BY at LIMIT 500", (cutoff,)
                    ).fetchall()
                ]
                for activity_id in ids:
                    self.delete(conn, "activities", activity_id)
                    conn.execute(
                        "DELETE FROM source_versions WHERE collection = 'activities' AND id = ?", (activity_id,)
                    )
            dropped += len(ids)
            if len(ids) < 500:
                return dropped

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
        author = conn.execute("SELECT doc->>'name' FROM staff WHERE id = ?", (command.author,)).fetchone()
        note = CustomerNote(
            id=self._number(conn, "N", "note_number", restoring),
            customer_id=customer_id,
            text=command.text,
            author=command.author,
            author_name=author[0] if author else None,
            store=device_store,
            created_at=now,
            kind=command.kind,
        )
        doc = note.model_dump_json()
        conn.execute(
            "INSERT INTO notes (id, customer_id, created_at, doc, seq) VALUES (?, ?, ?, ?, ?)",
            (note.id, customer_id, iso(now), doc, self.next_seq(conn)),
        )
        # the store that wrote it serves her now: its devices get her picture, this note among it
        self._add_to_scope(conn, customer_id, device_store, "note")
        self.record_event(conn, "note.added", f"customer:{customer_id}", doc, now)
        return doc

    def change_consent(
        self, customer_id: str, command: ConsentCommand, key: str, device_store: str, *, restoring: str | None = None
    ) -> CommandAnswer:
        """A customer's consent per channel as they gave it at the counter of `device_store` (see the module's
        docstring for the order of changes). The answer is the `ConsentChange`."""
        body = f"{customer_id}\n{command.model_dump_json()}"
        return self._idempotent(
            device_store,
            key,
            "consent",
            body,
            lambda conn: self._consent(conn, customer_id, command, device_store, restoring),
            customer_id,
        )

    def _consent(
        self, conn: Conn, customer_id: str, command: ConsentCommand, device_store: str, restoring: str | None
    ) -> str:
        # The row's lock on PostgreSQL (SQLite has one writer at a time): a change of this customer's document made
        # meanwhile (another consent change, an ingest) is read, never overwritten.
        locked = " FOR UPDATE" if self.db.dialect == "postgresql" else ""
        row = conn.execute(f"SELECT doc FROM customers WHERE id = ?{locked}", (customer_id,)).fetchone()
        if row is None:
            raise ProblemError("customer_not_found", f"there is no customer {customer_id}")
        self._staff_of_store(conn, device_store, "staff_id", command.staff_id)
        now = self.clock()
        refusal = rules.implausible_consent_time(command.agreed_at, now)
        if problem := implausible_time(refusal, "agreed_at", command.agreed_at, "consent agreed"):
            raise problem
        customer = Customer.model_validate_json(row[0])
        held = customer.consent
        before = ChannelConsent(email=held.email, sms=held.sms, whatsapp=held.whatsapp)
        after = ChannelConsent(email=command.email, sms=command.sms, whatsapp=command.whatsapp)
        applies = rules.consent_supersedes(command.agreed_at, held.updated_at)
        staff = conn.execute("SELECT doc->>'name' FROM staff WHERE id = ?", (command.staff_id,)).fetchone()
        change = ConsentChange(
            id=self._number(conn, "CS", "consent_number", restoring),
            customer_id=customer_id,
            before=before,
            after=after,
            superseded=not applies,
            staff_id=command.staff_id,
            staff_name=staff[0] if staff else None,
            store=device_store,
            agreed_at=command.agreed_at,
            recorded_at=now,
        )
        doc = change.model_dump_json()
        conn.execute(
            "INSERT INTO consent_log (id, customer_id, staff_id, store, changed_at, doc) VALUES (?, ?, ?, ?, ?, ?)",
            (change.id, customer_id, command.staff_id, device_store, iso(command.agreed_at), doc),
        )
        if applies:  # the document as it is, its consent changed: fields this centre does not know are kept
            whole = json.loads(row[0])
            whole["consent"] = {
                **whole["consent"],
                **after.model_dump(),
                "marketing": rules.marketing_from(after.email, after.sms, after.whatsapp),
                "updated_at": iso(command.agreed_at),
            }
            whole["updated_at"] = iso(max(customer.updated_at, now))
            self._touch(conn, "customers", customer_id, json.dumps(whole, ensure_ascii=False, separators=(",", ":")))
            self.record_event(conn, "consent.changed", f"customer:{customer_id}", doc, now)
        return doc

    def enrol(self, command: EnrolCommand, key: str, device_store: str) -> CommandAnswer:
        """A new customer enrolled at the counter of `device_store` (see the module's docstring); the answer is her
        `Customer`."""
        answer = self._idempotent(
            device_store,
            key,
            "enrol",
            command.model_dump_json(),
            lambda conn: self._enrol(conn, command, device_store),
            None,
        )
        if not answer.replayed:  # the stored answer names her (or the member refused for): erased with her
            found = json.loads(answer.body)
            customer_id = found.get("id") if answer.status < 400 else found.get("customer_id")
            if isinstance(customer_id, str):
                with self.write() as conn:
                    conn.execute(
                        "UPDATE idempotency SET customer_id = ? WHERE store = ? AND key = ?",
                        (customer_id, device_store, key),
                    )
        return answer

    def _enrol(self, conn: Conn, command: EnrolCommand, device_store: str) -> str:
        self._staff_of_store(conn, device_store, "staff_id", command.staff_id)
        now = self.clock()
        refusal = rules.implausible_consent_time(command.agreed_at, now)
        if problem := implausible_time(refusal, "agreed_at", command.agreed_at, "enrolments agreed"):
            raise problem
        email = command.email.lower()
        self.db.lock(conn, f"enrol\n{email}")  # two devices enrolling her at once: one of them is told she is known
        known = conn.execute(
            "SELECT id, card, doc->>'created_at' FROM customers WHERE email_lc = ?", (email,)
        ).fetchone()
        if known is not None:
            raise ProblemError(
                "email_already_enrolled",
                f"{command.email} is the email address of customer {known[0]}, a member since {known[2]}",
                customer_id=known[0],
                card_number=known[1],
                member_since=known[2],
            )
        conn.execute(
            "INSERT INTO meta VALUES ('enrol_serial', ?) ON CONFLICT (key) DO NOTHING", (str(ENROL_SERIAL_BASE),)
        )
        while True:
            serial = int(
                conn.execute(
                    "UPDATE meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'enrol_serial'"
                    " RETURNING value"
                ).fetchone()[0]
            )
            customer_id, card = f"C{serial}", codes.make_card_number(serial)
            if conn.execute("SELECT 1 FROM customers WHERE id = ? OR card = ?", (customer_id, card)).fetchone() is None:
                break
        customer = Customer(
            id=customer_id,
            first_name=command.first_name,
            last_name=command.last_name,
            email=command.email,
            phone=command.phone,
            home_store=device_store,
            card_number=card,
            tier="basic",
            points=0,
            consent=rules.enrolment_consent(command),
            addresses=[],
            sizes={},
            created_at=now,
            updated_at=now,
        )
        doc = customer.model_dump_json()
        name = f"{customer.first_name} {customer.last_name}"
        if self.db.dialect == "postgresql":
            conn.execute(
                "INSERT INTO customers (id, seq, card, email_lc, home_store, doc, search_text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    customer_id,
                    self.next_seq(conn),
                    card,
                    email,
                    device_store,
                    doc,
                    customer_search_text(name, customer.email, customer.phone),
                ),
            )
        else:
            conn.execute(
                "INSERT INTO customers (id, seq, card, email_lc, home_store, doc) VALUES (?, ?, ?, ?, ?, ?)",
                (customer_id, self.next_seq(conn), card, email, device_store, doc),
            )
            rowid = conn.execute("SELECT rowid FROM customers WHERE id = ?", (customer_id,)).fetchone()[0]
            conn.execute(
                "INSERT INTO customers_fts (rowid, name, email, phone) VALUES (?, ?, ?, ?)",
                (rowid, name, customer.email, customer.phone),
            )
        conn.execute(
            "INSERT INTO customer_scope VALUES (?, ?, 'home') ON CONFLICT DO NOTHING", (customer_id, device_store)
        )
        self.record_event(conn, "customer.enrolled", f"customer:{customer_id}", doc, now)
        return doc

    def consent_log(self, customer_id: str) -> list[str]:
        """Every change of this customer's consent made at a counter, superseded ones too: the latest agreed first."""
        return [
            r[0]
            for r in self.query(
                f"SELECT doc FROM consent_log WHERE customer_id = ? ORDER BY changed_at DESC, {NUMBERED_ORDER}",
                (customer_id,),
            )
        ]

    def notes(self, customer_id: str) -> list[str]:
        return [
            r[0]
            for r in self.query(
                f"SELECT doc FROM notes WHERE customer_id = ? ORDER BY created_at DESC, {NUMBERED_ORDER}",
                (customer_id,),
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
        if problem := implausible_time(refusal, "viewed_at", command.viewed_at, "views"):
            raise problem
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
                f"SELECT doc FROM profile_views WHERE customer_id = ? ORDER BY viewed_at DESC, {NUMBERED_ORDER}",
                (customer_id,),
            )
        ]
