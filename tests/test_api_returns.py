"""Returns of online orders at the service desk: the rules and the refund, over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import new_key
from test_api_customers import assert_problem

from clienteling.contract import Order, Return, utc_now

pytestmark = pytest.mark.both_backends  # every test here runs on SQLite and on PostgreSQL


def orders_of(api, customer_id: str) -> list[Order]:
    return [Order.model_validate(o) for o in api.get(f"/v1/customers/{customer_id}/orders").json()]


def returnable_order(api, customer_id: str) -> Order:
    """A delivered online order of this customer inside its 30-day window, with items left to return."""
    now = utc_now()
    for order in orders_of(api, customer_id):
        if (
            order.status in ("delivered", "partially_returned")
            and now - order.delivered_at < timedelta(days=29)
            and any(line.returned_quantity < line.quantity for line in order.lines)
        ):
            return order
    raise AssertionError(f"{customer_id} has no returnable order")


def return_body(order: Order, line_no: int = 1, quantity: int = 1, condition: str = "resellable") -> dict:
    return {
        "order_number": order.number,
        "lines": [{"line_no": line_no, "quantity": quantity, "reason": "too_small", "condition": condition}],
        "received_by": "S0002",
    }


def available_here(api, sku: str) -> int:
    return api.get(f"/v1/stock/{sku}").json()["levels"][0]["on_hand"]


def test_sannes_recent_order_is_returned_with_its_refund(api):
    order = returnable_order(api, "C0000001")
    line = order.lines[0]
    on_hand_before = available_here(api, line.sku)
    response = api.post("/v1/returns", json=return_body(order), headers={"Idempotency-Key": new_key()})
    assert response.status_code == 201, response.text
    receipt = Return.model_validate(response.json())
    assert receipt.number.startswith("RET-") and receipt.store == "AMS01" and receipt.received_by == "S0002"
    assert receipt.refund.cents == line.unit_price.cents and receipt.lines[0].sku == line.sku
    after = Order.model_validate(api.get(f"/v1/orders/{order.number}").json())
    assert after.lines[0].returned_quantity == 1
    everything = len(order.lines) == 1 and line.quantity == 1
    assert after.status == ("returned" if everything else "partially_returned")
    assert available_here(api, line.sku) == on_hand_before + 1  # resellable goes back on the shelf here
    again = api.post("/v1/returns", json=return_body(order), headers={"Idempotency-Key": new_key()})
    body = assert_problem(again, 422, "return_quantity_exceeded")
    assert body["returnable"] == line.quantity - 1


def test_replayed_return_gives_the_same_receipt(api):
    order = returnable_order(api, "C0000002")
    key = new_key()
    body = return_body(order, condition="damaged")
    first = api.post("/v1/returns", json=body, headers={"Idempotency-Key": key})
    again = api.post("/v1/returns", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Order.model_validate(api.get(f"/v1/orders/{order.number}").json()).lines[0].returned_quantity == 1


def test_order_delivered_over_30_days_ago_is_refused(api):
    old = next(
        o for o in orders_of(api, "C0000001") if o.delivered_at and utc_now() - o.delivered_at > timedelta(days=31)
    )
    body = assert_problem(
        api.post("/v1/returns", json=return_body(old), headers={"Idempotency-Key": new_key()}),
        422,
        "return_window_closed",
    )
    assert "30-day" in body["detail"] and body["window_closed_at"]


def test_in_store_purchase_is_not_an_online_return(api):
    bought_here = next(o for o in orders_of(api, "C0000001") if o.fulfilment == "in_store")
    assert_problem(
        api.post("/v1/returns", json=return_body(bought_here), headers={"Idempotency-Key": new_key()}),
        422,
        "not_an_online_order",
    )


def test_unknown_order_and_unknown_line(api):
    line = {"line_no": 1, "quantity": 1, "reason": "other", "condition": "damaged"}
    missing = {"order_number": "ORD-99999999", "lines": [line]}
    assert_problem(
        api.post("/v1/returns", json=missing, headers={"Idempotency-Key": new_key()}), 404, "order_not_found"
    )
    order = returnable_order(api, "C0000001")
    assert_problem(
        api.post("/v1/returns", json=return_body(order, line_no=42), headers={"Idempotency-Key": new_key()}),
        422,
        "order_line_not_found",
    )


def test_more_than_was_bought_is_refused_and_changes_nothing(api):
    order = returnable_order(api, "C0000001")
    line = order.lines[-1]
    too_many = line.quantity - line.returned_quantity + 1
    assert_problem(
        api.post(
            "/v1/returns", json=return_body(order, line.line_no, too_many), headers={"Idempotency-Key": new_key()}
        ),
        422,
        "return_quantity_exceeded",
    )
    assert Order.model_validate(api.get(f"/v1/orders/{order.number}").json()).lines[-1] == line
