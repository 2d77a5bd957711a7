"""The enrolment screens' state without a browser (issue 14): the look-up offers to enrol a typed email nobody has,
the form says per field what is wrong, a member's email offers her instead, and the card screen follows a
provisional card until the centre issues the real one, then saves it as a PNG."""

from __future__ import annotations

import asyncio

import pytest
from conftest import start_central

from clienteling import codes
from clienteling.config import Settings
from clienteling.ui import i18n
from clienteling.ui.state import CardView, CustomerLookup, EnrolForm, enrol_offer, enrolment_status

AMS_STAFF = "S0001"


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    from clienteling.device import Device

    centre = start_central(tmp_path_factory.mktemp("enrol-centre") / "central.db", "--demo", "--customers", "60")
    settings = Settings.load(
        tmp_path_factory.mktemp("enrol-device"), central_url=centre.url, device_token="demo-AMS01", store="AMS01"
    )
    with Device(settings) as device:
        assert device.sync_now().ok
        yield device
    centre.stop()


def test_a_typed_email_nobody_has_offers_to_enrol_with_it(device):
    lookup = CustomerLookup(device)
    assert asyncio.run(lookup.look_up("nieuw.lid@example.nl")) is None
    assert enrol_offer(lookup.error, lookup.text) == "nieuw.lid@example.nl"
    assert "nieuw.lid@example.nl" in i18n.tr("nl", "enrol_offer", email="nieuw.lid@example.nl")
    wrong_card = CustomerLookup(device)
    asyncio.run(wrong_card.look_up("2700000000015"))
    assert wrong_card.error is not None and enrol_offer(wrong_card.error, wrong_card.text) is None


def test_the_form_says_per_field_what_is_wrong_and_sends_nothing(device):
    form = EnrolForm(device, AMS_STAFF, email="lotte@")
    form.set("phone", "12")
    assert asyncio.run(form.submit()) is None
    assert form.problems == {
        "first_name": "required",
        "last_name": "required",
        "email": "email_invalid",
        "phone": "phone_invalid",
    }
    for lang in ("en", "nl"):
        for code in form.problems.values():
            assert i18n.tr(lang, f"enrol_problem_{code}") != f"enrol_problem_{code}"
    form.set("email", "lotte@example.nl")
    assert "email" not in form.problems  # a field typed again loses its problem
    assert device.commands(kind="enrol") == []


def test_a_members_email_offers_her_instead(device):
    sanne = device.customer("C0000001")
    form = EnrolForm(device, AMS_STAFF, first_name="Sanne", last_name="Again", email=sanne.email.upper())
    assert asyncio.run(form.submit()) is None
    assert form.known is not None and form.known["customer_id"] == "C0000001"
    assert form.known["card_number"] == sanne.card_number


def test_the_card_follows_the_provisional_customer_until_the_centre_issues_it(device):
    form = EnrolForm(device, AMS_STAFF, first_name="Iris", last_name="van Dam", email="iris.vandam@example.nl")
    form.set("whatsapp_consent", True)
    route = asyncio.run(form.submit())
    assert route is not None and route.startswith("/card/P")
    provisional = route.removeprefix("/card/")

    view = CardView(device)
    asyncio.run(view.open(provisional))
    assert view.waiting and view.png is None and view.customer.first_name == "Iris"
    assert enrolment_status(view.enrolment) == ("card_provisional", {})
    asyncio.run(view.save())
    assert view.saved is None and view.error.code == "card_not_issued"

    assert device.sync_now().ok  # the centre answers
    assert asyncio.run(view.refresh())
    assert not view.waiting and view.customer.id.startswith("C")
    key, values = enrolment_status(view.enrolment)
    assert (key, values) == ("card_enrolled", {"name": "Iris"})
    assert codes.decode_image(view.png)[0].text == codes.card_payload(view.customer.card_number)
    asyncio.run(view.save())
    assert view.saved is not None and view.saved.exists() and view.saved.parent.name == "cards"
    assert not asyncio.run(view.refresh())  # nothing changed since


def test_a_merged_enrolment_is_said_with_since_when_and_her_card():
    from datetime import UTC, datetime

    from clienteling.device.views import Enrolment

    merged = Enrolment(
        provisional_id="P0000000000000001",
        state="merged",
        customer_id="C0000001",
        first_name="Sanne",
        last_name="de Vries",
        email="sanne@example.nl",
        card_number="2700000000014",
        member_since=datetime(2021, 3, 4, tzinfo=UTC),
        command=None,
    )
    key, values = enrolment_status(merged)
    assert key == "card_merged" and values["card"] == codes.grouped("2700000000014")
    said = i18n.tr("nl", key, **{**values, "since": i18n.local(values["since"], lang="nl", with_time=False)})
    assert "2021" in said and values["card"] in said
