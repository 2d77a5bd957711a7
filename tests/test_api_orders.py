"""Ship-to-home orders: stock checks and reservation, and the idempotency rules, over real HTTP."""

from __future__ import annotations

import threading

import httpx
import pytest
from conftest import new_key
from test_api_customers import assert_problem

from clienteling.contract import Order

pytestmark = pytest.mark.both_backends  # every test here runs on SQLite and on PostgreSQL

ADDRESS = {"street": "Kalverstraat", "house_number": "1", "postcode": "1012NX", "city": "Amsterdam"}


def available(api: httpx.Client, sku: str, store: str) -> int:
    levels = api.get(f"/v1/stock/{sku}").json()["levels"]
    return next(level["available"] for level in levels if level["store"] == store)


def sku_with_stock(api: httpx.Client, store: str, at_least: int, category: str) -> str:
    """A SKU with at least `at_least` available at `store`, from a category this test alone uses."""
    for product in api.get("/v1/products/search", params={"q": category}).json():
        for variant in product["variants"]:
            if available(api, variant["sku"], store) >= at_least:
                return variant["sku"]
    raise AssertionError(f"no {category} with {at_least} available at {store}")


def order_body(sku: str, quantity: int = 1, store: str = "DC01", customer: str = "C0000010") -> dict:
    return {
        "customer_id": customer,
        "fulfilling_store": store,
        "lines": [{"sku": sku, "quantity": quantity}],
        "shipping_address": ADDRESS,
        "placed_by": "S0001",
    }


def test_order_is_placed_priced_by_the_centre_and_reserves_stock(api):
    sku = sku_with_stock(api, "DC01", 2, "coats")
    before = available(api, sku, "DC01")
    price = api.get(f"/v1/products/by-code/{sku}").json()["variant"]["price"]["cents"]
    response = api.post("/v1/orders/ship-to-home", json=order_body(sku, 2), headers={"Idempotency-Key": new_key()})
    assert response.status_code == 201, response.text
    order = Order.model_validate(response.json())
    assert order.number.startswith("ORD-") and order.status == "reserved"
    assert (order.channel, order.fulfilment, order.store, order.fulfilled_by) == ("store", "delivery", "AMS01", "DC01")
    assert order.lines[0].unit_price.cents == price and order.totals.subtotal.cents == 2 * price
    assert order.totals.total.cents == order.totals.subtotal.cents + order.totals.shipping.cents
    assert order.shipping_address.postcode == "1012 NX"
    assert available(api, sku, "DC01") == before - 2
    assert api.get(f"/v1/orders/{order.number}").json()["number"] == order.number
    assert order.number in [o["number"] for o in api.get("/v1/customers/C0000010/orders").json()]


def test_not_enough_stock_is_a_409_and_reserves_nothing(api):
    sku = sku_with_stock(api, "AMS01", 1, "trousers")
    before = available(api, sku, "AMS01")
    response = api.post(
        "/v1/orders/ship-to-home", json=order_body(sku, before + 1, "AMS01"), headers={"Idempotency-Key": new_key()}
    )
    body = assert_problem(response, 409, "out_of_stock")
    assert body["lines"] == [{"sku": sku, "requested": before + 1, "available": before}]
    assert sku in body["detail"]
    assert available(api, sku, "AMS01") == before


def test_replayed_order_command_returns_the_same_order(api):
    sku = sku_with_stock(api, "DC01", 2, "knitwear")
    before = available(api, sku, "DC01")
    key, body = new_key(), order_body(sku)
    first = api.post("/v1/orders/ship-to-home", json=body, headers={"Idempotency-Key": key})
    again = api.post("/v1/orders/ship-to-home", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert available(api, sku, "DC01") == before - 1


def test_twenty_concurrent_replays_create_exactly_one_order(central, api):
    sku = sku_with_stock(api, "DC01", 1, "sneakers")
    before = available(api, sku, "DC01")
    orders_before = len(api.get("/v1/customers/C0000011/orders").json())
    key, body = new_key(), order_body(sku, customer="C0000011")
    start = threading.Barrier(20)
    answers: list[httpx.Response] = []

    def send() -> None:
        with central.client() as client:
            start.wait()
            answers.append(client.post("/v1/orders/ship-to-home", json=body, headers={"Idempotency-Key": key}))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * 20
    assert len({a.json()["number"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19
    assert len(api.get("/v1/customers/C0000011/orders").json()) == orders_before + 1
    assert available(api, sku, "DC01") == before - 1


def test_same_key_with_another_body_is_refused(api):
    sku = sku_with_stock(api, "DC01", 2, "coats")
    key = new_key()
    assert (
        api.post("/v1/orders/ship-to-home", json=order_body(sku), headers={"Idempotency-Key": key}).status_code == 201
    )
    before = available(api, sku, "DC01")
    response = api.post("/v1/orders/ship-to-home", json=order_body(sku, 2), headers={"Idempotency-Key": key})
    assert_problem(response, 422, "idempotency_key_reused")
    assert available(api, sku, "DC01") == before


def test_a_refusal_is_remembered_under_its_key(api):
    """A retried refused command gets the same refusal, even once stock has come in."""
    sku = sku_with_stock(api, "AMS01", 1, "knitwear")
    too_many = available(api, sku, "AMS01") + 1
    key, body = new_key(), order_body(sku, too_many, "AMS01")
    first = api.post("/v1/orders/ship-to-home", json=body, headers={"Idempotency-Key": key})
    again = api.post("/v1/orders/ship-to-home", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 409
    assert first.json() == again.json()


def test_ordering_a_wishlist_item_takes_it_off_the_wishlist(api):
    wishlist = api.get("/v1/customers/C0000001/wishlist").json()
    candidates = [item["sku"] for item in wishlist if available(api, item["sku"], "DC01") >= 1]
    sku = candidates[-1]
    response = api.post(
        "/v1/orders/ship-to-home", json=order_body(sku, customer="C0000001"), headers={"Idempotency-Key": new_key()}
    )
    assert response.status_code == 201, response.text
    assert sku not in [item["sku"] for item in api.get("/v1/customers/C0000001/wishlist").json()]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"customer_id": "C9999999"}, "unknown_customer"),
        ({"fulfilling_store": "ZZZ99"}, "unknown_store"),
        ({"lines": [{"sku": "NOPE-1", "quantity": 1}]}, "unknown_sku"),
    ],
)
def test_commands_naming_unknown_things_are_refused(api, change, code):
    assert_problem(
        api.post(
            "/v1/orders/ship-to-home",
            json={**order_body("CT01-NVY-M"), **change},
            headers={"Idempotency-Key": new_key()},
        ),
        422,
        code,
    )


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (order_body("CT01-NVY-M"), {}),  # no Idempotency-Key
        (order_body("CT01-NVY-M"), {"Idempotency-Key": "short"}),
        ({**order_body("CT01-NVY-M"), "shipping_address": {**ADDRESS, "postcode": "1012 SS"}}, None),
        ({**order_body("CT01-NVY-M"), "lines": [{"sku": "CT01-NVY-M", "quantity": 0}]}, None),
        ({**order_body("CT01-NVY-M"), "total_price": 1}, None),  # unknown fields are refused, not ignored
        ({**order_body("CT01-NVY-M"), "shipping_address": {**ADDRESS, "county": "NH"}}, None),  # inside, too
        ({**order_body("CT01-NVY-M"), "lines": [{"sku": "CT01-NVY-M", "quantity": 1, "discount": 5}]}, None),
    ],
)
def test_invalid_commands_are_422_problems(api, body, headers):
    headers = {"Idempotency-Key": new_key()} if headers is None else headers
    body = assert_problem(api.post("/v1/orders/ship-to-home", json=body, headers=headers), 422, "invalid_request")
    assert body["errors"]


@pytest.mark.parametrize(
    ("content", "status", "code"), [(b'{"customer_id": ', 422, "invalid_request"), (b"s\xffi", 422, "invalid_request")]
)
def test_a_body_that_is_not_json_is_a_problem(api, content, status, code):
    response = api.post(
        "/v1/orders/ship-to-home",
        content=content,
        headers={"Idempotency-Key": new_key(), "Content-Type": "application/json"},
    )
    assert_problem(response, status, code)
