"""What customers did online reaches the centre and the stores serving them (issue 15): `POST /v1/ingest/activities`
with an integration's token, synced only to the stores in her scope, kept 90 days (refused older, pruned at the
centre with tombstones and on the device by age), erased with her; the device's customer picture carries her
journey, and Sanne's demo screen reads as the README says. A real centre over real HTTP, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from conftest import Central, clienteling, demo_centre

from clienteling.config import Settings
from clienteling.contract import Activity, IngestReport, SyncPage
from clienteling.device import Device
from clienteling.ui import journey_words

pytestmark = pytest.mark.both_backends

NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    with demo_centre(backend, tmp_path_factory.mktemp("activities"), 120) as server:
        yield server


@pytest.fixture(scope="module")
def webshop(centre: Central) -> Iterator[httpx.Client]:
    made = clienteling(
        "central", "add-integration", "--name", "webshop", "--may", "activities,conversations", "--db", str(centre.db)
    )
    assert made.returncode == 0, made.stderr
    with centre.client(made.stdout.strip()) as client:
        yield client


def send(client: httpx.Client, *records: dict) -> IngestReport:
    response = client.post(
        "/v1/ingest/activities", content="\n".join(json.dumps(r) for r in records) + "\n", headers=NDJSON
    )
    assert response.status_code == 200, response.text
    return IngestReport.model_validate(response.json())


def activity(activity_id: str, customer: str, ago: timedelta, **fields) -> dict:
    at = datetime.now(UTC).replace(microsecond=0) - ago
    data = {"id": activity_id, "customer_id": customer, "channel": "web", "kind": "product_view", "at": at.isoformat()}
    return {"version": 1, "data": {**data, **fields}}


def feed(centre: Central, store: str, after: str = "0") -> tuple[dict[str, Activity], set[str], str]:
    """The store's feed of activities after `after`: (rows by id, deleted ids, the last cursor)."""
    rows, deleted, cursor = {}, set(), after
    with centre.client(f"demo-{store}") as device:
        while True:
            response = device.get("/v1/sync/activities", params={"after": cursor, "limit": 500})
            assert response.status_code == 200, response.text
            page = SyncPage[Activity].model_validate(response.json())
            rows.update({a.id: a for a in page.items})
            deleted.update(page.deleted)
            cursor = page.next_cursor
            if not page.has_more:
                return rows, deleted, cursor


def only_in(centre: Central, store: str, not_in: str) -> str:
    return centre.rows(
        "SELECT customer_id FROM customer_scope WHERE store = ? AND customer_id NOT IN"
        " (SELECT customer_id FROM customer_scope WHERE store = ?) ORDER BY customer_id LIMIT 1",
        (store, not_in),
    )[0][0]


def open_device(folder, url: str, store: str) -> Device:
    return Device(Settings.load(folder, central_url=url, device_token=f"demo-{store}", store=store))


def test_sanne_s_screen_picks_up_where_the_chatbot_left_off(centre: Central, tmp_path) -> None:
    """The demo: Sanne looked at the Harbour coat twice and asked the chatbot yesterday whether it runs small."""
    with open_device(tmp_path / "ams", centre.url, "AMS01") as amsterdam:
        assert amsterdam.sync_now().ok
        picture = amsterdam.customer_picture("C0000001")
    assert [a.kind for a in picture.activities] == ["chatbot_question", "product_view", "product_view", "search"]
    her = picture.journey
    assert her is not None and her.last is not None
    assert (her.last.kind, her.last.channel, her.last.product) == ("chatbot_question", "chatbot", "Harbour wool coat")
    now = datetime.now(UTC)
    if (now - her.last.at) < timedelta(hours=30):  # the demo was made today (its anchor): "yesterday"
        assert journey_words.last_line("en", her.last, now) == (
            "Asked the chatbot yesterday: “Does the Harbour coat run small?”"
        )
        assert journey_words.last_line("nl", her.last, now) == (
            "Vroeg gisteren aan de chatbot: “Does the Harbour coat run small?”"
        )
    assert (her.stage.stage, her.stage.reason) == ("information", "asked")
    assert journey_words.stage_line("en", her.stage, now) == "Information · asked the chatbot about Harbour wool coat"
    assert not her.service_first and picture.suggestions  # she is not waiting on service: suggestions as before


def test_ingested_activity_reaches_only_the_stores_serving_her(centre: Central, webshop) -> None:
    customer = only_in(centre, "AMS01", "RTD01")
    report = send(
        webshop,
        activity("web-1", customer, timedelta(hours=3), sku="CT01-NVY-M"),
        activity("bot-1", customer, timedelta(hours=2), channel="chatbot", kind="chatbot_question", text="Warm?"),
        activity("new-1", customer, timedelta(hours=1), channel="metaverse", kind="virtual_try_on"),  # not known yet
    )
    assert (report.accepted, report.refused) == (3, 0), report.lines
    ams, _, _ = feed(centre, "AMS01")
    assert {"web-1", "bot-1", "new-1"} <= set(ams)
    assert ams["web-1"].style == "CT01" and set(ams["web-1"].sources) == {"webshop"}  # style from the SKU
    rtd, _, _ = feed(centre, "RTD01")
    assert not {"web-1", "bot-1", "new-1"} & set(rtd)
    # a device's token may not write them; nor may a system not given them
    with centre.client("demo-AMS01") as device:
        assert device.post("/v1/ingest/activities", content="{}", headers=NDJSON).status_code == 403


def test_what_cannot_be_right_is_refused_line_by_line(centre: Central, webshop) -> None:
    customer = only_in(centre, "AMS01", "RTD01")
    report = send(
        webshop,
        activity("old-1", customer, timedelta(days=91)),
        activity("future-1", customer, -timedelta(hours=1)),
        activity("sku-1", customer, timedelta(hours=1), sku="ZZ99-NVY-M"),
        activity("who-1", "C9999999", timedelta(hours=1)),
        activity("kind-1", customer, timedelta(hours=1), kind="Product View!"),
        activity("ok-1", customer, timedelta(hours=1), style="KN01"),
    )
    codes = {line.id: line.code for line in report.lines if line.status == "refused"}
    assert codes == {
        "old-1": "too_long_ago",
        "future-1": "in_the_future",
        "sku-1": "unknown_sku",
        "who-1": "unknown_customer",
        "kind-1": "invalid_record",
    }, report.lines
    assert report.accepted == 1


def test_the_device_shows_her_journey_and_service_comes_first(centre: Central, webshop, tmp_path) -> None:
    customer = only_in(centre, "UTR01", "RTD01")
    coat = centre.rows("SELECT sku FROM variants WHERE style = 'CT02' ORDER BY sku LIMIT 1")[0][0]
    assert (
        send(
            webshop,
            activity("utr-1", customer, timedelta(hours=5), sku=coat),
            activity("utr-2", customer, timedelta(hours=4), sku=coat, channel="app"),
            activity("utr-3", customer, timedelta(hours=3), kind="cart_add", sku=coat),
        ).accepted
        == 3
    )
    with open_device(tmp_path / "utr", centre.url, "UTR01") as utrecht:
        assert utrecht.sync_now().ok
        picture = utrecht.customer_picture(customer)
        assert [a.id for a in picture.activities] == ["utr-3", "utr-2", "utr-1"]
        assert picture.journey.last.kind == "cart_add"
        assert (picture.journey.stage.stage, picture.journey.stage.reason) == ("buying", "in_cart")
        # an open complaint arrives: selling yields to service
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        chat = {
            "id": "CV9000001", "customer_id": customer, "channel": "email", "subject": "My parcel is late",
            "status": "open", "messages": [{"author": "customer", "text": "Where is it?", "at": now}],
            "started_at": now, "updated_at": now,
        }  # fmt: skip
        answer = webshop.post("/v1/ingest/conversations", json=[{"version": 1, "data": chat}])
        assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text
        assert utrecht.sync_now().ok
        picture = utrecht.customer_picture(customer)
        assert picture.journey.service_first and picture.suggestions == []
        assert picture.journey.stage.params["subject"] == "My parcel is late"
        assert journey_words.service_first("nl", picture.journey.stage, datetime.now(UTC)) == (
            "Eerst service: open vraag: My parcel is late"
        )


def test_the_device_drops_what_has_aged_past_ninety_days_while_offline(centre: Central, tmp_path) -> None:
    with open_device(tmp_path / "ams", centre.url, "AMS01") as amsterdam:
        assert amsterdam.sync_now().ok
        old = (datetime.now(UTC) - timedelta(days=91)).replace(microsecond=0)
        doc = {"id": "aged-1", "customer_id": "C0000001", "channel": "web", "kind": "review", "at": old.isoformat()}
        with amsterdam.cache.write() as conn:  # as if it had come before the device went offline for months
            conn.execute(
                "INSERT INTO activities (id, customer_id, at, doc, gen) VALUES (?, ?, ?, ?, 0)",
                ("aged-1", "C0000001", old.isoformat(), json.dumps(doc)),
            )
        assert "aged-1" not in {a.id for a in amsterdam.customer_picture("C0000001").activities}
        assert amsterdam.sync_now().ok
        assert amsterdam.cache.query("SELECT count(*) FROM activities WHERE id = 'aged-1'") == [(0,)]


def test_erasing_the_customer_takes_her_activity_off_every_device(centre: Central, webshop, tmp_path) -> None:
    customer = centre.rows(
        "SELECT a.customer_id FROM customer_scope a JOIN customer_scope u ON u.customer_id = a.customer_id"
        " WHERE a.store = 'AMS01' AND u.store = 'UTR01' AND a.customer_id <> 'C0000001'"
        " ORDER BY a.customer_id DESC LIMIT 1"
    )[0][0]
    assert send(webshop, activity("gone-1", customer, timedelta(hours=2))).accepted == 1
    _, _, cursor = feed(centre, "AMS01")
    with open_device(tmp_path / "utr", centre.url, "UTR01") as utrecht:
        assert utrecht.sync_now().ok
        assert [a.id for a in utrecht.customer_picture(customer).activities] == ["gone-1"]
        erased = clienteling("central", "forget-customer", customer, "--db", str(centre.db))
        assert erased.returncode == 0, erased.stderr
        assert utrecht.sync_now().ok
        assert utrecht.cache.query("SELECT count(*) FROM activities WHERE customer_id = ?", (customer,)) == [(0,)]
    assert centre.rows("SELECT count(*) FROM activities WHERE customer_id = ?", (customer,)) == [(0,)]
    assert "gone-1" in feed(centre, "AMS01", cursor)[1]  # a tombstone


def test_the_centre_prunes_activity_past_ninety_days_and_devices_follow(centre: Central, webshop, tmp_path) -> None:
    """Last in this module: pruning at a moment 89 days on drops every activity older than a day."""
    customer = only_in(centre, "AMS01", "RTD01")
    assert send(webshop, activity("prune-1", customer, timedelta(days=3))).accepted == 1
    _, _, cursor = feed(centre, "AMS01")
    with open_device(tmp_path / "ams", centre.url, "AMS01") as amsterdam:
        assert amsterdam.sync_now().ok
        assert "prune-1" in {a.id for a in amsterdam.customer_picture(customer).activities}
        later = (datetime.now(UTC) + timedelta(days=89)).isoformat()
        pruned = clienteling("central", "prune", "--now", later, "--db", str(centre.db))
        assert pruned.returncode == 0, pruned.stderr
        assert centre.rows("SELECT count(*) FROM activities WHERE id = 'prune-1'") == [(0,)]
        assert centre.rows(
            "SELECT count(*) FROM source_versions WHERE collection = 'activities' AND id = 'prune-1'"
        ) == [(0,)]
        assert "prune-1" in feed(centre, "AMS01", cursor)[1]  # a tombstone
        assert amsterdam.sync_now().ok
        assert amsterdam.cache.query("SELECT count(*) FROM activities WHERE id = 'prune-1'") == [(0,)]
