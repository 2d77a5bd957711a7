"""Reaching out (issue 14) at the centre, on both backends, in-process with a clock the tests set: consent checked
again, a message added to her conversation and handed to the provider after the transaction exactly once (a provider
that fails, then recovers; a hand-over repeated after a crash), replies in the same conversation, and the credit of
an online order within 14 days of a message or a consult (the latest touch wins)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import database_for, drop_postgres_database, new_key

from clienteling.central.demo import ensure_demo
from clienteling.central.ingest import Integration
from clienteling.central.outreach import LocalSink, OutreachSettings
from clienteling.central.store import CentralStore
from clienteling.contract import (
    Conversation,
    InboundMessage,
    Order,
    OutreachCommand,
    OutreachMessage,
    ProfileViewCommand,
)

pytestmark = pytest.mark.both_backends

LOTTE, SEM = "S0001", "S0004"  # Lotte Visser (AMS01), Sem de Boer (UTR01)
FAST = OutreachSettings(backoff=0.001, backoff_cap=0.002, attempts=5, lease=30)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def chain(tmp_path_factory, backend: str):
    folder = tmp_path_factory.mktemp("outreach")
    db = database_for(backend, folder)
    ensure_demo(db, 60)
    yield db
    if backend == "postgresql":
        drop_postgres_database(str(db))


@pytest.fixture
def store(chain):
    clock = Clock()
    centre = CentralStore(chain, clock=clock)
    centre.test_clock = clock  # type: ignore[attr-defined]
    yield centre
    centre.close()


class Flaky:
    """A provider that fails `failures` times, then hands over to the sink; counts its calls."""

    def __init__(self, sink: LocalSink, failures: int) -> None:
        self.sink, self.failures, self.calls = sink, failures, 0

    def send(self, channel: str, to: str, text: str, reference: str) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("the provider is down")
        return self.sink.send(channel, to, text, reference)


def command(channel: str = "whatsapp", text: str = "Hoi, je maat is er weer", staff: str = LOTTE, **extra):
    return OutreachCommand(
        channel=channel,
        template=extra.pop("template", "back_in_size"),
        lang="nl",
        sku=extra.pop("sku", None),
        text=text,
        staff_id=staff,
        written_at=datetime.now(UTC),
        **extra,
    )


def sent(store: CentralStore, customer_id: str, cmd: OutreachCommand, shop: str = "AMS01") -> OutreachMessage:
    answer = store.send_message(customer_id, cmd, new_key(), shop)
    assert answer.status == 201, answer.body
    return OutreachMessage.model_validate_json(answer.body)


def deliver_until(store: CentralStore, provider, message_id: str, timeout: float = 10.0) -> tuple:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        store.deliver_due(provider, FAST)
        row = store.message_row(message_id)
        if row.status != "pending":
            return row
        time.sleep(0.005)  # the backoff (a few ms of the real clock: the store's clock does not move)
        store.test_clock.now += timedelta(seconds=1)  # type: ignore[attr-defined]
    raise AssertionError(f"message {message_id} was not delivered in {timeout} s")


def sink_rows(store: CentralStore, reference: str) -> list[tuple]:
    return store.query(
        "SELECT provider_id, channel, to_address, text FROM outreach_sink WHERE reference = ?", (reference,)
    )


def conversation(store: CentralStore, conversation_id: str) -> Conversation:
    row = store.query_one("SELECT doc FROM conversations WHERE id = ?", (conversation_id,))
    return Conversation.model_validate_json(row[0])


def test_no_message_on_a_channel_she_did_not_consent_to(store) -> None:
    before = store.query("SELECT COUNT(*) FROM outreach_messages")[0][0]
    answer = store.send_message("C0000001", command("sms"), new_key(), "AMS01")  # Sanne: no SMS
    assert answer.status == 422
    problem = json.loads(answer.body)
    assert problem["code"] == "no_consent" and problem["channel"] == "sms" and problem["type"] == "/problems/no_consent"
    emma = store.send_message("C0000003", command("whatsapp"), new_key(), "AMS01")  # Emma: no channel at all
    assert json.loads(emma.body)["code"] == "no_consent"
    unknown = store.send_message("C0000001", command(template="sale"), new_key(), "AMS01")
    assert json.loads(unknown.body)["code"] == "unknown_template"
    stranger = store.send_message("C0000001", command(staff=SEM), new_key(), "AMS01")  # Sem is of Utrecht
    assert json.loads(stranger.body)["code"] == "unknown_staff"
    assert store.query("SELECT COUNT(*) FROM outreach_messages")[0][0] == before


def test_a_message_joins_her_chats_and_reaches_the_provider_once_though_it_failed_first(store) -> None:
    seq_before = int(store.meta("seq"))
    message = sent(store, "C0000009", command(text="Hoi Tamara, de jas is er weer in M"))
    assert (message.staff_name, message.store, message.to, message.delivery) == (
        "Lotte Visser",
        "AMS01",
        "+31610471999",
        "pending",
    )
    chat = conversation(store, message.conversation_id)
    assert chat.channel == "whatsapp" and chat.customer_id == "C0000009" and chat.subject == "Weer in je maat"
    said = chat.messages[-1]
    assert (said.author, said.staff_id, said.staff_name, said.store, said.message_id) == (
        "agent",
        LOTTE,
        "Lotte Visser",
        "AMS01",
        message.id,
    )
    # in the feed: the conversation took a new position, so every device in her scope gets it
    seq = store.query_one("SELECT seq FROM conversations WHERE id = ?", (message.conversation_id,))[0]
    assert seq > seq_before
    assert store.query_one(
        "SELECT 1 FROM customer_scope WHERE customer_id = 'C0000009' AND store = 'AMS01'"
    )  # the sending store serves her
    assert not sink_rows(store, message.id)  # nothing handed over inside the request

    flaky = Flaky(LocalSink(store), failures=2)
    row = deliver_until(store, flaky, message.id)
    assert row.status == "sent" and flaky.calls == 3 and row.attempts == 3
    handed = sink_rows(store, message.id)
    assert handed == [(row.provider_id, "whatsapp", "+31610471999", "Hoi Tamara, de jas is er weer in M")]
    store.deliver_due(flaky, FAST)
    assert flaky.calls == 3  # delivered: never handed over again

    # the centre stopped between the provider's acceptance and its record: handed over again, received once
    store.test_clock.now += timedelta(minutes=5)  # type: ignore[attr-defined]
    with store.write() as conn:
        conn.execute("UPDATE outreach_messages SET status = 'pending', next_at = '' WHERE id = ?", (message.id,))
    again = deliver_until(store, flaky, message.id)
    assert again.provider_id == row.provider_id and len(sink_rows(store, message.id)) == 1

    # a second WhatsApp message goes into the same conversation; an email starts one of its own
    second = sent(store, "C0000009", command(template="thanks_visit", text="Bedankt voor je bezoek"))
    assert second.conversation_id == message.conversation_id
    assert [m.text for m in conversation(store, message.conversation_id).messages][-2:] == [
        "Hoi Tamara, de jas is er weer in M",
        "Bedankt voor je bezoek",
    ]
    mail = sent(store, "C0000009", command("email", text="Bedankt!"))
    email = json.loads(store.query_one("SELECT doc FROM customers WHERE id = 'C0000009'")[0])["email"]
    assert mail.conversation_id != message.conversation_id and mail.to == email
    assert conversation(store, mail.conversation_id).channel == "email"


def test_a_provider_that_keeps_failing_gives_up_and_an_operator_retries(store) -> None:
    message = sent(store, "C0000006", command("sms", text="Hoi Femke"))
    down = Flaky(LocalSink(store), failures=10**6)
    row = deliver_until(store, down, message.id)
    assert row.status == "failed" and row.attempts == FAST.attempts and "the provider is down" in row.last_error
    assert store.retry_message(message.id) and not store.retry_message(message.id)
    back = deliver_until(store, LocalSink(store), message.id)
    assert back.status == "sent" and len(sink_rows(store, message.id)) == 1


def test_replies_come_back_into_the_same_conversation(store) -> None:
    message = sent(store, "C0000007", command(text="Hoi Romy"))
    by_reference = store.receive_reply(
        InboundMessage(channel="whatsapp", text="Ja graag, leg hem apart!", reference=message.id), new_key(), "wa"
    )
    assert by_reference.status == 201, by_reference.body
    chat = conversation(store, message.conversation_id)
    assert (chat.messages[-1].author, chat.messages[-1].text) == ("customer", "Ja graag, leg hem apart!")
    by_phone = store.receive_reply(
        InboundMessage(channel="whatsapp", text="Kom zaterdag", sender="+31687337702"), new_key(), "wa"
    )
    assert by_phone.status == 201
    assert [m.author for m in conversation(store, message.conversation_id).messages][-3:] == [
        "agent",
        "customer",
        "customer",
    ]
    key = new_key()
    nowhere = InboundMessage(channel="whatsapp", text="?", reference="M-00099999")
    refused = store.receive_reply(nowhere, key, "wa")
    assert refused.status == 404 and json.loads(refused.body)["code"] == "conversation_not_found"
    stranger = store.receive_reply(InboundMessage(channel="sms", text="?", sender="+31600000000"), new_key(), "wa")
    assert stranger.status == 404


def online_order(store: CentralStore, customer_id: str, number: str, at: datetime, channel: str = "web") -> dict:
    template = json.loads(store.query("SELECT doc FROM orders ORDER BY id LIMIT 1")[0][0])
    return {
        **template,
        "number": number,
        "customer_id": customer_id,
        "channel": channel,
        "store": None if channel != "store" else "AMS01",
        "placed_by": None,
        "fulfilment": "delivery",
        "status": "placed",
        "status_history": [{"status": "placed", "at": at.isoformat()}],
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
        "delivered_at": None,
    }


def ingest_order(store: CentralStore, order: dict) -> Order:
    report = store.ingest(
        Integration("webshop", ("orders",)), "orders", [(1, {"source": "webshop", "version": 1, "data": order})]
    )
    assert report.accepted == 1, report.lines
    return Order.model_validate_json(store.query_one("SELECT doc FROM orders WHERE id = ?", (order["number"],))[0])


def test_an_online_order_within_14_days_is_credited_to_the_latest_touch(store) -> None:
    clock = store.test_clock  # type: ignore[attr-defined]
    customer_id = "C0000010"  # Yusuf (Rotterdam): whatsapp and email
    start = clock.now
    message = sent(store, customer_id, command(text="Hoi Yusuf"))
    assert message.sent_at == start
    clock.now = start + timedelta(days=3)
    view = store.record_profile_view(
        customer_id, ProfileViewCommand(staff_id=SEM, viewed_at=clock.now), new_key(), "UTR01"
    )
    assert view.status == 201, view.body
    assert not store.query_one("SELECT 1 FROM customer_scope WHERE customer_id = ? AND store = 'UTR01'", (customer_id,))

    between = ingest_order(store, online_order(store, customer_id, "ORD-90000001", start + timedelta(days=2)))
    assert between.credited_to is not None
    assert (between.credited_to.staff_id, between.credited_to.staff_name, between.credited_to.store) == (
        LOTTE,
        "Lotte Visser",
        "AMS01",
    )
    assert between.credited_to.reason == "message" and between.credited_to.touched_at == start

    later = ingest_order(store, online_order(store, customer_id, "ORD-90000002", start + timedelta(days=5)))
    assert (later.credited_to.staff_id, later.credited_to.reason, later.credited_to.store) == (SEM, "consult", "UTR01")
    # the credited store serves her now: its devices get the order
    assert store.query_one(
        "SELECT reason FROM customer_scope WHERE customer_id = ? AND store = 'UTR01'", (customer_id,)
    )

    edge = ingest_order(store, online_order(store, customer_id, "ORD-90000003", clock.now + timedelta(days=14)))
    assert edge.credited_to is not None and edge.credited_to.staff_id == SEM
    past = ingest_order(
        store, online_order(store, customer_id, "ORD-90000004", clock.now + timedelta(days=14, seconds=1))
    )
    assert past.credited_to is None
    in_store = ingest_order(
        store, online_order(store, customer_id, "ORD-90000005", start + timedelta(days=1), channel="store")
    )
    assert in_store.credited_to is None

    # the credit is the centre's own: an update keeps it, and no system may send one
    changed = {**online_order(store, customer_id, "ORD-90000001", start + timedelta(days=2)), "status": "shipped"}
    report = store.ingest(
        Integration("webshop", ("orders",)), "orders", [(1, {"source": "webshop", "version": 2, "data": changed})]
    )
    assert report.accepted == 1
    kept = Order.model_validate_json(store.query_one("SELECT doc FROM orders WHERE id = 'ORD-90000001'")[0])
    assert kept.status == "shipped" and kept.credited_to == between.credited_to
    forged = {**changed, "credited_to": {**between.credited_to.model_dump(mode="json"), "staff_id": "S0002"}}
    refused = store.ingest(
        Integration("webshop", ("orders",)), "orders", [(1, {"source": "webshop", "version": 3, "data": forged})]
    )
    assert refused.refused == 1 and refused.lines[0].field == "credited_to"


def test_erasure_takes_her_messages_with_it(store) -> None:
    message = sent(store, "C0000008", command(text="Hoi Teun"))
    store.deliver_due(LocalSink(store), FAST)
    assert sink_rows(store, message.id)
    assert store.forget_customer("C0000008")
    assert store.message_row(message.id) is None and not sink_rows(store, message.id)


def test_the_sink_writes_a_json_line_once_per_reference_and_the_provider_is_configured(store, tmp_path) -> None:
    from clienteling.central.outreach import provider_from_environment

    message = sent(store, "C0000005", command("sms", text="Hoi Niels"))
    path = tmp_path / "sent.jsonl"
    sink = provider_from_environment(store, {"CLIENTELING_OUTREACH_PROVIDER": f"sink:{path}"})
    assert isinstance(sink, LocalSink) and sink.jsonl == path
    first = sink.send("sms", "+31632844108", "Hoi Niels", message.id)
    assert sink.send("sms", "+31632844108", "Hoi Niels", message.id) == first
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["reference"] == message.id
    for wrong in ("nope", "no.such.module:factory"):
        with pytest.raises(ValueError, match="CLIENTELING_OUTREACH_PROVIDER"):
            provider_from_environment(store, {"CLIENTELING_OUTREACH_PROVIDER": wrong})


def test_two_deliverers_never_hand_the_same_message_over(store) -> None:
    import threading

    class Slow:
        def __init__(self) -> None:
            self.references: list[str] = []
            self.lock = threading.Lock()

        def send(self, channel: str, to: str, text: str, reference: str) -> str:
            time.sleep(0.02)
            with self.lock:
                self.references.append(reference)
            return f"slow-{reference}"

    ids = {sent(store, "C0000004", command(text=f"Hoi Wendy {n}")).id for n in range(6)}  # Wendy: WhatsApp
    provider = Slow()
    workers = [threading.Thread(target=store.deliver_due, args=(provider, FAST)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    handed = [r for r in provider.references if r in ids]
    assert sorted(handed) == sorted(ids)  # each once, whichever deliverer claimed it
    assert {store.message_row(i).status for i in ids} == {"sent"}


def test_the_store_s_figures_count_the_credited_order_and_the_message_for_the_associate(store) -> None:
    from clienteling import rules

    clock = store.test_clock  # type: ignore[attr-defined]
    customer_id = next(  # one whom no other test here writes to: she agreed to WhatsApp and has a phone
        doc["id"]
        for doc in (json.loads(d) for (d,) in store.query("SELECT doc FROM customers ORDER BY id DESC"))
        if doc["consent"].get("whatsapp") and doc.get("phone") and doc["id"] not in ("C0000010", "C0000001")
    )
    before = store.dashboard("AMS01")
    lotte_before = next(s for s in before.staff if s.staff_id == LOTTE).weeks[-1]
    sent(store, customer_id, command(text="Hoi, de jas is er weer in jouw maat"))
    clock.now += timedelta(minutes=5)
    order = ingest_order(store, online_order(store, customer_id, "ORD-90000077", clock.now))
    assert order.credited_to is not None and order.credited_to.staff_id == LOTTE
    after = store.dashboard("AMS01")
    lotte = next(s for s in after.staff if s.staff_id == LOTTE).weeks[-1]
    week = rules.week_of(rules.store_day(clock.now))
    assert lotte.week == week
    assert lotte.credited_online.cents - lotte_before.credited_online.cents == rules.net_sales_cents(order) > 0
    assert lotte.customers_served == lotte_before.customers_served + 1  # messaged, then bought: one customer
    assert after.store_total.weeks[-1].credited_online.cents - before.store_total.weeks[-1].credited_online.cents == (
        rules.net_sales_cents(order)
    )
    assert lotte.in_store == lotte_before.in_store  # an online order is never an in-store sale
    utrecht = store.dashboard("UTR01").store_total.weeks[-1]
    assert utrecht.credited_online.cents == 0 or all(
        o.credited_to.store == "UTR01" for o in store._credited_since("0", "UTR01")
    )
