"""Erasing a customer erases what the centre recorded about them beyond their own rows, and what it keeps about
everyone has a retention period (issue 11 §7): real centres, real HTTP, the real `clienteling central` commands."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import Central, clienteling, new_key, start_central
from test_api_orders import sku_with_stock

from clienteling.contract import utc_now

VICTIM, BYSTANDER = "C0000010", "C0000011"
STREETS = {VICTIM: "Prinsengracht", BYSTANDER: "Keizersgracht"}

pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL


def order(customer_id: str, sku: str, quantity: int = 1) -> dict:
    address = {"street": STREETS[customer_id], "house_number": "263", "postcode": "1016GV", "city": "Amsterdam"}
    return {
        "customer_id": customer_id,
        "fulfilling_store": "DC01",
        "lines": [{"sku": sku, "quantity": quantity}],
        "shipping_address": address,
        "placed_by": "S0001",
    }


SENT: dict[str, list[str]] = {}  # the idempotency keys sent about each customer


def post(client: httpx.Client, path: str, body: dict, key: str | None = None) -> httpx.Response:
    key = key or new_key()
    about = body.get("customer_id") or path.split("/")[3]
    SENT.setdefault(about, []).append(key)
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def leave_traces(client: httpx.Client, customer_id: str, sku: str) -> dict:
    """An order (and its replayable answer), an order refused, a note and two profile views, all through the API."""
    placed = post(client, "/v1/orders/ship-to-home", body := order(customer_id, sku), key := new_key())
    assert placed.status_code == 201, placed.text
    refused = post(client, "/v1/orders/ship-to-home", {**order(customer_id, sku), "fulfilling_store": "ZZZ99"})
    assert refused.json()["code"] == "unknown_store", refused.text  # a refusal is a stored answer too
    noted = post(client, f"/v1/customers/{customer_id}/notes", {"text": "Tried the navy coat in M.", "author": "S0001"})
    assert noted.status_code == 201, noted.text
    for staff in ("S0001", "S0002"):
        viewed = post(
            client, f"/v1/customers/{customer_id}/views", {"staff_id": staff, "viewed_at": utc_now().isoformat()}
        )
        assert viewed.status_code == 201, viewed.text
    return {"order": placed.json()["number"], "body": body, "key": key}


def rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of a centre's SQLite file that no running centre holds (see `Central.rows` for one that runs)."""
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def traces(centre: Central, customer_id: str) -> dict[str, int]:
    """How many rows of each kind are about this customer (the answers: to the keys sent about them, or naming
    them or their street), read from the centre's database."""
    keys = SENT[customer_id]
    position = "strpos" if centre.is_postgres else "instr"  # where a text holds another (0: nowhere)
    return {
        "views": centre.rows("SELECT count(*) FROM profile_views WHERE customer_id = ?", (customer_id,))[0][0],
        "notes": centre.rows("SELECT count(*) FROM notes WHERE customer_id = ?", (customer_id,))[0][0],
        "answers": centre.rows(
            f"SELECT count(*) FROM idempotency WHERE key IN ({','.join('?' * len(keys))})"
            f" OR {position}(body, ?) > 0 OR {position}(body, ?) > 0",
            (*keys, f'"{customer_id}"', STREETS[customer_id]),
        )[0][0],
    }


def admin_token(centre: Central) -> str:
    made = clienteling("central", "add-admin", "--label", "privacy officer", "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def test_forgetting_a_customer_erases_their_profile_views_notes_and_stored_answers(fresh_central: Central) -> None:
    centre = fresh_central
    with centre.client() as amsterdam, centre.client(admin_token(centre)) as admin:
        sku = sku_with_stock(amsterdam, "DC01", 2, "coats")
        victim = leave_traces(amsterdam, VICTIM, sku)
        leave_traces(amsterdam, BYSTANDER, sku)
        assert len(admin.get(f"/v1/customers/{VICTIM}/views").json()) == 2
        bystanders_views = admin.get(f"/v1/customers/{BYSTANDER}/views").json()
        before = traces(centre, VICTIM)
        assert before == {"views": 2, "notes": 1, "answers": 5}, before  # the order's answer holds the street
        bystander_before = traces(centre, BYSTANDER)
        everyone_elses = "SELECT store, key, body FROM idempotency WHERE key NOT IN ({}) ORDER BY key".format(
            ",".join("?" * len(SENT[VICTIM]))
        )
        other_answers = centre.rows(everyone_elses, tuple(SENT[VICTIM]))
        assert len(other_answers) >= 5

        erased = clienteling("central", "forget-customer", VICTIM, "--db", str(centre.db))
        assert erased.returncode == 0, erased.stderr

        assert admin.get(f"/v1/customers/{VICTIM}/views").status_code == 404
        assert admin.get(f"/v1/customers/{BYSTANDER}/views").json() == bystanders_views
    centre.stop()
    assert traces(centre, VICTIM) == {"views": 0, "notes": 0, "answers": 0}
    assert not centre.rows("SELECT id FROM returns WHERE order_number = ?", (victim["order"],))
    assert traces(centre, BYSTANDER) == bystander_before
    assert centre.rows(everyone_elses, tuple(SENT[VICTIM])) == other_answers

    # A device that sends the erased customer's order again (its ledger, after a restore) finds no answer to
    # replay: the order is judged afresh and refused, so the customer does not come back through it.
    again = start_central(centre.db, "--demo", log=centre.log)
    try:
        with again.client() as amsterdam:
            resent = post(amsterdam, "/v1/orders/ship-to-home", victim["body"], victim["key"])
            assert resent.status_code == 422 and resent.json()["code"] == "unknown_customer", resent.text
            assert amsterdam.get(f"/v1/orders/{victim['order']}").status_code == 404
    finally:
        again.stop()


def prune(db: Path | str, now) -> str:
    result = clienteling("central", "prune", "--db", str(db), "--now", now.isoformat())
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_profile_views_are_kept_a_year_and_stored_answers_30_days(fresh_central: Central) -> None:
    centre, now = fresh_central, utc_now()
    with centre.client() as amsterdam:
        sku = sku_with_stock(amsterdam, "DC01", 1, "coats")
        assert post(amsterdam, "/v1/orders/ship-to-home", order(VICTIM, sku)).status_code == 201
        views = {}
        for days_ago in (80, 1):  # a view may arrive up to 90 days late
            made = post(
                amsterdam,
                f"/v1/customers/{BYSTANDER}/views",
                {"staff_id": "S0001", "viewed_at": (now - timedelta(days=days_ago)).isoformat()},
            )
            assert made.status_code == 201, made.text
            views[days_ago] = made.json()["id"]
    centre.stop()
    answers = centre.rows("SELECT count(*) FROM idempotency")[0][0]
    assert answers == 3

    # 29 days on, every answer is still there to replay, and both views
    assert "dropped 0 profile view(s) and 0 stored" in prune(centre.db, now + timedelta(days=29))
    assert centre.rows("SELECT count(*) FROM idempotency")[0][0] == answers
    # 31 days on, the answers are gone; the views stay
    assert "dropped 0 profile view(s) and 3 stored" in prune(centre.db, now + timedelta(days=31))
    assert centre.rows("SELECT count(*) FROM idempotency")[0][0] == 0
    assert {r[0] for r in centre.rows("SELECT id FROM profile_views")} == set(views.values())
    # 300 days on, the view from 80 days before is 380 days old and goes; the one from the day before stays
    assert "dropped 1 profile view(s)" in prune(centre.db, now + timedelta(days=300))
    assert {r[0] for r in centre.rows("SELECT id FROM profile_views")} == {views[1]}


def test_a_moment_without_an_offset_is_refused_by_prune(tmp_path: Path) -> None:
    result = clienteling("central", "prune", "--db", str(tmp_path / "c.db"), "--now", "2027-01-01T00:00:00")
    assert result.returncode != 0 and "offset" in result.stderr


def test_a_centre_from_before_finds_the_customer_of_each_stored_answer(tmp_path: Path) -> None:
    """A file whose stored answers do not name their customer (schema 2) is upgraded at start: each answer that
    names one gets it, so that erasing that customer erases it. SQLite only: a PostgreSQL database is made at the
    current schema version directly, there never was an older one to upgrade."""
    from clienteling.central.store import SCHEMA_VERSION, CentralStore

    db = tmp_path / "central.db"
    CentralStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE idempotency DROP COLUMN position")
        conn.execute("ALTER TABLE idempotency DROP COLUMN customer_id")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        answers = [("k1", f'{{"customer_id": "{VICTIM}", "store": "AMS01"}}'), ("k2", '{"code": "unknown_store"}')]
        for key, body in answers:
            conn.execute(
                "INSERT INTO idempotency VALUES ('AMS01', ?, 'h', 201, ?, '2026-11-01T00:00:00Z')", (key, body)
            )
    CentralStore(db).close()
    assert rows(db, "SELECT key, customer_id FROM idempotency ORDER BY key") == [("k1", VICTIM), ("k2", None)]
    assert rows(db, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(SCHEMA_VERSION),)]
