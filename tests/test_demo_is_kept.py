"""The demo never wipes itself (issue 11 §6): a restart with another --customers keeps the chain and what stores
made in it; only --fresh makes it anew, and it says what it drops. Real `clienteling central` processes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import clienteling, database_for, drop_postgres_database, new_key, start_central
from test_api_orders import order_body, sku_with_stock

from clienteling.central.demo import existing_demo
from clienteling.central.store import CentralStore

pytestmark = pytest.mark.both_backends


@pytest.fixture
def db(backend: str, tmp_path: Path) -> Iterator[Path | str]:
    where = database_for(backend, tmp_path)
    yield where
    if backend == "postgresql":
        drop_postgres_database(str(where))


def test_a_restart_with_other_customers_keeps_the_orders_and_fresh_says_what_it_drops(db, tmp_path):
    log = tmp_path / "demo.log"
    centre = start_central(db, "--demo", "--customers", "60", log=log)
    try:
        with centre.client() as api:
            placed = api.post(
                "/v1/orders/ship-to-home",
                json=order_body(sku_with_stock(api, "DC01", 1, "coats")),
                headers={"Idempotency-Key": new_key()},
            )
            assert placed.status_code == 201, placed.text
            order = placed.json()
            number = order["number"]
            note = api.post(
                "/v1/customers/C0000010/notes", json={"text": "tries an M"}, headers={"Idempotency-Key": new_key()}
            )
            assert note.status_code == 201, note.text
    finally:
        centre.stop()

    for args in (("--customers", "80"), ()):  # another size, and none given: the same chain either way
        centre = start_central(db, "--demo", *args, log=log)
        try:
            with centre.client() as api:
                assert api.get(f"/v1/orders/{number}").status_code == 200
                assert api.get("/v1/customers/C0000060").status_code == 200
                assert api.get("/v1/customers/C0000061").status_code == 404  # not remade with 80
        finally:
            centre.stop()
    said = log.read_text()
    assert "60 customers, 1 order(s), 0 return(s) and 1 note(s) made since" in said
    assert "--customers 80 is ignored" in said and "made the demo chain" not in said.split("using")[1]

    before = len(said)
    centre = start_central(db, "--demo", "--customers", "80", "--fresh", log=log)
    try:
        said = log.read_text()[before:]
        assert "--fresh: making the demo chain" in said
        assert "dropping 1 order(s), 0 return(s) and 1 note(s) made since" in said
        assert "made the demo chain (80 customers)" in said
        with centre.client() as api:
            again = api.get(f"/v1/orders/{number}")  # the new chain may have a demo order of that number
            assert again.status_code == 404 or again.json()["created_at"] != order["created_at"]
            assert api.get("/v1/customers/C0000080").status_code == 200
    finally:
        centre.stop()


def test_a_centre_that_is_not_a_demo_is_never_made_into_one(db):
    CentralStore(db).close()  # a real centre's (empty) database
    with socket.socket() as taken:  # had the centre been made a demo, it would fail to serve here, not hang
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ran = clienteling("central", "--demo", "--db", str(db), "--port", str(taken.getsockname()[1]))
    assert ran.returncode == 2 and "not the demo chain" in ran.stderr and "--fresh" in ran.stderr
    store = CentralStore(db)
    try:
        assert existing_demo(db) is None and store.meta("seq") == "0"
    finally:
        store.close()
