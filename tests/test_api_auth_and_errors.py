"""Device tokens, and errors that are always problem documents and never a stack trace."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest
from conftest import Central, clienteling, drop_postgres_database, new_postgres_database, start_central
from test_api_customers import assert_problem

from clienteling.central.app import create_app
from clienteling.central.store import CentralStore

pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL

PROTECTED = ["/v1/customers/C0000001", "/v1/sync/stores", "/v1/stock/CT01-NVY-M", "/v1/products/search?q=coat"]


@pytest.mark.parametrize("path", PROTECTED)
@pytest.mark.parametrize("token", [None, "wrong", "demo-XXX01"])
def test_missing_or_wrong_token_is_401(central, path, token):
    with central.client(token) as client:
        response = client.get(path)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_health_needs_no_token(central):
    response = httpx.get(f"{central.url}/health")
    assert response.status_code == 200 and response.json()["demo"] is True


def copy_of_the_demo_chain(central: Central, folder: Path) -> Path | str:
    """A database of the demo chain apart from the session's centre: a copy of its file on SQLite; on PostgreSQL
    (where a live database has no copy of a file's kind) a new database with the demo chain made into it."""
    if not central.is_postgres:
        db = folder / "real.db"
        with sqlite3.connect(central.db) as source, sqlite3.connect(db) as target:
            source.backup(target)
        return db
    db = new_postgres_database()
    made = clienteling("central", "make-demo", "--customers", "60", "--db", db)
    assert made.returncode == 0, made.stderr
    return db


def test_real_deployment_refuses_demo_tokens_and_takes_registered_ones(central, tmp_path):
    db = copy_of_the_demo_chain(central, tmp_path)
    try:
        made = clienteling("central", "add-device", "--store", "RTD01", "--db", str(db))
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip()
        assert token.startswith("clt_") and len(token) > 40
        if isinstance(db, Path):
            assert token.encode() not in db.read_bytes()  # only its hash is kept
        real = start_central(db, log=tmp_path / "real.log")
        try:
            devices = real.rows("SELECT token_hash, store, label, demo, created_at FROM devices")
            assert any(row[1] == "RTD01" and row[3] == 0 for row in devices), devices
            assert token not in repr(devices)  # only its hash is kept
            with real.client("demo-AMS01") as demo:
                assert_problem(demo.get("/v1/sync/stores"), 401, "unauthorized")
            with real.client(token) as device:
                assert device.get("/v1/stock/CT01-NVY-M").json()["from_store"] == "RTD01"
            assert httpx.get(f"{real.url}/health").json()["demo"] is False
        finally:
            real.stop()
    finally:
        if not isinstance(db, Path):
            drop_postgres_database(db)


def test_add_device_for_unknown_store_fails_clearly(central):
    before = central.rows("SELECT token_hash FROM devices ORDER BY token_hash")
    result = clienteling("central", "add-device", "--store", "XYZ01", "--db", str(central.db))
    assert result.returncode == 2 and "XYZ01" in result.stderr and "Traceback" not in result.stderr
    assert central.rows("SELECT token_hash FROM devices ORDER BY token_hash") == before  # no device was added


def test_an_unexpected_failure_is_a_500_problem_without_a_trace(central, monkeypatch):
    store = CentralStore(central.db)

    def broken(customer_id: str) -> str:
        raise RuntimeError("secret internals at /srv/db line 42")

    monkeypatch.setattr(store, "customer_by_id", broken)
    transport = httpx.ASGITransport(app=create_app(store, demo=True), raise_app_exceptions=False)

    async def ask() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://centre") as client:
            return await client.get("/v1/customers/C0000001", headers={"Authorization": "Bearer demo-AMS01"})

    response = asyncio.run(ask())
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert body["detail"] == "the centre could not answer this request; it has been logged"
    store.close()


def test_unknown_address_and_wrong_method_are_problems(api):
    assert_problem(api.get("/v1/nothing-here"), 404, "not_found")
    response = api.get("/v1/orders/ship-to-home")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "POST"


def test_problem_types_are_described_by_the_centre(api):
    body = api.get("/problems/out_of_stock").json()
    assert body == {"code": "out_of_stock", "status": 409, "title": "Not enough stock"}
