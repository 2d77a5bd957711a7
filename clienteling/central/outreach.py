"""Reaching out, with consent (issue 14): messages associates send from a store, the provider that carries them, the
customer's replies, and the credit of online orders.

Sending. `POST /v1/customers/{id}/messages` (`OutreachCommand`, from the device's outbox) is one command run once per
idempotency key. In its transaction the centre checks again what the device offered, with the same rule
(`clienteling.outreach.channel_refusal`: `no_consent`, or `no_contact_address` when there is no phone or email for it), adds the
message to her conversation on that channel (the one the last message from a store on that channel started, while
it is open; else a new one), so it reaches every store's Chats through the conversations feed, with the associate's
name and store; brings the customer into the sending store's scope (as a note does), and records the message in
`outreach_messages` as `pending`. It answers `OutreachMessage` at once: nothing waits on the provider.

Delivery: at least once, never lost. The provider is called after the command's transaction, by a deliverer
(`MessageDeliverer`, a thread started with the app, or `deliver_due` from a test or the CLI). A message is claimed
with a conditional update (it stays `pending`, its `next_at` moved a lease ahead and its attempt counted), so
several processes never hand the same message over at once; a process that dies holding one leaves it due again
when the lease runs out. The provider is given the message's id as its `reference`: a provider that sees a reference
again answers with the id it gave the first time (the local sink does; a retailer's provider must, or use the
reference as its own idempotency key), so a message handed over twice — the centre stopped between the provider's
acceptance and recording it — reaches her once. A failed attempt is tried again after a doubling backoff with jitter,
up to `OutreachSettings.attempts`; then the message is `failed`, listed by `clienteling central outreach-messages`
and sent again with `--retry ID`.

Providers (`Provider`: `send(channel, to, text, reference) -> provider message id`) are configured per retailer in
the centre's environment: `CLIENTELING_OUTREACH_PROVIDER` = `sink` (the default: the local sink, which keeps what it
receives in the table `outreach_sink`), `sink:PATH` (the same, also appending each message as a JSON line to PATH),
or `package.module:factory` (the retailer's own: a callable returning a `Provider`; it reads its own settings).

Replies. The provider hands a customer's reply to `POST /v1/outreach/inbound` (an integration's token that may write
`conversations`), by the reference of the message it answers or by her phone number or email address; the reply is
added to the same conversation as a message of hers, so it reaches every device too. The local sink's replies are
made up with `clienteling central outreach-reply MESSAGE_ID TEXT`.

Credit. An online order stored by the centre (ingest, and so the connectors) is credited to the associate whose
message or consult (a profile view) came last within 14 days before it (`rules.credit_for`): the order's
`credited_to`, the centre's own field (no system may send it). The credited store is brought into the customer's
scope, so its devices get the order.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from clienteling import outreach, rules
from clienteling.central.base import CommandAnswer, iso
from clienteling.central.db import Conn
from clienteling.central.events import Events, precise
from clienteling.central.problems import ProblemError
from clienteling.contract import (
    Credit,
    Customer,
    InboundMessage,
    Message,
    Order,
    OutreachCommand,
    OutreachMessage,
    SinkMessage,
)

log = logging.getLogger("clienteling.central.outreach")

CONVERSATION_CHANNEL = {"whatsapp": "whatsapp", "sms": "sms", "email": "email"}
"""The conversation channel a message of each outreach channel goes into (`ConversationChannel`)."""


class ProviderError(Exception):
    """The provider did not take the message (it is tried again later)."""


class Provider(Protocol):
    """What carries a message to the customer: WhatsApp Business, an SMS gateway, an email service."""

    def send(self, channel: str, to: str, text: str, reference: str) -> str:
        """Hand one message over; return the provider's id of it. The same `reference` again must not send it
        twice: answer with the first id. Raise (anything) when it was not taken."""
        ...


class LocalSink:
    """The demo's and the tests' provider: keeps each message it receives in `outreach_sink` (once per reference),
    and appends it as a JSON line to `jsonl` if given. What it received: `Outreach.sink_messages`."""

    def __init__(self, store: Outreach, jsonl: Path | None = None) -> None:
        self.store = store
        self.jsonl = jsonl
        self._file_lock = threading.Lock()

    def send(self, channel: str, to: str, text: str, reference: str) -> str:
        now = self.store.clock()
        provider_id = "sink-" + uuid.uuid4().hex[:12]
        with self.store.write() as conn:
            added = conn.execute(
                "INSERT INTO outreach_sink VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (reference) DO NOTHING",
                (reference, provider_id, channel, to, text, iso(now)),
            ).rowcount
            provider_id = conn.execute(
                "SELECT provider_id FROM outreach_sink WHERE reference = ?", (reference,)
            ).fetchone()[0]
        if added and self.jsonl is not None:
            line = SinkMessage(
                provider_id=provider_id, reference=reference, channel=channel, to=to, text=text, received_at=now
            ).model_dump_json()
            with self._file_lock, self.jsonl.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        return provider_id


PROVIDER_VARIABLE = "CLIENTELING_OUTREACH_PROVIDER"


def provider_from_environment(store: Outreach, environ: Mapping[str, str] | None = None) -> Provider:
    """The retailer's provider as the centre's environment names it (module docstring); `ValueError` says what is
    wrong with the setting."""
    environ = os.environ if environ is None else environ
    value = (environ.get(PROVIDER_VARIABLE) or "sink").strip()
    if value == "sink":
        return LocalSink(store)
    if value.startswith("sink:"):
        return LocalSink(store, Path(value[len("sink:") :]))
    module, _, name = value.partition(":")
    if not module or not name:
        raise ValueError(f"{PROVIDER_VARIABLE} is 'sink', 'sink:PATH' or 'package.module:factory', not {value!r}")
    try:
        factory = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"{PROVIDER_VARIABLE}={value!r}: {error}") from None
    return factory()


@dataclass(frozen=True)
class OutreachSettings:
    backoff: float = 1.0  # seconds before the first retry; doubling, with jitter
    backoff_cap: float = 600.0
    attempts: int = 20  # then the message is `failed` (an operator retries it)
    poll: float = 2.0  # how often to look for messages recorded by other processes
    lease: float = 60.0  # how long a claimed message is held by the deliverer that claimed it

    def delay(self, attempts: int) -> float:
        full = min(self.backoff_cap, self.backoff * 2 ** max(attempts - 1, 0))
        return full / 2 + random.random() * full / 2


@dataclass(frozen=True)
class MessageRow:
    """A message as the operator sees it."""

    id: str
    customer_id: str
    channel: str
    to: str
    staff_id: str
    store: str
    sent_at: str
    status: str
    attempts: int
    last_error: str | None
    provider_id: str | None


_ROW = "id, customer_id, channel, to_address, staff_id, store, sent_at, status, attempts, last_error, provider_id"


class Outreach(Events):
    """Messages from stores, their delivery, replies, and the credit of online orders."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.messages_written = threading.Event()  # set when a message of this process commits: wakes the deliverer
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ sending (the command)

    def send_message(
        self, customer_id: str, command: OutreachCommand, key: str, device_store: str, *, restoring: str | None = None
    ) -> CommandAnswer:
        """Record a message to the customer from `device_store` (module docstring); the answer is the
        `OutreachMessage`."""
        body = f"{customer_id}\n{command.model_dump_json()}"
        return self._idempotent(
            device_store,
            key,
            "message",
            body,
            lambda conn: self._message(conn, customer_id, command, device_store, restoring),
            customer_id,
        )

    def _message(
        self, conn: Conn, customer_id: str, command: OutreachCommand, device_store: str, restoring: str | None
    ) -> str:
        row = conn.execute("SELECT doc FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if row is None:
            raise ProblemError("customer_not_found", f"there is no customer {customer_id}")
        self._staff_of_store(conn, device_store, "staff_id", command.staff_id)  # type: ignore[attr-defined]
        if command.template not in outreach.TEMPLATES:
            raise ProblemError(
                "unknown_template",
                f"there is no message template {command.template!r}; there are: {', '.join(outreach.TEMPLATES)}",
            )
        customer = Customer.model_validate_json(row[0])
        refusal = outreach.channel_refusal(customer, customer.consent, command.channel)
        if refusal == "no_consent":
            raise ProblemError(
                "no_consent",
                f"customer {customer_id} has not consented to messages by {command.channel}",
                channel=command.channel,
            )
        if refusal is not None:
            raise ProblemError(
                "no_contact_address",
                f"customer {customer_id} has no {'phone number' if refusal == 'no_phone' else 'email address'} to "
                f"send a {command.channel} message to",
                channel=command.channel,
            )
        to = outreach.address_for(customer, command.channel)
        assert to is not None
        now = self.clock()
        staff = conn.execute("SELECT doc->>'name' FROM staff WHERE id = ?", (command.staff_id,)).fetchone()
        staff_name = staff[0] if staff else None
        message_id = self._number(conn, "M", "message_number", restoring)
        said = Message(
            author="agent",
            text=command.text,
            at=now,
            staff_id=command.staff_id,
            staff_name=staff_name,
            store=device_store,
            message_id=message_id,
        )
        conversation_id = self._add_to_conversation(conn, customer_id, command, said, now)
        answer = OutreachMessage(
            id=message_id,
            customer_id=customer_id,
            conversation_id=conversation_id,
            channel=command.channel,
            template=command.template,
            lang=command.lang,
            sku=command.sku,
            text=command.text,
            to=to,
            staff_id=command.staff_id,
            staff_name=staff_name,
            store=device_store,
            sent_at=now,
        )
        doc = answer.model_dump_json()
        conn.execute(
            "INSERT INTO outreach_messages (id, customer_id, staff_id, store, channel, to_address, conversation_id,"
            " sent_at, status, attempts, next_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
            (
                message_id,
                customer_id,
                command.staff_id,
                device_store,
                command.channel,
                to,
                conversation_id,
                iso(now),
                precise(now),
                doc,
            ),
        )
        # the store that wrote to her serves her now: its devices get her picture (and an order credited to it)
        self._add_to_scope(conn, customer_id, device_store, "outreach")
        conn.after_commit(self.messages_written.set)
        return doc

    def _add_to_conversation(
        self, conn: Conn, customer_id: str, command: OutreachCommand, said: Message, now: datetime
    ) -> str:
        """Add the message to her conversation on its channel that the last message from a store started (while it
        is open), else to a new one; returns the conversation's id."""
        channel = CONVERSATION_CHANNEL[command.channel]
        last = conn.execute(
            "SELECT conversation_id FROM outreach_messages WHERE customer_id = ? AND channel = ?"
            " ORDER BY sent_at DESC, id DESC LIMIT 1",
            (customer_id, command.channel),
        ).fetchone()
        entry = said.model_dump(mode="json", exclude_none=True)
        if last is not None:
            held = conn.execute("SELECT doc FROM conversations WHERE id = ?", (last[0],)).fetchone()
            if held is not None:
                whole = json.loads(held[0])
                if whole.get("status") == "open":
                    self._append(conn, last[0], whole, entry, now)
                    return last[0]
        conversation_id = self._new_conversation_id(conn)
        template = outreach.TEMPLATES[command.template]
        doc = {
            "id": conversation_id,
            "customer_id": customer_id,
            "channel": channel,
            "subject": template.title[command.lang],
            "status": "open",
            "messages": [entry],
            "started_at": iso(now),
            "updated_at": iso(now),
        }
        conn.execute(
            "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
            (conversation_id, self.next_seq(conn), customer_id, iso(now), json.dumps(doc, ensure_ascii=False)),
        )
        return conversation_id

    def _append(self, conn: Conn, conversation_id: str, whole: dict, entry: dict, now: datetime) -> None:
        """Add a message to a conversation's document as it is (fields this centre does not know are kept)."""
        whole["messages"] = [*whole.get("messages", []), entry]
        whole["updated_at"] = iso(max(now, datetime.fromisoformat(whole.get("updated_at") or iso(now))))
        conn.execute(
            "UPDATE conversations SET seq = ?, updated_at = ?, doc = ? WHERE id = ?",
            (self.next_seq(conn), whole["updated_at"], json.dumps(whole, ensure_ascii=False), conversation_id),
        )

    @staticmethod
    def _new_conversation_id(conn: Conn) -> str:
        """A conversation id of the centre's own (`CV8` and nine digits), none in use."""
        conn.execute("INSERT INTO meta VALUES ('outreach_conversation', '0') ON CONFLICT (key) DO NOTHING")
        while True:
            value = int(
                conn.execute(
                    "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
                    " WHERE key = 'outreach_conversation' RETURNING value"
                ).fetchone()[0]
            )
            candidate = f"CV8{value:09d}"
            if conn.execute("SELECT 1 FROM conversations WHERE id = ?", (candidate,)).fetchone() is None:
                return candidate

    # ------------------------------------------------------------------ delivery

    def deliver_due(self, provider: Provider, settings: OutreachSettings | None = None, *, limit: int = 50) -> float:
        """Hand every due message to `provider`, one at a time; returns the seconds until the next is due (at most
        the poll interval). Safe to run in several processes at once (each message is claimed first)."""
        settings = settings or OutreachSettings()
        now = self.clock()
        due = self.query(
            "SELECT id, channel, to_address, doc, attempts FROM outreach_messages"
            " WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?",
            (precise(now), limit),
        )
        for message_id, channel, to, doc, attempts in due:
            if not self._claim(message_id, now, settings):
                continue
            text = json.loads(doc)["text"]
            try:
                provider_id = provider.send(channel, to, text, message_id)
            except Exception as error:  # noqa: BLE001 - any failure of the provider: tried again later
                self._failed_attempt(message_id, attempts + 1, f"{type(error).__name__}: {error}", settings)
                continue
            self._delivered(message_id, str(provider_id))
        following = self.query_one(
            "SELECT MIN(next_at) FROM outreach_messages WHERE status = 'pending'",
        )
        if following is None or following[0] is None:
            return settings.poll
        wait = (datetime.fromisoformat(following[0]) - self.clock()).total_seconds()
        return min(max(wait, 0.005), settings.poll)

    def _claim(self, message_id: str, now: datetime, settings: OutreachSettings) -> bool:
        with self.write() as conn:
            return bool(
                conn.execute(
                    "UPDATE outreach_messages SET next_at = ?, attempts = attempts + 1"
                    " WHERE id = ? AND status = 'pending' AND next_at <= ?",
                    (precise(now + timedelta(seconds=settings.lease)), message_id, precise(now)),
                ).rowcount
            )

    def _delivered(self, message_id: str, provider_id: str) -> None:
        now = self.clock()
        with self.write() as conn:
            row = conn.execute("SELECT doc FROM outreach_messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:  # erased meanwhile
                return
            doc = json.loads(row[0])
            doc.update(delivery="sent", provider_id=provider_id)
            conn.execute(
                "UPDATE outreach_messages SET status = 'sent', provider_id = ?, delivered_at = ?, last_error = NULL,"
                " doc = ? WHERE id = ?",
                (provider_id, iso(now), json.dumps(doc, ensure_ascii=False), message_id),
            )

    def _failed_attempt(self, message_id: str, attempts: int, error: str, settings: OutreachSettings) -> None:
        now = self.clock()
        gave_up = attempts >= settings.attempts
        retry_at = now + timedelta(seconds=settings.delay(attempts))
        with self.write() as conn:
            conn.execute(
                "UPDATE outreach_messages SET status = ?, next_at = ?, last_error = ? WHERE id = ?",
                ("failed" if gave_up else "pending", precise(retry_at), error[:500], message_id),
            )
        log.warning(
            "outreach message %s: attempt %d failed (%s); %s",
            message_id,
            attempts,
            error,
            f"gave up: retry it with `clienteling central outreach-messages --retry {message_id}`"
            if gave_up
            else f"trying again in {(retry_at - now).total_seconds():.2f} s",
        )

    def retry_message(self, message_id: str) -> bool:
        """Put a failed message back in line, with a fresh count of attempts. False: no such failed message."""
        with self.write() as conn:
            done = conn.execute(
                "UPDATE outreach_messages SET status = 'pending', attempts = 0, next_at = ?"
                " WHERE id = ? AND status = 'failed'",
                (precise(self.clock()), message_id),
            ).rowcount
            if done:
                conn.after_commit(self.messages_written.set)
        return bool(done)

    def message_row(self, message_id: str) -> MessageRow | None:
        row = self.query_one(f"SELECT {_ROW} FROM outreach_messages WHERE id = ?", (message_id,))
        return MessageRow(*row) if row else None

    def message_rows(self, limit: int = 50) -> list[MessageRow]:
        """The latest messages sent from stores, newest first, with where their delivery stands."""
        return [
            MessageRow(*row)
            for row in self.query(
                f"SELECT {_ROW} FROM outreach_messages ORDER BY sent_at DESC, id DESC LIMIT ?",
                (limit,),
            )
        ]

    def sink_messages(self, limit: int = 100) -> list[SinkMessage]:
        """What the local sink provider received, newest first."""
        return [
            SinkMessage(provider_id=p, reference=r, channel=c, to=t, text=x, received_at=a)
            for r, p, c, t, x, a in self.query(
                "SELECT reference, provider_id, channel, to_address, text, received_at FROM outreach_sink"
                " ORDER BY received_at DESC, reference DESC LIMIT ?",
                (limit,),
            )
        ]

    # ------------------------------------------------------------------ replies

    def receive_reply(self, reply: InboundMessage, key: str, integration: str) -> CommandAnswer:
        """A customer's reply handed over by the provider (module docstring); the answer is the conversation."""
        body = reply.model_dump_json()
        return self._idempotent(
            f"integration:{integration}", key, "inbound", body, lambda conn: self._reply(conn, reply), None
        )

    def _reply(self, conn: Conn, reply: InboundMessage) -> str:
        found = None
        if reply.reference is not None:
            found = conn.execute(
                "SELECT conversation_id FROM outreach_messages WHERE id = ?", (reply.reference,)
            ).fetchone()
        elif reply.sender is not None:
            sender = reply.sender.strip()
            if "@" in sender:
                who = conn.execute("SELECT id FROM customers WHERE email_lc = ?", (sender.lower(),)).fetchone()
            else:
                who = conn.execute(
                    "SELECT id FROM customers WHERE doc->>'phone' = ?", ("+" + sender.lstrip("+").replace(" ", ""),)
                ).fetchone()
            if who is not None:
                found = conn.execute(
                    "SELECT conversation_id FROM outreach_messages WHERE customer_id = ? AND channel = ?"
                    " ORDER BY sent_at DESC, id DESC LIMIT 1",
                    (who[0], reply.channel),
                ).fetchone()
        else:
            raise ProblemError("invalid_request", "a reply names the message it answers (reference) or its sender")
        held = conn.execute("SELECT doc FROM conversations WHERE id = ?", (found[0],)).fetchone() if found else None
        if held is None:
            raise ProblemError(
                "conversation_not_found",
                "no message from a store is known by this reference or to this sender: the reply has nowhere to go",
            )
        now = self.clock()
        entry = Message(author="customer", text=reply.text, at=reply.received_at or now).model_dump(
            mode="json", exclude_none=True
        )
        whole = json.loads(held[0])
        whole["status"] = "open"
        self._append(conn, found[0], whole, entry, now)
        return json.dumps(whole, ensure_ascii=False)

    # ------------------------------------------------------------------ credit

    def _credit(self, conn: Conn, order: Order) -> Credit | None:
        """Who an online order is credited to (`rules.credit_for`), from the messages and profile views before it."""
        if order.channel not in rules.CREDITED_CHANNELS:
            return None
        latest, earliest = iso(order.created_at), iso(order.created_at - rules.CREDIT_WINDOW)
        touches = [
            rules.Touch(staff, store, "message", datetime.fromisoformat(at))
            for staff, store, at in conn.execute(
                "SELECT staff_id, store, sent_at FROM outreach_messages WHERE customer_id = ? AND sent_at >= ?"
                " AND sent_at <= ?",
                (order.customer_id, earliest, latest),
            ).fetchall()
        ] + [
            rules.Touch(staff, store, "consult", datetime.fromisoformat(at))
            for staff, store, at in conn.execute(
                "SELECT staff_id, store, viewed_at FROM profile_views WHERE customer_id = ? AND viewed_at >= ?"
                " AND viewed_at <= ?",
                (order.customer_id, earliest, latest),
            ).fetchall()
        ]
        chosen = rules.credit_for(order.channel, order.created_at, touches)
        if chosen is None:
            return None
        name = conn.execute("SELECT doc->>'name' FROM staff WHERE id = ?", (chosen.staff_id,)).fetchone()
        return Credit(
            staff_id=chosen.staff_id,
            staff_name=name[0] if name else None,
            store=chosen.store,
            reason=chosen.reason,  # type: ignore[arg-type]
            touched_at=chosen.at,
        )

    def credited(self, conn: Conn, order: Order) -> Order:
        """The order with its credit set, if it has none yet and one is due; the credited store gets her in scope."""
        if order.credited_to is not None:
            return order
        credit = self._credit(conn, order)
        if credit is None:
            return order
        self._add_to_scope(conn, order.customer_id, credit.store, "credit")
        return order.model_copy(update={"credited_to": credit})


class MessageDeliverer:
    """The thread that hands recorded messages to the provider (module docstring): `start()` with the app,
    `stop()` on its shutdown."""

    def __init__(
        self,
        store: Outreach,
        provider: Provider | None = None,
        settings: OutreachSettings | None = None,
    ) -> None:
        self.store = store
        self.provider = provider or provider_from_environment(store)
        self.settings = settings or OutreachSettings()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clienteling-outreach", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.store.messages_written.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            wait = self.settings.poll
            try:
                wait = self.store.deliver_due(self.provider, self.settings)
            except Exception as error:  # noqa: BLE001 - the database away for a moment: said, and tried again
                log.warning("outreach deliverer: %s: %s", type(error).__name__, error)
            if self.store.messages_written.wait(wait):
                self.store.messages_written.clear()


def outreach_settings(environ: Mapping[str, str] | None = None) -> OutreachSettings:
    """`CLIENTELING_OUTREACH_BACKOFF` and `CLIENTELING_OUTREACH_ATTEMPTS` (else the defaults)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, field, kind in (("BACKOFF", "backoff", float), ("ATTEMPTS", "attempts", int)):
        text = environ.get(f"CLIENTELING_OUTREACH_{name}")
        if text:
            try:
                values[field] = kind(text)
            except ValueError:
                raise ValueError(f"CLIENTELING_OUTREACH_{name} must be a number, not {text!r}") from None
    return OutreachSettings(**values)


Factory = Callable[[], Provider]
