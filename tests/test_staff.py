"""Staff: PIN hashes, the demo staff, the store-scoped staff feed, sign-in with lockout, and profile views.

Everything runs against a real centre on loopback, as in test_device.py.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from conftest import clienteling, free_port, start_central
from test_device import offline, open_device

from clienteling.central.demo import STAFF, demo_staff
from clienteling.central.store import CentralStore
from clienteling.contract import StaffMember, SyncPage, utc_now
from clienteling.device import CustomerNotFound, Device, PinNotWellFormed, StaffLocked, UnknownStaff, WrongPin
from clienteling.device import facade as facade_module
from clienteling.pins import PinError, hash_pin, verify_pin

AMSTERDAM = {
    "S0001": ("Lotte Visser", "associate", "1111"),
    "S0002": ("Ruben Smit", "service_desk", "2222"),
    "S0003": ("Fatima El Amrani", "manager", "3333"),
}
DEMO_PINS = {"associate": "1111", "service_desk": "2222", "manager": "3333"}


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    server = start_central(tmp_path_factory.mktemp("staff-centre") / "central.db", "--demo", "--customers", "120")
    yield server
    server.stop()


@pytest.fixture
def device(centre, tmp_path):
    with open_device(tmp_path / "device", centre.url) as device:
        report = device.sync_now()
        assert report.ok, report.error
        yield device


def staff_feed(centre, store: str) -> dict[str, StaffMember]:
    rows, cursor = {}, "0"
    with centre.client(f"demo-{store}") as client:
        while True:
            response = client.get("/v1/sync/staff", params={"after": cursor, "limit": 2})
            assert response.status_code == 200, response.text
            page = SyncPage[StaffMember].model_validate(response.json())
            rows.update({m.id: m for m in page.items})
            for gone in page.deleted:
                rows.pop(gone, None)
            cursor = page.next_cursor
            if not page.has_more:
                return rows


def views_at_centre(centre, customer_id: str) -> list[dict]:
    made = clienteling("central", "add-admin", "--label", "privacy officer", "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    with centre.client(made.stdout.strip()) as client:  # the access log is read with an administrator's token
        response = client.get(f"/v1/customers/{customer_id}/views")
        assert response.status_code == 200, response.text
        return response.json()


# --------------------------------------------------------------------------- PIN hashes


def test_a_pin_hash_carries_its_parameters_and_never_the_pin():
    pin_hash = hash_pin("1111")
    algorithm, iterations, salt, key = pin_hash.split("$")
    assert (algorithm, int(iterations), len(salt), len(key)) == ("pbkdf2_sha256", 100_000, 32, 64)
    assert "1111" not in pin_hash
    assert verify_pin("1111", pin_hash) and not verify_pin("1112", pin_hash) and not verify_pin("", pin_hash)
    assert hash_pin("1111") != pin_hash  # a new salt every time
    assert verify_pin("123456", hash_pin("123456")) and verify_pin("0000", hash_pin("0000"))


def test_a_changed_hash_never_matches():
    pin_hash = hash_pin("2468")
    algorithm, iterations, salt, key = pin_hash.split("$")
    for changed in (
        f"{algorithm}${int(iterations) + 1}${salt}${key}",
        f"{algorithm}${iterations}${salt[::-1]}${key}",
        f"{algorithm}${iterations}${salt}${key[:-1]}{'0' if key[-1] != '0' else '1'}",
        f"sha1${iterations}${salt}${key}",
        "2468",
        "",
    ):
        assert not verify_pin("2468", changed), changed


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", " 1234", "1234\n", "١٢٣٤"])
def test_a_pin_is_four_to_six_ascii_digits(pin):
    with pytest.raises(PinError, match="4 to 6 digits"):
        hash_pin(pin)


def test_demo_staff_with_the_same_pin_have_different_hashes():
    members = demo_staff()
    by_pin: dict[str, list[StaffMember]] = {}
    for member in members:
        by_pin.setdefault(DEMO_PINS[member.role], []).append(member)
    assert all(len(group) >= 3 for group in by_pin.values())  # every PIN is shared in the demo
    assert len({m.pin_hash for m in members}) == len(members)
    for pin, group in by_pin.items():
        for member in group:
            assert pin not in member.pin_hash and verify_pin(pin, member.pin_hash)
            assert not any(verify_pin(other, member.pin_hash) for other in DEMO_PINS.values() if other != pin)
    assert demo_staff() == members  # the same seed, the same hashes
    assert [m.pin_hash for m in demo_staff(seed=1)] != [m.pin_hash for m in members]


# --------------------------------------------------------------------------- the centre's staff


def test_amsterdam_has_exactly_its_three_named_staff(centre):
    staff = staff_feed(centre, "AMS01")
    assert {m.id: (m.name, m.role) for m in staff.values()} == {i: v[:2] for i, v in AMSTERDAM.items()}
    for staff_id, (_, _, pin) in AMSTERDAM.items():
        assert staff[staff_id].active and staff[staff_id].store == "AMS01"
        assert verify_pin(pin, staff[staff_id].pin_hash) and staff[staff_id].pin_hash != pin


def test_every_store_has_two_or_three_staff_in_its_own_feed_only(centre):
    seen = {}
    for store in ("AMS01", "UTR01", "RTD01", "DHG01", "EIN01", "DC01"):
        staff = staff_feed(centre, store)
        assert all(m.store == store for m in staff.values()), store
        assert (2 <= len(staff) <= 3) if store != "DC01" else not staff, store
        assert any(m.role == "manager" for m in staff.values()) or store == "DC01"
        for member in staff.values():
            assert verify_pin(DEMO_PINS[member.role], member.pin_hash), member.id
        seen.update(staff)
    assert len(seen) == len(STAFF)


# --------------------------------------------------------------------------- the device's staff list


def test_the_device_keeps_its_own_stores_staff_only(device, centre, tmp_path):
    cached = {r[0]: json.loads(r[1]) for r in device.cache.query("SELECT id, doc FROM staff")}
    assert cached == {k: v.model_dump(mode="json") for k, v in staff_feed(centre, "AMS01").items()}
    assert sorted(cached) == sorted(AMSTERDAM) and {d["store"] for d in cached.values()} == {"AMS01"}
    assert [m.name for m in device.staff_list()] == ["Fatima El Amrani", "Lotte Visser", "Ruben Smit"]
    with open_device(tmp_path / "utrecht", centre.url, "UTR01") as utrecht:
        assert utrecht.sync_now().ok
        assert {m.store for m in utrecht.staff_list()} == {"UTR01"} and len(utrecht.staff_list()) == 3
        with pytest.raises(UnknownStaff, match="No one with staff number S0001 works in this store"):
            utrecht.sign_in("S0001", "1111")


def test_a_device_without_a_staff_list_says_to_sync(tmp_path):
    with open_device(tmp_path / "new", f"http://127.0.0.1:{free_port()}") as device:
        assert device.staff_list() == []
        with pytest.raises(UnknownStaff, match="no staff list yet"):
            device.sign_in("S0001", "1111")


def test_a_member_made_inactive_at_the_centre_can_no_longer_sign_in(device, centre):
    store = CentralStore(centre.db)
    try:
        ruben = StaffMember.model_validate_json(store.staff_doc("S0002"))
        store.put_staff([ruben.model_copy(update={"active": False})])
        assert device.sync_now().ok
        assert [m.id for m in device.staff_list()] == ["S0003", "S0001"]
        with pytest.raises(UnknownStaff, match="Ruben Smit can no longer sign in"):
            device.sign_in("S0002", "2222")
    finally:
        store.put_staff([ruben])
        store.close()
    assert device.sync_now().ok
    assert device.sign_in("S0002", "2222").name == "Ruben Smit"


# --------------------------------------------------------------------------- signing in


def test_the_right_pin_signs_in_offline_and_a_wrong_one_says_how_many_tries_are_left(device):
    with offline(device) as cut_off:
        member = cut_off.sign_in("S0001", "1111")
        assert (member.id, member.name, member.role) == ("S0001", "Lotte Visser", "associate")
        for left in (4, 3, 2):
            with pytest.raises(WrongPin, match=f"not Lotte Visser's PIN. {left} tries left") as wrong:
                cut_off.sign_in("S0001", "1112")
            assert wrong.value.tries_left == left
        with pytest.raises(WrongPin, match="1 try left") as wrong:
            cut_off.sign_in("S0001", "3333")  # a colleague's PIN is wrong too
        assert wrong.value.tries_left == 1
        assert cut_off.sign_in("S0001", "1111").id == "S0001"  # a right PIN starts afresh
        with pytest.raises(WrongPin) as wrong:
            cut_off.sign_in("S0001", "1234")
        assert wrong.value.tries_left == 4
    with pytest.raises(UnknownStaff, match="S9999"):
        device.sign_in("S9999", "1111")


@pytest.mark.parametrize("slip", ["", "1", "111", "abcd", "11a1", "1111111", " 1111", "١١١١"])
def test_a_pin_that_is_not_4_to_6_digits_is_refused_before_it_costs_a_try(device, slip):
    for _ in range(6):  # more than the five tries: none of them counts
        with pytest.raises(PinNotWellFormed, match="4 to 6 digits") as refused:
            device.sign_in("S0001", slip)
        assert refused.value.staff_id == "S0001"
    with pytest.raises(WrongPin) as wrong:
        device.sign_in("S0001", "1112")
    assert wrong.value.tries_left == 4  # the first wrong PIN of a series
    assert device.sign_in("S0001", "1111").name == "Lotte Visser"


def test_five_wrong_pins_lock_that_person_for_five_minutes_even_after_a_restart(device, monkeypatch):
    for _ in range(4):
        with pytest.raises(WrongPin):
            device.sign_in("S0002", "0000")
    with pytest.raises(StaffLocked, match=r"Ruben Smit can sign in again in 5 minutes, at \d\d:\d\d") as locked:
        device.sign_in("S0002", "0000")
    until = locked.value.locked_until
    assert timedelta(minutes=4, seconds=58) <= until - utc_now() <= timedelta(minutes=5)
    with pytest.raises(StaffLocked):  # not even the right PIN, while locked
        device.sign_in("S0002", "2222")
    assert device.sign_in("S0003", "3333").id == "S0003"  # colleagues are not locked out
    data_dir = device.settings.data_dir
    device.close()
    with offline_at(data_dir) as restarted:
        with pytest.raises(StaffLocked) as again:
            restarted.sign_in("S0002", "2222")
        assert again.value.locked_until == until and again.value.minutes_left == 5
        real_now = facade_module.utc_now
        monkeypatch.setattr(facade_module, "utc_now", lambda: real_now() + timedelta(minutes=4, seconds=30))
        with pytest.raises(StaffLocked, match="in 1 minute,"):
            restarted.sign_in("S0002", "2222")
        monkeypatch.setattr(facade_module, "utc_now", lambda: real_now() + timedelta(minutes=5, seconds=1))
        with pytest.raises(WrongPin) as wrong:  # the lock has run out: a new series of five
            restarted.sign_in("S0002", "0000")
        assert wrong.value.tries_left == 4
        assert restarted.sign_in("S0002", "2222").name == "Ruben Smit"


def test_wrong_pins_are_counted_across_a_restart(device):
    data_dir = device.settings.data_dir
    for _ in range(3):
        with pytest.raises(WrongPin):
            device.sign_in("S0003", "1111")
    device.close()
    with offline_at(data_dir) as restarted:
        with pytest.raises(WrongPin) as wrong:
            restarted.sign_in("S0003", "9999")
        assert wrong.value.tries_left == 1
        with pytest.raises(StaffLocked):
            restarted.sign_in("S0003", "9999")


def test_each_member_keeps_the_language_they_chose_on_this_device_without_save_or_restart(device):
    assert device.settings.lang == "en"
    device.choose_language("S0003", "nl")
    assert device.staff_language("S0003") == "nl"  # at once
    assert device.staff_language("S0001") == "en"  # colleagues keep the device's
    device.choose_language("S0001", "en")
    with pytest.raises(ValueError):
        device.choose_language("S0001", "fr")
    data_dir = device.settings.data_dir
    device.close()
    with offline_at(data_dir) as restarted:  # and after a restart, offline
        assert (restarted.staff_language("S0003"), restarted.staff_language("S0001")) == ("nl", "en")


def offline_at(data_dir) -> Device:
    return open_device(data_dir, f"http://127.0.0.1:{free_port()}")


# --------------------------------------------------------------------------- who did it, and who looked


def test_the_signed_in_staff_id_reaches_the_centre_with_every_command(device, centre):
    lotte, ruben = device.sign_in("S0001", "1111"), device.sign_in("S0002", "2222")
    sku = device.cache.scalar("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 1 ORDER BY sku LIMIT 1")
    order = device.place_ship_to_home("C0000003", [(sku, 1)], fulfilling_store="DC01", staff=lotte)
    note = device.add_note("C0000001", "Tried the navy coat in M.", staff="S0003")
    recent = next(
        o
        for o in device.customer_picture("C0000001").orders
        if o.status == "delivered" and utc_now() - o.delivered_at < timedelta(days=29)
    )
    line = recent.lines[0]
    returned = device.register_return(
        recent.number,
        [{"line_no": line.line_no, "quantity": 1, "reason": "too_small", "condition": "resellable"}],
        staff=ruben,
    )
    assert order.body["placed_by"] == "S0001" and note.body["author"] == "S0003"
    assert returned.body["received_by"] == "S0002"
    assert [device.command(c.command_id).state for c in (order, note, returned)] == ["sent"] * 3
    with centre.client() as client:
        placed = client.get(f"/v1/orders/{device.command(order.command_id).number}").json()
        notes = client.get("/v1/customers/C0000001/notes").json()
    assert placed["placed_by"] == "S0001"
    assert [n["author"] for n in notes if n["id"] == device.command(note.command_id).number] == ["S0003"]
    assert device.command(returned.command_id).answer["received_by"] == "S0002"
    assert {c.staff for c in (order, note, returned)} == {"S0001", "S0002", "S0003"}


def test_a_profile_view_waits_quietly_and_reaches_the_centre_exactly_once(device, centre):
    customer_id = "C0000001"
    before = views_at_centre(centre, customer_id)
    with offline(device) as cut_off:
        view = cut_off.record_profile_view(customer_id, "S0001")
        assert view.kind == "profile_view" and view.state == "waiting" and view.staff == "S0001"
        assert cut_off.sync_state().waiting == 0  # not work for staff…
        assert cut_off.commands() == [] and cut_off.customer_picture(customer_id).commands == []
        assert cut_off.outbox.background_waiting() == 1  # …but kept
        assert [c.command_id for c in cut_off.commands(kind="profile_view")] == [view.command_id]
        assert [c.command_id for c in cut_off.commands(include_background=True)] == [view.command_id]
        body = next(json.loads(row[3]) for row in cut_off.journal.waiting() if row[0] == view.command_id)
    # The device's first send reached the centre, but the answer was lost on the way back.
    with centre.client() as client:
        first = client.post(
            f"/v1/customers/{customer_id}/views", json=body, headers={"Idempotency-Key": view.command_id}
        )
    assert first.status_code == 201, first.text
    for _ in range(2):
        assert device.sync_now().ok
    sent = device.command(view.command_id)
    assert sent.state == "sent" and sent.number == first.json()["id"]
    after = views_at_centre(centre, customer_id)
    assert len(after) == len(before) + 1
    record = after[0]
    assert record["id"] == first.json()["id"] and re.fullmatch(r"V-[0-9A-Z]{4}-[0-9]{8}", record["id"])
    assert (record["customer_id"], record["staff_id"], record["store"]) == (customer_id, "S0001", "AMS01")
    assert record["viewed_at"] == body["viewed_at"] <= record["recorded_at"]
    assert device.outbox.background_waiting() == 0 and device.journal.waiting() == []
    second = device.record_profile_view(customer_id, "S0003")
    assert device.sync_now().ok and device.command(second.command_id).state == "sent"
    listed = views_at_centre(centre, customer_id)
    assert [v["staff_id"] for v in listed[:2]] == ["S0003", "S0001"] and len(listed) == len(before) + 2


def test_a_refused_profile_view_is_kept_but_is_not_put_before_staff(device, centre):
    customer_id = device.cache.scalar(
        "SELECT id FROM customers WHERE origin = 'sync' AND id > 'C0000050' ORDER BY id LIMIT 1"
    )
    with offline(device) as cut_off:
        view = cut_off.record_profile_view(customer_id, "S0002")
    assert clienteling("central", "forget-customer", "--db", str(centre.db), customer_id).returncode == 0
    report = device.sync_now()
    assert report.ok and report.refused == 1 and report.attention == 0
    kept = device.command(view.command_id)
    assert kept.state == "attention" and "no customer" in kept.reason
    assert device.needs_attention() == [] and device.sync_state().attention == 0
    assert [c.command_id for c in device.commands(kind="profile_view", states=("attention",))] == [view.command_id]


def test_a_profile_view_needs_someone_of_this_store_and_a_known_customer(device):
    with pytest.raises(UnknownStaff):
        device.record_profile_view("C0000001", "S0004")  # Utrecht's
    with pytest.raises(CustomerNotFound):
        device.record_profile_view("C9999999", "S0001")
    assert device.commands(include_background=True) == []


def test_the_centre_checks_profile_views(centre):
    body = {"staff_id": "S0001", "viewed_at": utc_now().isoformat()}
    with centre.client() as client:
        unknown_staff = client.post(
            "/v1/customers/C0000001/views",
            json={**body, "staff_id": "S9999"},
            headers={"Idempotency-Key": "view-test-1"},
        )
        unknown_customer = client.post(
            "/v1/customers/C9999999/views", json=body, headers={"Idempotency-Key": "view-test-2"}
        )
        no_key = client.post("/v1/customers/C0000001/views", json=body)
        made = client.post("/v1/customers/C0000002/views", json=body, headers={"Idempotency-Key": "view-test-3"})
        again = client.post("/v1/customers/C0000002/views", json=body, headers={"Idempotency-Key": "view-test-3"})
    assert (unknown_staff.status_code, unknown_staff.json()["code"]) == (422, "unknown_staff")
    assert (unknown_customer.status_code, unknown_customer.json()["code"]) == (404, "customer_not_found")
    assert no_key.status_code == 422
    assert made.status_code == again.status_code == 201 and made.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [v["id"] for v in views_at_centre(centre, "C0000002")] == [made.json()["id"]]
