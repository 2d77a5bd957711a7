"""Follow-ups (issue 14): made, done and snoozed from a device's outbox, offline too, sent exactly once and shown at
once; idempotent at the centre, the change made last winning; the centre's own task when a wishlisted item comes back
in stock in her size at her home store (never twice); erased with the customer. Real centre, real devices, on both
backends."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from conftest import Central, clienteling, demo_centre, free_port, new_key

from clienteling.config import Settings
from clienteling.contract import Customer, FollowUp, FollowUpStateChange, Product, WishlistItem, utc_now
from clienteling.device import Device
from clienteling.suggest import fits

pytestmark = pytest.mark.both_backends

LOTTE, FATIMA, SEM = "S0001", "S0003", "S0004"  # Lotte Visser (AMS01), Fatima (AMS01), Sem (UTR01)
NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def centre(tmp_path_factory, backend: str):
    with demo_centre(backend, tmp_path_factory.mktemp("followups"), 80) as server:
        yield server


@pytest.fixture(scope="module")
def erp(centre: Central):
    made = clienteling("central", "add-integration", "--name", "erp", "--may", "stock", "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    with centre.client(made.stdout.strip()) as client:
        yield client


def open_device(folder, url: str, store: str = "AMS01") -> Device:
    return Device(Settings.load(folder, central_url=url, device_token=f"demo-{store}", store=store))


def synced(folder, url: str, store: str = "AMS01") -> Device:
    device = open_device(folder, url, store)
    report = device.sync_now()
    assert report.ok, report.error
    return device


def offline(device: Device) -> Device:
    return open_device(device.settings.data_dir, f"http://127.0.0.1:{free_port()}", device.store)


def home_customers(centre: Central, store: str = "AMS01") -> list[str]:
    return [r[0] for r in centre.rows("SELECT id FROM customers WHERE home_store = ? ORDER BY id", (store,))]


def task_at_centre(centre: Central, follow_up_id: str) -> FollowUp | None:
    rows = centre.rows("SELECT doc FROM follow_ups WHERE id = ?", (follow_up_id,))
    return FollowUp.model_validate_json(rows[0][0]) if rows else None


def command(text: str, *, staff: str = LOTTE, due: date | None = None, sku: str | None = None) -> dict:
    return {
        "id": new_key(),
        "text": text,
        "due": (due or date.today()).isoformat(),
        "assignee": staff,
        "sku": sku,
        "staff_id": staff,
        "created_at": utc_now().isoformat(),
    }


def post(client, path: str, body: dict, key: str | None = None):
    return client.post(path, json=body, headers={"Idempotency-Key": key or new_key()})


# --------------------------------------------------------------------------- the centre


def test_a_follow_up_is_made_once_per_key_and_once_per_id(centre: Central) -> None:
    customer = home_customers(centre)[5]
    body = command("Call about the alterations")
    key = new_key()
    with centre.client("demo-AMS01") as device:
        first = post(device, f"/v1/customers/{customer}/follow-ups", body, key)
        again = post(device, f"/v1/customers/{customer}/follow-ups", body, key)
        other_key = post(device, f"/v1/customers/{customer}/follow-ups", body)  # a resend after a restore
        listed = device.get(f"/v1/customers/{customer}/follow-ups").json()
    assert first.status_code == again.status_code == other_key.status_code == 201, first.text
    assert first.json() == again.json() and other_key.json()["id"] == body["id"]
    assert [t["id"] for t in listed].count(body["id"]) == 1
    task = FollowUp.model_validate(first.json())
    assert (task.origin, task.store, task.assignee, task.state) == ("staff", "AMS01", LOTTE, "open")
    events = centre.rows(
        "SELECT count(*) FROM events WHERE type = 'follow_up.created' AND doc LIKE ?", (f"%{body['id']}%",)
    )
    assert events == [(1,)]


def test_bad_follow_ups_are_refused_with_a_code_never_a_500(centre: Central) -> None:
    customer = home_customers(centre)[6]
    with centre.client("demo-AMS01") as device:
        cases = {
            "unknown_staff": post(device, f"/v1/customers/{customer}/follow-ups", command("x", staff=SEM)),
            "unknown_sku": post(device, f"/v1/customers/{customer}/follow-ups", command("x", sku="ZZ99-NOPE-M")),
            "customer_not_found": post(device, "/v1/customers/C9999999/follow-ups", command("x")),
            "follow_up_not_found": post(
                device,
                f"/v1/customers/{customer}/follow-ups/state",
                {"follow_up_id": new_key(), "state": "done", "staff_id": LOTTE, "changed_at": utc_now().isoformat()},
            ),
        }
        snooze_without_day = post(
            device,
            f"/v1/customers/{customer}/follow-ups/state",
            {"follow_up_id": new_key(), "state": "snoozed", "staff_id": LOTTE, "changed_at": utc_now().isoformat()},
        )
    for code, answer in cases.items():
        assert answer.status_code in (404, 422), answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert code in answer.text
    assert snooze_without_day.status_code == 422


def test_the_change_made_last_wins_whatever_order_they_arrive_in(centre: Central) -> None:
    customer = home_customers(centre)[7]
    body = command("Show her the new knitwear")
    now = utc_now()
    done_later = {"follow_up_id": body["id"], "state": "done", "staff_id": FATIMA, "changed_at": now.isoformat()}
    snoozed_earlier = {
        "follow_up_id": body["id"],
        "state": "snoozed",
        "snoozed_until": (date.today() + timedelta(days=7)).isoformat(),
        "staff_id": LOTTE,
        "changed_at": (now - timedelta(minutes=30)).isoformat(),  # made offline, arrives last
    }
    path = f"/v1/customers/{customer}/follow-ups"
    with centre.client("demo-AMS01") as device:
        assert post(device, path, {**body, "created_at": (now - timedelta(hours=1)).isoformat()}).status_code == 201
        done_key = new_key()
        done = post(device, f"{path}/state", done_later, done_key)
        assert post(device, f"{path}/state", done_later, done_key).json() == done.json()  # the same key: replayed
        late = post(device, f"{path}/state", snoozed_earlier)
    assert done.status_code == late.status_code == 201, late.text
    assert FollowUpStateChange.model_validate(late.json()).superseded
    held = task_at_centre(centre, body["id"])
    assert held is not None and (held.state, held.done_by, held.snoozed_until) == ("done", FATIMA, None)
    done_events = centre.rows(
        "SELECT count(*) FROM events WHERE type = 'follow_up.done' AND subject = ?", (f"customer:{customer}",)
    )
    assert done_events == [(1,)]


def wished_in_her_size(centre: Central) -> tuple[str, str, str | None]:
    """(customer at AMS01, a SKU on her wishlist in her size, her preferred associate)."""
    for customer_id in home_customers(centre):
        customer = Customer.model_validate_json(
            centre.rows("SELECT CAST(doc AS TEXT) FROM customers WHERE id = ?", (customer_id,))[0][0]
        )
        for (doc,) in centre.rows(
            "SELECT CAST(doc AS TEXT) FROM wishlists WHERE customer_id = ? ORDER BY id", (customer_id,)
        ):
            item = WishlistItem.model_validate_json(doc)
            product = Product.model_validate_json(
                centre.rows("SELECT CAST(doc AS TEXT) FROM products WHERE id = ?", (item.style,))[0][0]
            )
            if fits(customer, product, item.sku) and not centre.rows(
                "SELECT 1 FROM follow_ups WHERE customer_id = ? AND sku = ?", (customer_id, item.sku)
            ):
                # nobody else at AMS01 wishes for this style, so the tasks counted are hers alone
                others = centre.rows(
                    "SELECT count(*) FROM wishlists w JOIN customers c ON c.id = w.customer_id"
                    " WHERE c.home_store = 'AMS01' AND w.doc->>'style' = ? AND w.customer_id <> ?",
                    (item.style, customer_id),
                )
                if others == [(0,)]:
                    return customer_id, item.sku, customer.preferred_associate
    raise AssertionError("no AMS01 customer wishes for an item in her size")


def count(erp, sku: str, on_hand: int, minute: int) -> None:
    record = {"data": {"store": "AMS01", "sku": sku, "on_hand": on_hand, "as_of": f"2026-11-30T08:{minute:02d}:00Z"}}
    answer = erp.post("/v1/ingest/stock", content=json.dumps(record) + "\n", headers=NDJSON)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text


def test_an_item_back_in_stock_in_her_size_makes_one_task_for_her_associate(centre: Central, erp, tmp_path) -> None:
    customer_id, sku, associate = wished_in_her_size(centre)
    count(erp, sku, 0, 1)
    count(erp, sku, 4, 2)  # back: a task
    count(erp, sku, 0, 3)
    count(erp, sku, 2, 4)  # back again while her task is open: none
    rows = centre.rows("SELECT doc FROM follow_ups WHERE customer_id = ? AND sku = ? ORDER BY id", (customer_id, sku))
    assert len(rows) == 1
    task = FollowUp.model_validate_json(rows[0][0])
    staff_here = {r[0] for r in centre.rows("SELECT id FROM staff WHERE store = 'AMS01'")}
    assert (task.origin, task.reason, task.text, task.store) == ("centre", "back_in_stock", None, "AMS01")
    assert task.assignee == (associate if associate in staff_here else None)
    events = centre.rows(
        "SELECT count(*) FROM events WHERE type = 'follow_up.created' AND subject = ? AND doc LIKE ?",
        (f"customer:{customer_id}", f"%{sku}%"),
    )
    assert events == [(1,)]
    # Lotte sees it on her device among today's, worded from its reason, and marks it done; the next time it comes
    # back there is a new one
    with synced(tmp_path / "ams", centre.url) as device:
        today = [s for s in device.follow_ups(task.assignee or LOTTE, due_by=device.today()) if s.id == task.id]
        assert today and today[0].product_name and today[0].customer_name
        device.follow_up_done(task.id, staff=LOTTE)
        assert device.sync_now().ok
    assert task_at_centre(centre, task.id).state == "done"
    count(erp, sku, 0, 5)
    count(erp, sku, 3, 6)
    assert len(centre.rows("SELECT 1 FROM follow_ups WHERE customer_id = ? AND sku = ?", (customer_id, sku))) == 2


def test_stock_back_at_another_store_makes_no_task(centre: Central, erp) -> None:
    _, sku, _ = wished_in_her_size(centre)
    before = centre.rows("SELECT count(*) FROM follow_ups")
    for on_hand, minute in ((0, 10), (5, 11)):
        record = {"data": {"store": "UTR01", "sku": sku, "on_hand": on_hand, "as_of": f"2026-11-30T08:{minute}:00Z"}}
        assert erp.post("/v1/ingest/stock", content=json.dumps(record), headers=NDJSON).status_code == 200
    assert centre.rows("SELECT count(*) FROM follow_ups") == before


# --------------------------------------------------------------------------- the device


def test_made_and_done_offline_is_shown_at_once_and_sent_exactly_once(centre: Central, tmp_path) -> None:
    customer = home_customers(centre)[10]
    folder = tmp_path / "ams"
    with synced(folder, centre.url):
        pass
    with offline(synced(folder, centre.url)) as cut_off:
        made = cut_off.add_follow_up(customer, "Tell her the navy coat is back in M", cut_off.today(), staff=LOTTE)
        task_id = made.body["id"]
        (shown,) = [s for s in cut_off.follow_ups(LOTTE, due_by=cut_off.today()) if s.id == task_id]
        assert shown.waiting and shown.task.state == "open" and shown.customer_name  # at once, offline
        picture = cut_off.customer_picture(customer)
        assert [s.id for s in picture.follow_ups] == [task_id]
        cut_off.follow_up_done(task_id, staff=LOTTE)
        assert task_id not in {s.id for s in cut_off.follow_ups(LOTTE)}  # done: off the list at once
        assert cut_off.follow_up(task_id).task.state == "done"
        book = {e.customer_id: e for e in cut_off.client_book(LOTTE)}
        assert customer in book and book[customer].open_follow_ups == 0
    with open_device(folder, centre.url) as online:
        for _ in range(2):  # a second round sends nothing again
            assert online.sync_now().ok
        assert {c.state for c in online.commands(customer_id=customer)} == {"sent"}
        assert online.follow_up(task_id).task.state == "done" and not online.follow_up(task_id).waiting
    assert centre.rows("SELECT count(*), min(state) FROM follow_ups WHERE id = ?", (task_id,)) == [(1, "done")]


def test_snoozed_it_is_due_again_on_that_day_and_the_store_list_is_everyones(centre: Central, tmp_path) -> None:
    customer = home_customers(centre)[11]
    with synced(tmp_path / "ams", centre.url) as device:
        device.add_follow_up(customer, "Wedding outfit: call back", device.today(), staff=LOTTE, for_store=True)
        (task,) = [s for s in device.follow_ups(FATIMA, due_by=device.today()) if s.task.customer_id == customer]
        assert task.task.assignee is None  # the store's list: Fatima sees it too
        next_week = device.today() + timedelta(days=7)
        device.snooze_follow_up(task.id, next_week, staff=FATIMA)
        assert task.id not in {s.id for s in device.follow_ups(FATIMA, due_by=device.today())}
        assert task.id in {s.id for s in device.follow_ups(FATIMA, due_by=next_week)}
        assert device.sync_now().ok
    held = task_at_centre(centre, task.id)
    assert (held.state, held.snoozed_until) == ("snoozed", next_week)


def test_a_follow_up_reaches_every_store_that_serves_her_and_goes_when_she_is_erased(centre: Central, tmp_path) -> None:
    shared = centre.rows(
        "SELECT a.customer_id FROM customer_scope a JOIN customer_scope u ON u.customer_id = a.customer_id"
        " WHERE a.store = 'AMS01' AND u.store = 'UTR01' ORDER BY a.customer_id LIMIT 1"
    )[0][0]
    with synced(tmp_path / "ams", centre.url) as amsterdam:
        task_id = amsterdam.add_follow_up(shared, "Ask how the boots fit", amsterdam.today(), staff=LOTTE).body["id"]
    with synced(tmp_path / "utr", centre.url, "UTR01") as utrecht:
        assert task_id in {s.id for s in utrecht.customer_picture(shared).follow_ups}
        assert task_id not in {s.id for s in utrecht.follow_ups()}  # Amsterdam's list, not Utrecht's
        erased = clienteling("central", "forget-customer", shared, "--db", str(centre.db))
        assert erased.returncode == 0, erased.stderr
        assert utrecht.sync_now().ok
        assert utrecht.cache.query("SELECT count(*) FROM follow_ups WHERE customer_id = ?", (shared,)) == [(0,)]
    assert centre.rows("SELECT count(*) FROM follow_ups WHERE customer_id = ?", (shared,)) == [(0,)]
    assert centre.rows("SELECT count(*) FROM tombstones WHERE collection = 'follow_ups' AND id = ?", (task_id,)) == [
        (1,)
    ]
    assert centre.rows("SELECT count(*) FROM events WHERE subject = ?", (f"customer:{shared}",)) == [(0,)]


def test_the_client_book_holds_whom_she_served_and_follows(centre: Central, tmp_path) -> None:
    served, followed, other = home_customers(centre)[12:15]
    with synced(tmp_path / "ams", centre.url) as device:
        device.record_profile_view(served, LOTTE)
        device.record_profile_view(other, FATIMA)
        device.follow(followed, staff=LOTTE)
        device.add_follow_up(followed, "Birthday next week", device.today(), staff=LOTTE)
        book = device.client_book(LOTTE)
        assert [e.customer_id for e in book][:1] == [followed]  # something due: first
        assert {e.customer_id for e in book} == {served, followed}
        entry = {e.customer_id: e for e in book}
        assert entry[followed].following and entry[followed].due_follow_ups == 1
        assert entry[served].last_served is not None and not entry[served].following
        device.follow(followed, staff=LOTTE, following=False)
        assert not device.following(followed, LOTTE)
