"""No input gives a 500: extreme timestamps, quantities that are not integers, NUL bytes and bodies that are not
UTF-8 are each a 422 problem that says what is wrong, over real HTTP against a real centre (issue 11 §2)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import database_for, drop_postgres_database, new_key
from test_api_customers import assert_problem
from test_api_orders import ADDRESS, available, order_body, sku_with_stock

from clienteling import rules
from clienteling.central.app import create_app
from clienteling.central.demo import build_demo
from clienteling.contract import CENTRE_HEADER

pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL

VIEWS = "/v1/customers/C0000020/views"
RETURN_LINE = {"line_no": 1, "quantity": 1, "reason": "too_small", "condition": "resellable"}
NOW = datetime.now(UTC).replace(microsecond=0)


def view(api: httpx.Client, viewed_at: str, staff_id: str = "S0001") -> httpx.Response:
    return api.post(VIEWS, json={"staff_id": staff_id, "viewed_at": viewed_at}, headers={"Idempotency-Key": new_key()})


@pytest.mark.parametrize(
    "viewed_at",
    [
        "0001-01-01T00:00:00+23:59",  # before year 1 in UTC: Python cannot even express it
        "9999-12-31T23:59:59-23:59",  # after year 9999 in UTC
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1970-01-01T00:00:00+00:00",
    ],
)
def test_an_extreme_view_time_is_a_422_that_says_so_and_the_connection_lives_on(api, viewed_at):
    response = view(api, viewed_at)
    assert response.status_code == 422, response.text
    body = assert_problem(response, 422, response.json()["code"])
    assert body["code"] in ("invalid_request", "implausible_time")  # not expressible in UTC / outside the window
    assert "viewed_at" in body["detail"]
    assert api.get("/health").status_code == 200  # the same connection still answers


def test_a_view_too_far_ahead_or_too_long_ago_is_refused_and_a_recent_one_is_kept(api):
    ahead = NOW + rules.CLOCK_SKEW + timedelta(hours=1)
    body = assert_problem(view(api, ahead.isoformat()), 422, "implausible_time")
    assert "future" in body["detail"] and body["earliest"] and body["latest"]
    long_ago = NOW - rules.PROFILE_VIEW_MAX_AGE - timedelta(days=1)
    body = assert_problem(view(api, long_ago.isoformat()), 422, "implausible_time")
    assert "ago" in body["detail"]
    for fine in (NOW - timedelta(days=3), NOW + timedelta(minutes=1)):
        response = view(api, fine.isoformat())
        assert response.status_code == 201, response.text
        assert datetime.fromisoformat(response.json()["viewed_at"]) == fine


def test_the_window_follows_the_centres_clock_to_the_second(tmp_path, backend):
    """The centre's clock is settable: the edges of the window are taken exactly, one second beyond is refused."""
    from clienteling.central.store import CentralStore

    now = datetime(2031, 5, 6, 12, 0, tzinfo=UTC)

    async def statuses(store: CentralStore) -> list[int]:
        app = create_app(store, demo=True)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://centre") as client:
            got = []
            for moment in (
                now + rules.CLOCK_SKEW,
                now + rules.CLOCK_SKEW + timedelta(seconds=1),
                now - rules.PROFILE_VIEW_MAX_AGE,
                now - rules.PROFILE_VIEW_MAX_AGE - timedelta(seconds=1),
            ):
                response = await client.post(
                    "/v1/customers/C0000001/views",
                    json={"staff_id": "S0001", "viewed_at": moment.isoformat()},
                    headers={"Authorization": "Bearer demo-AMS01", "Idempotency-Key": new_key()},
                )
                got.append(response.status_code)
            return got

    db = database_for(backend, tmp_path)
    try:
        build_demo(db, 10)
        store = CentralStore(db, clock=lambda: now)
        try:
            assert asyncio.run(statuses(store)) == [201, 422, 201, 422]
        finally:
            store.close()
    finally:
        if backend == "postgresql":
            drop_postgres_database(str(db))


@pytest.mark.parametrize("quantity", [True, "1", 1.0, 1.5, None])
def test_a_quantity_that_is_not_a_json_integer_is_a_422(api, quantity):
    sku = sku_with_stock(api, "DC01", 1, "coats")
    before = available(api, sku, "DC01")
    body = order_body(sku)
    body["lines"][0]["quantity"] = quantity
    problem = assert_problem(
        api.post("/v1/orders/ship-to-home", json=body, headers={"Idempotency-Key": new_key()}), 422, "invalid_request"
    )
    assert "quantity" in problem["detail"]
    assert available(api, sku, "DC01") == before


def test_a_return_line_quantity_of_true_is_a_422(api):
    body = {"order_number": "ORD-00000001", "lines": [{**RETURN_LINE, "quantity": True}]}
    problem = assert_problem(
        api.post("/v1/returns", json=body, headers={"Idempotency-Key": new_key()}), 422, "invalid_request"
    )
    assert "quantity" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/customers/C0000020/notes", {"text": "likes\u0000navy"}),
        ("/v1/customers/C0000020/notes", {"text": "likes navy", "author": "Lotte\u0000"}),
        ("/v1/orders/ship-to-home", {**order_body("CT01-NVY-M"), "placed_by": "Lotte\u0000Visser"}),
        ("/v1/orders/ship-to-home", {**order_body("CT01-NVY-M"), "shipping_address": {**ADDRESS, "city": "A\u0000"}}),
        ("/v1/returns", {"order_number": "ORD-00000001", "lines": [RETURN_LINE], "received_by": "\u0000"}),
    ],
)
def test_a_nul_character_in_text_is_a_422(api, path, body):
    problem = assert_problem(api.post(path, json=body, headers={"Idempotency-Key": new_key()}), 422, "invalid_request")
    assert "NUL" in problem["detail"]


def test_a_nul_character_in_a_search_is_a_422(api):
    assert_problem(api.get("/v1/customers/search", params={"q": "sa\u0000nne"}), 422, "invalid_request")
    assert_problem(api.get("/v1/products/search", params={"q": "coat\u0000"}), 422, "invalid_request")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"text": "caf\xe9 au lait"}',  # Latin-1, not UTF-8
        '{"text": "koffie"}'.encode("utf-16"),  # with a byte-order mark
        '{"text": "koffie"}'.encode("utf-16-le"),  # without one: json.loads alone would take it
        b'{"text": "a\x00b"}',  # a raw NUL byte is never JSON
    ],
)
def test_a_body_that_is_not_utf8_json_is_a_422_signed_by_the_centre(api, raw):
    response = api.post(
        "/v1/customers/C0000020/notes",
        content=raw,
        headers={"Idempotency-Key": new_key(), "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, "invalid_request")
    assert "UTF-8" in problem["detail"]
    assert response.headers[CENTRE_HEADER]
    assert api.get("/health").status_code == 200
