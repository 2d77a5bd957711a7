"""Several centre processes over one database: stock, idempotency and numbers hold across them.

Two `clienteling central` processes on two ports share one database file (as separate machines behind a load
balancer would share one database), and the requests are spread over both explicitly, so the test is deterministic.
One more test starts `--workers 2` and checks that both workers answer on the one port.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import Central, database_for, drop_postgres_database, new_key, start_central
from test_api_orders import available, order_body

from clienteling.central.app import WORKER_HEADER

pytestmark = pytest.mark.both_backends  # SQLite (one file) and PostgreSQL (one database), over two processes


@pytest.fixture(scope="module")
def two_centres(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[list[Central]]:
    """Two centre processes on one demo database: the first makes the demo chain, the second serves it as it is."""
    folder = tmp_path_factory.mktemp("two-centres")
    db = database_for(backend, folder)
    first = start_central(db, "--demo", "--customers", "200", log=folder / "first.log")
    try:
        second = start_central(db, "--demo", log=folder / "second.log")
    except BaseException:
        first.stop()
        raise
    yield [first, second]
    second.stop()
    first.stop()
    if backend == "postgresql":
        drop_postgres_database(str(db))


def send_at_once(centres: list[Central], requests: list[tuple[str, dict, str]]) -> list[httpx.Response]:
    """POST every (path, body, idempotency key) at the same moment, each from a thread and connection of its own,
    request i to centre i mod len(centres); the answers in the order of the requests."""
    start = threading.Barrier(len(requests))
    answers: list[httpx.Response | None] = [None] * len(requests)

    def send(at: int) -> None:
        path, body, key = requests[at]
        with centres[at % len(centres)].client() as client:
            start.wait()
            answers[at] = client.post(path, json=body, headers={"Idempotency-Key": key})

    threads = [threading.Thread(target=send, args=(at,)) for at in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers), "a request got no answer"
    return answers  # type: ignore[return-value]


def skus_with_little_stock(api: httpx.Client, store: str, count: int) -> dict[str, int]:
    """`count` SKUs with 1 to 5 available at `store`, with what is available of each, from the stock feed."""
    found: dict[str, int] = {}
    after = "0"
    while len(found) < count:
        page = api.get("/v1/sync/stock", params={"after": after, "limit": 5000}).json()
        for level in page["items"]:
            if level["store"] == store and 1 <= level["available"] <= 5 and len(found) < count:
                found[level["sku"]] = level["available"]
        if not page["has_more"]:
            break
        after = page["next_cursor"]
    assert len(found) == count, f"only {len(found)} SKUs with 1 to 5 available at {store}"
    return found


def test_fifty_concurrent_orders_over_two_processes_never_oversell(two_centres):
    with two_centres[0].client() as api:
        stock = skus_with_little_stock(api, "AMS01", 5)
        assert sum(stock.values()) < 50  # more orders than stock: some must be refused
        skus = list(stock)
        requests = [
            ("/v1/orders/ship-to-home", order_body(skus[at % 5], store="AMS01", customer="C0000020"), new_key())
            for at in range(50)
        ]
        answers = send_at_once(two_centres, requests)
        assert sorted({a.status_code for a in answers}) == [201, 409], [a.text for a in answers if a.status_code >= 500]
        for sku, before in stock.items():
            placed = [a for a, r in zip(answers, requests) if r[1]["lines"][0]["sku"] == sku and a.status_code == 201]
            assert len(placed) == before, f"{sku}: {before} available, {len(placed)} orders taken"
            assert available(api, sku, "AMS01") == 0
        refused = [a for a in answers if a.status_code == 409]
        assert {a.json()["code"] for a in refused} == {"out_of_stock"}
        numbers = [a.json()["number"] for a in answers if a.status_code == 201]
        assert len(set(numbers)) == len(numbers) == sum(stock.values())  # numbers are never given twice
        for number in numbers:  # and each names its order, whichever process gave it
            assert two_centres[1].client().get(f"/v1/orders/{number}").json()["number"] == number


def test_twenty_concurrent_replays_over_two_processes_create_one_order(two_centres):
    with two_centres[1].client() as api:
        sku = next(iter(skus_with_little_stock(api, "AMS01", 6)))  # the first five went in the test above
        before = available(api, sku, "AMS01")
        orders_before = len(api.get("/v1/customers/C0000021/orders").json())
        key, body = new_key(), order_body(sku, store="AMS01", customer="C0000021")
        answers = send_at_once(two_centres, [("/v1/orders/ship-to-home", body, key)] * 20)
        assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers if a.status_code != 201]
        assert len({a.json()["number"] for a in answers}) == 1
        assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 19
        assert len(api.get("/v1/customers/C0000021/orders").json()) == orders_before + 1
        assert available(api, sku, "AMS01") == before - 1


def test_concurrent_notes_over_two_processes_get_distinct_numbers(two_centres):
    requests = [
        ("/v1/customers/C0000022/notes", {"text": f"note {at}", "author": "S0001"}, new_key()) for at in range(30)
    ]
    answers = send_at_once(two_centres, requests)
    assert [a.status_code for a in answers] == [201] * 30, [a.text for a in answers if a.status_code != 201]
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 30
    with two_centres[0].client() as api:
        assert ids <= {note["id"] for note in api.get("/v1/customers/C0000022/notes").json()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_serve_one_port_and_stop_with_the_centre(tmp_path: Path, backend: str):
    db = database_for(backend, tmp_path)
    centre = start_central(db, "--demo", "--customers", "60", "--workers", "2", log=tmp_path / "central.log")
    try:
        workers: set[str] = set()
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:  # fresh connections: the system spreads them
            answer = httpx.get(f"{centre.url}/health", timeout=5)
            assert answer.status_code == 200
            workers.add(answer.headers[WORKER_HEADER])
        assert len(workers) == 2, f"only worker {workers} answered"
        assert str(centre.process.pid) not in workers  # the supervisor serves nothing itself
        key, body = new_key(), order_body(_any_sku(centre), store="AMS01", customer="C0000023")
        answers = send_at_once([centre], [("/v1/orders/ship-to-home", body, key)] * 10)
        assert [a.status_code for a in answers] == [201] * 10
        assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 9
    finally:
        centre.stop()
    deadline = time.monotonic() + 30
    while any(_alive(int(pid)) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(int(pid)) for pid in workers), "a worker outlived the centre"
    if backend == "postgresql":
        drop_postgres_database(str(db))


def _any_sku(centre: Central) -> str:
    with centre.client() as api:
        return next(iter(skus_with_little_stock(api, "AMS01", 1)))
