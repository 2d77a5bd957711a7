"""Only the centre can refuse a command: an answer that something in between gave in its place (a store Wi-Fi's
sign-in page, a proxy's 407, a gateway's 400/404/408/413, a 2xx without the centre's header) is network trouble,
retried, and never puts a command in "needs attention"; once the path is clear every command reaches the centre
exactly once. The centre signs every answer with its `Clienteling-Centre` header.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import Central, demo_centre

from clienteling.central.app import create_app
from clienteling.central.demo import demo_staff
from clienteling.central.store import CentralStore
from clienteling.config import Settings
from clienteling.contract import CENTRE_HEADER, PROBLEM_MEDIA_TYPE
from clienteling.device import CentralRefused, Device
from clienteling.device.central_client import CentralClient, NotTheCentre
from clienteling.device.views import SyncState
from clienteling.faultproxy import FaultProxy
from clienteling.ui.i18n import STRINGS, tr

pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL

SIGN_IN_PAGE = (
    b"<!doctype html><html><body><h1>Welcome to Store Wi-Fi</h1>"
    b"<form action='/login'>Accept the terms to go online</form></body></html>"
)
GATEWAY_404 = (
    b'{"type":"about:blank","title":"Not Found","status":404,"code":"order_not_found","detail":"no such order"}'
)

# name -> (status, headers, body, the trouble the device must name)
ANSWERS: dict[str, tuple[int, dict[str, str], bytes, str]] = {
    "portal_302": (
        302,
        {"Location": "http://192.0.2.1/login", "Content-Type": "text/html"},
        SIGN_IN_PAGE,
        "captive_portal",
    ),
    "portal_200_html": (200, {"Content-Type": "text/html; charset=utf-8"}, SIGN_IN_PAGE, "captive_portal"),
    "portal_511": (511, {"Content-Type": "text/html"}, SIGN_IN_PAGE, "captive_portal"),
    "proxy_407": (407, {"Proxy-Authenticate": 'Basic realm="shop"', "Content-Type": "text/html"}, b"<html/>", "proxy"),
    "gateway_408": (408, {"Content-Type": "text/plain"}, b"Request Timeout", "network"),
    "gateway_413": (413, {"Content-Type": "text/html"}, b"<html>413 Request Entity Too Large</html>", "network"),
    "gateway_400": (400, {"Content-Type": "text/html"}, b"<html>400 Bad Request</html>", "network"),
    "gateway_404_html": (404, {"Content-Type": "text/html"}, b"<html>404 Not Found</html>", "network"),
    "gateway_404_problem": (404, {"Content-Type": PROBLEM_MEDIA_TYPE}, GATEWAY_404, "network"),
    "unsigned_201": (201, {"Content-Type": "application/json"}, b'{"number":"ORD-99999999"}', "network"),
}


# ---------------------------------------------------------------------------------------- the device's client


def client_answering(status: int, headers: dict[str, str], body: bytes) -> CentralClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, content=body)

    return CentralClient("http://centre.test", "demo-AMS01", transport=httpx.MockTransport(answer))


@pytest.mark.parametrize("name", ANSWERS)
def test_an_answer_without_the_centres_header_is_network_trouble(name: str) -> None:
    status, headers, body, trouble = ANSWERS[name]
    client = client_answering(status, headers, body)
    with pytest.raises(NotTheCentre) as raised:
        client.post("/v1/orders/ship-to-home", {"lines": []}, key="0191a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b")
    assert raised.value.trouble == trouble and raised.value.status == status
    assert "Welcome" not in str(raised.value) and "<html" not in str(raised.value)
    assert not client.healthy()


def test_a_problem_document_signed_by_the_centre_is_a_refusal() -> None:
    body = b'{"type":"/problems/out_of_stock","title":"Not enough stock","status":409,"code":"out_of_stock"}'
    client = client_answering(409, {"Content-Type": PROBLEM_MEDIA_TYPE, CENTRE_HEADER: "c1"}, body)
    answer = client.post("/v1/orders/ship-to-home", {}, key="k" * 12)
    assert answer.status == 409 and answer.problem().code == "out_of_stock"


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b'{"code":"out_of_stock"}'),  # not a problem document
        (PROBLEM_MEDIA_TYPE, b'{"title":"Conflict","status":409}'),  # no code
        (PROBLEM_MEDIA_TYPE, b"<html>409</html>"),  # not JSON
    ],
)
def test_a_signed_refusal_that_is_not_a_problem_document_with_a_code_is_network_trouble(
    content_type: str, body: bytes
) -> None:
    client = client_answering(409, {"Content-Type": content_type, CENTRE_HEADER: "c1"}, body)
    with pytest.raises(NotTheCentre) as raised:
        client.post("/v1/orders/ship-to-home", {}, key="k" * 12)
    assert raised.value.trouble == "network"


def test_only_the_centres_401_refuses_the_token() -> None:
    problem = b'{"type":"/problems/unauthorized","title":"t","status":401,"code":"unauthorized"}'
    signed = client_answering(401, {"Content-Type": PROBLEM_MEDIA_TYPE, CENTRE_HEADER: "c1"}, problem)
    with pytest.raises(CentralRefused):
        signed.get("/v1/stores")
    unsigned = client_answering(401, {"Content-Type": "text/html"}, b"<html>Log in</html>")
    with pytest.raises(NotTheCentre):
        unsigned.get("/v1/stores")


def test_the_sync_bar_names_the_trouble_in_both_languages() -> None:
    def state(online: bool | None, trouble: str | None) -> SyncState:
        return SyncState(True, online, None, 0, 0, None, trouble)

    assert state(True, None).status_key == "online"
    assert state(False, None).status_key == "offline"
    for trouble in ("captive_portal", "proxy", "network"):
        key = state(False, trouble).status_key
        assert key in STRINGS["en"] and key in STRINGS["nl"]
        assert tr("nl", key) != tr("en", key)
    assert "wifi" in tr("nl", "offline_captive_portal").lower()
    assert "Wi-Fi" in tr("en", "offline_captive_portal") and "sign-in" in tr("en", "offline_captive_portal")


# ---------------------------------------------------------------------------------------- the centre signs


def test_the_centre_signs_every_answer_with_one_stable_id(central: Central) -> None:
    with central.client() as api, central.client(token=None) as anonymous:
        answers = [
            api.get("/health"),
            api.get("/openapi.json"),
            api.get("/v1/sync/stores"),
            api.get("/v1/nowhere"),  # 404 problem
            api.get("/v1/customers/lookup", params={"card": "123"}),  # 422 problem
            api.delete("/v1/sync/stores"),  # 405 problem
            anonymous.get("/v1/sync/stores"),  # 401 problem
            api.post("/v1/orders/ship-to-home", json={}, headers={"Idempotency-Key": "0123456789"}),  # 422
        ]
    ids = {answer.headers.get(CENTRE_HEADER) for answer in answers}
    assert len(ids) == 1 and None not in ids and "" not in ids, [(a.status_code, a.headers) for a in answers]
    for answer in answers[3:]:
        assert answer.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE) and answer.json()["code"]

    # the same centre (its database) in another process, answering a crash: the same id, on a 500 as well
    store = CentralStore(central.db)
    store.customer_by_id = lambda customer_id: 1 / 0  # type: ignore[method-assign]
    transport = httpx.ASGITransport(app=create_app(store, demo=True), raise_app_exceptions=False)

    async def crash() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://centre") as client:
            return await client.get("/v1/customers/C0000001", headers={"Authorization": "Bearer demo-AMS01"})

    crashed = asyncio.run(crash())
    store.close()
    assert crashed.status_code == 500 and crashed.headers[CENTRE_HEADER] in ids


# ---------------------------------------------------------------------------------------- through a real network


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    with demo_centre(backend, tmp_path_factory.mktemp("refusals"), 60) as server:
        yield server


USED_SKUS: set[str] = set()


class Staff:
    """Makes orders (one per SKU no other test here uses, so stock never runs out) and notes, marked as its own."""

    def __init__(self, device: Device, mark: str) -> None:
        self.device, self.mark = device, mark
        self.customers = [r[0] for r in device.cache.query("SELECT id FROM customers ORDER BY id LIMIT 10")]
        skus = [r[0] for r in device.cache.query("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 2")]
        self.skus = [sku for sku in skus if sku not in USED_SKUS]
        self.orders: list[str] = []
        self.notes: list[str] = []

    def make(self, orders: int, notes: int) -> None:
        for i in range(orders):
            sku = self.skus.pop()
            USED_SKUS.add(sku)
            customer = self.customers[i % len(self.customers)]
            command = self.device.place_ship_to_home(
                customer, [(sku, 1)], fulfilling_store="DC01", staff=self.mark, send_now=False
            )
            self.orders.append(command.command_id)
        for i in range(notes):
            note = self.device.add_note(self.customers[i], f"{self.mark} {i}", staff=self.mark, send_now=False)
            self.notes.append(note.command_id)

    @property
    def made(self) -> list[str]:
        return self.orders + self.notes


def staff_of_its_own(db: Path, number: int) -> str:
    """A new staff member of AMS01, named by no command yet: the centre takes only its store's staff on a command."""
    member = demo_staff()[0].model_copy(update={"id": f"S9{number:03d}", "name": f"Between {number}"})
    store = CentralStore(db)
    try:
        store.put_staff([member])
    finally:
        store.close()
    return member.id


def at_centre(centre: Central, command_ids: list[str]) -> set[str]:
    """The command ids the centre has answered (its idempotency record, one row per key)."""
    return {row[0] for row in centre.rows("SELECT key FROM idempotency")} & set(command_ids)


def assert_no_attention(device: Device) -> None:
    state = device.sync_state()
    assert state.attention == 0 and device.needs_attention() == [], state
    assert all(command.state in ("waiting", "sent") for command in device.commands())


@pytest.mark.parametrize("name", ANSWERS)
def test_answers_in_the_centres_place_never_refuse_and_every_command_arrives_once(
    name: str, centre: Central, tmp_path: Path
) -> None:
    status, headers, body, trouble = ANSWERS[name]
    mark = staff_of_its_own(centre.db, list(ANSWERS).index(name))  # the commands it makes are known by it
    proxy = FaultProxy(int(centre.url.rsplit(":", 1)[1]), seed=len(name)).start()
    proxy.set_answer(status, body, headers=headers)
    settings = Settings.load(tmp_path / "device", central_url=proxy.url, device_token="demo-AMS01", store="AMS01")
    device = Device(settings)
    try:
        assert device.sync_now().ok
        staff = Staff(device, mark)

        # Before the centre sees anything: the answer stands in for it on every request.
        staff.make(orders=2, notes=1)
        proxy.set_faults(answer_before=1.0)
        report = device.sync_now()
        state = device.sync_state()
        assert not report.ok and state.online is False and state.trouble == trouble, (report, state)
        assert state.waiting == 3 and b"Welcome" not in (report.error or "").encode()
        assert tr("nl", state.status_key) != tr("nl", "online")
        assert_no_attention(device)
        assert at_centre(centre, staff.made) == set()

        # After the centre committed: it placed the order, but the device hears the stand-in.
        proxy.set_faults(answer_after=1.0)
        report = device.sync_now()
        assert not report.ok and device.sync_state().trouble == trouble
        assert_no_attention(device)
        assert staff.made[0] in at_centre(centre, staff.made)  # committed, but not shown as refused

        # Some requests of each kind, while staff go on working.
        staff.make(orders=3, notes=2)
        proxy.set_faults(answer_before=0.25, answer_after=0.25)
        for _ in range(4):
            device.sync_now()
            assert_no_attention(device)

        # The path is clear: everything arrives, each command exactly once.
        proxy.set_faults()
        report = device.sync_now()
        state = device.sync_state()
        assert report.ok and (state.waiting, state.attention, state.trouble) == (0, 0, None), (report, state)
        assert proxy.stats["answer_before"] > 0 and proxy.stats["answer_after"] > 0
    finally:
        device.close()
        proxy.stop()

    with Device(settings) as again:
        sent = {c.command_id: c for c in again.commands() if c.staff == mark}
    assert set(sent) == set(staff.made) and all(c.state == "sent" for c in sent.values())
    assert at_centre(centre, staff.made) == set(staff.made)
    orders = {row[0] for row in centre.rows("SELECT id FROM orders WHERE doc->>'placed_by' = ?", (mark,))}
    notes = centre.rows("SELECT count(*) FROM notes WHERE doc->>'author' = ?", (mark,))[0]
    assert orders == {sent[command_id].number for command_id in staff.orders} and len(orders) == len(staff.orders)
    assert notes[0] == len(staff.notes)
