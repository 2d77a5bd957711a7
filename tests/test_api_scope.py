"""What a store's device may do at the centre, and no more, over real HTTP (issue 11 §3 and §4).

An idempotency key belongs to the store whose device sent it: the same key from another store is never answered
with the first store's answer. The staff named on a command are staff of the calling device's store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import Central, clienteling, new_key, start_central
from test_api_customers import assert_problem
from test_api_orders import ADDRESS, sku_with_stock
from test_api_returns import returnable_order

from clienteling.central.store import SCHEMA_VERSION
from clienteling.contract import Order, utc_now

pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL

ORDERS = "/v1/orders/ship-to-home"


def order_body(sku: str, *, placed_by: str | None = None, customer: str = "C0000021") -> dict:
    return {
        "customer_id": customer,
        "fulfilling_store": "DC01",
        "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": ADDRESS,
        "placed_by": placed_by,
    }


def test_a_key_sent_by_another_store_never_gets_the_first_stores_order(central: Central) -> None:
    with central.client("demo-AMS01") as amsterdam, central.client("demo-UTR01") as utrecht:
        sku = sku_with_stock(amsterdam, "DC01", 3, "sneakers")
        key, body = new_key(), order_body(sku)
        first = amsterdam.post(ORDERS, json=body, headers={"Idempotency-Key": key})
        assert first.status_code == 201, first.text
        assert first.json()["store"] == "AMS01"

        other = utrecht.post(ORDERS, json=body, headers={"Idempotency-Key": key})
        # Utrecht's own request: a new order of Utrecht's, not Amsterdam's answer replayed
        assert other.status_code == 201, other.text
        assert "Idempotent-Replayed" not in other.headers
        assert other.json()["store"] == "UTR01" and other.json()["number"] != first.json()["number"]

        # and each store's key keeps replaying its own answer
        again = amsterdam.post(ORDERS, json=body, headers={"Idempotency-Key": key})
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        utrecht_again = utrecht.post(ORDERS, json=body, headers={"Idempotency-Key": key})
        assert utrecht_again.headers["Idempotent-Replayed"] == "true"
        assert utrecht_again.json() == other.json()


def test_a_key_belongs_to_the_store_so_another_device_of_that_store_gets_the_same_answer(central: Central) -> None:
    made = clienteling("central", "add-device", "--store", "AMS01", "--label", "till 2", "--db", str(central.db))
    assert made.returncode == 0, made.stderr
    with central.client("demo-AMS01") as first_device, central.client(made.stdout.strip()) as second_device:
        sku = sku_with_stock(first_device, "DC01", 2, "sneakers")
        key, body = new_key(), order_body(sku)
        first = first_device.post(ORDERS, json=body, headers={"Idempotency-Key": key})
        again = second_device.post(ORDERS, json=body, headers={"Idempotency-Key": key})
        assert first.status_code == again.status_code == 201, again.text
        assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()


def test_a_key_reused_by_another_store_for_a_different_request_is_that_stores_own(central: Central) -> None:
    """Another store's key says nothing about the first store's request: not even that it was different."""
    with central.client("demo-AMS01") as amsterdam, central.client("demo-UTR01") as utrecht:
        key = new_key()
        note = amsterdam.post(
            "/v1/customers/C0000021/notes", json={"text": "AMS01 only"}, headers={"Idempotency-Key": key}
        )
        other = utrecht.post(
            "/v1/customers/C0000021/notes", json={"text": "UTR01 only"}, headers={"Idempotency-Key": key}
        )
        assert note.status_code == other.status_code == 201, other.text
        assert other.json()["text"] == "UTR01 only" and other.json()["store"] == "UTR01"
        assert other.json()["id"] != note.json()["id"]


def _to_version_1(db: Path) -> None:
    """Make the file look like one written by a centre from before the keys had a store."""
    with sqlite3.connect(db) as conn:
        conn.executescript(
            """
            ALTER TABLE idempotency RENAME TO idempotency_new;
            CREATE TABLE idempotency (
                key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
                created_at TEXT NOT NULL);
            INSERT INTO idempotency SELECT key, request_hash, status, body, created_at FROM idempotency_new;
            DROP TABLE idempotency_new;
            UPDATE meta SET value = '1' WHERE key = 'schema_version';
            """
        )
    conn.close()


def test_a_centre_file_from_before_keeps_replaying_its_stores_answers_and_no_other(tmp_path: Path) -> None:
    """SQLite only: a PostgreSQL database is made at the current schema version, there never was a version 1."""
    db = tmp_path / "central.db"
    centre = start_central(db, "--demo", "--customers", "60")
    try:
        with centre.client("demo-AMS01") as amsterdam:
            sku = sku_with_stock(amsterdam, "DC01", 2, "coats")
            placed_key, body = new_key(), order_body(sku)
            placed = amsterdam.post(ORDERS, json=body, headers={"Idempotency-Key": placed_key})
            assert placed.status_code == 201, placed.text
            refused_key, nobody = new_key(), order_body(sku, customer="C9999999")
            refused = amsterdam.post(ORDERS, json=nobody, headers={"Idempotency-Key": refused_key})
            assert_problem(refused, 422, "unknown_customer")
    finally:
        centre.stop()
    _to_version_1(db)

    centre = start_central(db, "--demo", "--customers", "60")
    try:
        with centre.client("demo-AMS01") as amsterdam, centre.client("demo-UTR01") as utrecht:
            again = amsterdam.post(ORDERS, json=body, headers={"Idempotency-Key": placed_key})
            assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
            assert again.json() == placed.json()
            other = utrecht.post(ORDERS, json=body, headers={"Idempotency-Key": placed_key})
            assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
            assert other.json()["store"] == "UTR01"
            # a refusal changed nothing: after the upgrade the same request is judged afresh, with the same verdict
            judged = amsterdam.post(ORDERS, json=nobody, headers={"Idempotency-Key": refused_key})
            assert_problem(judged, 422, "unknown_customer")
            assert "Idempotent-Replayed" not in judged.headers
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
                str(SCHEMA_VERSION),
            )
            buyers = conn.execute("SELECT customer_id FROM idempotency WHERE key = ?", (placed_key,)).fetchall()
            assert buyers == [(body["customer_id"],)] * 2  # the upgraded answer names its customer, as a new one does
            stores = conn.execute("SELECT store FROM idempotency WHERE key = ? ORDER BY store", (placed_key,))
            assert [row[0] for row in stores] == ["AMS01", "UTR01"]
        conn.close()
    finally:
        centre.stop()


# ---------------------------------------------------------------------- §3: the staff a command names


def refused_for_staff(response, field: str, staff_id: str) -> None:
    body = assert_problem(response, 422, "unknown_staff")
    assert (body["field"], body["staff_id"]) == (field, staff_id)
    assert field in body["detail"] and "AMS01" in body["detail"] and repr(staff_id) in body["detail"]


OTHERS = ["S0004", "S0013", "S9999", "Lotte Visser", "S0004 (UTR01's staff)"]  # Utrecht's, Eindhoven's, nobody


def test_an_order_names_staff_of_the_calling_devices_store(api) -> None:
    sku = sku_with_stock(api, "DC01", 2, "sneakers")
    before = len(api.get("/v1/customers/C0000022/orders").json())
    for other in OTHERS:
        refused = api.post(
            ORDERS, json=order_body(sku, placed_by=other, customer="C0000022"), headers={"Idempotency-Key": new_key()}
        )
        refused_for_staff(refused, "placed_by", other)
    assert len(api.get("/v1/customers/C0000022/orders").json()) == before
    placed = api.post(
        ORDERS, json=order_body(sku, placed_by="S0001", customer="C0000022"), headers={"Idempotency-Key": new_key()}
    )
    assert placed.status_code == 201 and placed.json()["placed_by"] == "S0001", placed.text


def test_another_stores_key_and_body_naming_the_first_stores_staff_is_refused(central: Central) -> None:
    with central.client("demo-AMS01") as amsterdam, central.client("demo-UTR01") as utrecht:
        sku = sku_with_stock(amsterdam, "DC01", 2, "sneakers")
        key, body = new_key(), order_body(sku, placed_by="S0002")
        assert amsterdam.post(ORDERS, json=body, headers={"Idempotency-Key": key}).status_code == 201
        other = utrecht.post(ORDERS, json=body, headers={"Idempotency-Key": key})
        assert_problem(other, 422, "unknown_staff")
        assert "UTR01" in other.json()["detail"] and "Idempotent-Replayed" not in other.headers


def some_returnable_order(api) -> Order:
    """A returnable order (line 1 with an item left) of a customer the other API tests leave alone."""
    for number in range(300, 400):
        try:
            order = returnable_order(api, f"C{number:07d}")
        except AssertionError:
            continue
        if order.lines[0].returned_quantity < order.lines[0].quantity:
            return order
    raise AssertionError("no customer from C0000300 on has a returnable order")


def test_a_return_is_received_by_staff_of_the_calling_devices_store(api) -> None:
    order = some_returnable_order(api)
    line = {"line_no": 1, "quantity": 1, "reason": "too_small", "condition": "resellable"}
    for other in OTHERS:
        refused = api.post(
            "/v1/returns",
            json={"order_number": order.number, "lines": [line], "received_by": other},
            headers={"Idempotency-Key": new_key()},
        )
        refused_for_staff(refused, "received_by", other)
    after = api.get(f"/v1/orders/{order.number}").json()
    assert after["lines"][0]["returned_quantity"] == order.lines[0].returned_quantity
    received = api.post(
        "/v1/returns",
        json={"order_number": order.number, "lines": [line], "received_by": "S0002"},
        headers={"Idempotency-Key": new_key()},
    )
    assert received.status_code == 201 and received.json()["received_by"] == "S0002", received.text


def test_a_profile_view_is_recorded_only_in_the_name_of_staff_of_the_calling_devices_store(api, central) -> None:
    with admin_client(central) as admin:
        before = admin.get("/v1/customers/C0000023/views").json()
        for other in OTHERS[:3]:  # a view's staff_id is an id by its form: the free texts are refused as malformed
            refused = api.post(
                "/v1/customers/C0000023/views",
                json={"staff_id": other, "viewed_at": utc_now().isoformat()},
                headers={"Idempotency-Key": new_key()},
            )
            refused_for_staff(refused, "staff_id", other)
        assert admin.get("/v1/customers/C0000023/views").json() == before
        made = api.post(
            "/v1/customers/C0000023/views",
            json={"staff_id": "S0003", "viewed_at": utc_now().isoformat()},
            headers={"Idempotency-Key": new_key()},
        )
        assert made.status_code == 201 and made.json()["staff_id"] == "S0003", made.text


# ---------------------------------------------------------------------- §3: who reads the access log


def admin_client(centre: Central):
    made = clienteling("central", "add-admin", "--label", "privacy officer", "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("cla_") and len(token) > 40
    return centre.client(token)


def test_the_access_log_is_read_with_an_administrators_token_and_no_stores(central: Central) -> None:
    with central.client("demo-AMS01") as amsterdam:
        made = amsterdam.post(
            "/v1/customers/C0000024/views",
            json={"staff_id": "S0001", "viewed_at": utc_now().isoformat()},
            headers={"Idempotency-Key": new_key()},
        )
        assert made.status_code == 201, made.text
    for device in ("demo-AMS01", "demo-UTR01"):
        with central.client(device) as client:
            refused = client.get("/v1/customers/C0000024/views")
            body = assert_problem(refused, 403, "forbidden")
            assert "add-admin" in body["detail"] and "S0001" not in refused.text
    with central.client(None) as nobody, central.client("cla_not-a-token") as stranger:
        assert_problem(nobody.get("/v1/customers/C0000024/views"), 401, "unauthorized")
        assert_problem(stranger.get("/v1/customers/C0000024/views"), 401, "unauthorized")
    with admin_client(central) as admin:
        views = admin.get("/v1/customers/C0000024/views")
        assert views.status_code == 200, views.text
        assert made.json()["id"] in [v["id"] for v in views.json()]
        assert_problem(admin.get("/v1/customers/C9999999/views"), 404, "customer_not_found")
        # an administrator is not a store's device: it reads no customer, places nothing
        assert_problem(admin.get("/v1/customers/C0000024"), 401, "unauthorized")
        assert_problem(
            admin.post(ORDERS, json=order_body("CT01-NVY-M"), headers={"Idempotency-Key": new_key()}),
            401,
            "unauthorized",
        )
