"""Prices and promotions are the same in every channel (issue 13): a promotion the webshop sends applies to a
ship-to-home order in the store; the device's review shows the promoted price and the centre charges it; a gold
member ships free everywhere. One pricing function (rules.price_order) decides on both ends; a real centre and a
real device, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from conftest import Central, clienteling, demo_centre, new_key
from test_api_orders import order_body

from clienteling.config import Settings
from clienteling.contract import Order, utc_now
from clienteling.device import Device

pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    with demo_centre(backend, tmp_path_factory.mktemp("promotions"), 60) as server:
        yield server


@pytest.fixture(scope="module")
def webshop(centre: Central):
    made = clienteling("central", "add-integration", "--name", "webshop", "--may", "promotions", "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    with centre.client(made.stdout.strip()) as client:
        yield client


def promotion(promotion_id: str, percent: int, **fields) -> dict:
    now = utc_now()
    return {
        "id": promotion_id,
        "name": "20 % off trousers this week (newsletter)",
        "percent_off": percent,
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=6)).isoformat(),
        "updated_at": now.isoformat(),
        **fields,
    }


def send(webshop, *records: dict) -> dict:
    answer = webshop.post(
        "/v1/ingest/promotions",
        content="\n".join(json.dumps(r) for r in records),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def a_customer(centre: Central, tiers: tuple[str, ...]) -> str:
    marks = ", ".join(f"'{t}'" for t in tiers)
    return centre.rows(
        f"SELECT id FROM customers WHERE home_store = 'AMS01' AND doc->>'tier' IN ({marks}) ORDER BY id LIMIT 1"
    )[0][0]


def stocked(centre: Central, category: str) -> tuple[str, int]:
    """A SKU of `category` with at least 3 available at the DC, and its catalogue price."""
    for style, doc in centre.rows("SELECT id, CAST(doc AS TEXT) FROM products ORDER BY id"):
        product = json.loads(doc)
        if product["category"] != category:
            continue
        for variant in product["variants"]:
            level = centre.rows(
                "SELECT on_hand - reserved FROM stock WHERE store = 'DC01' AND sku = ?", (variant["sku"],)
            )
            if level and level[0][0] >= 3:
                return variant["sku"], variant["price"]["cents"]
    raise AssertionError(f"no {category} in stock at DC01")


def test_the_webshops_promotion_is_on_the_review_and_the_centre_charges_it(centre, webshop, tmp_path) -> None:
    report = send(
        webshop,
        {"version": 1, "data": promotion("PROMO-TROUSERS", 20, categories=["trousers"])},
        {"version": 1, "data": promotion("PROMO-WEB-ONLY", 50, categories=["trousers"], channels=["web"])},
        {"version": 1, "data": promotion("PROMO-BACKWARDS", 10, categories=["coats"], ends_at="2020-01-01T00:00:00Z")},
    )
    assert report["accepted"] == 2 and report["lines"][0]["code"] == "invalid_record"
    sku, list_cents = stocked(centre, "trousers")
    customer = a_customer(centre, ("basic", "silver"))
    settings = Settings.load(tmp_path / "device", central_url=centre.url, device_token="demo-AMS01", store="AMS01")
    with Device(settings) as device:
        assert device.sync_now().ok
        quote = device.quote_ship_to_home([(sku, 2)], customer)  # what the review screen shows
        (line,) = quote.lines
        assert line.unit.promotion is not None and line.unit.promotion.id == "PROMO-TROUSERS"  # not the web's 50 %
        assert line.unit.price.cents == (list_cents * 80 + 50) // 100 and line.unit.list_price.cents == list_cents
        placed = device.place_ship_to_home(customer, [(sku, 2)], fulfilling_store="DC01")
        assert placed.state == "sent", placed.reason
    with centre.client() as client:
        order = Order.model_validate(client.get(f"/v1/orders/{placed.number}").json())
    assert order.totals == quote.totals
    assert (order.lines[0].promotion, order.lines[0].list_price.cents) == ("PROMO-TROUSERS", list_cents)


def test_a_promotion_that_has_ended_or_is_for_another_category_changes_no_price(centre, webshop) -> None:
    now = utc_now()
    send(
        webshop,
        {"version": 1, "data": promotion("PROMO-OVER", 30, categories=["knitwear"], ends_at=now.isoformat(),
                                         starts_at=(now - timedelta(days=7)).isoformat())},
    )  # fmt: skip
    sku, list_cents = stocked(centre, "knitwear")
    customer = a_customer(centre, ("basic", "silver"))
    with centre.client() as client:
        placed = client.post(
            "/v1/orders/ship-to-home", json=order_body(sku, customer=customer), headers={"Idempotency-Key": new_key()}
        )
    assert placed.status_code == 201, placed.text
    line = placed.json()["lines"][0]
    assert (line["unit_price"]["cents"], line["promotion"], line["list_price"]) == (list_cents, None, None)


def test_a_gold_member_ships_free_at_the_centre_whatever_the_order(centre) -> None:
    sku, _ = stocked(centre, "sneakers")
    gold, silver = a_customer(centre, ("gold", "platinum")), a_customer(centre, ("basic", "silver"))
    with centre.client() as client:
        orders = {
            who: client.post(
                "/v1/orders/ship-to-home", json=order_body(sku, customer=who), headers={"Idempotency-Key": new_key()}
            ).json()
            for who in (gold, silver)
        }
    assert orders[gold]["totals"]["shipping"]["cents"] == 0
    shipping = orders[silver]["totals"]["shipping"]["cents"]
    assert shipping == (0 if orders[silver]["totals"]["subtotal"]["cents"] >= 50_00 else 4_95)
