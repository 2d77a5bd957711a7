"""The retailer's systems feed the centre (issue 13): integration tokens, versions, field owners, per-record problems,
and every accepted change in the store devices' feed. A real centre over real HTTP, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from conftest import Central, clienteling, demo_centre
from test_api_customers import assert_problem
from test_api_sync import pull

from clienteling.codes import make_card_number
from clienteling.contract import IngestReport

pytestmark = pytest.mark.both_backends

NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    with demo_centre(backend, tmp_path_factory.mktemp("ingest"), 60) as server:
        yield server


def integration(centre: Central, name: str, may: str) -> httpx.Client:
    made = clienteling("central", "add-integration", "--name", name, "--may", may, "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("cls_")
    return centre.client(token)


@pytest.fixture(scope="module")
def systems(centre: Central) -> Iterator[dict[str, httpx.Client]]:
    clients = {
        "webshop": integration(centre, "webshop", "customers,wishlists,orders,conversations"),
        "loyalty": integration(centre, "loyalty", "customers"),
        "erp": integration(centre, "erp", "stock,products,stores"),
    }
    yield clients
    for client in clients.values():
        client.close()


def send(client: httpx.Client, collection: str, *records: dict) -> IngestReport:
    response = client.post(
        f"/v1/ingest/{collection}", content="\n".join(json.dumps(r) for r in records) + "\n", headers=NDJSON
    )
    assert response.status_code == 200, response.text
    return IngestReport.model_validate(response.json())


def customer(number: int, **changes) -> dict:
    doc = {
        "id": f"C{number:07d}",
        "first_name": "Noor",
        "last_name": "Visser",
        "email": f"noor.visser.{number}@example.com",
        "phone": "+31612345678",
        "home_store": "AMS01",
        "card_number": make_card_number(number),
        "tier": "silver",
        "points": 120,
        "consent": {"marketing": True, "profiling": False, "updated_at": "2026-11-01T09:00:00+00:00"},
        "addresses": [],
        "sizes": {"tops": "S"},
        "preferences": ["linen"],
    }
    return {**doc, **changes}


def test_only_an_integration_token_for_that_collection_may_write(centre: Central, systems) -> None:
    body = json.dumps({"version": 1, "data": customer(900001)})
    with centre.client(None) as anonymous:
        assert_problem(anonymous.post("/v1/ingest/customers", content=body, headers=NDJSON), 401, "unauthorized")
    with centre.client("demo-AMS01") as device:
        assert_problem(device.post("/v1/ingest/customers", content=body, headers=NDJSON), 403, "forbidden")
    refused = assert_problem(
        systems["loyalty"].post("/v1/ingest/stock", content=body, headers=NDJSON), 403, "forbidden"
    )
    assert "loyalty may write customers, not stock" in refused["detail"]
    # and an integration's token is no device's: it reads no customer
    assert_problem(systems["webshop"].get("/v1/customers/C0000001"), 401, "unauthorized")
    assert_problem(systems["erp"].post("/v1/ingest/recipes", content=body, headers=NDJSON), 404, "collection_not_found")
    wrong_type = systems["webshop"].post("/v1/ingest/customers", content=body, headers={"Content-Type": "text/plain"})
    assert_problem(wrong_type, 422, "invalid_request")


def test_a_new_customer_reaches_the_store_devices_feed_with_its_source(centre: Central, systems) -> None:
    with centre.client("demo-AMS01") as device:
        _, _, cursor = pull(device, "customers")
        report = send(systems["webshop"], "customers", {"version": 3, "data": customer(900002)})
        assert (report.accepted, report.refused, report.source) == (1, 0, "webshop")
        rows, _, _ = pull(device, "customers", cursor)
        assert list(rows) == ["C0900002"]
        assert rows["C0900002"].email == "noor.visser.900002@example.com"
        assert set(rows["C0900002"].model_dump()["sources"]) == {"webshop"}
        found = device.get("/v1/customers/lookup", params={"email": "Noor.Visser.900002@example.com"})
        assert found.status_code == 200 and found.json()["id"] == "C0900002"
        assert [c["id"] for c in device.get("/v1/customers/search", params={"q": "noor visser"}).json()] == ["C0900002"]
    with centre.client("demo-UTR01") as elsewhere:  # another store's devices do not get her: not in their scope
        rows, _, _ = pull(elsewhere, "customers", cursor)
        assert "C0900002" not in rows


def test_an_older_version_never_overwrites_a_newer_one_and_a_repeat_changes_nothing(centre: Central, systems) -> None:
    webshop = systems["webshop"]
    newer = {"version": 8, "data": customer(900003, last_name="Newer")}
    older = {"version": 7, "data": customer(900003, last_name="Older")}
    first = send(webshop, "customers", newer, older, newer)
    assert (first.accepted, first.stale, first.unchanged) == (1, 1, 1)
    assert [(line.line, line.status) for line in first.lines] == [(2, "stale"), (3, "unchanged")]
    late = send(webshop, "customers", older)  # the same event, arriving late in a batch of its own
    assert late.stale == 1
    assert centre.rows("SELECT doc->>'last_name' FROM customers WHERE id = ?", ("C0900003",)) == [("Newer",)]
    by_time = [
        {"updated_at": "2026-11-30T10:00:00+01:00", "data": customer(900004, points=5)},
        {"updated_at": "2026-11-30T08:59:59Z", "data": customer(900004, points=9)},  # a second earlier, in UTC
    ]
    report = send(webshop, "customers", *by_time)
    assert (report.accepted, report.stale) == (1, 1)
    assert centre.rows("SELECT CAST(doc->>'points' AS INTEGER) FROM customers WHERE id = ?", ("C0900004",)) == [(5,)]
    mixed = send(webshop, "customers", {"version": 9, "data": customer(900004)})
    assert mixed.lines[0].code == "version_kind_changed"


def test_a_field_another_system_owns_is_refused_for_that_record_only(centre: Central, systems) -> None:
    made = clienteling(
        "central", "field-owners", "--set", "customers.tier=loyalty", "--set", "customers.points=loyalty",
        "--set", "customers.email=webshop", "--db", str(centre.db),
    )  # fmt: skip
    assert made.returncode == 0 and "customers.tier\tloyalty" in made.stdout, made.stderr
    webshop, loyalty = systems["webshop"], systems["loyalty"]
    send(webshop, "customers", {"version": 1, "data": customer(900005)})
    send(webshop, "customers", {"version": 1, "data": customer(900006)})

    report = send(
        webshop,
        "customers",
        {"version": 2, "data": customer(900005, tier="gold")},  # the loyalty system's to say
        {"version": 2, "data": customer(900006, email="noor@example.org")},  # the same tier: no change to it
    )
    assert (report.accepted, report.refused) == (1, 1)
    refusal = report.lines[0]
    assert (refusal.line, refusal.id, refusal.code, refusal.field) == (1, "C0900005", "field_owned_elsewhere", "tier")
    assert "owned by loyalty" in refusal.detail

    tier = send(loyalty, "customers", {"version": 40, "data": {"id": "C0900005", "tier": "gold", "points": 2500}})
    email = send(loyalty, "customers", {"version": 41, "data": {"id": "C0900006", "email": "x@example.com"}})
    assert tier.accepted == 1 and email.lines[0].code == "field_owned_elsewhere"
    rows = centre.rows(
        "SELECT id, doc->>'tier', doc->>'email' FROM customers WHERE id IN ('C0900005', 'C0900006') ORDER BY id"
    )
    assert rows == [
        ("C0900005", "gold", "noor.visser.900005@example.com"),
        ("C0900006", "silver", "noor@example.org"),
    ]
    sources = json.loads(centre.rows("SELECT CAST(doc AS TEXT) FROM customers WHERE id = 'C0900005'")[0][0])["sources"]
    assert set(sources) == {"webshop", "loyalty"}
    listed = systems["erp"].get("/v1/field-owners").json()
    assert {"collection": "customers", "field": "tier", "source": "loyalty"} in listed


def test_bad_records_are_refused_by_line_and_the_good_ones_in_the_batch_are_kept(centre: Central, systems) -> None:
    body = "\n".join(
        [
            json.dumps({"version": 1, "data": customer(900010)}),
            '{"version": 1, "data": {"id": "C0900011", ',  # cut off
            json.dumps({"data": customer(900012)}),  # no version
            json.dumps({"version": 1, "data": customer(900013, home_store="XYZ99")}),
            json.dumps({"version": 1, "data": customer(900014, emial="typo@example.com")}),
            json.dumps({"version": 1, "data": customer(900015, card_number=make_card_number(900010))}),
            json.dumps({"version": 1, "source": "loyalty", "data": customer(900016)}),
            "",
            json.dumps({"version": 1, "data": customer(900017, tier="diamond")}),
            json.dumps({"version": 1, "data": customer(900018)}),
        ]
    )
    response = systems["webshop"].post("/v1/ingest/customers", content=body, headers=NDJSON)
    assert response.status_code == 200
    report = IngestReport.model_validate(response.json())
    codes = {line.line: line.code for line in report.lines}
    assert codes == {
        2: "not_json",
        3: "version_missing",
        4: "unknown_store",
        5: "unknown_field",
        6: "in_use",
        7: "source_mismatch",
        9: "invalid_record",
    }
    assert (report.received, report.accepted, report.refused) == (9, 2, 7)
    kept = centre.rows("SELECT id FROM customers WHERE id BETWEEN 'C0900010' AND 'C0900019' ORDER BY id")
    assert kept == [("C0900010",), ("C0900018",)]
    assert "Traceback" not in response.text


def test_a_deleted_record_stays_deleted_when_an_older_upsert_arrives_late(centre: Central, systems) -> None:
    webshop = systems["webshop"]
    send(webshop, "customers", {"version": 1, "data": customer(900020)})
    sku = centre.rows("SELECT sku FROM variants ORDER BY sku LIMIT 1")[0][0]
    style = centre.rows("SELECT style FROM variants WHERE sku = ?", (sku,))[0][0]
    item = {"id": f"C0900020:{sku}", "customer_id": "C0900020", "style": style, "sku": sku,
            "added_at": "2026-11-29T12:00:00Z"}  # fmt: skip
    with centre.client("demo-AMS01") as device:
        _, _, cursor = pull(device, "wishlists")
        assert send(webshop, "wishlists", {"version": 1, "data": item}).accepted == 1
        rows, _, cursor = pull(device, "wishlists", cursor)
        assert list(rows) == [item["id"]]
        assert send(webshop, "wishlists", {"version": 3, "id": item["id"], "deleted": True}).accepted == 1
        late = send(webshop, "wishlists", {"version": 2, "data": item})
        assert late.stale == 1
        rows, deleted, _ = pull(device, "wishlists", cursor)
        assert rows == {} and deleted == {item["id"]}


def test_a_stock_figure_from_the_erp_keeps_the_centres_reservations_and_names_its_source(
    centre: Central, systems
) -> None:
    store, sku, reserved = centre.rows("SELECT store, sku, reserved FROM stock WHERE reserved > 0 LIMIT 1")[0]
    report = send(
        systems["erp"],
        "stock",
        {"data": {"store": store, "sku": sku, "on_hand": 17, "as_of": "2026-11-30T07:45:00Z"}},
        {"data": {"store": store, "sku": sku, "on_hand": 3, "as_of": "2026-11-30T07:40:00Z"}},  # an older count
        {"data": {"store": store, "sku": "NO-SUCH-SKU", "on_hand": 3, "as_of": "2026-11-30T07:40:00Z"}},
    )
    assert (report.accepted, report.stale, report.refused) == (1, 1, 1) and report.lines[1].code == "unknown_sku"
    with centre.client("demo-AMS01") as device:
        levels = {level["store"]: level for level in device.get(f"/v1/stock/{sku}").json()["levels"]}
        rows, _, _ = pull(device, "stock")
    assert (levels[store]["on_hand"], levels[store]["reserved"]) == (17, reserved)
    assert levels[store]["as_of"] == "2026-11-30T07:45:00+00:00"
    assert rows[f"{store}:{sku}"].source == "erp" and rows[f"{store}:{sku}"].available == 17 - reserved


def test_a_new_product_is_found_by_its_code_and_its_gtin_is_its_own(centre: Central, systems) -> None:
    product = {
        "style": "XP01",
        "name": "Harbour rain jacket",
        "category": "coats",
        "description": "Waxed cotton",
        "variants": [
            {"sku": "XP01-OLV-M", "gtin": "8712345999994", "colour": "Olive", "size": "M",
             "price": {"cents": 18900, "currency": "EUR"}},
        ],
    }  # fmt: skip
    taken_gtin = centre.rows("SELECT gtin14 FROM variants LIMIT 1")[0][0]
    clash = {
        **product,
        "style": "XP02",
        "variants": [{**product["variants"][0], "sku": "XP02-OLV-M", "gtin": taken_gtin}],
    }
    report = send(systems["erp"], "products", {"version": 1, "data": product}, {"version": 1, "data": clash})
    assert report.accepted == 1 and report.lines[0].code == "in_use"
    with centre.client("demo-AMS01") as device:
        found = device.get("/v1/products/by-code/8712345999994")
        assert found.status_code == 200 and found.json()["product"]["name"] == "Harbour rain jacket"
        assert [p["style"] for p in device.get("/v1/products/search", params={"q": "harbour rain"}).json()] == ["XP01"]


def test_a_json_array_is_taken_too_and_an_oversized_batch_is_refused_whole(centre: Central, systems) -> None:
    webshop = systems["webshop"]
    records = [{"version": 1, "data": customer(900030 + n)} for n in range(3)]
    response = webshop.post("/v1/ingest/customers", json=records)
    assert response.status_code == 200 and response.json()["accepted"] == 3
    too_many = "\n".join(["{}"] * 20_001)
    assert_problem(webshop.post("/v1/ingest/customers", content=too_many, headers=NDJSON), 413, "payload_too_large")
    assert_problem(webshop.post("/v1/ingest/customers", json={"not": "records"}), 422, "invalid_request")


def test_the_commands_refuse_bad_input_with_a_message(centre: Central) -> None:
    unknown = clienteling("central", "add-integration", "--name", "pim", "--may", "recipes", "--db", str(centre.db))
    assert unknown.returncode != 0 and "recipes" in unknown.stderr and "Traceback" not in unknown.stderr
    bad = clienteling("central", "field-owners", "--set", "customers-tier", "--db", str(centre.db))
    assert bad.returncode != 0 and "COLLECTION.FIELD=SYSTEM" in bad.stderr and "Traceback" not in bad.stderr
    field = clienteling("central", "field-owners", "--set", "customers.shoe=erp", "--db", str(centre.db))
    assert field.returncode != 0 and "no field 'shoe'" in field.stderr
