"""Journeys through the app in a real browser: Flet's web mode served by `clienteling --web`, driven in Chromium.

Chromium comes from Debian (/usr/bin/chromium) and is driven by Playwright. The tests skip only on a machine
without it; with CI set they fail instead, so CI never passes without having run them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from conftest import free_port, playwright_or_skip, start_central

from clienteling.bench_ui import CHROMIUM, CHROMIUM_ARGS
from clienteling.contract import utc_now
from clienteling.rules import RETURN_WINDOW
from clienteling.ui.i18n import money

SHOTS = Path(os.environ.get("CLIENTELING_SCREENSHOTS", "")) if os.environ.get("CLIENTELING_SCREENSHOTS") else None
SANNE_CARD = "2700000000014"
FAILED_SHOTS = Path(os.environ.get("CLIENTELING_FAILED_SHOTS", "screenshots-tmp/failed"))

sync_playwright = playwright_or_skip("browser tests", module=True)


class App:
    """`clienteling --web` on a free loopback port, with its own data folder."""

    def __init__(self, data_dir: Path, central_url: str, lang: str = "en") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {
            **os.environ,
            "CLIENTELING_DATA_DIR": str(data_dir),
            "CLIENTELING_CENTRAL_URL": central_url,
            "CLIENTELING_DEVICE_TOKEN": "demo-AMS01",
            "CLIENTELING_STORE": "AMS01",
            "CLIENTELING_LANG": lang,
            "CLIENTELING_SYNC_INTERVAL": "1",
        }
        self.log = open(data_dir.parent / "app.log", "ab")  # noqa: SIM115 - the child writes to it
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clienteling", "--web", "--port", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the app did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-centre")
    server = start_central(folder / "central.db", "--demo", "--customers", "300")
    yield server
    server.process.poll() is None and server.stop()


@pytest.fixture(scope="module")
def app(centre, tmp_path_factory):
    running = App(tmp_path_factory.mktemp("browser-app") / "data", centre.url)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Screen:
    """A browser page on the app, with the few ways the tests reach into Flutter's semantics tree."""

    def __init__(self, browser, url: str) -> None:
        width, height = (int(n) for n in os.environ.get("CLIENTELING_VIEWPORT", "1280x800").split("x"))
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.suffix = "portrait" if height > width else "landscape"
        self.page.goto(url)
        self.page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30000)
        self.page.evaluate("document.querySelector('flt-semantics-placeholder').click()")

    def tag(self, identifier: str):
        return self.page.locator(f"[flt-semantics-identifier='{identifier}']")

    def see(self, identifier: str, timeout: float = 15000):
        found = self.tag(identifier)
        try:
            found.first.wait_for(timeout=timeout)
        except Exception:  # what the page showed instead, for whoever reads the failure
            FAILED_SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(FAILED_SHOTS / f"no-{identifier}-{time.monotonic_ns()}.png"))
            raise
        return found.first

    def field(self, name: str):
        box = self.page.get_by_role("textbox", name=name)
        box.wait_for(timeout=15000)
        return box

    def reach(self, identifier: str, within: str = "customer-body"):
        """The element, scrolled into the viewport by turning the mouse wheel over the list it is in (Flutter draws a
        list's rows, and lets them be clicked, only where they show)."""
        target = self.see(identifier)
        height = self.page.viewport_size["height"]
        for _ in range(40):
            box = target.bounding_box()
            if box and box["y"] >= 0 and box["y"] + box["height"] <= height:
                return target
            area = self.see(within).bounding_box()
            self.page.mouse.move(area["x"] + area["width"] / 2, area["y"] + min(area["height"] / 2, 150))
            self.page.mouse.wheel(0, 200 if not box or box["y"] > 0 else -200)
            self.page.wait_for_timeout(120)
        return target

    def text_of(self, identifier: str) -> str:
        return self.see(identifier).inner_text()

    def shot(self, name: str) -> None:
        self.page.wait_for_timeout(400)  # let the frame that the semantics tree describes be painted
        if SHOTS:
            SHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SHOTS / f"{name}-{self.suffix}.png"))

    def sign_in(self, name: str, pin: str) -> None:
        self.see("sign-in-title")
        self.page.locator("[flt-semantics-identifier^='staff-']", has_text=name).first.click()
        self.type_into("PIN", pin)  # the field appears as the name is picked: a fill at once can be dropped
        self.see("signed-in")

    def type_into(self, name: str, text: str) -> None:
        """Type into a field and press Enter, once the field holds the text (a screen that has just mounted
        may still be settling its first frame)."""
        box = self.field(name)
        wait_until(lambda: box.fill(text) or self.page.wait_for_timeout(150) or box.input_value() == text, 15, name)
        box.press("Enter")

    def scan(self, text: str) -> None:
        self.type_into("Scan card or enter email", text)

    def close(self) -> None:
        self.page.close()


def wait_until(check, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def centre_orders(centre, customer_id: str) -> list[dict]:
    with centre.client() as client:
        return client.get(f"/v1/customers/{customer_id}/orders").json()


def test_sanne_is_found_by_card_with_wishlist_orders_and_chats(app, centre, browser):
    screen = Screen(browser, app.url)
    screen.see("sign-in-title")
    screen.shot("sign-in")
    screen.sign_in("Lotte Visser", "112233")
    screen.shot("lookup")
    box = screen.field("Scan card or enter email")
    box.fill("vries san")  # a name gives results as it is typed, before any Enter
    screen.see("match-C0000001")
    screen.shot("lookup-name")
    # Enter asks the centre too: another store's customer is found, and marked as such
    other, surname = another_stores_customer(centre)
    screen.scan(surname)
    screen.see(f"other-store-{other}")
    screen.shot("lookup-other-store")
    screen.scan("2700000000015")  # one digit wrong
    assert "check digit" in screen.text_of("scan-error")
    screen.shot("lookup-wrong-card")
    screen.scan(SANNE_CARD)
    assert screen.text_of("customer-name") == "Sanne de Vries"
    assert "Gold" in screen.text_of("customer-tier")
    # at a glance (issue 14): her sizes, what she likes, the dates she shares, the names behind the codes
    assert screen.text_of("glance-sizes") == "Sizes: tops M · trousers 31 · shoes 39"
    likes = screen.text_of("glance-likes")
    assert "sustainable materials" in likes and "Birthday 14 March" in likes and "wedding 20 June" in likes, likes
    facts = screen.text_of("glance-facts")
    assert "Usually served by Lotte Visser" in facts and re.search(r"Spent €[\d,.]+ in \d+ orders", facts), facts
    assert screen.text_of("customer-home-store") == "Home store Clienteling Amsterdam Kalverstraat"
    assert re.fullmatch(r"sanne\.devries@example\.com · 06 \d{8}", screen.text_of("customer-contact"))
    texts = wish_stock(screen)
    assert screen.page.locator("[flt-semantics-identifier^='wish-picture-']").count() == len(texts)
    assert any(re.fullmatch(r"\d+ in this store", t) for t in texts.values()), texts
    assert any(re.fullmatch(r"\d+ in [A-Z][a-z]+, \d+ km", t) for t in texts.values()), texts  # another store
    screen.shot("customer")
    elsewhere = next(sku for sku, text in texts.items() if " km" in text)
    screen.see(f"wish-stock-btn-{elsewhere}").click()
    assert screen.text_of("stock-here")  # this store first, then the other stores and the DC
    assert screen.page.locator("[flt-semantics-identifier^='stock-']").count() >= 5
    screen.shot("stock")
    screen.see("nav-lookup").click()
    screen.scan(SANNE_CARD)
    screen.see("tab-orders").click()
    newest = centre_orders(centre, "C0000001")[0]["number"]
    screen.see(f"order-status-{newest}")
    screen.shot("customer-orders")
    screen.see("tab-chats").click()
    assert screen.page.locator("[flt-semantics-identifier^='chat-']").first.inner_text(timeout=10000)
    screen.see("tab-timeline").click()
    screen.shot("customer-timeline")
    screen.close()


def another_stores_customer(centre) -> tuple[str, str]:
    """(id, last name) of a Utrecht customer whose last name the centre finds more than once (a list, not a jump)."""
    with centre.client("demo-UTR01") as utrecht, centre.client() as amsterdam:
        for item in utrecht.get("/v1/sync/customers", params={"after": "0", "limit": 200}).json()["items"]:
            if item["home_store"] != "UTR01":
                continue
            found = amsterdam.get("/v1/customers/search", params={"q": item["last_name"]}).json()
            if len(found) >= 2 and item["id"] in [c["id"] for c in found]:
                return item["id"], item["last_name"]
    raise AssertionError("no Utrecht customer with a shared last name")


def wish_stock(screen: Screen) -> dict[str, str]:
    """What each wishlist item says about stock, by SKU."""
    wishes = screen.page.locator(
        "[flt-semantics-identifier^='wish-stock-']:not([flt-semantics-identifier^='wish-stock-btn'])"
    )
    screen.see("customer-body")
    wishes.first.wait_for(timeout=15000)
    return {
        wishes.nth(i).get_attribute("flt-semantics-identifier").removeprefix("wish-stock-"): wishes.nth(i).inner_text()
        for i in range(wishes.count())
    }


def order_from_the_wishlist(screen: Screen) -> str:
    """Open Sanne, ship what this store has most of from her wishlist to her address; the review's total."""
    screen.scan(SANNE_CARD)
    texts = wish_stock(screen)
    here = {sku: int(text.split()[0]) for sku, text in texts.items() if "this store" in text}
    sku = max(here, key=here.get)  # the item this store has most of: two orders of it must both be fillable
    screen.see(f"wish-ship-{sku}").click()
    screen.see("ship-title")
    screen.shot("ship-to-home")
    screen.see("ship-review").click()
    total = screen.text_of("review-total")
    assert screen.text_of("review-subtotal") and screen.text_of("review-shipping")
    screen.shot("ship-to-home-review")
    screen.see("place-order").click()
    return total


def test_ship_to_home_online_then_offline_then_sent_once(app, centre, browser, tmp_path):
    screen = Screen(browser, app.url)
    screen.sign_in("Lotte Visser", "112233")
    before = len(centre_orders(centre, "C0000001"))
    reviewed = order_from_the_wishlist(screen)
    number = re.search(r"ORD-[0-9A-Z-]+", screen.text_of("order-number")).group(0)
    screen.shot("ship-to-home-confirmed")
    placed = next(o for o in centre_orders(centre, "C0000001") if o["number"] == number)
    assert reviewed == f"Total {money(placed['totals']['total']['cents'], 'en')}"  # the review showed what is charged
    assert len(centre_orders(centre, "C0000001")) == before + 1

    # The centre goes away: the order is accepted as waiting and the sync bar says offline.
    port = int(centre.url.rsplit(":", 1)[1])
    centre.stop()
    screen.see("back-to-customer").click()
    screen.see("nav-lookup").click()
    order_from_the_wishlist(screen)
    screen.see("order-waiting")
    wait_until(lambda: screen.text_of("sync-status") == "Offline", what="the sync bar to say offline")
    wait_until(lambda: screen.text_of("sync-waiting") == "1 waiting", what="one command waiting")
    screen.shot("offline-sync-bar")

    # The centre is back: the order is sent, once.
    back = start_central(centre.db, "--demo", "--customers", "300", port=port)
    try:
        centre.process = back.process
        screen.see("sync-now").click()  # the associate does not wait for the next retry (up to a minute)
        wait_until(lambda: screen.text_of("sync-waiting") == "0 waiting", timeout=60, what="the order to be sent")
        wait_until(
            lambda: screen.text_of("sync-status") == "Online", 60, "the sync bar to say online"
        )  # after the pull
        assert screen.tag("sync-attention").count() == 0  # sent, not refused
        assert len(centre_orders(centre, "C0000001")) == before + 2
    finally:
        screen.close()


def test_a_return_at_the_service_desk(app, centre, browser, monkeypatch):
    # a tall desk screen: the journeys before this one gave Sanne more orders, and her first one's Return button is
    # drawn (and can be clicked) only where the list shows it
    monkeypatch.setenv("CLIENTELING_VIEWPORT", "1280x1400")
    online = [o for o in centre_orders(centre, "C0000001") if o["fulfilment"] == "delivery" and o["delivered_at"]]
    age = {o["number"]: utc_now() - datetime.fromisoformat(o["delivered_at"]) for o in online}
    delivered = next(o for o in online if o["status"] == "delivered" and age[o["number"]] < timedelta(days=29))
    too_late = next(o for o in online if age[o["number"]] > RETURN_WINDOW)
    screen = Screen(browser, app.url)
    screen.sign_in("Ruben Smit", "223344")
    screen.see("nav-returns").click()
    screen.type_into("Order number or scan the order's QR code", "ORD-99999999")
    assert "ORD-99999999" in screen.text_of("returns-error")
    # Through the customer: her orders tab has a return button for each delivered online order.
    screen.see("nav-lookup").click()
    screen.scan(SANNE_CARD)
    screen.see("tab-orders").click()
    assert "return window closed" in screen.text_of(f"order-no-return-{too_late['number']}")
    assert screen.tag(f"order-return-{too_late['number']}").count() == 0
    screen.see(f"order-return-{delivered['number']}").click()
    screen.shot("return-find")
    screen.see("return-order")
    screen.see("return-more-1").click()
    wait_until(lambda: screen.text_of("return-qty-1") == "1", what="one item chosen")
    wait_until(lambda: "0.00" not in screen.text_of("refund"), what="the refund to show")
    screen.shot("return")
    screen.see("confirm-return").click()
    assert re.search(r"Return \S+", screen.text_of("return-number"))
    screen.shot("return-receipt")
    with centre.client() as client:
        order = client.get(f"/v1/orders/{delivered['number']}").json()
    assert order["lines"][0]["returned_quantity"] == 1
    # An order outside its window says why before anything is chosen, and offers no choice and no Confirm.
    screen.see("nav-returns").click()
    screen.type_into("Order number or scan the order's QR code", too_late["number"])
    assert "return window closed" in screen.text_of("return-why")
    screen.shot("return-window-closed")
    assert screen.tag("return-more-1").count() == screen.tag("confirm-return").count() == 0
    screen.close()


def test_a_wrong_pin_says_so_and_a_manager_switches_the_app_to_dutch(app, browser):
    screen = Screen(browser, app.url)
    screen.see("sign-in-title")
    screen.page.locator("[flt-semantics-identifier^='staff-']", has_text="Fatima El Amrani").first.click()
    pin = screen.field("PIN")
    pin.press_sequentially("a1b2")  # the field takes digits only
    wait_until(lambda: pin.input_value() == "12", 15, "the PIN field to drop the letters")
    pin.press("Enter")  # too short: refused, and no try is spent on it
    assert "6 to 12 digits" in screen.text_of("sign-in-error")
    screen.type_into("PIN", "999999")
    wait_until(lambda: "4 tries left" in screen.text_of("sign-in-error"), 15, "the first wrong PIN to count")
    screen.shot("sign-in-wrong-pin")
    screen.type_into("PIN", "334455")
    screen.see("signed-in")
    screen.see("nav-settings").click()
    screen.see("setting-store")
    assert re.search(r"Cache: [\d,]+ customers", screen.page.get_by_text(re.compile("^Cache:")).inner_text())
    screen.shot("settings")
    screen.see("language-nl").click()
    wait_until(lambda: screen.text_of("nav-lookup") == "Opzoeken", what="the app to speak Dutch")
    assert screen.text_of("nav-settings") == "Instellingen"
    screen.shot("settings-nl")
    screen.see("nav-lookup").click()
    screen.type_into("Scan pas of typ e-mail", "nobody@example.com")
    assert "nobody@example.com" in screen.text_of("scan-error")
    # her choice sticks to her, without Save: a colleague signs in in the device's language, she in Dutch again
    screen.see("sign-out").click()
    screen.sign_in("Lotte Visser", "112233")
    assert screen.text_of("nav-lookup") == "Look up"
    screen.see("sign-out").click()
    screen.sign_in("Fatima El Amrani", "334455")
    wait_until(lambda: screen.text_of("nav-lookup") == "Opzoeken", 15, "her Dutch after signing in again")
    screen.close()


def test_nothing_leaves_the_machine_and_no_asset_of_the_app_is_missing(app, centre, browser):
    """Every request the page makes goes to the app's own host, and every one of the app's own files is there:
    a store's tablets may have no internet, and a privacy review must find no third party in the traffic."""
    delivered = max(
        (o for o in centre_orders(centre, "C0000001") if o["fulfilment"] == "delivery" and o.get("delivered_at")),
        key=lambda o: o["delivered_at"],
    )
    requests, missing = [], []
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.on("request", lambda request: requests.append(request.url))
    page.on("response", lambda response: response.status >= 400 and missing.append(f"{response.status} {response.url}"))
    page.on("requestfailed", lambda request: missing.append(f"failed {request.url}"))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    screen = Screen.__new__(Screen)
    screen.page, screen.suffix = page, "landscape"
    page.goto(app.url)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30000)
    page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
    screen.sign_in("Ruben Smit", "223344")  # the service desk: every screen but the manager's settings
    screen.scan(SANNE_CARD)  # a customer with a wishlist, orders and chats: the most text, pictures and fonts
    screen.see("tab-chats").click()
    screen.page.locator("[flt-semantics-identifier^='chat-']").first.wait_for()
    screen.see("tab-timeline").click()
    screen.see("tab-orders").click()
    screen.see(f"order-status-{delivered['number']}")
    screen.see("nav-returns").click()
    screen.type_into("Order number or scan the order's QR code", delivered["number"])
    screen.see("return-order")  # the return screen, with its quantity buttons
    screen.see("nav-stock").click()
    screen.see("nav-lookup").click()
    # customers' chats and names hold emoji and letters beyond Latin: the fonts for them come from here, too
    other_scripts = "Zoë Çelik 😀 ✓ Ελένη Йосиф"

    def typed() -> bool:  # the field is found again each time: the screen may draw it anew as the results change
        box = screen.field("Scan card or enter email")
        box.fill(other_scripts)
        page.wait_for_timeout(150)
        return screen.field("Scan card or enter email").input_value() == other_scripts

    wait_until(typed, 60, "the letters in the look-up field")
    screen.see("no-matches")  # the letters are drawn twice: in the field and in the sentence under it
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # fonts and lazily loaded scripts are asked for after the frame that needs them
    elsewhere = [
        url
        for url in requests
        if not url.startswith(("data:", "blob:")) and urlsplit(url).hostname not in ("127.0.0.1", "localhost")
    ]
    assert not elsewhere, elsewhere
    assert not missing, missing
    assert not errors, errors  # Rive told it is not there, and the fonts served in place of the shards, break nothing
    assert any(url.endswith("/no-rive.js") for url in requests)  # Rive's CDN script, turned back
    # A fallback font, when this renderer asks for one, came from here (DejaVu Sans) and not from a CDN.
    assert all(url.endswith("/fonts/DejaVuSans.ttf") for url in requests if "/fonts/" in url and "/v" in url)
    screen.shot("lookup-other-scripts")
    screen.close()


def test_a_hanging_centre_freezes_no_screen_and_no_other_tablet(app, centre, browser):
    """The centre accepts connections and answers nothing (its process stopped): placing an order shows its
    confirmation at once, and another tablet on the same `--web` server keeps answering; once the centre
    answers again the order reaches it, once, and the confirmation shows its number."""
    first, second = Screen(browser, app.url), Screen(browser, app.url)
    first.sign_in("Lotte Visser", "112233")
    second.sign_in("Ruben Smit", "223344")
    email = a_customer_here_with_a_wishlist(centre)
    with centre.client() as client:
        customer_id = client.get("/v1/customers/lookup", params={"email": email}).json()["id"]
    before = len(centre_orders(centre, customer_id))
    first.scan(email)
    sku = next(s for s, t in wish_stock(first).items() if re.match(r"\d+ in ", t))  # here or elsewhere
    first.see(f"wish-ship-{sku}").click()
    first.see("ship-review").click()
    first.see("review-total")
    os.kill(centre.process.pid, signal.SIGSTOP)
    try:
        first.see("sync-now").click()  # the background sync is now stuck on the hanging centre
        first.see("place-order").click()
        first.see("order-waiting")  # accepted while the centre still answers nothing
        second.scan(SANNE_CARD)  # and the other tablet is not frozen with it
        assert second.text_of("customer-name") == "Sanne de Vries"
        second.see("nav-returns").click()
        second.see("nav-lookup").click()
        second.field("Scan card or enter email")
    finally:
        os.kill(centre.process.pid, signal.SIGCONT)
    first.see("order-number", timeout=90000)  # the confirmation follows the order once the centre has it
    assert len(centre_orders(centre, customer_id)) == before + 1
    first.close()
    second.close()


def test_a_scan_as_the_screen_opens_is_never_lost(app, browser):
    """A keyboard-wedge scanner types the moment a screen appears: no key may be lost, without a retry."""
    screen = Screen(browser, app.url)
    screen.sign_in("Lotte Visser", "112233")
    screen.page.keyboard.type(SANNE_CARD)  # straight after sign-in, as the look-up screen is being built
    screen.page.keyboard.press("Enter")
    wait_until(lambda: screen.text_of("customer-name") == "Sanne de Vries", what="Sanne's screen")
    screen.see("nav-lookup").click()
    screen.page.keyboard.type("2700000000021")  # straight after navigating back to the look-up screen
    screen.page.keyboard.press("Enter")
    wait_until(lambda: screen.text_of("customer-name").startswith("Daan"), what="Daan's screen")
    screen.close()


def a_customer_here_with_a_wishlist(centre, but: tuple[str, ...] = ("C0000001",)) -> str:
    """The email of an AMS01 customer (in the device's cache) whom no journey has ordered for yet."""
    with centre.client() as client:
        for n in range(2, 300):
            customer = client.get(f"/v1/customers/C{n:07d}").json()
            wishes = client.get(f"/v1/customers/{customer['id']}/wishlist").json()
            if customer["id"] not in but and customer["home_store"] == "AMS01" and len(wishes) >= 2:
                return customer["email"]
    raise AssertionError("the demo chain has no AMS01 customer with a wishlist")


def test_a_portrait_tablet_keeps_the_top_bar_on_one_line_and_targets_a_finger_can_hit(app, centre, browser):
    """800 × 1280: a manager's five screens fit the top bar without wrapping, and the address choice of ship to
    home is at least 48 px tall (the smallest touch target)."""
    page = browser.new_page(viewport={"width": 800, "height": 1280})
    page.goto(app.url)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=30000)
    page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
    screen = Screen.__new__(Screen)
    screen.page, screen.suffix = page, "portrait"
    screen.sign_in("Fatima El Amrani", "334455")
    names = ("nav-lookup", "nav-stock", "nav-returns", "nav-attention", "nav-settings", "sign-out")
    boxes = [screen.see(name).bounding_box() for name in names]
    middles = {round(box["y"] + box["height"] / 2) for box in boxes}
    assert max(middles) - min(middles) <= 4, boxes  # one row
    assert all(box["x"] + box["width"] <= 800 for box in boxes), boxes
    box = page.get_by_role("textbox", name=re.compile("^Scan"))  # in the language she chose last (any test order)
    box.wait_for(timeout=15000)
    email = a_customer_here_with_a_wishlist(centre)  # Sanne's is ordered empty by the journeys before this one
    wait_until(lambda: box.fill(email) or page.wait_for_timeout(150) or box.input_value() == email)
    box.press("Enter")
    sku = next(s for s, t in wish_stock(screen).items() if re.match(r"\d+ in ", t))
    screen.see(f"wish-ship-{sku}").click()
    for option in ("address-file", "address-new"):
        assert screen.see(option).bounding_box()["height"] >= 48
    screen.see("address-new").click()
    house = screen.see("addr-house_number").bounding_box()
    assert house["width"] >= 160  # "Huisnummer" fits its field
    screen.shot("ship-to-home-new-address")
    page.close()
