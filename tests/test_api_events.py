"""`GET /v1/events`: the outbox of events, pulled by an integration (issue 13). A real centre over real HTTP, on both
backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import Central, demo_centre, new_key
from test_api_customers import assert_problem
from test_api_orders import order_body, sku_with_stock
from test_ingest import integration

from clienteling.contract import Event, Order

pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    with demo_centre(backend, tmp_path_factory.mktemp("events"), 60) as server:
        yield server


def test_an_integration_reads_the_events_after_its_cursor_in_order(centre: Central):
    reader = integration(centre, "erp", "stock")  # any integration may read events, whatever it may write
    first = reader.get("/v1/events", params={"after": 0, "limit": 1000})
    assert first.status_code == 200, first.text
    start = first.json()["next"]
    assert start == (first.json()["items"][-1]["id"] if first.json()["items"] else 0)
    with centre.client() as store:
        placed = []
        for _ in range(3):
            sku = sku_with_stock(store, "DC01", 1, "coats")
            answer = store.post("/v1/orders/ship-to-home", json=order_body(sku), headers={"Idempotency-Key": new_key()})
            assert answer.status_code == 201, answer.text
            placed.append(Order.model_validate(answer.json()).number)
    page = reader.get("/v1/events", params={"after": start, "limit": 2}).json()
    events = [Event.model_validate(item) for item in page["items"]]
    assert len(events) == 2 and page["next"] == events[-1].id
    rest = reader.get("/v1/events", params={"after": page["next"]}).json()
    events += [Event.model_validate(item) for item in rest["items"]]
    ids = [event.id for event in events]
    assert ids == sorted(ids) and len(set(ids)) == 3 and min(ids) > start
    assert [event.subject for event in events] == [f"order:{number}" for number in placed]
    assert all(event.type == "order.created" for event in events)
    assert [event.data["number"] for event in events] == placed
    assert centre.rows("SELECT count(*) FROM events WHERE id > ?", (start,))[0][0] == 3
    empty = reader.get("/v1/events", params={"after": rest["next"]}).json()
    assert empty == {"items": [], "next": rest["next"]}


def test_only_an_integration_reads_events(centre: Central):
    with centre.client() as device:
        assert_problem(device.get("/v1/events"), 403, "forbidden")
    with centre.client(None) as nobody:
        assert_problem(nobody.get("/v1/events"), 401, "unauthorized")
    reader = integration(centre, "pim", "products")
    assert_problem(reader.get("/v1/events", params={"after": -1}), 422, "invalid_request")
    assert_problem(reader.get("/v1/events", params={"limit": 0}), 422, "invalid_request")
    assert_problem(reader.get("/v1/events", params={"after": 2**63}), 422, "invalid_request")  # beyond a bigint
