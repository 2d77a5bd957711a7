"""Events out (issue 13): what stores do reaches a real receiving server on loopback, signed, at least once, in
order per subject, none lost, through failures, timeouts, slow answers and dropped connections; a delivery that runs
out of attempts is shown and replayed. The signature check itself is unit-tested at the end."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import (
    Central,
    clienteling,
    database_for,
    demo_centre,
    drop_postgres_database,
    free_port,
    new_key,
    start_central,
)
from test_api_orders import order_body, sku_with_stock
from test_api_returns import return_body, returnable_order

from clienteling.central.events import DeliverySettings, delivery_settings
from clienteling.central.store import CentralStore
from clienteling.contract import Event
from clienteling.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    signature_header,
    verify_signature,
)

pytestmark = pytest.mark.both_backends  # the centre's tests run on SQLite and on PostgreSQL

TIMEOUT = 0.5  # the centre's wait for an answer, in these tests
FAST = {
    "CLIENTELING_WEBHOOK_TIMEOUT": str(TIMEOUT),
    "CLIENTELING_WEBHOOK_BACKOFF": "0.05",
    "CLIENTELING_WEBHOOK_BACKOFF_CAP": "0.3",
    "CLIENTELING_WEBHOOK_POLL": "0.2",
}


# --------------------------------------------------------------------------------------------- a receiving server


@dataclass
class Arrival:
    """One request as the receiver saw it, and what it did with it."""

    event: Event
    header_id: str | None
    header_type: str | None
    signed: bool  # the signature checks out under the webhook's secret, now
    action: str  # ok, slow, fail, timeout, close
    acknowledged: bool  # answered 2xx in time (recorded before the answer is written)


class Receiver:
    """An HTTP server on 127.0.0.1 that takes webhooks and does what `plan(n, event)` says with the n-th request
    (from 1): `ok`, `slow` (answers within the centre's timeout), `fail` (500), `timeout` (answers long after the
    centre gave up) or `close` (drops the connection without a word)."""

    def __init__(self, plan: Callable[[int, Event], str]) -> None:
        self.plan = plan
        self.secret = ""
        self.arrivals: list[Arrival] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event = Event.model_validate_json(body)
                signed = verify_signature(receiver.secret, self.headers.get(SIGNATURE_HEADER), body, time.time())
                with receiver.lock:
                    action = receiver.plan(len(receiver.arrivals) + 1, event)
                    receiver.arrivals.append(
                        Arrival(
                            event,
                            self.headers.get(EVENT_ID_HEADER),
                            self.headers.get(EVENT_TYPE_HEADER),
                            signed,
                            action,
                            action in ("ok", "slow"),
                        )
                    )
                if action == "close":
                    self.close_connection = True
                    return
                if action == "timeout":
                    time.sleep(TIMEOUT * 3)
                elif action == "slow":
                    time.sleep(TIMEOUT / 3)
                status = 500 if action == "fail" else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/clienteling"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def seen(self) -> list[Arrival]:
        with self.lock:
            return list(self.arrivals)

    def acknowledged(self) -> set[int]:
        return {a.event.id for a in self.seen() if a.acknowledged}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Until `condition()` holds; fails saying `what` was not reached."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def add_webhook(centre: Central, url: str, *types: str) -> tuple[str, str]:
    args = ["central", "add-webhook", "--url", url, "--db", str(centre.db)]
    if types:
        args += ["--types", ",".join(types)]
    made = clienteling(*args)
    assert made.returncode == 0, made.stderr
    lines = dict(line.split(" ", 1) for line in made.stdout.splitlines())
    return lines["webhook"], lines["secret"]


def assert_in_order_and_signed(arrivals: list[Arrival]) -> None:
    """Every request signed, with the event's id and type in the headers; per subject, an event first arrives only
    after every earlier event of its subject was acknowledged (so their first arrivals are in id order)."""
    acknowledged: set[int] = set()
    first_seen: dict[str, list[int]] = {}
    for arrival in arrivals:
        event = arrival.event
        assert arrival.signed, f"event {event.id} arrived without a valid signature"
        assert (arrival.header_id, arrival.header_type) == (str(event.id), event.type)
        seen = first_seen.setdefault(event.subject, [])
        if event.id not in seen:
            missing = [earlier for earlier in seen if earlier not in acknowledged]
            assert not missing, f"event {event.id} of {event.subject} came before {missing} were acknowledged"
            assert not seen or event.id > seen[-1], f"{event.subject}: event {event.id} came after {seen[-1]}"
            seen.append(event.id)
        if arrival.acknowledged:
            acknowledged.add(event.id)


def key_of(event: Event) -> str:
    """The document an event is about: the order's or the return's number, the note's id."""
    return event.data["id"] if event.type == "note.added" else event.data["number"]


# -------------------------------------------------------------------------------------------------------- the tests


def test_every_event_arrives_signed_and_in_order_through_failures_timeouts_and_drops(tmp_path: Path, backend: str):
    def plan(n: int, _: Event) -> str:
        opening = {1: "fail", 2: "fail", 3: "fail", 4: "timeout", 5: "close"}
        if n in opening:
            return opening[n]
        if n % 7 == 0:
            return "fail"
        if n % 11 == 0:
            return "close"
        if n % 13 == 0:
            return "timeout"
        return "slow" if n % 3 == 0 else "ok"

    receiver = Receiver(plan)
    env = {**FAST, "CLIENTELING_WEBHOOK_ATTEMPTS": "30"}
    try:
        with demo_centre(backend, tmp_path, 60, env=env) as centre, centre.client() as api:
            assert centre.rows("SELECT COUNT(*) FROM events") == [(0,)]  # the demo chain is made, not done in stores
            _, receiver.secret = add_webhook(centre, receiver.url)
            made: dict[str, str] = {}  # what the centre accepted: its number or id -> the event type it makes

            def accepted(response, kind: str, field: str = "number") -> None:
                assert response.status_code == 201, response.text
                made[response.json()[field]] = kind

            first_sku = sku_with_stock(api, "DC01", 3, "coats")
            orders = []
            for customer, sku in (("C0000020", first_sku), ("C0000021", first_sku), ("C0000020", None)):
                sku = sku or sku_with_stock(api, "DC01", 1, "knitwear")
                key, body = new_key(), order_body(sku, customer=customer)
                first = api.post("/v1/orders/ship-to-home", json=body, headers={"Idempotency-Key": key})
                accepted(first, "order.created")
                orders.append(first.json()["number"])
                again = api.post("/v1/orders/ship-to-home", json=body, headers={"Idempotency-Key": key})
                assert again.headers["Idempotent-Replayed"] == "true"  # a replay: no second event
            # refused commands make no event: too many, an order not yet delivered returned, an unknown customer
            assert (
                api.post(
                    "/v1/orders/ship-to-home", json=order_body(first_sku, 99), headers={"Idempotency-Key": new_key()}
                ).status_code
                == 409
            )
            not_yet = {"order_number": orders[0], "received_by": "S0002"}
            not_yet["lines"] = [{"line_no": 1, "quantity": 1, "reason": "too_small", "condition": "resellable"}]
            assert api.post("/v1/returns", json=not_yet, headers={"Idempotency-Key": new_key()}).status_code == 422
            note = {"text": "Asked about the Harbour coat in navy.", "author": "Lotte Visser"}
            refused = api.post("/v1/customers/C9999999/notes", json=note, headers={"Idempotency-Key": new_key()})
            assert refused.status_code == 404
            for customer in ("C0000001", "C0000002"):
                order = returnable_order(api, customer)
                body = return_body(order, condition="damaged")
                key = new_key()
                accepted(api.post("/v1/returns", json=body, headers={"Idempotency-Key": key}), "return.registered")
                assert api.post("/v1/returns", json=body, headers={"Idempotency-Key": key}).status_code == 201
            for round_ in range(4):  # interleaved notes about two customers: two subjects of four events each
                for customer in ("C0000030", "C0000031"):
                    key, body = new_key(), {"text": f"visit {round_} of {customer}", "author": "Lotte Visser"}
                    answer = api.post(f"/v1/customers/{customer}/notes", json=body, headers={"Idempotency-Key": key})
                    accepted(answer, "note.added", "id")
                    api.post(f"/v1/customers/{customer}/notes", json=body, headers={"Idempotency-Key": key})

            events = centre.rows("SELECT id FROM events ORDER BY id")
            assert len(events) == len(made) == 13  # one event per accepted command, none for refusals or replays
            wanted = {row[0] for row in events}
            wait_for(lambda: wanted <= receiver.acknowledged(), "every event acknowledged by the receiver")
            wait_for(
                lambda: centre.rows("SELECT status, COUNT(*) FROM deliveries GROUP BY status") == [("delivered", 13)],
                "every delivery recorded as delivered",
            )
            arrivals = receiver.seen()
            assert {a.event.id for a in arrivals} == wanted  # none lost, nothing made up
            epoch = api.get("/v1/centre").json()
            assert {a.event.position for a in arrivals} == {
                f"{epoch['centre']}.{epoch['epoch']}.{event_id}" for event_id in wanted
            }
            assert {key_of(a.event): a.event.type for a in arrivals} == made  # one event per document, its type
            assert_in_order_and_signed(arrivals)
            assert {a.action for a in arrivals} >= {"fail", "timeout", "close", "slow", "ok"}  # all were met
            by_subject: dict[str, list[int]] = {}
            for event_id, subject in centre.rows("SELECT id, subject FROM events ORDER BY id"):
                by_subject.setdefault(subject, []).append(event_id)
            assert sorted(len(ids) for ids in by_subject.values()) == [1, 1, 1, 1, 1, 4, 4]
            for arrival in arrivals:  # the subject names the order (of a return too) or the customer
                event = arrival.event
                expected = {
                    "order.created": f"order:{event.data.get('number')}",
                    "return.registered": f"order:{event.data.get('order_number')}",
                    "note.added": f"customer:{event.data.get('customer_id')}",
                }[event.type]
                assert event.subject == expected
            listed = clienteling("central", "events", "--db", str(centre.db))
            assert listed.returncode == 0 and listed.stdout.count("delivered") == 13, listed.stdout
            assert "webhook" in centre.log.read_text() and receiver.secret not in centre.log.read_text()
            erased = clienteling("central", "forget-customer", "C0000020", "--db", str(centre.db))
            assert erased.returncode == 0, erased.stderr  # their events go with them: notes and their orders'
            subjects = {row[0] for row in centre.rows("SELECT subject FROM events")}
            assert not {s for s in subjects if s.startswith("order:") and s[6:] in orders[::2]}
            assert {s for s in subjects if s.startswith("order:") and s[6:] == orders[1]}  # C0000021's stays
            assert (
                centre.rows("SELECT COUNT(*) FROM deliveries") == centre.rows("SELECT COUNT(*) FROM events") == [(11,)]
            )
    finally:
        receiver.stop()


def test_a_delivery_out_of_attempts_is_listed_holds_its_subject_and_is_replayed(tmp_path: Path, backend: str):
    refusing = threading.Event()
    refusing.set()
    receiver = Receiver(lambda _, event: "fail" if refusing.is_set() and "REFUSE" in event.data["text"] else "ok")
    try:
        with demo_centre(backend, tmp_path, 60, env={**FAST, "CLIENTELING_WEBHOOK_ATTEMPTS": "3"}) as centre:
            webhook, receiver.secret = add_webhook(centre, receiver.url, "note.added")
            with centre.client() as api:

                def note(customer: str, text: str) -> int:
                    answer = api.post(
                        f"/v1/customers/{customer}/notes",
                        json={"text": text, "author": "Lotte Visser"},
                        headers={"Idempotency-Key": new_key()},
                    )
                    assert answer.status_code == 201, answer.text
                    return centre.rows("SELECT id FROM events WHERE doc LIKE ?", (f"%{answer.json()['id']}%",))[0][0]

                poisoned = note("C0000040", "REFUSE this one for now")
                held = [note("C0000040", "second"), note("C0000040", "third")]
                other = note("C0000041", "another customer's")
            failed = "SELECT status, attempts FROM deliveries WHERE event_id = ?"
            wait_for(lambda: centre.rows(failed, (poisoned,)) == [("failed", 3)], "the first note's delivery failed")
            wait_for(lambda: other in receiver.acknowledged(), "another subject delivered regardless")
            arrivals = receiver.seen()
            assert [a.event.id for a in arrivals if a.event.id == poisoned] == [poisoned] * 3  # three attempts
            assert not {a.event.id for a in arrivals} & set(held), "a later event overtook a failed one"

            listed = clienteling("central", "events", "--failed", "--db", str(centre.db))
            assert listed.returncode == 0, listed.stderr
            rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:] if line[:1].isdigit()}
            assert set(rows) == {str(poisoned), *map(str, held)}  # the failed one and those behind it, nothing else
            assert (
                "failed" in rows[str(poisoned)] and "HTTP 500" in rows[str(poisoned)] and webhook in rows[str(poisoned)]
            )
            assert all(f"waiting behind {poisoned}" in rows[str(h)] for h in held)

            for wrong, said in (("999999", "there is no event 999999"), ("abc", "--replay wants an event id")):
                answer = clienteling("central", "events", "--replay", wrong, "--db", str(centre.db))
                assert answer.returncode != 0 and said in answer.stderr and "Traceback" not in answer.stderr
            answer = clienteling("central", "events", "--replay", str(other), "--db", str(centre.db))
            assert answer.returncode != 0 and "no failed delivery" in answer.stderr, answer.stderr

            refusing.clear()  # the receiver is mended
            replayed = clienteling("central", "events", "--replay", str(poisoned), "--db", str(centre.db))
            assert replayed.returncode == 0, replayed.stderr
            wait_for(lambda: {poisoned, *held} <= receiver.acknowledged(), "the replayed event and those it held")
            assert_in_order_and_signed(receiver.seen())
            firsts = []
            for a in receiver.seen():
                if a.event.subject == "customer:C0000040" and a.event.id not in firsts:
                    firsts.append(a.event.id)
            assert firsts == [poisoned, *held]
            wait_for(
                lambda: (
                    clienteling("central", "events", "--failed", "--db", str(centre.db)).stdout.strip()
                    == "no failed deliveries"
                ),
                "nothing failed any more",
            )
    finally:
        receiver.stop()


def test_of_two_centre_processes_one_delivers_and_the_other_takes_over_when_it_crashes(tmp_path: Path, backend: str):
    receiver = Receiver(lambda *_: "slow")  # slow answers: a second deliverer would send what is in flight again
    try:
        with demo_centre(backend, tmp_path, 60, env=FAST) as first:
            _, receiver.secret = add_webhook(first, receiver.url, "note.added")
            second = start_central(first.db, "--demo", env=FAST, log=tmp_path / "second.log")
            try:
                made = []
                for n in range(6):  # through both processes, about two customers
                    for centre, customer in ((first, "C0000050"), (second, "C0000051")):
                        with centre.client() as api:
                            body = {"text": f"note {n}", "author": "Lotte Visser"}
                            answer = api.post(
                                f"/v1/customers/{customer}/notes", json=body, headers={"Idempotency-Key": new_key()}
                            )
                            assert answer.status_code == 201, answer.text
                            made.append(answer.json()["id"])
                wanted = {row[0] for row in first.rows("SELECT id FROM events")}
                assert len(wanted) == 12
                wait_for(lambda: wanted <= receiver.acknowledged(), "every note delivered")
                arrivals = [a.event.id for a in receiver.seen()]
                assert sorted(arrivals) == sorted(wanted), "an event was sent twice: two deliverers at once"
                assert_in_order_and_signed(receiver.seen())
                first.process.kill()  # a crash, not a stop: whichever delivered, the one left delivers at once
                first.process.wait()  # (reaped, as a service manager does)
                with second.client() as api:
                    answer = api.post(
                        "/v1/customers/C0000050/notes",
                        json={"text": "after the first stopped", "author": "Lotte Visser"},
                        headers={"Idempotency-Key": new_key()},
                    )
                    assert answer.status_code == 201
                last = max(row[0] for row in second.rows("SELECT id FROM events"))
                # well within the 30 s a SQLite lease lasts: a lease of a process that is gone is taken over at once
                wait_for(lambda: last in receiver.acknowledged(), "the note made after the first crashed", timeout=10)
            finally:
                second.stop()
    finally:
        receiver.stop()


def test_webhooks_are_added_listed_and_removed_and_bad_input_is_said_without_a_traceback(tmp_path: Path, backend: str):
    with demo_centre(backend, tmp_path, 20) as centre:
        for args, said in (
            (["--url", "ftp://example.com/x"], "not an http"),
            (["--url", "http://127.0.0.1:9/x", "--types", "order.created,order.eaten"], "unknown event type"),
            (["--url", "http://127.0.0.1:9/x", "--secret", "short"], "at least 16"),
        ):
            answer = clienteling("central", "add-webhook", *args, "--db", str(centre.db))
            assert answer.returncode != 0 and said in answer.stderr and "Traceback" not in answer.stderr
        listed = clienteling("central", "webhooks", "--db", str(centre.db))
        assert listed.returncode == 0 and listed.stdout.startswith("no webhooks"), listed.stdout
        made = clienteling(
            "central", "add-webhook", "--url", "http://127.0.0.1:9/x", "--secret", "s" * 20, "--db", str(centre.db)
        )
        assert made.returncode == 0 and f"secret {'s' * 20}" in made.stdout
        listed = clienteling("central", "webhooks", "--db", str(centre.db))
        assert "http://127.0.0.1:9/x" in listed.stdout and "note.added" in listed.stdout
        webhook = made.stdout.split()[1]
        with centre.client() as api:  # owed an event, at a port where nobody listens
            body = {"text": "for nobody", "author": "Lotte Visser"}
            answer = api.post("/v1/customers/C0000005/notes", json=body, headers={"Idempotency-Key": new_key()})
            assert answer.status_code == 201
        assert centre.rows("SELECT COUNT(*) FROM deliveries WHERE webhook_id = ?", (webhook,)) == [(1,)]
        gone = clienteling("central", "remove-webhook", webhook, "--db", str(centre.db))
        assert gone.returncode == 0 and f"webhook {webhook} removed" in gone.stdout, gone.stderr
        assert centre.rows("SELECT COUNT(*) FROM deliveries WHERE webhook_id = ?", (webhook,)) == [(0,)]
        again = clienteling("central", "remove-webhook", webhook, "--db", str(centre.db))
        assert again.returncode != 0 and "no active webhook" in again.stderr and "Traceback" not in again.stderr
        assert "(inactive)" in clienteling("central", "webhooks", "--db", str(centre.db)).stdout
        wrong = subprocess.run(  # a setting the centre cannot use: said at start, no traceback
            [sys.executable, "-m", "clienteling", "central", "--db", str(centre.db), "--port", str(free_port())],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CLIENTELING_WEBHOOK_TIMEOUT": "soon"},
        )
        assert wrong.returncode == 2 and "CLIENTELING_WEBHOOK_TIMEOUT must be a number" in wrong.stderr
        assert "Traceback" not in wrong.stderr


def test_delivered_events_are_dropped_after_30_days_and_undelivered_ones_kept(tmp_path: Path, backend: str):
    db = database_for(backend, tmp_path)
    now = [datetime(2026, 1, 1, 12, tzinfo=UTC)]
    store = CentralStore(db, clock=lambda: now[0])
    try:
        store.add_webhook("http://127.0.0.1:9/hooks", ["note.added"])
        made = []
        with store.write() as conn:
            for n in range(3):
                data = json.dumps({"id": f"N-{n:08d}", "customer_id": "C0000001", "text": "x"})
                made.append(store.record_event(conn, "note.added", "customer:C0000001", data, now[0]))
        assert [(h.event_id, h.attempts) for h in store.delivery_heads()] == [(made[0], 0)]  # only the head goes
        store.finish_delivery(store.webhooks()[0].id, made[0], error=None, now=now[0], retry_at=None)
        assert [h.event_id for h in store.delivery_heads()] == [made[1]]  # then the next of the subject
        store.finish_delivery(store.webhooks()[0].id, made[1], error="HTTP 500", now=now[0], retry_at=None)
        assert store.delivery_heads() == []  # a failed one holds the rest of its subject
        assert [(r.event_id, r.status, r.behind) for r in store.event_rows(failed=True)] == [
            (made[2], "waiting", made[1]),
            (made[1], "failed", None),
        ]
        now[0] += timedelta(days=29)
        assert store.prune_events() == 0
        now[0] += timedelta(days=2)
        assert store.prune_events() == 1  # the delivered one; the failed one and the one behind it stay
        assert sorted(r.event_id for r in store.event_rows()) == made[1:]
        assert store.replay(made[1]) == 1 and [h.event_id for h in store.delivery_heads()] == [made[1]]
    finally:
        store.close()
        if backend == "postgresql":
            drop_postgres_database(str(db))


# ------------------------------------------------------------------------------------------ the signature, alone

SECRET = "whsec_test-secret-of-the-receiver"
BODY = json.dumps({"id": 7, "type": "note.added", "subject": "customer:C0000001"}).encode()


def test_a_signature_made_now_is_valid():
    now = 1_800_000_000
    header = signature_header(SECRET, BODY, now)
    expected = hmac.new(SECRET.encode(), f"{now}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={now},v1={expected}"
    assert verify_signature(SECRET, header, BODY, now + 5)
    assert verify_signature(SECRET, header, BODY.decode(), now - 5)  # text or bytes
    assert verify_signature(SECRET, f"t={now},v1={'0' * 64},v1={expected}", BODY, now)  # a secret being rotated


@pytest.mark.parametrize(
    "what",
    ["tampered body", "wrong secret", "old timestamp", "future timestamp", "timestamp changed", "no header", "garbage"],
)
def test_a_signature_that_does_not_hold_is_refused(what: str):
    now = 1_800_000_000
    header = signature_header(SECRET, BODY, now)
    secret, body, at = SECRET, BODY, now
    if what == "tampered body":
        body = BODY.replace(b"C0000001", b"C0000002")
    elif what == "wrong secret":
        secret = SECRET + "x"
    elif what == "old timestamp":
        at = now + 301
    elif what == "future timestamp":
        at = now - 301
    elif what == "timestamp changed":
        header = header.replace(f"t={now}", f"t={now + 1}")
    elif what == "no header":
        header = None
    else:
        header = "t=soon,v1=zz"
    assert not verify_signature(secret, header, body, at)
    assert verify_signature(SECRET, signature_header(SECRET, BODY, now), BODY, now)  # the case itself is sound


def test_backoff_doubles_with_jitter_up_to_its_cap_and_settings_come_from_the_environment():
    settings = DeliverySettings(backoff=1.0, backoff_cap=10.0)
    assert [settings.delay(n, lambda: 1.0) for n in (1, 2, 3, 4, 5, 9)] == [1, 2, 4, 8, 10, 10]
    assert [settings.delay(n, lambda: 0.0) for n in (1, 2, 3)] == [0.5, 1, 2]
    read = delivery_settings({"CLIENTELING_WEBHOOK_TIMEOUT": "2.5", "CLIENTELING_WEBHOOK_ATTEMPTS": "4"})
    assert (read.timeout, read.attempts, read.backoff) == (2.5, 4, DeliverySettings().backoff)
    for name, text in (("CLIENTELING_WEBHOOK_ATTEMPTS", "1.5"), ("CLIENTELING_WEBHOOK_BACKOFF", "-1")):
        with pytest.raises(ValueError, match=name):
            delivery_settings({name: text})
