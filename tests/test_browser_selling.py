"""Issue 14 in a real browser, the rest of it: Lotte enrols a new customer and shows her card; she acts on a
suggestion by sending Sanne a WhatsApp template, which appears in Sanne's chats; Ruben exchanges a size at the desk.
In English and in Dutch, on a landscape desk and (CLIENTELING_VIEWPORT=800x1280) a portrait tablet."""

from __future__ import annotations

import re

import pytest
from conftest import start_central
from test_browser import SANNE_CARD, App, Screen, browser, wait_until  # noqa: F401 - browser is a fixture

from clienteling import codes
from clienteling.ui.i18n import STRINGS


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    folder = tmp_path_factory.mktemp("selling-centre")
    server = start_central(folder / "central.db", "--demo", "--customers", "120")
    yield server
    server.process.poll() is None and server.stop()


def fill(screen: Screen, name: str, text: str) -> None:
    box = screen.field(name)
    wait_until(lambda: box.fill(text) or screen.page.wait_for_timeout(150) or box.input_value() == text, 15, name)


@pytest.mark.parametrize(
    ("lang", "viewport", "email"),
    [("en", "1280x800", "noor.nieuw@example.nl"), ("nl", "800x1280", "fleur.visser@example.nl")],
    ids=["english-landscape", "dutch-portrait"],
)
def test_lotte_enrols_a_new_customer_and_shows_her_card(centre, browser, tmp_path, monkeypatch, lang, viewport, email):  # noqa: F811
    monkeypatch.setenv("CLIENTELING_VIEWPORT", viewport)
    words = STRINGS[lang]
    first, last = email.split("@")[0].split(".")
    first, last = first.capitalize(), {"nieuw": "Nieuwenhuis", "visser": "Visser"}[last]
    app = App(tmp_path / "data", centre.url, lang=lang)
    try:
        screen = Screen(browser, app.url)
        screen.sign_in("Lotte Visser", "112233")
        screen.type_into(words["scan_label"], email)
        screen.see("enrol-offer")  # nobody has this email: enrol her with it?
        screen.see("enrol-with-email").click()
        screen.see("enrol-email")  # filled in with the email typed (the centre's record says so at the end)
        screen.see("enrol-submit").click()  # without her names: each field says what is missing
        screen.page.get_by_text(words["enrol_problem_required"]).first.wait_for(timeout=15000)
        fill(screen, words["enrol_first_name"], first)
        fill(screen, words["enrol_last_name"], last)
        fill(screen, words["enrol_phone"], "06 12345678")
        screen.see("enrol-consent-whatsapp").click()
        screen.shot(f"enrol-{lang}")
        screen.reach("enrol-submit", within="enrol-title").click()
        screen.see("card-status-enrolled", timeout=30000)  # the centre answered: her card is issued
        number = re.sub(r"\D", "", screen.text_of("card-number"))
        assert codes.parse_card_number(number) == number  # a valid card number, check digit and all
        screen.see("card-qr")
        screen.see("survey")  # and how did joining go: the QR code of her enrolment
        screen.shot(f"enrol-card-{lang}")
        screen.reach("card-open-profile", within="card").click()
        assert screen.text_of("customer-name") == f"{first} {last}"
        screen.close()
    finally:
        app.stop()
    with centre.client() as client:
        found = client.get("/v1/customers/lookup", params={"email": email}).json()
    assert found["card_number"] == number and found["home_store"] == "AMS01" and found["tier"] == "basic"
    assert found["consent"]["whatsapp"] is True and found["consent"]["sms"] is False
    assert found["phone"] == "+31612345678"
    touchpoints = centre.rows("SELECT type FROM touchpoints WHERE customer_id = ?", (found["id"],))
    wait_until(
        lambda: centre.rows("SELECT type FROM touchpoints WHERE customer_id = ?", (found["id"],)) == [("enrolment",)],
        30,
        f"the enrolment's touchpoint at the centre under her real id (had {touchpoints})",
    )


def test_lotte_sends_sanne_a_whatsapp_template_from_a_suggestion(centre, browser, tmp_path):  # noqa: F811
    app = App(tmp_path / "data", centre.url, lang="nl")
    try:
        screen = Screen(browser, app.url)
        screen.sign_in("Lotte Visser", "112233")
        screen.type_into("Scan pas of typ e-mail", SANNE_CARD)
        message = screen.page.locator("[flt-semantics-identifier^='suggestion-message-']")
        message.first.wait_for(timeout=15000)
        message.first.click()
        screen.see("message-composer")
        assert "geen toestemming" in screen.text_of("message-channel-why-sms")  # Sanne: no texts
        screen.see("message-channel-whatsapp").click()
        screen.see("message-text")  # the template filled in for her: the centre's copy says so at the end
        link = screen.text_of("message-link")
        assert "/p/" in link and "sku=" in link
        screen.shot("message-composer-nl")
        screen.reach("message-send", within="message-composer").click()
        screen.see("message-sent", timeout=30000)
        screen.see("tab-chats").click()
        lines = screen.page.locator("[flt-semantics-identifier^='chat-CV']")
        wait_until(
            lambda: any("Lotte Visser" in lines.nth(i).inner_text() for i in range(lines.count())),
            60,
            "her message in Sanne's chats, signed with her name",
        )
        screen.shot("message-in-chats-nl")
        screen.close()
    finally:
        app.stop()
    with centre.client() as client:
        chats = client.get("/v1/customers/C0000001/conversations").json()
    ours = [m for c in chats if c["channel"] == "whatsapp" for m in c["messages"] if m.get("staff_id") == "S0001"]
    assert len(ours) == 1 and ours[0]["text"].startswith("Hoi Sanne") and link.split("://")[-1] in ours[0]["text"]


def test_ruben_exchanges_a_size(centre, browser, tmp_path):  # noqa: F811
    with centre.client() as client:
        orders = client.get("/v1/customers/C0000002/orders").json()
    order = next(o for o in orders if o["number"] == "ORD-00000005")
    line = order["lines"][0]
    app = App(tmp_path / "data", centre.url)
    try:
        screen = Screen(browser, app.url)
        screen.sign_in("Ruben Smit", "223344")
        screen.see("nav-returns").click()
        screen.type_into("Order number or scan the order's QR code", order["number"])
        screen.see("return-more-1").click()
        screen.see("return-exchange-1").click()
        options = screen.page.locator("[flt-semantics-identifier^='exchange-option-1-']")
        options.first.wait_for(timeout=15000)
        here = next(
            options.nth(i).get_attribute("flt-semantics-identifier").removeprefix("exchange-option-1-")
            for i in range(options.count())
            if re.search(r"\d+ here", options.nth(i).inner_text())
        )
        screen.see(f"exchange-option-1-{here}").click()
        wait_until(lambda: "now" in screen.text_of("exchange-summary-1"), what="what she gets, and from where")
        assert "0.00" in screen.text_of("refund")
        screen.shot("exchange")
        screen.see("confirm-return").click()
        screen.see("exchange-receipt", timeout=30000)
        screen.see("exchange-order-1")
        screen.see("survey")  # and how did it go: the receipt asks her
        screen.shot("exchange-receipt")
        screen.close()
    finally:
        app.stop()
    with centre.client() as client:
        after = client.get(f"/v1/orders/{order['number']}").json()
        replacement = [o for o in client.get("/v1/customers/C0000002/orders").json() if o["placed_by"] == "S0002"]
    assert after["lines"][0]["returned_quantity"] == 1
    assert [(o["lines"][0]["sku"], o["totals"]["total"]["cents"]) for o in replacement] == [
        (here, line["unit_price"]["cents"])
    ]
