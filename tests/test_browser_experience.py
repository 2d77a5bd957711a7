"""Issue 15 in a real browser: Ruben takes back one of Sanne's items at the desk; the receipt carries a QR code and a
short link that a phone-sized browser opens and answers without an account; Fatima, the manager, finds the answer
in the right place on her screen; Ruben says how his shift went as he signs out."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import start_central
from test_browser import SANNE_CARD, App, Screen, browser, centre_orders, wait_until  # noqa: F401 - browser: fixture

from clienteling.contract import utc_now


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    folder = tmp_path_factory.mktemp("experience-centre")
    server = start_central(folder / "central.db", "--demo", "--customers", "120")
    yield server
    server.process.poll() is None and server.stop()


def test_a_return_is_rated_from_a_phone_and_the_manager_reads_it(centre, browser, tmp_path):  # noqa: F811
    online = [o for o in centre_orders(centre, "C0000001") if o["fulfilment"] == "delivery" and o["delivered_at"]]
    delivered = next(
        o
        for o in online
        if o["status"] == "delivered" and utc_now() - datetime.fromisoformat(o["delivered_at"]) < timedelta(days=29)
    )
    app = App(tmp_path / "data", centre.url)
    try:
        screen = Screen(browser, app.url)
        screen.sign_in("Ruben Smit", "223344")
        screen.scan(SANNE_CARD)
        screen.see("tab-orders").click()
        screen.reach(f"order-return-{delivered['number']}").click()
        screen.see("return-more-1").click()
        wait_until(lambda: screen.text_of("return-qty-1") == "1", what="one item chosen")
        screen.see("confirm-return").click()
        screen.see("return-number")
        link = screen.text_of("survey-link")
        assert link.startswith(centre.url.split("://", 1)[1] + "/r/"), link
        screen.shot("return-receipt-survey")

        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-GB", is_mobile=True)
        phone.goto(f"http://{link}")
        wait_until(lambda: "How was bringing your item back" in phone.content(), 30, "the page, once the return is in")
        assert "You were helped by Ruben." in phone.content()
        phone.get_by_label("2 Poor").check()
        phone.get_by_label("Anything you would like to tell us? (optional)").fill("Twenty minutes at the desk")
        if SHOTS_DIR := __import__("test_browser").SHOTS:
            SHOTS_DIR.mkdir(parents=True, exist_ok=True)
            phone.screenshot(path=str(SHOTS_DIR / "survey-phone.png"), full_page=True)
        phone.get_by_role("button", name="Send").click()
        phone.get_by_text("Thank you!").wait_for(timeout=15000)
        assert "The store will get back to you." in phone.content()
        if SHOTS_DIR:
            phone.screenshot(path=str(SHOTS_DIR / "survey-phone-thanks.png"))
        phone.close()

        screen.see("sign-out").click()
        screen.see("pulse")  # how did the shift go: one tap, anonymous
        screen.shot("sign-out-pulse")
        screen.see("pulse-4").click()
        screen.see("pulse-thanks")
        screen.sign_in("Fatima El Amrani", "334455")
        screen.see("nav-figures").click()
        screen.see("figures-tab-experience").click()
        token = link.rsplit("/", 1)[1]
        assert screen.text_of(f"experience-comment-{token}") == "“Twenty minutes at the desk”"
        assert screen.text_of(f"experience-about-{token}").startswith("Return · Ruben Smit · ")
        assert screen.text_of("experience-low") != "0"
        screen.shot("figures-experience")
        screen.close()
    finally:
        app.stop()
    with centre.client() as client:
        pulse = client.get("/v1/experience").json()["pulse"]["weeks"][-1]
    assert pulse["answers"] == 1 and pulse["average"] is None  # kept, and too few to show
