"""Issue 14 in a real browser: Lotte sees Sanne at a glance with what to show her now, and writes a note about Daan,
a customer of Utrecht, while the centre is away; once it is back, Utrecht's devices read it."""

from __future__ import annotations

import re

import pytest
from conftest import start_central
from test_browser import SANNE_CARD, App, Screen, browser, wait_until  # noqa: F401 - browser is a fixture

from clienteling.config import Settings
from clienteling.device import Device


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clienteling-centre")
    server = start_central(folder / "central.db", "--demo", "--customers", "120")
    yield server
    server.process.poll() is None and server.stop()


def write(screen: Screen, text: str) -> None:
    """Type a note, and wait until the screen has it (its buttons are enabled only then)."""
    box = screen.field("A note or a tag")
    wait_until(lambda: box.fill(text) or screen.page.wait_for_timeout(150) or box.input_value() == text, 15, "it")


def test_sanne_at_a_glance_with_what_to_show_her(centre, browser, tmp_path):  # noqa: F811
    app = App(tmp_path / "data", centre.url)
    try:
        screen = Screen(browser, app.url)
        screen.sign_in("Lotte Visser", "112233")
        screen.scan(SANNE_CARD)
        assert screen.text_of("glance-sizes") == "Sizes: tops M · trousers 31 · shoes 39"
        suggestions = screen.page.locator("[flt-semantics-identifier^='suggestion-why-']")
        suggestions.first.wait_for(timeout=15000)
        reasons = [suggestions.nth(i).inner_text() for i in range(suggestions.count())]
        assert 1 <= len(reasons) <= 3, reasons
        assert any(re.fullmatch(r"Wishlisted, in the right size, \d+ in this store", r) for r in reasons), reasons
        assert screen.text_of("consent").startswith("May be approached by: email, WhatsApp")  # Sanne: not by SMS
        screen.shot("customer-glance")
        screen.see("consent-change").click()
        screen.see("consent-sms").click()  # she agrees to text messages too, at the counter
        screen.see("consent-agree").click()
        screen.see("consent-email-sms-whatsapp")  # what she agreed to now (its words: the screenshot in the README)
        screen.shot("customer-consent")
        with centre.client() as client:
            wait_until(
                lambda: client.get("/v1/customers/C0000001").json()["consent"]["sms"] is True, 30, "it at the centre"
            )
        first = suggestions.first.get_attribute("flt-semantics-identifier").removeprefix("suggestion-why-")
        screen.see(f"suggestion-decline-{first}").click()  # "Not interested": another takes its place
        wait_until(lambda: screen.tag(f"suggestion-{first}").count() == 0, what="the declined suggestion to go")
        screen.close()
    finally:
        app.stop()


def test_a_note_about_daan_written_offline_in_amsterdam_is_read_in_utrecht(centre, browser, tmp_path):  # noqa: F811
    app = App(tmp_path / "data", centre.url)
    try:
        screen = Screen(browser, app.url)
        screen.sign_in("Lotte Visser", "112233")
        screen.scan("daan.jansen@example.com")  # Utrecht's customer: found at the centre, kept here
        assert screen.text_of("customer-name") == "Daan Jansen"
        port = int(centre.url.rsplit(":", 1)[1])
        centre.stop()  # the centre goes away
        screen.see("tab-notes").click()
        write(screen, "Looking for a navy suit for his sister's wedding in June")
        screen.see("add-note").click()
        screen.see("note-waiting-text")  # kept at once, waiting to be sent
        write(screen, "wedding in June")
        screen.see("add-tag").click()
        wait_until(lambda: "wedding in June" in screen.text_of("customer-tags"), what="the tag to show at once")
        screen.shot("customer-notes-offline")
        back = start_central(centre.db, "--demo", "--customers", "120", port=port)
        centre.process = back.process
        screen.see("sync-now").click()
        wait_until(lambda: screen.text_of("sync-waiting") == "0 waiting", timeout=60, what="the notes to be sent")
        notes = screen.page.locator("[flt-semantics-identifier^='note-N']")  # the notes as the centre numbered them
        wait_until(lambda: notes.count() == 1, 60, "the note back from the centre, on screen without reopening her")
        assert "Lotte Visser, Clienteling Amsterdam Kalverstraat" in notes.first.inner_text()
        screen.shot("customer-notes")
        screen.close()
    finally:
        app.stop()
    settings = Settings.load(tmp_path / "utrecht", central_url=centre.url, device_token="demo-UTR01", store="UTR01")
    with Device(settings) as utrecht:
        assert utrecht.sync_now().ok
        picture = utrecht.customer_picture("C0000002")
    (note,) = [n for n in picture.notes if n.kind == "note"]
    assert (
        note.text.startswith("Looking for a navy suit") and note.author_name == "Lotte Visser" and note.store == "AMS01"
    )
    assert picture.tags == ["wedding in June"]
