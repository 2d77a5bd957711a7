"""The change feed: paging, scope, tombstones and reset, over real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest
from conftest import clienteling, new_key
from test_api_customers import assert_problem

from clienteling.contract import Customer, Order, Product, StockLevel, Store, SyncPage, WishlistItem

pytestmark = pytest.mark.both_backends  # every test here runs on SQLite and on PostgreSQL

MODELS = {
    "stores": Store,
    "products": Product,
    "stock": StockLevel,
    "customers": Customer,
    "wishlists": WishlistItem,
    "orders": Order,
}


def pull(client: httpx.Client, collection: str, after: str = "0", limit: int = 500) -> tuple[dict, set[str], str]:
    """Follow the feed to its end: (rows by id, deleted ids, last cursor); every page is checked against the contract."""
    rows, deleted, cursor = {}, set(), after
    while True:
        response = client.get(f"/v1/sync/{collection}", params={"after": cursor, "limit": limit})
        assert response.status_code == 200, response.text
        page = SyncPage[MODELS[collection]].model_validate(response.json())
        assert position(page.next_cursor) >= position(cursor)
        for item in page.items:
            key = row_id(collection, item)
            rows[key] = item
            deleted.discard(key)
        for key in page.deleted:
            rows.pop(key, None)
            deleted.add(key)
        cursor = page.next_cursor
        if not page.has_more:
            return rows, deleted, cursor


def position(cursor: str) -> int:
    """The position a cursor (`[F]<centre>.<epoch>.<position>`, or `0`) stands at."""
    return int(cursor.rpartition(".")[2].lstrip("F"))


def row_id(collection: str, item) -> str:
    return {
        "stores": lambda i: i.code,
        "products": lambda i: i.style,
        "stock": lambda i: f"{i.store}:{i.sku}",
        "orders": lambda i: i.number,
    }.get(collection, lambda i: i.id)(item)


def test_paging_in_small_pages_gives_every_row_once(fresh_central):
    with fresh_central.client() as client:
        products, _, _ = pull(client, "products")
        variant_count = sum(len(p.variants) for p in products.values())
        seen: list[str] = []
        cursor = "0"
        while True:
            page = client.get("/v1/sync/stock", params={"after": cursor, "limit": 997}).json()
            seen += [f"{i['store']}:{i['sku']}" for i in page["items"]]
            assert len(page["items"]) <= 997
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        assert len(seen) == len(set(seen)) == 6 * variant_count
        last = client.get("/v1/sync/stock", params={"after": cursor}).json()
        assert last == {"items": [], "deleted": [], "next_cursor": cursor, "has_more": False}


def test_customer_feeds_are_scoped_to_the_devices_store(fresh_central):
    with fresh_central.client("demo-AMS01") as amsterdam, fresh_central.client("demo-UTR01") as utrecht:
        ams, _, _ = pull(amsterdam, "customers", limit=7)
        utr, _, _ = pull(utrecht, "customers")
        assert {"C0000001", "C0000003"} <= set(ams) and "C0000002" not in ams
        assert "C0000002" in utr and "C0000001" not in utr
        for customer_id, customer in ams.items():
            bought_here = any(
                o["store"] == "AMS01" for o in amsterdam.get(f"/v1/customers/{customer_id}/orders").json()
            )
            assert customer.home_store == "AMS01" or bought_here
        orders, _, _ = pull(amsterdam, "orders")
        wishlists, _, _ = pull(amsterdam, "wishlists")
        assert orders and wishlists
        assert {o.customer_id for o in orders.values()} <= set(ams)
        assert {w.customer_id for w in wishlists.values()} <= set(ams)


def test_changes_after_a_cursor_arrive_with_their_tombstones(fresh_central):
    with fresh_central.client("demo-UTR01") as utrecht:
        _, _, orders_cursor = pull(utrecht, "orders")
        _, _, stock_cursor = pull(utrecht, "stock")
        _, _, wish_cursor = pull(utrecht, "wishlists")
        _, _, customers_cursor = pull(utrecht, "customers")
        wished = utrecht.get("/v1/customers/C0000001/wishlist").json()[0]["sku"]
        # Sanne (of Amsterdam) orders in Utrecht: she becomes one of Utrecht's customers.
        response = utrecht.post(
            "/v1/orders/ship-to-home",
            json={
                "customer_id": "C0000001",
                "fulfilling_store": "DC01",
                "lines": [{"sku": wished, "quantity": 1}],
                "shipping_address": {
                    "street": "Oudegracht",
                    "house_number": "2",
                    "postcode": "3511 AA",
                    "city": "Utrecht",
                },
            },
            headers={"Idempotency-Key": new_key()},
        )
        assert response.status_code == 201, response.text
        number = response.json()["number"]
        new_orders, _, _ = pull(utrecht, "orders", orders_cursor)
        assert number in new_orders
        assert any(o.customer_id == "C0000001" for o in new_orders.values() if o.number != number)  # her history too
        new_stock, _, _ = pull(utrecht, "stock", stock_cursor)
        assert set(new_stock) == {f"DC01:{wished}"} and new_stock[f"DC01:{wished}"].reserved >= 1
        _, gone, _ = pull(utrecht, "wishlists", wish_cursor)
        assert f"C0000001:{wished}" in gone
        new_customers, _, _ = pull(utrecht, "customers", customers_cursor)
        assert set(new_customers) == {"C0000001"}


def test_erased_customer_leaves_tombstones_and_pruning_them_forces_a_reset(fresh_central):
    with fresh_central.client() as client:
        customers, _, customer_cursor = pull(client, "customers")
        orders, _, order_cursor = pull(client, "orders")
        victim = next(
            o.customer_id for o in orders.values() if o.customer_id not in ("C0000001", "C0000002", "C0000003")
        )
        their_orders = {n for n, o in orders.items() if o.customer_id == victim}
        admin(fresh_central, "forget-customer", victim)
        _, gone, _ = pull(client, "customers", customer_cursor)
        assert gone == {victim}
        _, gone_orders, _ = pull(client, "orders", order_cursor)
        assert gone_orders == their_orders
        assert client.get(f"/v1/customers/{victim}").status_code == 404

        time.sleep(1.1)  # tombstones are dated to the second
        assert "dropped" in admin(fresh_central, "prune-tombstones", "--days", "0")
        body = assert_problem(
            client.get("/v1/sync/customers", params={"after": customer_cursor}), 410, "reset_required"
        )
        assert body["collection"] == "customers"
        fresh, _, _ = pull(client, "customers", limit=7)  # a fresh pass in small pages is never refused
        assert set(fresh) == set(customers) - {victim}
        # A collection that had no change since its last pull is not refused either: at the end
        # of the feed its cursor moved up to the sequence of that moment.
        stores_cursor = pull(client, "stores")[2]
        admin(fresh_central, "forget-customer", "C0000003")
        time.sleep(1.1)
        admin(fresh_central, "prune-tombstones", "--days", "0")
        assert client.get("/v1/sync/stores", params={"after": stores_cursor}).status_code == 200


def admin(central, *args: str) -> str:
    result = clienteling("central", *args[:1], "--db", str(central.db), *args[1:])
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"after": "abc"}, 422, "invalid_request"),
        ({"after": "-1"}, 422, "invalid_request"),
        ({"limit": "0"}, 422, "invalid_request"),
        ({"limit": "5001"}, 422, "invalid_request"),
    ],
)
def test_bad_cursor_or_limit_is_a_problem(api, params, status, code):
    assert_problem(api.get("/v1/sync/customers", params=params), status, code)


def test_unknown_collection_is_a_404_problem(api):
    assert_problem(api.get("/v1/sync/passwords"), 404, "not_found")
