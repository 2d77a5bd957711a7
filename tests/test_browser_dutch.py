"""Dutch means Dutch, in a real browser: every screen walked with CLIENTELING_LANG=nl, failing on any text of the
English table that is not also the Dutch one, on raw data words (chat roles, channels) and on English number,
money and date formats. With CLIENTELING_SCREENSHOTS=DIR each Dutch screen is saved as DIR/<screen>-nl.png."""

from __future__ import annotations

import re
import sqlite3
import string
from datetime import datetime, timedelta

import pytest
from conftest import playwright_or_skip, start_central
from test_browser import SANNE_CARD, SHOTS, App, Screen, centre_orders, wait_until

from clienteling.bench_ui import CHROMIUM, CHROMIUM_ARGS
from clienteling.contract import utc_now
from clienteling.rules import RETURN_WINDOW
from clienteling.ui.i18n import STRINGS

sync_playwright = playwright_or_skip("browser tests", module=True)

SCAN = STRINGS["nl"]["scan_label"]
ORDER_FIELD = STRINGS["nl"]["order_field"]


def english_patterns() -> list[tuple[str, re.Pattern]]:
    """Each entry of the English table that Dutch says otherwise, as a pattern a whole piece of text must match
    (placeholders match anything)."""
    patterns = []
    for key, english in STRINGS["en"].items():
        if english == STRINGS["nl"][key]:
            continue
        parts = [(re.escape(text), field) for text, field, _, _ in string.Formatter().parse(english)]
        pattern = "".join(text + ("(.+?)" if field is not None else "") for text, field in parts)
        if re.sub(r"\W", "", re.sub(r"\(\.\+\?\)", "", pattern)):  # something fixed to recognise
            patterns.append((key, re.compile(pattern, re.DOTALL)))
    return patterns


ENGLISH = english_patterns()
RAW_DATA = re.compile(r"^(customer|agent|bot)$|web_chat|\bweb chat\b|_")  # chat roles, channels, identifiers
ENGLISH_FORMATS = {
    "English digit grouping": re.compile(r"\d,\d{3}(?!\d)"),
    "English money": re.compile(r"€\d|€[\s\xa0]?\d+\.\d\d(?!\d)"),
    "English date": re.compile(r"\b\d\d/\d\d/\d{4}\b"),
    "English time ago": re.compile(r"\b(seconds?|minutes?|hours?|days?|weeks?|months?|years?) ago\b"),
}

VISIBLE_TEXT = """() => {
    const host = document.querySelector('flt-semantics-host') || document.body;
    const found = [];
    for (const node of host.querySelectorAll('*')) {
        const label = node.getAttribute('aria-label');
        if (label) found.push(label);
    }
    const walker = document.createTreeWalker(host, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent.trim();
        if (text) found.push(text);
    }
    return found;
}"""


def pieces(text: str) -> set[str]:
    """A text, and the parts the screens join with ' · ', ': ', newlines and ' (' … ')'."""
    found = {text.strip()}
    for separator in ("\n", " · ", ": ", " ("):
        found |= {part.strip().rstrip(")") for chunk in list(found) for part in chunk.split(separator)}
    return {part for part in found if part}


def english_on(screen: Screen) -> list[str]:
    """What on the page is English (or raw data, or an English format), with the table key it came from."""
    wrong = []
    texts = screen.page.evaluate(VISIBLE_TEXT)
    assert STRINGS["nl"]["sync_now"] in texts  # the page's text is read (the sync bar is on every screen)
    for text in texts:
        for piece in pieces(text):
            wrong += [f"{key}: {piece!r}" for key, pattern in ENGLISH if pattern.fullmatch(piece)]
            if RAW_DATA.search(piece):
                wrong.append(f"raw data: {piece!r}")
        wrong += [f"{what}: {text!r}" for what, pattern in ENGLISH_FORMATS.items() if pattern.search(text)]
    return wrong


def dutch(screen: Screen, name: str) -> None:
    """The screen as it is now speaks only Dutch; saved as `<name>-nl.png` when screenshots are asked for."""
    screen.page.wait_for_timeout(400)  # let the frame that the semantics tree describes be painted
    assert english_on(screen) == [], name
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        screen.page.screenshot(path=str(SHOTS / f"{name}-nl.png"))


def test_the_checker_finds_english_and_english_formats():
    def found(text: str) -> bool:
        return any(p.fullmatch(piece) for piece in pieces(text) for _, p in ENGLISH) or any(
            p.search(text) for p in ENGLISH_FORMATS.values()
        )

    assert found("Harbour wool coat · navy · M · €\xa0249,95")  # an English colour beside Dutch money
    assert (
        found("6,220 punten")
        and found("€69.95")
        and found("Total €\xa069,95")
        and found("counted 3 minutes ago")
        and found("geteld 3 minutes ago")
    )
    assert found("No customer has the email address nobody@example.com.")
    assert not found("Harbour wool coat · marineblauw · M · €\xa0249,95") and not found("6.220 punten")
    assert RAW_DATA.search("customer") and not RAW_DATA.search("Klant")


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dutch-centre")
    server = start_central(folder / "central.db", "--demo", "--customers", "300")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(centre, tmp_path_factory):
    running = App(tmp_path_factory.mktemp("dutch-app") / "data", centre.url, lang="nl")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wishes(screen: Screen) -> dict[str, str]:
    found = screen.page.locator(
        "[flt-semantics-identifier^='wish-stock-']:not([flt-semantics-identifier^='wish-stock-btn'])"
    )
    found.first.wait_for(timeout=15000)
    return {
        found.nth(i).get_attribute("flt-semantics-identifier").removeprefix("wish-stock-"): found.nth(i).inner_text()
        for i in range(found.count())
    }


def test_every_screen_speaks_dutch(app, centre, browser):
    online = [o for o in centre_orders(centre, "C0000001") if o["fulfilment"] == "delivery" and o["delivered_at"]]
    age = {o["number"]: utc_now() - datetime.fromisoformat(o["delivered_at"]) for o in online}
    delivered = next(o for o in online if o["status"] == "delivered" and age[o["number"]] < timedelta(days=29))
    too_late = next(o for o in online if age[o["number"]] > RETURN_WINDOW)
    screen = Screen(browser, app.url)

    # Sign in: a wrong PIN first.
    screen.see("sign-in-title")
    dutch(screen, "sign-in")
    screen.page.locator("[flt-semantics-identifier^='staff-']", has_text="Fatima El Amrani").first.click()
    screen.type_into(STRINGS["nl"]["pin"], "999999")
    assert "Nog 4 pogingen" in screen.text_of("sign-in-error")
    dutch(screen, "sign-in-wrong-pin")
    screen.type_into(STRINGS["nl"]["pin"], "334455")
    screen.see("signed-in")

    # Look up: the screen, a wrong card, an unknown email, a name.
    screen.field(SCAN)
    dutch(screen, "lookup")
    screen.type_into(SCAN, "2700000000015")
    assert "controlecijfer" in screen.text_of("scan-error")
    dutch(screen, "lookup-wrong-card")
    screen.type_into(SCAN, "nobody@example.com")
    wait_until(lambda: "Geen klant heeft het e-mailadres" in screen.text_of("scan-error"), what="the unknown email")
    dutch(screen, "lookup-unknown-email")
    screen.field(SCAN).fill("vries san")
    screen.see("match-C0000001")
    dutch(screen, "lookup-name")

    # The customer, each tab.
    screen.type_into(SCAN, SANNE_CARD)
    assert screen.text_of("customer-name") == "Sanne de Vries"
    assert "punten" in screen.text_of("customer-points")
    texts = wishes(screen)
    dutch(screen, "customer")
    for tab in ("orders", "chats", "timeline"):
        screen.see(f"tab-{tab}").click()
        if tab == "chats":
            assert screen.page.locator("[flt-semantics-identifier^='chat-']").first.inner_text(timeout=10000)
        screen.page.wait_for_timeout(300)
        dutch(screen, f"customer-{tab}")
    screen.see("tab-wishlist").click()

    # Stock of a wishlist item.
    elsewhere = next(sku for sku, text in texts.items() if " km" in text)
    screen.see(f"wish-stock-btn-{elsewhere}").click()
    screen.see("stock-here")
    dutch(screen, "stock")

    # Ship to home: the form with a new address, a wrong postcode, the review, the confirmation.
    screen.see("nav-lookup").click()
    screen.type_into(SCAN, SANNE_CARD)
    here = {sku: int(text.split()[0]) for sku, text in wishes(screen).items() if "deze winkel" in text}
    sku = max(here, key=here.get)
    screen.see(f"wish-ship-{sku}").click()
    screen.see("ship-title")
    screen.see("address-new").click()
    screen.see("addr-street")
    address = {"Straat": "Prinsengracht", "Huisnummer": "263", "Postcode": "12", "Plaats": "Amsterdam"}

    def postcode_refused() -> bool:  # a field filled as the form appears may be dropped: fill what is not there
        for field, value in address.items():
            if screen.field(field).input_value() != value:
                screen.field(field).fill(value)
        screen.see("ship-review").click()
        return "geen Nederlandse postcode" in screen.text_of("ship-error")

    wait_until(postcode_refused, 60, "the postcode to be refused")  # controlled fields may echo an older value back
    dutch(screen, "ship-to-home")
    screen.see("address-file").click()
    screen.see("ship-review").click()
    screen.see("review-total")
    dutch(screen, "ship-to-home-review")
    screen.see("place-order").click()
    screen.see("order-number", timeout=30000)
    dutch(screen, "ship-to-home-confirmed")

    # Returns: an unknown order, an order outside its window, a return with its refund and receipt.
    screen.see("nav-returns").click()
    screen.type_into(ORDER_FIELD, "ORD-99999999")
    assert "Er is geen order ORD-99999999" in screen.text_of("returns-error")
    dutch(screen, "return-unknown-order")
    screen.type_into(ORDER_FIELD, too_late["number"])
    assert "retourtermijn" in screen.text_of("return-why")
    dutch(screen, "return-window-closed")
    screen.type_into(ORDER_FIELD, delivered["number"])
    screen.see("return-more-1").click()
    wait_until(lambda: screen.text_of("return-qty-1") == "1", what="one item chosen")
    wait_until(lambda: "0,00" not in screen.text_of("refund"), what="the refund to show")
    dutch(screen, "return")
    screen.see("confirm-return").click()
    screen.see("return-number", timeout=30000)
    dutch(screen, "return-receipt")

    # Needs attention: the centre refuses an order its stock cannot fill (stock taken behind the device's back).
    screen.see("nav-lookup").click()
    screen.type_into(SCAN, SANNE_CARD)
    sku = next(sku for sku, text in wishes(screen).items() if "deze winkel" in text)  # a wish ordered is off the list
    with sqlite3.connect(centre.db, timeout=30) as db:
        db.execute("UPDATE stock SET on_hand = reserved WHERE store = 'AMS01' AND sku = ?", (sku,))
    screen.see(f"wish-ship-{sku}").click()
    screen.see("ship-review").click()
    screen.see("place-order").click()
    assert "Niet genoeg voorraad" in screen.see("order-refused", timeout=30000).inner_text()
    dutch(screen, "ship-to-home-refused")
    screen.see("sync-attention").click()
    reason = screen.page.locator("[flt-semantics-identifier^='attention-reason-']").first
    assert "Niet genoeg voorraad in AMS01" in reason.inner_text(timeout=15000)
    dutch(screen, "attention")

    # Settings.
    screen.see("nav-settings").click()
    screen.see("setting-store")
    dutch(screen, "settings")
    screen.close()
