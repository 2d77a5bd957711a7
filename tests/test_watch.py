"""Long polling of the change feed (issue 12): `GET /v1/sync/wait` at a real centre over loopback, and a device whose
background loop polls only every 300 s learning of changes at once through it; with a centre that does not offer it,
the same device syncs by polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import Central, clienteling, database_for, demo_centre, drop_postgres_database, new_key, start_central
from test_api_orders import order_body, sku_with_stock

from clienteling.config import Settings
from clienteling.contract import CENTRE_HEADER, LONG_POLL, CentreInfo, SyncWait, parse_position
from clienteling.device import Device
from clienteling.device.central_client import CentralClient

LONG_INTERVAL = 300.0  # the background loop's own polling: far beyond any wait below, so only the watcher can help


def until(condition: Callable[[], object], seconds: float = 15.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not come true within {seconds} s")
        time.sleep(0.02)


pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    with demo_centre(backend, tmp_path_factory.mktemp("watch"), 60) as server:
        yield server


@pytest.fixture
def api(centre: Central) -> Iterator[httpx.Client]:
    with centre.client() as client:
        yield client


def now_at(api: httpx.Client) -> str:
    info = CentreInfo.model_validate_json(api.get("/v1/centre").content)
    return info.position(info.seq)


def wait(api: httpx.Client, after: str, timeout: float) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = api.get("/v1/sync/wait", params={"after": after, "timeout": timeout}, timeout=timeout + 30)
    return answer, time.monotonic() - started


def test_the_centre_offers_long_polling(api: httpx.Client) -> None:
    assert LONG_POLL in CentreInfo.model_validate_json(api.get("/v1/centre").content).offers
    assert CentreInfo.model_validate({"centre": "c" * 32, "epoch": "e" * 16, "seq": 0, "epochs": []}).offers == []


def test_the_wait_answers_at_its_timeout_when_nothing_changes(api: httpx.Client) -> None:
    here = now_at(api)
    answer, took = wait(api, here, 1.0)
    assert answer.status_code == 200 and answer.headers[CENTRE_HEADER]
    assert SyncWait.model_validate_json(answer.content) == SyncWait(position=here, changed=False)
    assert 0.9 <= took < 10


def test_the_wait_answers_at_once_for_a_stale_or_foreign_position(api: httpx.Client) -> None:
    here = now_at(api)
    centre, epoch, seq = parse_position(here)
    for after in (
        "0",  # a device that has pulled nothing yet
        f"{centre}.{epoch}.{seq - 1}",  # behind
        f"{centre}.{'0' * 16}.{seq}",  # an epoch this centre is not in now
        f"{'a' * 32}.{epoch}.{seq}",  # another centre
        f"{centre}.{epoch}.{seq + 1000}",  # ahead of the centre
        "12",  # a cursor of the centres before epochs
    ):
        answer, took = wait(api, after, 20.0)
        assert answer.status_code == 200 and answer.headers[CENTRE_HEADER], answer.text
        assert SyncWait.model_validate_json(answer.content) == SyncWait(position=here, changed=True), after
        assert took < 10, after


def test_the_wait_answers_as_soon_as_a_change_is_made(api: httpx.Client, centre: Central) -> None:
    here = now_at(api)
    answers: list[tuple[httpx.Response, float]] = []
    waiting = threading.Thread(target=lambda: answers.append(wait(api, here, 25.0)))
    waiting.start()
    time.sleep(0.3)  # lets the wait reach the centre; if it came late it answers at once anyway, the same answer
    with centre.client("demo-UTR01") as other:
        note = other.post(
            "/v1/customers/C0000001/notes",
            json={"text": "asked about the navy coat"},
            headers={"Idempotency-Key": new_key()},
        )
    assert note.status_code == 201, note.text
    waiting.join(30)
    ((answer, took),) = answers
    got = SyncWait.model_validate_json(answer.content)
    assert got.changed and parse_position(got.position)[2] >= parse_position(note.headers["Clienteling-Position"])[2]
    assert took < 20  # not at its 25 s timeout


def test_the_wait_needs_a_device_token(centre: Central) -> None:
    with centre.client(None) as anonymous:
        answer = anonymous.get("/v1/sync/wait", params={"after": "0", "timeout": 1})
    assert answer.status_code == 401 and answer.headers[CENTRE_HEADER]
    with centre.client() as client:
        assert client.get("/v1/sync/wait", params={"after": "0", "timeout": 31}).status_code == 422


def device_at(data_dir: Path, url: str, client: CentralClient | None = None) -> Device:
    return Device(Settings.load(data_dir, central_url=url, device_token="demo-AMS01", store="AMS01"), client=client)


def test_a_change_at_the_centre_reaches_a_watching_device_at_once(centre: Central, api: httpx.Client, tmp_path) -> None:
    with device_at(tmp_path / "device", centre.url) as device:
        device.start_background_sync(LONG_INTERVAL)
        assert device.syncer is not None
        until(lambda: device.syncer.watching, what="the device long-polling the centre")
        # An order placed by another device of the store...
        sku = sku_with_stock(api, "DC01", 1, "coats")
        placed = api.post("/v1/orders/ship-to-home", json=order_body(sku), headers={"Idempotency-Key": new_key()})
        assert placed.status_code == 201, placed.text
        number = placed.json()["number"]
        until(
            lambda: device.cache.scalar("SELECT count(*) FROM orders WHERE id = ?", (number,)) == 1,
            what="the order in the device's cache",
        )
        # ... and a change made next to the server by another process (which starts an epoch of its own, too).
        victim = device.cache.query("SELECT id FROM customers WHERE id > 'C0000040' ORDER BY id LIMIT 1")[0][0]
        assert clienteling("central", "forget-customer", "--db", str(centre.db), victim).returncode == 0
        until(lambda: device.cache.customer_doc("id", victim) is None, what="the erasure in the device's cache")
        assert device.syncer.watching


class OldCentre(httpx.HTTPTransport):
    """Loopback to the real centre, as a centre before long polling looks: no `offers`, no wait route (counted)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/sync/wait":
            self.waits += 1
        response = super().handle_request(request)
        if request.url.path == "/v1/centre":
            response.read()
            info = CentreInfo.model_validate_json(response.content).model_dump(exclude={"offers"})
            headers = {CENTRE_HEADER: response.headers[CENTRE_HEADER]}
            return httpx.Response(200, json=info, headers=headers)
        return response


def test_a_device_polls_a_centre_that_does_not_offer_long_polling(centre: Central, api: httpx.Client, tmp_path) -> None:
    old = OldCentre()
    with device_at(tmp_path / "device", centre.url, CentralClient(centre.url, "demo-AMS01", transport=old)) as device:
        device.start_background_sync(1.0)
        assert device.syncer is not None
        until(lambda: device.syncer.online, what="the first round")
        sku = sku_with_stock(api, "DC01", 1, "coats")
        placed = api.post("/v1/orders/ship-to-home", json=order_body(sku), headers={"Idempotency-Key": new_key()})
        assert placed.status_code == 201, placed.text
        number = placed.json()["number"]
        until(
            lambda: device.cache.scalar("SELECT count(*) FROM orders WHERE id = ?", (number,)) == 1,
            what="the order in the device's cache, by polling",
        )
        assert device.syncer.offers == [] and not device.syncer.watching and old.waits == 0


def test_a_token_the_centre_does_not_know_is_refused(centre: Central) -> None:
    with centre.client("not-a-token-of-this-centre") as stranger:
        answer = stranger.get("/v1/sync/wait", params={"after": "0", "timeout": 1})
    assert answer.status_code == 401 and answer.json()["code"] == "unauthorized"


def test_the_wait_route_takes_an_accepted_token_again_only_for_a_while() -> None:
    import asyncio

    from fastapi.security import HTTPAuthorizationCredentials

    from clienteling.central.problems import ProblemError
    from clienteling.central.watch import RecentTokens

    checked: list[str] = []
    valid = {"good": "AMS01"}

    def check(credentials: HTTPAuthorizationCredentials | None) -> str:
        checked.append(credentials.credentials if credentials else "")
        if credentials is None or credentials.credentials not in valid:
            raise ProblemError("unauthorized", "unknown token")
        return valid[credentials.credentials]

    now = [0.0]
    tokens = RecentTokens(check, ttl=60, clock=lambda: now[0])
    good = HTTPAuthorizationCredentials(scheme="Bearer", credentials="good")

    async def ask(credentials: HTTPAuthorizationCredentials | None) -> str:
        return await tokens.store_of(credentials)

    assert asyncio.run(ask(good)) == "AMS01" and asyncio.run(ask(good)) == "AMS01"
    assert checked == ["good"]  # the second time without a check
    del valid["good"]  # the token stops being valid: taken until its minute is up, then refused
    now[0] = 59.0
    assert asyncio.run(ask(good)) == "AMS01"
    now[0] = 61.0
    with pytest.raises(ProblemError):
        asyncio.run(ask(good))
    with pytest.raises(ProblemError):
        asyncio.run(ask(None))
    assert checked == ["good", "good", ""]


def test_a_wait_at_one_centre_process_answers_a_change_made_through_another(tmp_path, backend: str) -> None:
    """Two centre processes over one database (as with --workers): a change committed by one wakes a wait held by
    the other, which hears of it only by reading the database."""
    db = database_for(backend, tmp_path)
    first = start_central(db, "--demo", "--customers", "60", log=tmp_path / "first.log")
    try:
        # opening the database starts an epoch: both are in it
        second = start_central(db, "--demo", "--customers", "60", log=tmp_path / "second.log")
        try:
            with first.client() as one, second.client("demo-UTR01") as other:
                here = now_at(one)
                assert now_at(other) == here
                answers: list[tuple[httpx.Response, float]] = []
                waiting = threading.Thread(target=lambda: answers.append(wait(one, here, 25.0)))
                waiting.start()
                time.sleep(0.3)  # lets the wait reach the centre; if it came late it answers at once anyway
                note = other.post(
                    "/v1/customers/C0000002/notes",
                    json={"text": "prefers wool"},
                    headers={"Idempotency-Key": new_key()},
                )
                assert note.status_code == 201, note.text
                waiting.join(30)
        finally:
            second.stop()
    finally:
        first.stop()
        if backend == "postgresql":
            drop_postgres_database(str(db))
    ((answer, took),) = answers
    got = SyncWait.model_validate_json(answer.content)
    assert got.changed and got.position == note.headers["Clienteling-Position"]
    assert took < 20  # not at its 25 s timeout
