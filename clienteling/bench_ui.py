"""`clienteling bench --ui`: the time from Enter in the scan field to the customer screen, in a real browser.

A demo centre and `clienteling --web` run on loopback ports; Chromium (Debian's, driven by Playwright)
signs in, then scans a customer's card again and again. Each round is timed from the Enter key to the
moment the customer's name is in the page's semantics tree with the right text, so it includes the event
travelling to Python, the lookup, the route change, the new screen's diff and Flutter's frame.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from clienteling.bench import LocalCentre, free_port, percentile, wait_until_answers

# How Chromium is started here, for this bench and for the browser tests: Debian's build, never a downloaded one,
# with no sandbox, GPU or background traffic (../shared/TESTING.md).
CHROMIUM = os.environ.get("CLIENTELING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CARDS = (("2700000000014", "Sanne de Vries"), ("2700000000021", "Daan"))  # both have a wishlist


def _filled(page, label: str, text: str):
    """The text field named `label`, once it holds `text` (a field that has just appeared may still be settling its
    first frame and drop a fill)."""
    field = page.get_by_role("textbox", name=label)
    field.wait_for(timeout=30000)
    for _ in range(50):
        field.fill(text)
        page.wait_for_timeout(100)
        if field.input_value() == text:
            break
    return field


def _orders_with_a_hanging_centre(page, centre, rounds: int, progress) -> list[float]:
    """Place `rounds` ship-to-home orders while the centre hangs (its process stopped: connections are accepted,
    nothing is answered) and the background sync is stuck on it; each timed from the tap on "Place order" to
    the confirmation ("waiting") on screen."""
    times = []
    progress(f"{rounds} orders with a hanging centre, Place order to confirmation …")
    tag = "[flt-semantics-identifier='{}']".format
    os.kill(centre.process.pid, signal.SIGSTOP)
    try:
        page.locator(tag("sync-now")).click()  # the sync is now stuck on the centre
        for _ in range(rounds):
            page.locator(tag("nav-lookup")).click()
            field = _filled(page, "Scan card or enter email", CARDS[0][0])
            field.press("Enter")
            here = page.locator("[flt-semantics-identifier^='wish-stock-']", has_text="in this store").first
            here.wait_for(timeout=30000)
            sku = here.get_attribute("flt-semantics-identifier").removeprefix("wish-stock-")
            page.locator(tag(f"wish-ship-{sku}")).click()
            page.locator(tag("ship-review")).click()
            page.locator(tag("place-order")).wait_for(timeout=30000)
            started = time.perf_counter()
            page.locator(tag("place-order")).click()
            page.locator(tag("order-waiting")).wait_for(timeout=30000)
            times.append(time.perf_counter() - started)
    finally:
        os.kill(centre.process.pid, signal.SIGCONT)
    return times


def run(rounds: int = 30, progress=print, orders: int = 10) -> dict:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as missing:
        raise RuntimeError("the UI bench needs playwright (pip install -e '.[test]') and Chromium") from missing
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"the UI bench needs Chromium at {CHROMIUM} (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="clienteling-ui-bench-") as tmp:
        folder = Path(tmp)
        progress("starting a demo centre and the app …")
        centre = LocalCentre(folder, 5000)
        app_port = free_port()
        app_env = {
            **os.environ,
            "CLIENTELING_DATA_DIR": str(folder / "device"),
            "CLIENTELING_CENTRAL_URL": centre.url,
            "CLIENTELING_DEVICE_TOKEN": "demo-AMS01",
            "CLIENTELING_STORE": "AMS01",
            "CLIENTELING_LANG": "en",
        }
        with open(folder / "app.log", "ab") as log:
            app = subprocess.Popen(
                [sys.executable, "-m", "clienteling", "--web", "--port", str(app_port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=app_env,
            )
        try:
            wait_until_answers(f"http://127.0.0.1:{app_port}/", app, 120, "the app")
        except RuntimeError:
            centre.stop()
            raise
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"http://127.0.0.1:{app_port}/")
                page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=60000)
                page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
                page.locator("[flt-semantics-identifier^='staff-']", has_text="Lotte Visser").first.click(timeout=30000)
                _filled(page, "PIN", "112233").press("Enter")
                name = page.locator("[flt-semantics-identifier='customer-name']")
                wishlist = page.locator("[flt-semantics-identifier='customer-body']")
                times, whole = [], []
                progress(f"{rounds} scans, Enter to customer screen …")
                for round_no in range(rounds + 3):  # the first three warm the page and the cache up
                    card, expected = CARDS[round_no % len(CARDS)]
                    page.locator("[flt-semantics-identifier='nav-lookup']").click()
                    field = _filled(page, "Scan card or enter email", card)
                    started = time.perf_counter()
                    field.press("Enter")
                    name.filter(has_text=expected).wait_for(timeout=30000)
                    named = time.perf_counter()
                    wishlist.first.wait_for(timeout=30000)
                    if round_no >= 3:
                        times.append(named - started)
                        whole.append(time.perf_counter() - started)
                placing = _orders_with_a_hanging_centre(page, centre, orders, progress)
                browser.close()
        finally:
            app.terminate()
            app.wait(30)
            centre.stop()
    return {
        "ui_rounds": rounds,
        "ui_enter_to_customer_p50_ms": round(percentile(times, 0.5) * 1000, 1),
        "ui_enter_to_customer_p90_ms": round(percentile(times, 0.9) * 1000, 1),
        "ui_enter_to_customer_max_ms": round(max(times) * 1000, 1),
        "ui_enter_to_wishlist_p50_ms": round(percentile(whole, 0.5) * 1000, 1),
        "ui_enter_to_wishlist_p90_ms": round(percentile(whole, 0.9) * 1000, 1),
        "ui_orders_hanging_centre": len(placing),
        "ui_place_order_hanging_centre_p50_ms": round(percentile(placing, 0.5) * 1000, 1),
        "ui_place_order_hanging_centre_max_ms": round(max(placing) * 1000, 1),
    }


def main(as_json: bool, rounds: int) -> int:
    try:
        results = run(rounds, progress=(lambda _: None) if as_json else print)
    except Exception as problem:  # noqa: BLE001 - a failed measurement is a message, not a trace
        print(f"clienteling bench --ui: {problem}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(results))
    else:
        print(
            f"Enter in the scan field to the customer screen, {rounds} scans in Chromium: "
            f"p50 {results['ui_enter_to_customer_p50_ms']} ms, p90 {results['ui_enter_to_customer_p90_ms']} ms, "
            f"max {results['ui_enter_to_customer_max_ms']} ms; to the wishlist with its stock: "
            f"p50 {results['ui_enter_to_wishlist_p50_ms']} ms, p90 {results['ui_enter_to_wishlist_p90_ms']} ms"
        )
        print(
            f"Place order to its confirmation with the centre hanging, {results['ui_orders_hanging_centre']} orders: "
            f"p50 {results['ui_place_order_hanging_centre_p50_ms']} ms, "
            f"max {results['ui_place_order_hanging_centre_max_ms']} ms (target: under 300 ms)"
        )
    return 0
