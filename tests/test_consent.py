"""Consent per channel (issue 14): changed at the counter, sent exactly once through the outbox, logged with who,
where and when, set on the customer for every store, published as `consent.changed`; a change agreed earlier never
overwrites one agreed later; refusals need attention; erasure takes the log with it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from conftest import clienteling, demo_centre, free_port, new_key

from clienteling.config import Settings
from clienteling.contract import ConsentChange, Customer, utc_now
from clienteling.device import Device, UnknownStaff

pytestmark = pytest.mark.both_backends

AMS_STAFF, AMS_MANAGER, UTR_STAFF = "S0001", "S0003", "S0004"  # Lotte Visser (AMS01), Fatima (AMS01), Sem (UTR01)


@pytest.fixture(scope="module")
def centre(tmp_path_factory, backend: str):
    with demo_centre(backend, tmp_path_factory.mktemp("centre"), 80) as server:
        yield server


@pytest.fixture(scope="module")
def admin(centre):
    made = clienteling("central", "add-admin", "--label", "privacy officer", "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    with centre.client(made.stdout.strip()) as client:
        yield client


def open_device(data_dir, url: str, store: str = "AMS01") -> Device:
    return Device(Settings.load(data_dir, central_url=url, device_token=f"demo-{store}", store=store))


def synced(data_dir, url: str, store: str = "AMS01") -> Device:
    device = open_device(data_dir, url, store)
    report = device.sync_now()
    assert report.ok, report.error
    return device


def offline(device: Device) -> Device:
    """The same device (same data folder) with its centre unreachable: a port nobody listens on."""
    return open_device(device.settings.data_dir, f"http://127.0.0.1:{free_port()}", device.store)


def shared_customers(centre, *stores: str) -> list[str]:
    """Customers in the scope of every one of `stores` (their devices all cache them), Sanne first."""
    rows = centre.rows("SELECT customer_id, store FROM customer_scope ORDER BY customer_id")
    scopes: dict[str, set[str]] = {}
    for customer_id, store in rows:
        scopes.setdefault(customer_id, set()).add(store)
    return [c for c, s in sorted(scopes.items()) if set(stores) <= s]


def customer_at_centre(centre, customer_id: str) -> Customer:
    with centre.client() as client:
        return Customer.model_validate(client.get(f"/v1/customers/{customer_id}").json())


def log_rows(centre, customer_id: str) -> list[tuple]:
    return centre.rows(
        "SELECT id, staff_id, store, changed_at FROM consent_log WHERE customer_id = ? ORDER BY id", (customer_id,)
    )


def events_of(centre, customer_id: str) -> list[dict]:
    import json

    rows = centre.rows(
        "SELECT doc FROM events WHERE type = 'consent.changed' AND subject = ? ORDER BY id",
        (f"customer:{customer_id}",),
    )
    return [json.loads(doc) for (doc,) in rows]


def post_consent(client, customer_id: str, body: dict, key: str | None = None):
    return client.post(f"/v1/customers/{customer_id}/consent", json=body, headers={"Idempotency-Key": key or new_key()})


def channels(consent) -> tuple[bool, bool, bool]:
    return consent.email, consent.sms, consent.whatsapp


def test_the_demo_chain_has_consent_per_channel_that_agrees_with_marketing(centre) -> None:
    sanne = customer_at_centre(centre, "C0000001")
    assert channels(sanne.consent) == (True, False, True) and sanne.consent.marketing
    emma = customer_at_centre(centre, "C0000003")
    assert channels(emma.consent) == (False, False, False) and not emma.consent.marketing
    with centre.client() as client:
        docs = client.get("/v1/sync/customers", params={"after": "0", "limit": 5000}).json()["items"]
    assert len(docs) > 10
    for doc in docs:
        consent = doc["consent"]
        assert consent["marketing"] == any(consent[c] for c in ("email", "sms", "whatsapp")), doc["id"]


def test_a_change_at_the_counter_reaches_the_centre_once_and_every_store(centre, admin, tmp_path) -> None:
    customer_id = next(c for c in shared_customers(centre, "AMS01", "UTR01") if c != "C0000001")
    with synced(tmp_path / "ams", centre.url) as ams, synced(tmp_path / "utr", centre.url, "UTR01") as utr:
        before = utr.consent(customer_id)
        wanted = (not before.email, True, not before.whatsapp)
        made = ams.change_consent(customer_id, email=wanted[0], sms=True, whatsapp=wanted[2], staff=AMS_STAFF)
        assert made.state == "sent", made.reason
        change = ConsentChange.model_validate(made.answer)
        assert (change.store, change.staff_id, change.staff_name) == ("AMS01", AMS_STAFF, "Lotte Visser")
        assert channels(change.after) == wanted and channels(change.before) == channels(before)
        assert not change.superseded
        assert ams.consent_log_entry(ams.command(made.command_id)) == change

        held = customer_at_centre(centre, customer_id)
        assert channels(held.consent) == wanted and held.consent.marketing
        assert held.consent.updated_at == change.agreed_at

        # The same command sent again (a lost answer): the same answer, no second log row, no second event.
        with centre.client() as client:
            again = post_consent(client, customer_id, made.body, made.command_id)
        assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
        assert ConsentChange.model_validate(again.json()) == change
        assert [r[0] for r in log_rows(centre, customer_id)] == [change.id]
        assert [(e["data"]["id"], e["subject"]) for e in events_of(centre, customer_id)] == [
            (change.id, f"customer:{customer_id}")
        ]

        logged = admin.get(f"/v1/customers/{customer_id}/consent-log")
        assert logged.status_code == 200, logged.text
        assert [ConsentChange.model_validate(d) for d in logged.json()] == [change]
        assert log_rows(centre, customer_id)[0][1:3] == (AMS_STAFF, "AMS01")

        assert channels(utr.consent(customer_id)) == channels(before)  # not synced yet
        assert utr.sync_now().ok
        assert channels(utr.consent(customer_id)) == wanted
        assert utr.consent_pending(customer_id) is None  # nothing made on this device


def test_the_consent_log_is_for_an_administrator(centre) -> None:
    for token in ("demo-AMS01", "demo-UTR01"):
        with centre.client(token) as device:
            refused = device.get("/v1/customers/C0000001/consent-log")
            assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    with centre.client(None) as nobody:
        assert nobody.get("/v1/customers/C0000001/consent-log").status_code == 401


def test_made_offline_it_shows_at_once_and_is_sent_when_the_centre_is_back(centre, tmp_path) -> None:
    customer_id = "C0000001"  # Sanne: email and WhatsApp, no SMS
    with synced(tmp_path / "ams", centre.url) as device:
        held = device.consent(customer_id)
        assert channels(held) == (True, False, True)
        with offline(device) as cut_off:
            made = cut_off.change_consent(customer_id, email=False, sms=True, whatsapp=False, staff=AMS_MANAGER)
            assert made.state == "waiting"
            shown = cut_off.consent(customer_id)
            assert channels(shown) == (False, True, False) and shown.marketing
            assert cut_off.consent_pending(customer_id).command_id == made.command_id
            assert cut_off.sync_state().waiting == 1
        assert channels(customer_at_centre(centre, customer_id).consent) == (True, False, True)
        assert events_of(centre, customer_id) == []

        report = device.sync_now()
        assert report.ok and report.sent == 1, report
        assert device.command(made.command_id).state == "sent"
        assert channels(customer_at_centre(centre, customer_id).consent) == (False, True, False)
        assert channels(device.consent(customer_id)) == (False, True, False)
        assert device.customer(customer_id).consent.sms is True  # the feed brought the centre's own document
        assert len(events_of(centre, customer_id)) == 1 and len(log_rows(centre, customer_id)) == 1

        device.sync_now()  # nothing is sent twice
        assert len(events_of(centre, customer_id)) == 1 and len(log_rows(centre, customer_id)) == 1


def test_a_change_agreed_earlier_arriving_later_does_not_overwrite_a_later_one(centre, tmp_path) -> None:
    customer_id = shared_customers(centre, "AMS01", "UTR01")[-1]
    with synced(tmp_path / "ams", centre.url) as ams, synced(tmp_path / "utr", centre.url, "UTR01") as utr:
        events = len(events_of(centre, customer_id))
        with offline(ams) as cut_off:  # Amsterdam, offline: everything off
            early = cut_off.change_consent(customer_id, email=False, sms=False, whatsapp=False, staff=AMS_STAFF)
        # A moment later, in Utrecht, online: everything on (agreed_at is to the second)
        agreed_early = early.body["agreed_at"]
        while utc_now().isoformat() <= agreed_early:
            time.sleep(0.05)
        late = utr.change_consent(customer_id, email=True, sms=True, whatsapp=True, staff=UTR_STAFF)
        assert late.state == "sent" and not late.answer["superseded"]
        assert channels(customer_at_centre(centre, customer_id).consent) == (True, True, True)
        assert channels(ams.consent(customer_id)) == (False, False, False)  # Amsterdam still shows its own

        report = ams.sync_now()  # Amsterdam's earlier change arrives last
        assert report.ok and report.sent == 1 and report.refused == 0, report
        settled = ams.command(early.command_id)
        assert settled.state == "sent" and settled.answer["superseded"] is True
        assert channels(ConsentChange.model_validate(settled.answer).before) == (True, True, True)
        held = customer_at_centre(centre, customer_id)
        assert channels(held.consent) == (True, True, True)
        assert held.consent.updated_at.isoformat() == late.body["agreed_at"].replace("Z", "+00:00")
        assert channels(ams.consent(customer_id)) == (True, True, True)
        assert ams.consent_pending(customer_id) is None
        assert len(log_rows(centre, customer_id)) == 2  # both are on record
        assert len(events_of(centre, customer_id)) == events + 1  # only the one that took effect is published


def test_refusals_are_problems_and_need_attention(centre, tmp_path) -> None:
    customer_id = "C0000002"
    good = {"email": True, "sms": False, "whatsapp": False, "staff_id": AMS_STAFF, "agreed_at": utc_now().isoformat()}
    with centre.client() as client:
        for body, status, code in (
            ({**good, "staff_id": UTR_STAFF}, 422, "unknown_staff"),
            ({**good, "agreed_at": (utc_now() + timedelta(hours=1)).isoformat()}, 422, "implausible_time"),
            ({**good, "agreed_at": (utc_now() - timedelta(days=91)).isoformat()}, 422, "implausible_time"),
            ({**good, "email": "yes"}, 422, "invalid_request"),
            ({**good, "marketing": True}, 422, "invalid_request"),
        ):
            refused = post_consent(client, customer_id, body)
            assert refused.status_code == status, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["code"] == code, refused.text
        missing = post_consent(client, "C9999999", good)
        assert missing.status_code == 404 and missing.json()["code"] == "customer_not_found"
    assert log_rows(centre, customer_id) == [] and events_of(centre, customer_id) == []

    with synced(tmp_path / "ams", centre.url) as device:
        with pytest.raises(UnknownStaff):  # the device knows its own store's staff
            device.change_consent(customer_id, email=True, sms=False, whatsapp=False, staff=UTR_STAFF)
        assert device.sync_state().waiting == 0
        # What the centre refuses all the same (a command from an older app, a clock far off) needs attention.
        queued = [
            device.journal.add("consent", {**good, "staff_id": UTR_STAFF}, customer_id=customer_id, staff=UTR_STAFF),
            device.journal.add(
                "consent",
                {**good, "agreed_at": (utc_now() + timedelta(days=2)).isoformat()},
                customer_id=customer_id,
                staff=AMS_STAFF,
            ),
        ]
        kept = device.change_consent(customer_id, email=True, sms=True, whatsapp=False, staff=AMS_STAFF, send_now=False)
        report = device.sync_now()
        assert (report.sent, report.refused) == (1, 2), report
        attention = device.needs_attention()
        assert sorted(c.command_id for c in attention) == sorted(queued)
        assert {c.answer["code"] for c in attention} == {"unknown_staff", "implausible_time"}
        assert all(c.kind == "consent" for c in attention)
        assert device.command(kept.command_id).state == "sent"
        assert channels(device.consent(customer_id)) == (True, True, False)  # the refused ones are not shown
        assert len(log_rows(centre, customer_id)) == 1 and len(events_of(centre, customer_id)) == 1


def test_erasure_takes_the_consent_log_with_it(backend, tmp_path) -> None:
    with demo_centre(backend, tmp_path, 30) as centre:
        victim, bystander = "C0000010", "C0000011"
        with centre.client() as client:
            for customer_id in (victim, bystander):
                body = {"email": True, "sms": True, "whatsapp": False, "staff_id": AMS_STAFF}
                made = post_consent(client, customer_id, {**body, "agreed_at": utc_now().isoformat()})
                assert made.status_code == 201, made.text
        assert len(log_rows(centre, victim)) == len(log_rows(centre, bystander)) == 1
        assert len(events_of(centre, victim)) == 1
        erased = clienteling("central", "forget-customer", victim, "--db", str(centre.db))
        assert erased.returncode == 0, erased.stderr
        assert log_rows(centre, victim) == [] and events_of(centre, victim) == []
        assert len(log_rows(centre, bystander)) == 1 and len(events_of(centre, bystander)) == 1
