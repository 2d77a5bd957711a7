"""Enrolling a customer in the store (issue 14): the centre issues a valid, unique card and a customer id once per
idempotency key, publishes `customer.enrolled`, puts her in the enrolling store's scope and refuses an email it has;
the device enrols offline under a provisional id, maps it to the centre's id when the centre answers (commands queued
for her meanwhile go out under the real id, exactly once), and merges a second enrolment of a member's email."""

from __future__ import annotations

import json

import pytest
from conftest import demo_centre, free_port, new_key

from clienteling import codes
from clienteling.config import Settings
from clienteling.contract import Customer, utc_now
from clienteling.device import AlreadyEnrolled, Device, EnrolmentInvalid, EnrolmentPending

pytestmark = pytest.mark.both_backends

AMS_STAFF, UTR_STAFF = "S0001", "S0004"  # Lotte Visser (AMS01), Sem (UTR01)


@pytest.fixture(scope="module")
def centre(tmp_path_factory, backend: str):
    with demo_centre(backend, tmp_path_factory.mktemp("centre"), 60) as server:
        yield server


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


def body(email: str, **changes) -> dict:
    return {
        "first_name": "Noor",
        "last_name": "de Wit",
        "email": email,
        "phone": "+31612345678",
        "email_consent": True,
        "sms_consent": False,
        "whatsapp_consent": True,
        "staff_id": AMS_STAFF,
        "agreed_at": utc_now().isoformat(),
        **changes,
    }


def enrol(client, sent: dict, key: str | None = None):
    return client.post("/v1/customers", json=sent, headers={"Idempotency-Key": key or new_key()})


def events(centre, customer_id: str) -> list[dict]:
    rows = centre.rows(
        "SELECT doc FROM events WHERE type = 'customer.enrolled' AND subject = ? ORDER BY id",
        (f"customer:{customer_id}",),
    )
    return [json.loads(doc) for (doc,) in rows]


def test_the_centre_issues_a_valid_unique_card_once_per_key(centre) -> None:
    with centre.client() as client:
        demo_cards = {r[0] for r in centre.rows("SELECT card FROM customers")}
        key = new_key()
        sent = body("noor.dewit@example.nl")
        first = enrol(client, sent, key)
        assert first.status_code == 201, first.text
        noor = Customer.model_validate(first.json())
        assert noor.id.startswith("C") and noor.id[1:].isdigit()
        assert codes.has_valid_check_digit(noor.card_number) and codes.parse_card(noor.card_number)
        assert noor.card_number not in demo_cards
        assert (noor.tier, noor.points, noor.home_store) == ("basic", 0, "AMS01")
        assert (noor.consent.email, noor.consent.sms, noor.consent.whatsapp, noor.consent.marketing) == (
            True,
            False,
            True,
            True,
        )

        again = enrol(client, sent, key)  # the answer was lost: the same customer, the same card
        assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
        assert Customer.model_validate(again.json()) == noor
        assert enrol(client, {**sent, "first_name": "Other"}, key).status_code == 422  # same key, other body

        second = enrol(client, body("daan.smit@example.nl", first_name="Daan", last_name="Smit"))
        assert second.status_code == 201, second.text
        daan = Customer.model_validate(second.json())
        assert daan.id != noor.id and daan.card_number != noor.card_number
        assert codes.has_valid_check_digit(daan.card_number)

        # found by card and by email, at the centre
        assert client.get("/v1/customers/lookup", params={"card": noor.card_number}).json()["id"] == noor.id
        assert client.get("/v1/customers/lookup", params={"email": "NOOR.dewit@example.nl"}).json()["id"] == noor.id

    assert [e["data"]["card_number"] for e in events(centre, noor.id)] == [noor.card_number]  # published once
    assert ("AMS01",) in centre.rows("SELECT store FROM customer_scope WHERE customer_id = ?", (noor.id,))


def test_a_known_email_is_refused_with_the_member_it_belongs_to(centre) -> None:
    with centre.client() as client:
        sanne = Customer.model_validate(client.get("/v1/customers/C0000001").json())
        refused = enrol(client, body(sanne.email.upper()))
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "email_already_enrolled"
    assert (problem["customer_id"], problem["card_number"]) == ("C0000001", sanne.card_number)
    assert problem["member_since"] == sanne.created_at.isoformat()


@pytest.mark.parametrize(
    "changes",
    [
        {"email": "not-an-email"},
        {"email": "two@@example.nl"},
        {"email": "noor@example"},
        {"first_name": "   "},
        {"phone": "0612345678"},
        {"email_consent": "yes"},
        {"staff_id": UTR_STAFF},
        {"agreed_at": "2001-01-01T00:00:00+00:00"},
        {"extra": 1},
    ],
)
def test_a_bad_enrolment_is_a_problem_never_a_500(centre, changes) -> None:
    with centre.client() as client:
        answer = enrol(client, {**body(f"bad.{new_key()[:8]}@example.nl"), **changes})
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_offline_enrolment_is_provisional_then_mapped_and_her_note_arrives_once(centre, tmp_path) -> None:
    with synced(tmp_path / "ams", centre.url) as online:
        pass
    with offline(online) as device:
        made = device.enrol(
            "Fleur",
            "Jansen",
            "fleur.jansen@example.nl",
            "06 23456789",
            email_consent=True,
            sms_consent=True,
            whatsapp_consent=False,
            staff=AMS_STAFF,
        )
        assert made.state == "provisional" and made.card_number is None
        provisional = made.customer_id
        assert provisional.startswith("P") and len(provisional) == 17
        shown = device.customer(provisional)
        assert (shown.first_name, shown.phone, shown.card_number) == ("Fleur", "+31623456789", "")
        picture = device.customer_picture(provisional)  # her profile opens offline
        assert picture.customer.id == provisional and picture.consent.sms
        assert device.lookup("FLEUR.jansen@example.nl").customer.id == provisional  # found by her email, offline
        with pytest.raises(EnrolmentPending):  # an order needs her id at the centre
            device.place_ship_to_home(provisional, [("CT01-NVY-M", 1)], staff=AMS_STAFF)
        note = device.add_note(provisional, "Wants the navy coat in M", staff=AMS_STAFF)
        assert note.state == "waiting"
        with pytest.raises(AlreadyEnrolled):  # the same email again, on this device, before the centre answered
            device.enrol(
                "Fleur", "Jansen", "Fleur.Jansen@example.nl", email_consent=False, sms_consent=False,
                whatsapp_consent=False, staff=AMS_STAFF,
            )  # fmt: skip

    with open_device(online.settings.data_dir, centre.url) as device:
        assert device.sync_now().ok
        done = device.enrolment(provisional)
        assert done is not None and done.state == "enrolled", done
        customer_id = done.customer_id
        assert customer_id.startswith("C") and codes.has_valid_check_digit(done.card_number or "")
        assert device.resolve_customer_id(provisional) == customer_id
        assert device.customer(provisional).id == customer_id  # the recent list's id opens her
        assert device.customer(customer_id).card_number == done.card_number
        assert device.enrolment(customer_id) == done
        sent_note = device.command(note.command_id)
        assert sent_note.state == "sent" and sent_note.customer_id == customer_id, sent_note.reason
        assert device.outbox.waiting() == []
        later = device.add_note(provisional, "Came back for the coat", staff=AMS_STAFF)  # the recent list's old id
        assert later.customer_id == customer_id and later.state == "sent", later.reason
        picture = device.customer_picture(provisional)
        assert picture.customer.id == customer_id
        assert {c.command_id for c in picture.commands} >= {note.command_id, later.command_id}
        saved = device.save_card(customer_id)
        assert saved == device.settings.data_dir / "cards" / f"{done.card_number}.png"
        assert codes.decode_image(saved)[0].text == codes.card_payload(done.card_number)

    notes = centre.rows("SELECT customer_id FROM notes WHERE doc->>'text' = 'Wants the navy coat in M'")
    assert [r[0] for r in notes] == [customer_id]  # exactly once, under her real id
    assert centre.rows("SELECT count(*) FROM customers WHERE email_lc = 'fleur.jansen@example.nl'") == [(1,)]


def test_a_member_enrolled_again_offline_is_merged_with_her_consent_applied(centre, tmp_path) -> None:
    with centre.client() as client:
        existing = Customer.model_validate(enrol(client, body("merel.bos@example.nl", first_name="Merel")).json())
    with synced(tmp_path / "utr", centre.url, "UTR01") as online:
        pass
    with offline(online) as device:
        made = device.enrol(
            "Merel",
            "Bos",
            "merel.bos@example.nl",
            email_consent=False,
            sms_consent=True,
            whatsapp_consent=False,
            staff=UTR_STAFF,
        )
        provisional = made.customer_id
        device.add_note(provisional, "Prefers SMS", staff=UTR_STAFF)
    with open_device(tmp_path / "utr", centre.url, "UTR01") as device:
        device.sync_now()
        assert device.sync_now().ok
        merged = device.enrolment(provisional)
        assert merged is not None and merged.state == "merged", merged
        assert (merged.customer_id, merged.card_number) == (existing.id, existing.card_number)
        assert merged.member_since == existing.created_at
        assert device.customer(provisional).id == existing.id
        consent = [c for c in device.commands(kind="consent") if c.customer_id == existing.id]
        assert [c.state for c in consent] == ["sent"]
    with centre.client() as client:
        held = Customer.model_validate(client.get(f"/v1/customers/{existing.id}").json())
    assert (held.consent.email, held.consent.sms, held.consent.whatsapp) == (False, True, False)
    notes = centre.rows("SELECT customer_id FROM notes WHERE doc->>'text' = 'Prefers SMS'")
    assert notes == [(existing.id,)]
    assert centre.rows("SELECT count(*) FROM customers WHERE email_lc = 'merel.bos@example.nl'") == [(1,)]


def test_the_form_is_checked_field_by_field_and_a_member_here_is_found_at_once(centre, tmp_path) -> None:
    with synced(tmp_path / "ams", centre.url) as device:
        with pytest.raises(EnrolmentInvalid) as invalid:
            device.enrol(
                " ", "Visser", "lotte@", "12", email_consent=False, sms_consent=False, whatsapp_consent=False,
                staff=AMS_STAFF,
            )  # fmt: skip
        assert invalid.value.params["problems"] == {
            "first_name": "required",
            "email": "email_invalid",
            "phone": "phone_invalid",
        }
        sanne = device.customer("C0000001")
        with pytest.raises(AlreadyEnrolled) as known:
            device.enrol(
                "Sanne", "X", sanne.email.upper(), email_consent=False, sms_consent=False, whatsapp_consent=False,
                staff=AMS_STAFF,
            )  # fmt: skip
        assert known.value.params["customer_id"] == "C0000001"
        assert device.outbox.waiting() == []


def test_erasing_an_enrolled_customer_erases_the_stored_answer_and_event(centre) -> None:
    from conftest import clienteling

    key = new_key()
    with centre.client() as client:
        made = Customer.model_validate(enrol(client, body("weg.ermee@example.nl"), key).json())
    assert centre.rows("SELECT customer_id FROM idempotency WHERE key = ?", (key,)) == [(made.id,)]
    assert len(events(centre, made.id)) == 1
    erased = clienteling("central", "forget-customer", made.id, "--db", str(centre.db))
    assert erased.returncode == 0, erased.stderr
    assert centre.rows("SELECT count(*) FROM idempotency WHERE key = ?", (key,)) == [(0,)]
    assert events(centre, made.id) == []


def test_a_serial_whose_id_or_card_is_taken_is_skipped(centre) -> None:
    with centre.client() as client:
        first = Customer.model_validate(enrol(client, body("eerste.serie@example.nl")).json())
        serial = int(first.id[1:])
        assert first.card_number == codes.make_card_number(serial)
        centre.execute("UPDATE meta SET value = ? WHERE key = 'enrol_serial'", (str(serial - 1),))  # an operator's slip
        second = enrol(client, body("tweede.serie@example.nl"))
    assert second.status_code == 201, second.text
    made = Customer.model_validate(second.json())
    assert made.id != first.id and made.card_number != first.card_number
    assert codes.has_valid_check_digit(made.card_number) and int(made.id[1:]) > serial
