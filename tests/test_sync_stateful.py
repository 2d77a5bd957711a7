"""A hypothesis state machine drives a real `Device` against a simple model of the centre.

The model keeps rows with a sequence, tombstones with floors, and idempotency keys, and is reached through an
in-process transport that can be down, answer 503, or commit and then lose the answer. Steps: commands made
on the device, changes and deletions at the centre, tombstones pruned, syncs, faults, and restarts of the
device. Always: the centre never holds more orders than were made, and never two for one command. At the end,
after the network heals: every command was answered exactly once, the outbox is empty, and the cache equals
the model.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from clienteling.codes import gs1_check_digit, make_card_number
from clienteling.config import Settings
from clienteling.contract import CENTRE_HEADER, PROBLEM_MEDIA_TYPE, SYNC_COLLECTIONS, CentreInfo, Epoch
from clienteling.device import Device, OutOfStock
from clienteling.device.central_client import CentralClient

NOW = "2026-11-20T10:00:00+00:00"
SKUS = ["CT01-NVY-M", "CT01-NVY-L", "KN01-BLK-S"]
CUSTOMERS = ["C0000001", "C0000002", "C0000003"]


def customer(cid: str, points: int) -> dict:
    return {
        "id": cid,
        "first_name": "Test",
        "last_name": f"Klant {cid}",
        "email": f"{cid.lower()}@example.com",
        "phone": "+31612345678",
        "home_store": "AMS01",
        "card_number": make_card_number(int(cid[1:])),
        "tier": "basic",
        "points": points,
        "consent": {"marketing": True, "profiling": False, "updated_at": NOW},
        "addresses": [
            {
                "street": "Dam",
                "house_number": "1",
                "postcode": "1012 AB",
                "city": "Amsterdam",
                "country": "NL",
                "label": "home",
            }
        ],
        "sizes": {"tops": "M", "trousers": None, "shoes": None},
        "preferences": [],
        "created_at": NOW,
        "updated_at": NOW,
    }


class ModelCentre:
    """The centre reduced to its promises: a sequence, rows, tombstones with floors, idempotent commands."""

    def __init__(self) -> None:
        self.seq = 0
        self.rows: dict[str, dict[str, tuple[int, dict]]] = {c: {} for c in SYNC_COLLECTIONS}
        self.tombstones: list[tuple[int, str, str]] = []
        self.floors: dict[str, int] = {}
        self.answers: dict[str, tuple[int, str]] = {}
        self.orders_made = 0
        self.fault = "none"
        for code, lat in (("AMS01", 52.37), ("UTR01", 52.09), ("DC01", 51.56)):
            self.put(
                "stores",
                code,
                {
                    "code": code,
                    "name": code,
                    "city": code,
                    "latitude": lat,
                    "longitude": 5.0,
                    "kind": "dc" if code == "DC01" else "store",
                    "updated_at": NOW,
                },
            )
        variants = [
            {
                "sku": s,
                "gtin": f"871234000{i:03d}" + "0",
                "colour": "navy",
                "size": s[-1],
                "price": {"cents": 10000, "currency": "EUR"},
            }
            for i, s in enumerate(SKUS)
        ]
        for v in variants:  # valid GTIN-13 check digits
            v["gtin"] = v["gtin"][:12] + str(gs1_check_digit(v["gtin"][:12]))
        self.put(
            "products",
            "CT01",
            {
                "style": "CT01",
                "name": "Coat",
                "category": "coats",
                "description": "",
                "image": None,
                "variants": variants,
                "updated_at": NOW,
            },
        )
        for store in ("AMS01", "UTR01", "DC01"):
            for sku in SKUS:
                self.put_stock(store, sku, 5, 0)
        for cid in CUSTOMERS:
            self.put("customers", cid, customer(cid, 0))
            self.put(
                "wishlists",
                f"{cid}:{SKUS[0]}",
                {"id": f"{cid}:{SKUS[0]}", "customer_id": cid, "style": "CT01", "sku": SKUS[0], "added_at": NOW},
            )

    def put(self, collection: str, row_id: str, doc: dict) -> None:
        self.seq += 1
        self.rows[collection][row_id] = (self.seq, doc)

    def put_stock(self, store: str, sku: str, on_hand: int, reserved: int) -> None:
        self.put(
            "stock",
            f"{store}:{sku}",
            {
                "store": store,
                "sku": sku,
                "on_hand": on_hand,
                "reserved": reserved,
                "available": max(on_hand - reserved, 0),
                "as_of": NOW,
            },
        )

    def delete(self, collection: str, row_id: str) -> None:
        if self.rows[collection].pop(row_id, None) is not None:
            self.seq += 1
            self.tombstones.append((self.seq, collection, row_id))

    def prune(self) -> None:
        for seq, collection, _ in self.tombstones:
            self.floors[collection] = max(self.floors.get(collection, 0), seq)
        self.tombstones = []

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.fault == "down":
            raise httpx.ConnectError("down", request=request)
        if self.fault == "busy":
            return signed(httpx.Response(503, json={"code": "busy"}, headers={"Retry-After": "0"}))
        response = signed(self.answer(request))
        if self.fault == "lose_answer":
            raise httpx.ReadError("connection lost after the centre committed", request=request)
        return response

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/centre":  # one centre, one epoch: this model is never restored from a backup
            info = CentreInfo(centre="c" * 32, epoch="e" * 16, seq=self.seq, epochs=[Epoch(epoch="e" * 16, from_seq=0)])
            return httpx.Response(200, json=info.model_dump())
        if path.startswith("/v1/sync/"):
            return self.page(path.rsplit("/", 1)[1], request.url.params["after"], int(request.url.params["limit"]))
        if path == "/v1/orders/ship-to-home":
            return self.command(request, self.ship_to_home)
        if path.endswith("/notes"):
            return self.command(
                request,
                lambda body: (
                    201,
                    {
                        "id": f"N{self.seq + 1:08d}",
                        "customer_id": path.split("/")[3],
                        "text": body["text"],
                        "author": body["author"],
                        "store": "AMS01",
                        "created_at": NOW,
                    },
                ),
            )
        return httpx.Response(404, json={"code": "not_found", "detail": path})

    def page(self, collection: str, cursor: str, limit: int) -> httpx.Response:
        fresh = cursor == "0" or cursor.startswith("F")
        after = int(cursor.lstrip("F"))
        if not fresh and after < self.floors.get(collection, 0):
            return httpx.Response(410, json={"code": "reset_required", "status": 410, "detail": "too old"})
        entries = sorted(
            [(seq, doc, False) for seq, doc in self.rows[collection].values() if seq > after]
            + (
                [(seq, rid, True) for seq, c, rid in self.tombstones if c == collection and seq > after]
                if after
                else []
            )
        )
        page, has_more = entries[:limit], len(entries) > limit
        return httpx.Response(
            200,
            json={
                "items": [doc for _, doc, gone in page if not gone],
                "deleted": [rid for _, rid, gone in page if gone],
                "next_cursor": f"{'F' if fresh else ''}{page[-1][0]}" if has_more else str(max(self.seq, after)),
                "has_more": has_more,
            },
        )

    def command(self, request: httpx.Request, work) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        body = json.loads(request.content)
        if key not in self.answers:
            status, answer = work(body)
            self.answers[key] = (status, json.dumps(answer))
        status, text = self.answers[key]
        return httpx.Response(status, content=text.encode(), headers={"Content-Type": "application/json"})

    def ship_to_home(self, body: dict) -> tuple[int, dict]:
        line = body["lines"][0]
        _, stock = self.rows["stock"][f"{body['fulfilling_store']}:{line['sku']}"]
        if stock["available"] < line["quantity"]:
            return 409, {"code": "out_of_stock", "detail": "not enough stock", "status": 409}
        self.put_stock(stock["store"], stock["sku"], stock["on_hand"], stock["reserved"] + line["quantity"])
        self.orders_made += 1
        number = f"ORD-{self.orders_made:08d}"
        order = {
            "number": number,
            "customer_id": body["customer_id"],
            "channel": "store",
            "fulfilment": "delivery",
            "store": "AMS01",
            "fulfilled_by": body["fulfilling_store"],
            "status": "reserved",
            "status_history": [{"status": "reserved", "at": NOW, "note": None}],
            "lines": [
                {
                    "line_no": 1,
                    "sku": line["sku"],
                    "name": "Coat",
                    "colour": "navy",
                    "size": "M",
                    "quantity": line["quantity"],
                    "unit_price": {"cents": 10000, "currency": "EUR"},
                    "returned_quantity": 0,
                }
            ],
            "shipping_address": body["shipping_address"],
            "totals": {k: {"cents": 10000 * line["quantity"], "currency": "EUR"} for k in ("subtotal", "total")}
            | {"shipping": {"cents": 0, "currency": "EUR"}},
            "placed_by": body["placed_by"],
            "created_at": NOW,
            "updated_at": NOW,
            "delivered_at": None,
        }
        self.put("orders", number, order)
        return 201, order


def signed(response: httpx.Response) -> httpx.Response:
    """The model answers as the centre does: its header on every answer, a problem document for every refusal."""
    response.headers[CENTRE_HEADER] = "model"
    if response.status_code >= 400:
        response.headers["Content-Type"] = PROBLEM_MEDIA_TYPE
    return response


@settings(max_examples=25, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
class DeviceAgainstModel(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="clienteling-stateful-"))
        self.model = ModelCentre()
        self.made: list[str] = []
        self.device = self.open()
        assert self.device.sync_now().ok  # a device is set up online, then left to the network's mercy

    def open(self) -> Device:
        client = CentralClient("http://model.test", "token", transport=httpx.MockTransport(self.route))
        return Device(Settings.load(self.folder, store="AMS01"), client=client)

    def route(self, request: httpx.Request) -> httpx.Response:
        return self.model.handle(request)

    @rule(customer=st.sampled_from(CUSTOMERS), sku=st.sampled_from(SKUS), store=st.sampled_from(["DC01", "UTR01"]))
    def make_order(self, customer: str, sku: str, store: str) -> None:
        try:
            command = self.device.place_ship_to_home(customer, [(sku, 1)], fulfilling_store=store, send_now=False)
        except OutOfStock:
            return
        self.made.append(command.command_id)

    @rule(customer=st.sampled_from(CUSTOMERS))
    def make_note(self, customer: str) -> None:
        self.made.append(self.device.add_note(customer, "Tried size M.", send_now=False).command_id)

    @rule(customer=st.sampled_from(CUSTOMERS), points=st.integers(0, 9999))
    def centre_changes_a_customer(self, customer: str, points: int) -> None:
        if customer in self.model.rows["customers"]:
            self.model.put("customers", customer, {**self.model.rows["customers"][customer][1], "points": points})

    @rule(customer=st.sampled_from(CUSTOMERS))
    def centre_deletes_a_wishlist_item(self, customer: str) -> None:
        self.model.delete("wishlists", f"{customer}:{SKUS[0]}")

    @rule(store=st.sampled_from(["AMS01", "UTR01", "DC01"]), sku=st.sampled_from(SKUS), on_hand=st.integers(0, 9))
    def centre_counts_stock(self, store: str, sku: str, on_hand: int) -> None:
        stock = self.model.rows["stock"][f"{store}:{sku}"][1]
        self.model.put_stock(store, sku, max(on_hand, stock["reserved"]), stock["reserved"])

    @rule()
    def centre_prunes_tombstones(self) -> None:
        self.model.prune()

    @rule(fault=st.sampled_from(["none", "down", "busy", "lose_answer"]))
    def network(self, fault: str) -> None:
        self.model.fault = fault

    @rule()
    def sync(self) -> None:
        self.device.sync_now()  # never raises for network trouble

    @rule()
    def restart(self) -> None:
        self.device.close()
        self.device = self.open()

    @invariant()
    def never_more_orders_than_commands(self) -> None:
        keys = set(self.model.answers)
        assert keys <= set(self.made)  # nothing the device did not make
        assert self.model.orders_made <= len(self.made)

    def teardown(self) -> None:
        try:
            self.model.fault = "none"
            report = self.device.sync_now()
            assert report.ok, report.error
            assert self.device.sync_state().waiting == 0
            assert self.device.journal.waiting() == []
            assert set(self.model.answers) == set(self.made)  # every command answered once, under its own key
            states = {c.command_id: c.state for c in self.device.commands()}
            for key, (status, _) in self.model.answers.items():
                assert states[key] == ("sent" if status == 201 else "attention")
            orders = {k for k, (status, text) in self.model.answers.items() if json.loads(text).get("number")}
            assert self.model.orders_made == len(orders)
            for collection in SYNC_COLLECTIONS:
                model_rows = {rid: doc for rid, (_, doc) in self.model.rows[collection].items()}
                if collection == "stock":
                    cached = {
                        r[0]: (r[1], r[2]) for r in self.device.cache.query("SELECT id, on_hand, reserved FROM stock")
                    }
                    assert cached == {rid: (d["on_hand"], d["reserved"]) for rid, d in model_rows.items()}
                else:
                    cached = {
                        r[0]: json.loads(r[1]) for r in self.device.cache.query(f"SELECT id, doc FROM {collection}")
                    }
                    assert cached == model_rows, collection
        finally:
            self.device.close()
            shutil.rmtree(self.folder, ignore_errors=True)


TestDeviceAgainstModel = DeviceAgainstModel.TestCase
