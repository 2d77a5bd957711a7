"""The retailer's systems in the app (issue 13), in a real browser: what the loyalty system, the ERP and the webshop
sent reaches the screens with where it came from and how old it is, and the webshop's promotion is on the review
and charged by the centre."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import clienteling, start_central
from test_browser import SANNE_CARD, App, Screen, browser, centre_orders  # noqa: F401 - browser is a fixture

from clienteling.contract import utc_now
from clienteling.ui.i18n import money


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    folder = tmp_path_factory.mktemp("integrations-centre")
    server = start_central(folder / "central.db", "--demo", "--customers", "100")
    yield server
    server.process.poll() is None and server.stop()


def ingest(centre, system: str, may: str, collection: str, *records: dict) -> None:
    made = clienteling("central", "add-integration", "--name", system, "--may", may, "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    with centre.client(made.stdout.strip()) as client:
        answer = client.post(
            f"/v1/ingest/{collection}",
            content="\n".join(json.dumps(r) for r in records),
            headers={"Content-Type": "application/x-ndjson"},
        )
    assert answer.status_code == 200 and answer.json()["accepted"] == len(records), answer.text


def test_facts_from_the_retailers_systems_show_their_source_and_the_promotion_is_charged(centre, browser, tmp_path):  # noqa: F811
    now = utc_now()
    wished = [sku for (sku,) in centre.rows("SELECT doc->>'sku' FROM wishlists WHERE customer_id = 'C0000001'")]
    sku, category, list_cents = next(
        (sku, product["category"], variant["price"]["cents"])
        for sku in wished
        for (doc,) in centre.rows(
            "SELECT p.doc FROM variants v JOIN products p ON p.id = v.style WHERE v.sku = ?", (sku,)
        )
        for product in [json.loads(doc)]
        for variant in product["variants"]
        if variant["sku"] == sku and centre.rows("SELECT on_hand FROM stock WHERE id = ?", (f"AMS01:{sku}",))[0][0] > 0
    )
    ingest(
        centre,
        "loyalty",
        "customers",
        "customers",
        {"updated_at": (now - timedelta(minutes=2)).isoformat(), "data": {"id": "C0000001", "points": 2350}},
    )
    ingest(
        centre,
        "erp",
        "stock",
        "stock",
        {"data": {"store": "AMS01", "sku": sku, "on_hand": 6, "as_of": (now - timedelta(minutes=3)).isoformat()}},
    )
    ingest(centre, "webshop", "promotions", "promotions", {"version": 1, "data": {
        "id": "NEWSLETTER-W49", "name": f"20 % off {category} this week", "percent_off": 20, "categories": [category],
        "starts_at": (now - timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=6)).isoformat(),
        "updated_at": now.isoformat()}})  # fmt: skip

    app = App(tmp_path / "data", centre.url)
    try:
        screen = Screen(browser, app.url)
        screen.sign_in("Lotte Visser", "112233")
        screen.scan(SANNE_CARD)
        assert screen.text_of("customer-sources").startswith("from the loyalty system, 2 minutes ago")
        assert "2,350" in screen.text_of("customer-points")
        screen.shot("customer-sources")
        screen.see(f"wish-stock-btn-{sku}").click()
        assert screen.text_of("stock-here-age") == "from the ERP, 3 minutes ago"
        screen.shot("stock-source")
        screen.see("nav-lookup").click()
        screen.scan(SANNE_CARD)
        screen.see(f"wish-ship-{sku}").click()
        screen.see("ship-review").click()
        promoted = (list_cents * 80 + 50) // 100
        said = screen.text_of("review-promotion")
        assert said.startswith(f"{money(promoted, 'en')} instead of {money(list_cents, 'en')}"), said
        assert screen.text_of("review-shipping") == "Shipping free (Gold member)"  # Sanne is gold
        screen.shot("ship-to-home-promotion")
        before = {o["number"] for o in centre_orders(centre, "C0000001")}
        screen.see("place-order").click()
        screen.see("order-number")
        screen.close()
    finally:
        app.stop()
    (placed,) = [o for o in centre_orders(centre, "C0000001") if o["number"] not in before]
    assert placed["lines"][0]["unit_price"]["cents"] == promoted and placed["lines"][0]["promotion"] == "NEWSLETTER-W49"
