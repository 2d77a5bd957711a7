"""Exchanges at the service desk (issue 14): a return whose refund is replaced by another size or colour of the same
style, handed over now or shipped to her home, done by the centre all at once or not at all, over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import new_key
from test_api_customers import assert_problem
from test_api_returns import orders_of

from clienteling import rules
from clienteling.contract import Order, Product, Return, utc_now

pytestmark = pytest.mark.both_backends  # every test here runs on SQLite and on PostgreSQL


TAKEN: set[str] = set()


def returnable_order(central) -> Order:
    """A delivered online order inside its window whose first line can go back, of a customer that other tests leave
    alone (C0000031 on), each order once; found in the centre's database."""
    now = utc_now()
    for (doc,) in central.rows("SELECT doc FROM orders WHERE customer_id > 'C0000030' ORDER BY id"):
        order = Order.model_validate_json(doc) if isinstance(doc, str) else Order.model_validate(doc)
        if order.number in TAKEN or order.fulfilment != "delivery" or order.shipping_address is None:
            continue
        if rules.return_eligibility(order, now + timedelta(days=1)).lines[0].left >= 1:  # a day's margin
            TAKEN.add(order.number)
            return order
    raise AssertionError("no returnable order left")


def level(api, sku: str, store: str) -> dict:
    levels = api.get(f"/v1/stock/{sku}").json()["levels"]
    return next((entry for entry in levels if entry["store"] == store), {"on_hand": 0, "reserved": 0, "available": 0})


def other_variant(api, order: Order, line_no: int, *, here: str | None = None, at_least: int = 1) -> tuple[str, str]:
    """Another size or colour of the line's style and a place that has it (`here` if given and it has it)."""
    sku = order.lines[line_no - 1].sku
    product = Product.model_validate(api.get(f"/v1/products/by-code/{sku}").json()["product"])
    for variant in rules.exchange_options(product, sku):
        levels = api.get(f"/v1/stock/{variant.sku}").json()["levels"]
        for entry in levels:
            if entry["available"] >= at_least and (here is None or entry["store"] == here):
                return variant.sku, entry["store"]
    raise AssertionError(f"no other variant of {sku} in stock" + (f" at {here}" if here else ""))


def exchange_body(order: Order, sku: str, fulfilment: str, from_store: str | None = None, line_no: int = 1) -> dict:
    return {
        "order_number": order.number,
        "lines": [{"line_no": line_no, "quantity": 1, "reason": "too_small", "condition": "resellable"}],
        "replacements": [{"line_no": line_no, "sku": sku, "fulfilment": fulfilment, "from_store": from_store}],
        "received_by": "S0002",
    }


def new_events(central, after: int) -> list[tuple[str, str]]:
    return [tuple(r) for r in central.rows("SELECT type, subject FROM events WHERE id > ? ORDER BY id", (after,))]


def last_event(central) -> int:
    return central.rows("SELECT coalesce(max(id), 0) FROM events")[0][0]


def test_a_size_exchanged_in_store_is_handed_over_with_no_refund(api, central):
    order = returnable_order(central)
    line = order.lines[0]
    sku, _ = other_variant(api, order, 1, here="AMS01")
    returned_before, taken_before = level(api, line.sku, "AMS01"), level(api, sku, "AMS01")
    events_before = last_event(central)
    response = api.post(
        "/v1/exchanges", json=exchange_body(order, sku, "in_store"), headers={"Idempotency-Key": new_key()}
    )
    assert response.status_code == 201, response.text
    receipt = Return.model_validate(response.json())
    assert receipt.number.startswith("RET-") and receipt.refund.cents == 0
    assert receipt.lines[0].exchanged_for == sku and receipt.lines[0].refund.cents == 0
    assert len(receipt.replacement_orders) == 1
    replacement = Order.model_validate(api.get(f"/v1/orders/{receipt.replacement_orders[0]}").json())
    assert replacement.channel == "store" and replacement.fulfilment == "in_store" and replacement.status == "completed"
    assert replacement.store == replacement.fulfilled_by == "AMS01" and replacement.placed_by == "S0002"
    assert [(x.sku, x.quantity) for x in replacement.lines] == [(sku, 1)]
    assert replacement.lines[0].unit_price == line.unit_price  # what she paid for the one she brought back
    assert replacement.totals.total == line.unit_price and replacement.totals.shipping.cents == 0
    after = Order.model_validate(api.get(f"/v1/orders/{order.number}").json())
    assert after.lines[0].returned_quantity == line.returned_quantity + 1
    assert level(api, line.sku, "AMS01")["on_hand"] == returned_before["on_hand"] + 1  # back on the shelf
    assert level(api, sku, "AMS01")["on_hand"] == taken_before["on_hand"] - 1  # handed over
    assert new_events(central, events_before) == [
        ("return.registered", f"order:{order.number}"),
        ("order.created", f"order:{replacement.number}"),
    ]


def test_a_colour_not_here_is_shipped_to_her_home_from_where_it_is(api, central):
    order = returnable_order(central)
    line = order.lines[0]
    product = Product.model_validate(api.get(f"/v1/products/by-code/{line.sku}").json()["product"])
    sku, store = next(
        (variant.sku, entry["store"])
        for variant in rules.exchange_options(product, line.sku)
        for entry in api.get(f"/v1/stock/{variant.sku}").json()["levels"]
        if entry["store"] != "AMS01" and entry["available"] >= 1
    )
    before = level(api, sku, store)
    response = api.post(
        "/v1/exchanges", json=exchange_body(order, sku, "delivery", store), headers={"Idempotency-Key": new_key()}
    )
    assert response.status_code == 201, response.text
    receipt = Return.model_validate(response.json())
    replacement = Order.model_validate(api.get(f"/v1/orders/{receipt.replacement_orders[0]}").json())
    assert replacement.fulfilment == "delivery" and replacement.status == "reserved"
    assert replacement.store == "AMS01" and replacement.fulfilled_by == store
    assert replacement.shipping_address == order.shipping_address and replacement.totals.shipping.cents == 0
    assert level(api, sku, store)["reserved"] == before["reserved"] + 1
    assert receipt.refund.cents == 0


def test_out_of_stock_refuses_the_whole_exchange_and_nothing_is_returned(api, central):
    order = returnable_order(central)
    line = order.lines[0]
    sku, _ = other_variant(api, order, 1, here="AMS01")
    on_hand = level(api, sku, "AMS01")["on_hand"]
    central.execute("UPDATE stock SET on_hand = reserved WHERE store = 'AMS01' AND sku = ?", (sku,))  # sold meanwhile
    shelf_before = level(api, line.sku, "AMS01")
    events_before = last_event(central)
    key = new_key()
    body = exchange_body(order, sku, "in_store")
    refused = assert_problem(
        api.post("/v1/exchanges", json=body, headers={"Idempotency-Key": key}), 409, "out_of_stock"
    )
    assert refused["store"] == "AMS01" and refused["lines"][0]["sku"] == sku and "refund" in refused["detail"]
    assert Order.model_validate(api.get(f"/v1/orders/{order.number}").json()) == order  # nothing returned
    assert level(api, line.sku, "AMS01")["on_hand"] == shelf_before["on_hand"]  # nothing restocked
    assert new_events(central, events_before) == []
    again = api.post("/v1/exchanges", json=body, headers={"Idempotency-Key": key})
    assert again.status_code == 409 and again.json() == refused  # the same refusal for the same request
    refund = api.post(
        "/v1/returns",
        json={"order_number": order.number, "lines": body["lines"], "received_by": "S0002"},
        headers={"Idempotency-Key": new_key()},
    )
    assert refund.status_code == 201 and refund.json()["refund"]["cents"] == line.unit_price.cents  # the way forward
    central.execute("UPDATE stock SET on_hand = ? WHERE store = 'AMS01' AND sku = ?", (on_hand, sku))


def test_a_replayed_exchange_gives_the_same_answer_and_takes_stock_once(api, central):
    order = returnable_order(central)
    sku, _ = other_variant(api, order, 1, here="AMS01")
    before = level(api, sku, "AMS01")
    key, body = new_key(), exchange_body(order, sku, "in_store")
    first = api.post("/v1/exchanges", json=body, headers={"Idempotency-Key": key})
    again = api.post("/v1/exchanges", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert level(api, sku, "AMS01")["on_hand"] == before["on_hand"] - 1
    numbers = [o.number for o in orders_of(api, order.customer_id)]
    assert numbers.count(first.json()["replacement_orders"][0]) == 1
    other = dict(body, received_by="S0001")
    assert_problem(
        api.post("/v1/exchanges", json=other, headers={"Idempotency-Key": key}), 422, "idempotency_key_reused"
    )


def test_what_may_not_be_exchanged_is_refused_with_its_code(api, central):
    order = returnable_order(central)
    line = order.lines[0]
    same = exchange_body(order, line.sku, "in_store")
    assert_problem(
        api.post("/v1/exchanges", json=same, headers={"Idempotency-Key": new_key()}), 422, "exchange_same_item"
    )
    style = line.sku.split("-")[0]
    products = api.get("/v1/sync/products", params={"after": 0, "limit": 50}).json()["items"]
    foreign = next(p["variants"][0]["sku"] for p in products if p["style"] != style)
    other = exchange_body(order, foreign, "in_store")
    body = assert_problem(
        api.post("/v1/exchanges", json=other, headers={"Idempotency-Key": new_key()}), 422, "exchange_other_style"
    )
    assert body["sku"] == foreign
    sku, _ = other_variant(api, order, 1)
    loose = exchange_body(order, sku, "in_store")
    loose["replacements"][0]["line_no"] = 2 if len(order.lines) > 1 else 7
    assert_problem(
        api.post("/v1/exchanges", json=loose, headers={"Idempotency-Key": new_key()}), 422, "exchange_line_not_returned"
    )
    elsewhere = exchange_body(order, sku, "in_store", "UTR01")
    assert_problem(
        api.post("/v1/exchanges", json=elsewhere, headers={"Idempotency-Key": new_key()}), 422, "invalid_request"
    )
    nowhere = exchange_body(order, sku, "delivery")
    assert_problem(
        api.post("/v1/exchanges", json=nowhere, headers={"Idempotency-Key": new_key()}), 422, "unknown_store"
    )
    bought_here = next(o for o in orders_of(api, "C0000001") if o.fulfilment == "in_store")
    assert_problem(
        api.post(
            "/v1/exchanges", json=exchange_body(bought_here, sku, "in_store"), headers={"Idempotency-Key": new_key()}
        ),
        422,
        "not_an_online_order",
    )
    assert Order.model_validate(api.get(f"/v1/orders/{order.number}").json()) == order
