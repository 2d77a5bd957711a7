"""Staff: PIN hashes, the demo staff, the store-scoped staff feed, sign-in with lockout, and profile views.

Everything runs against a real centre on loopback, as in test_device.py, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from datetime import timedelta

import pytest
from conftest import clienteling, database_for, demo_centre, drop_postgres_database, free_port
from test_device import offline, open_device

from clienteling import pins
from clienteling.central import demo as demo_module
from clienteling.central.demo import STAFF, demo_staff
from clienteling.central.problems import ProblemError
from clienteling.central.store import CentralStore
from clienteling.config import Settings
from clienteling.contract import PIN_HASH_PATTERN, StaffMember, SyncPage, utc_now
from clienteling.device import CustomerNotFound, Device, PinNotWellFormed, StaffLocked, UnknownStaff, WrongPin
from clienteling.device import facade as facade_module
from clienteling.pins import PinError, hash_pin, verify_pin

AMSTERDAM = {
    "S0001": ("Lotte Visser", "associate", "112233"),
    "S0002": ("Ruben Smit", "service_desk", "223344"),
    "S0003": ("Fatima El Amrani", "manager", "334455"),
}
DEMO_PINS = {"associate": "112233", "service_desk": "223344", "manager": "334455"}  # as the README says

pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL


@pytest.fixture(scope="module")
def centre(tmp_path_factory, backend: str):
    with demo_centre(backend, tmp_path_factory.mktemp("staff-centre"), 120) as server:
        yield server


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


def test_a_pin_hash_is_argon2id_carries_its_parameters_and_never_the_pin():
    pin_hash = hash_pin("112233")
    _, algorithm, version, params, salt, digest = pin_hash.split("$")
    assert (algorithm, version, params) == ("argon2id", "v=19", "m=65536,t=3,p=1")
    assert (len(salt), len(digest)) == (22, 43)  # 16 and 32 bytes, base64
    assert "112233" not in pin_hash and re.fullmatch(PIN_HASH_PATTERN, pin_hash)
    assert verify_pin("112233", pin_hash) and not verify_pin("112234", pin_hash) and not verify_pin("", pin_hash)
    assert hash_pin("112233") != pin_hash  # a new salt every time
    assert verify_pin("123456789012", hash_pin("123456789012")) and verify_pin("000000", hash_pin("000000"))


def test_a_changed_hash_never_matches():
    pin_hash = hash_pin("246802")
    head, salt, digest = pin_hash.rsplit("$", 2)
    flipped = ("A" if digest[0] != "A" else "B") + digest[1:]  # the first character: all six of its bits count
    for changed in (
        f"{head.replace('t=3', 't=4')}${salt}${digest}",
        f"{head}${salt[::-1]}${digest}",
        f"{head}${salt}${flipped}",
        pin_hash.replace("argon2id", "argon2i"),
        "246802",
        "",
    ):
        assert not verify_pin("246802", changed), changed


@pytest.mark.parametrize("pin", ["1234", "12345", "1234567890123", "12a456", " 123456", "123456\n", "١٢٣٤٥٦"])
def test_a_new_pin_is_six_to_twelve_ascii_digits(pin):
    with pytest.raises(PinError, match="6 to 12 digits"):
        hash_pin(pin)


def test_a_legacy_pbkdf2_hash_still_verifies_with_its_four_to_six_digits():
    salt = bytes(range(16))
    legacy = f"pbkdf2_sha256$100000${salt.hex()}${hashlib.pbkdf2_hmac('sha256', b'1111', salt, 100_000).hex()}"
    assert re.fullmatch(PIN_HASH_PATTERN, legacy) and pins.is_centre_hash(legacy)
    assert verify_pin("1111", legacy) and not verify_pin("1112", legacy)
    assert pins.pin_digits(legacy) == (4, 6) and pins.pin_digits(hash_pin("123456")) == (6, 12)
    key = pins.device_key("a device token")
    sealed = pins.seal(legacy, key)
    assert sealed.startswith("sealed$") and legacy.rsplit("$", 1)[1] not in sealed and pins.pin_digits(sealed) == (4, 6)
    assert pins.verify_sealed("1111", sealed, key) and not pins.verify_sealed("1112", sealed, key)


def test_demo_staff_with_the_same_pin_have_different_hashes():
    members = demo_staff()
    by_pin: dict[str, list[StaffMember]] = {}
    for member in members:
        by_pin.setdefault(DEMO_PINS[member.role], []).append(member)
    assert all(len(group) >= 3 for group in by_pin.values())  # every PIN is shared in the demo
    assert len({m.pin_hash for m in members}) == len(members)
    for pin, group in by_pin.items():
        for member in group:
            assert member.pin_hash.startswith("$argon2id$")
            assert pin not in member.pin_hash and verify_pin(pin, member.pin_hash)
            assert not any(verify_pin(other, member.pin_hash) for other in DEMO_PINS.values() if other != pin)
    assert demo_staff() == members  # the same seed, the same hashes


def test_the_shipped_demo_pin_hashes_are_the_ones_the_seed_makes(tmp_path):
    assert demo_module.DEMO_PINS == DEMO_PINS
    shipped = [m.pin_hash for m in demo_staff()]
    written = demo_module.write_demo_pin_hashes(tmp_path / "demo_pins.json")  # made afresh, slowly
    try:
        assert json.loads(written.read_text()) == json.loads(demo_module.DEMO_PIN_HASHES.read_text())
    finally:
        demo_module._shipped_demo_pin_hashes.cache_clear()
    other = demo_staff(seed=1)[:1]  # another seed's are made when asked for
    assert other[0].pin_hash != shipped[0] and verify_pin(DEMO_PINS[other[0].role], other[0].pin_hash)


def test_a_sealed_row_checks_a_pin_only_with_its_key_and_says_when_the_key_is_another():
    pin_hash = hash_pin("907132")
    key, other = pins.device_key("token of this tablet"), pins.device_key("token of another tablet")
    sealed = pins.seal(pin_hash, key)
    assert re.fullmatch(PIN_HASH_PATTERN, sealed) and pin_hash.rsplit("$", 1)[1] not in sealed
    assert pins.sealed_key_id(sealed) == pins.key_id(key) != pins.key_id(other)
    assert pins.verify_sealed("907132", sealed, key) and not pins.verify_sealed("907133", sealed, key)
    assert not verify_pin("907132", sealed)  # a sealed row is no centre hash
    with pytest.raises(pins.SealedForAnotherKey):
        pins.verify_sealed("907132", sealed, other)
    with pytest.raises(pins.SealedForAnotherKey):
        pins.verify_sealed("907132", sealed, None)
    forged = sealed.replace(pins.key_id(key), pins.key_id(other))  # the key id names the key, it is no key
    assert not pins.verify_sealed("907132", forged, other)


def test_the_centre_refuses_to_keep_a_sealed_row(centre):
    store = CentralStore(centre.db)
    try:
        member = StaffMember.model_validate_json(store.staff_doc("S0001"))
        sealed = member.model_copy(update={"pin_hash": pins.seal(member.pin_hash, pins.device_key("t"))})
        with pytest.raises(ProblemError, match="not a centre's hash"):
            store.put_staff([sealed])
        assert store.staff_doc("S0001") == member.model_dump_json()
    finally:
        store.close()


# --------------------------------------------------------------------------- the centre's staff


def test_amsterdam_has_exactly_its_three_named_staff(centre):
    staff = staff_feed(centre, "AMS01")
    assert {m.id: (m.name, m.role) for m in staff.values()} == {i: v[:2] for i, v in AMSTERDAM.items()}
    key = pins.device_key("demo-AMS01")
    store = CentralStore(centre.db)
    try:
        kept = {i: StaffMember.model_validate_json(store.staff_doc(i)).pin_hash for i in AMSTERDAM}
    finally:
        store.close()
    for staff_id, (_, _, pin) in AMSTERDAM.items():
        assert staff[staff_id].active and staff[staff_id].store == "AMS01"
        assert kept[staff_id].startswith("$argon2id$v=19$m=65536,t=3,p=1$") and verify_pin(pin, kept[staff_id])
        sent = staff[staff_id].pin_hash  # the feed never carries the centre's hash: it is sealed to the caller
        assert sent.startswith(f"sealed${pins.key_id(key)}$argon2id$") and kept[staff_id].rsplit("$", 1)[1] not in sent
        assert pins.verify_sealed(pin, sent, key) and not verify_pin(pin, sent)


def test_every_store_has_two_or_three_staff_in_its_own_feed_only(centre):
    seen = {}
    for store in ("AMS01", "UTR01", "RTD01", "DHG01", "EIN01", "DC01"):
        staff = staff_feed(centre, store)
        assert all(m.store == store for m in staff.values()), store
        assert (2 <= len(staff) <= 3) if store != "DC01" else not staff, store
        assert any(m.role == "manager" for m in staff.values()) or store == "DC01"
        for member in staff.values():
            assert pins.verify_sealed(DEMO_PINS[member.role], member.pin_hash, pins.device_key(f"demo-{store}"))
        seen.update(staff)
    assert len(seen) == len(STAFF)


# --------------------------------------------------------------------------- a copied cache file


def new_device_token(centre, store: str = "AMS01") -> str:
    made = clienteling("central", "add-device", "--store", store, "--db", str(centre.db))
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def real_device(data_dir, centre, token: str, store: str = "AMS01") -> Device:
    return Device(Settings.load(data_dir, central_url=centre.url, device_token=token, store=store))


def test_a_copied_cache_file_gives_no_staff_pin_away(centre, tmp_path):
    token = new_device_token(centre)
    with real_device(tmp_path / "tablet", centre, token) as tablet:
        assert tablet.sync_now().ok
        assert tablet.sign_in("S0001", "112233").name == "Lotte Visser"  # the tablet itself signs in
    copied = tmp_path / "copied.db"
    copied.write_bytes((tmp_path / "tablet" / "cache.db").read_bytes())
    for name in ("cache.db", "journal.db"):  # the secret that opens the seals is in neither file
        assert token.encode() not in (tmp_path / "tablet" / name).read_bytes()
    store = CentralStore(centre.db)
    try:
        kept = {i: StaffMember.model_validate_json(store.staff_doc(i)).pin_hash for i in AMSTERDAM}
    finally:
        store.close()
    thief = sqlite3.connect(copied)  # all a thief has: the file
    rows = {i: json.loads(doc)["pin_hash"] for i, doc in thief.execute("SELECT id, doc FROM staff")}
    texts = [v for (v,) in thief.execute("SELECT value FROM meta") if isinstance(v, str)]
    thief.close()
    assert sorted(rows) == sorted(AMSTERDAM)
    data = copied.read_bytes()
    for staff_id, sealed in rows.items():
        assert sealed.startswith("sealed$") and kept[staff_id].rsplit("$", 1)[1].encode() not in data
    # Every key a thief could make from the file (its texts, the store's public demo token, nothing) is the wrong one.
    guessed_keys = [pins.device_key(t) for t in [*texts, "demo-AMS01", "", "AMS01"]]
    assert not any(pins.key_id(k) == pins.sealed_key_id(rows["S0001"]) for k in guessed_keys)

    def thief_opens(pin: str, sealed: str) -> bool:
        """Every test a thief can run with the file alone: the row as a hash, its inner part as an argon2id hash
        (the seal in place of the hash), and the seal opened with each guessed key."""
        inner = "$" + sealed.split("$", 2)[2]
        if verify_pin(pin, sealed) or verify_pin(pin, inner):
            return True
        for key in guessed_keys:
            try:
                if pins.verify_sealed(pin, sealed, key):
                    return True
            except pins.SealedForAnotherKey:
                if pins.verify_sealed(pin, sealed.replace(pins.sealed_key_id(sealed), pins.key_id(key)), key):
                    return True
        return False

    for staff_id, sealed in rows.items():  # the demo PINs, which anyone can read in the README
        assert not any(thief_opens(pin, sealed) for pin in DEMO_PINS.values()), staff_id
    small_range = [f"{n:06d}" for n in range(112228, 112238)]  # holds Lotte's PIN, 112233
    assert not any(thief_opens(pin, rows["S0001"]) for pin in small_range)
    # The same search with the tablet's token, which the tablet keeps outside the file, finds it at once.
    key = pins.device_key(token)
    assert [pin for pin in small_range if pins.verify_sealed(pin, rows["S0001"], key)] == ["112233"]


def test_the_right_device_signs_in_with_the_new_pins_and_a_four_digit_one_is_no_pin(centre, tmp_path):
    with real_device(tmp_path / "tablet", centre, new_device_token(centre)) as tablet:
        assert tablet.sync_now().ok
        assert [tablet.sign_in(i, pin).id for i, (_, _, pin) in AMSTERDAM.items()] == list(AMSTERDAM)
        with pytest.raises(PinNotWellFormed, match="6 to 12 digits") as refused:
            tablet.sign_in("S0001", "1111")  # the old demo PIN: four digits are no PIN any more
        assert (refused.value.code, refused.value.params) == ("pin_form", {"shortest": 6, "longest": 12})
        with pytest.raises(WrongPin) as wrong:
            tablet.sign_in("S0001", "223344")  # a colleague's
        assert wrong.value.tries_left == 4


def test_a_device_whose_token_changed_fetches_its_staff_list_afresh(centre, tmp_path):
    folder = tmp_path / "tablet"
    with real_device(folder, centre, new_device_token(centre)) as tablet:
        assert tablet.sync_now().ok and tablet.cache.staff_count() == 3
    with real_device(folder, centre, new_device_token(centre)) as renewed:  # IT gave the tablet a new token
        assert renewed.cache.staff_count() == 0  # rows sealed for the old token are gone at once…
        with pytest.raises(UnknownStaff, match="no staff list yet"):
            renewed.sign_in("S0001", "112233")
        assert renewed.sync_now().ok  # …and the next sync brings them sealed for the new one
        assert renewed.sign_in("S0001", "112233").id == "S0001"
        # A row that is not sealed for this device (kept unsealed by an older version, say) checks no PIN, and
        # says so without costing a try; the next start drops it.
        lotte = json.loads(renewed.cache.staff_doc("S0001"))
        store = CentralStore(centre.db)
        try:
            lotte["pin_hash"] = StaffMember.model_validate_json(store.staff_doc("S0001")).pin_hash
        finally:
            store.close()
        with renewed.cache.write() as conn:
            conn.execute("UPDATE staff SET doc = ? WHERE id = 'S0001'", (json.dumps(lotte),))
        for _ in range(6):
            with pytest.raises(UnknownStaff, match="cannot check PINs") as stale:
                renewed.sign_in("S0001", "112233")
            assert stale.value.code == "staff_list_stale"
        token = renewed.settings.device_token
    with real_device(folder, centre, token) as restarted:
        assert restarted.cache.staff_doc("S0001") is None
        assert restarted.sync_now().ok and restarted.sign_in("S0001", "112233").id == "S0001"


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
            utrecht.sign_in("S0001", "112233")


def test_a_device_without_a_staff_list_says_to_sync(tmp_path):
    with open_device(tmp_path / "new", f"http://127.0.0.1:{free_port()}") as device:
        assert device.staff_list() == []
        with pytest.raises(UnknownStaff, match="no staff list yet"):
            device.sign_in("S0001", "112233")


def test_a_member_made_inactive_at_the_centre_can_no_longer_sign_in(device, centre):
    store = CentralStore(centre.db)
    try:
        ruben = StaffMember.model_validate_json(store.staff_doc("S0002"))
        store.put_staff([ruben.model_copy(update={"active": False})])
        assert device.sync_now().ok
        assert [m.id for m in device.staff_list()] == ["S0003", "S0001"]
        with pytest.raises(UnknownStaff, match="Ruben Smit can no longer sign in"):
            device.sign_in("S0002", "223344")
    finally:
        store.put_staff([ruben])
        store.close()
    assert device.sync_now().ok
    assert device.sign_in("S0002", "223344").name == "Ruben Smit"


# --------------------------------------------------------------------------- signing in


def test_the_right_pin_signs_in_offline_and_a_wrong_one_says_how_many_tries_are_left(device):
    with offline(device) as cut_off:
        member = cut_off.sign_in("S0001", "112233")
        assert (member.id, member.name, member.role) == ("S0001", "Lotte Visser", "associate")
        for left in (4, 3, 2):
            with pytest.raises(WrongPin, match=f"not Lotte Visser's PIN. {left} tries left") as wrong:
                cut_off.sign_in("S0001", "112234")
            assert wrong.value.tries_left == left
        with pytest.raises(WrongPin, match="1 try left") as wrong:
            cut_off.sign_in("S0001", "334455")  # a colleague's PIN is wrong too
        assert wrong.value.tries_left == 1
        assert cut_off.sign_in("S0001", "112233").id == "S0001"  # a right PIN starts afresh
        with pytest.raises(WrongPin) as wrong:
            cut_off.sign_in("S0001", "123456")
        assert wrong.value.tries_left == 4
    with pytest.raises(UnknownStaff, match="S9999"):
        device.sign_in("S9999", "112233")


@pytest.mark.parametrize("slip", ["", "1", "1111", "11223", "abcdef", "11a233", "1122334455667", " 112233", "١١٢٢٣٣"])
def test_a_pin_that_is_not_6_to_12_digits_is_refused_before_it_costs_a_try(device, slip):
    for _ in range(6):  # more than the five tries: none of them counts
        with pytest.raises(PinNotWellFormed, match="6 to 12 digits") as refused:
            device.sign_in("S0001", slip)
        assert refused.value.staff_id == "S0001"
    with pytest.raises(WrongPin) as wrong:
        device.sign_in("S0001", "112234")
    assert wrong.value.tries_left == 4  # the first wrong PIN of a series
    assert device.sign_in("S0001", "112233").name == "Lotte Visser"


def test_five_wrong_pins_lock_that_person_for_five_minutes_even_after_a_restart(device, monkeypatch):
    for _ in range(4):
        with pytest.raises(WrongPin):
            device.sign_in("S0002", "000000")
    with pytest.raises(StaffLocked, match=r"Ruben Smit can sign in again in 5 minutes, at \d\d:\d\d") as locked:
        device.sign_in("S0002", "000000")
    until = locked.value.locked_until
    assert timedelta(minutes=4, seconds=58) <= until - utc_now() <= timedelta(minutes=5)
    with pytest.raises(StaffLocked):  # not even the right PIN, while locked
        device.sign_in("S0002", "223344")
    assert device.sign_in("S0003", "334455").id == "S0003"  # colleagues are not locked out
    data_dir = device.settings.data_dir
    device.close()
    with offline_at(data_dir) as restarted:
        with pytest.raises(StaffLocked) as again:
            restarted.sign_in("S0002", "223344")
        assert again.value.locked_until == until and again.value.minutes_left == 5
        real_now = facade_module.utc_now
        monkeypatch.setattr(facade_module, "utc_now", lambda: real_now() + timedelta(minutes=4, seconds=30))
        with pytest.raises(StaffLocked, match="in 1 minute,"):
            restarted.sign_in("S0002", "223344")
        monkeypatch.setattr(facade_module, "utc_now", lambda: real_now() + timedelta(minutes=5, seconds=1))
        with pytest.raises(WrongPin) as wrong:  # the lock has run out: a new series of five
            restarted.sign_in("S0002", "000000")
        assert wrong.value.tries_left == 4
        assert restarted.sign_in("S0002", "223344").name == "Ruben Smit"


def test_wrong_pins_are_counted_across_a_restart(device):
    data_dir = device.settings.data_dir
    for _ in range(3):
        with pytest.raises(WrongPin):
            device.sign_in("S0003", "112233")
    device.close()
    with offline_at(data_dir) as restarted:
        with pytest.raises(WrongPin) as wrong:
            restarted.sign_in("S0003", "999999")
        assert wrong.value.tries_left == 1
        with pytest.raises(StaffLocked):
            restarted.sign_in("S0003", "999999")


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
    lotte, ruben = device.sign_in("S0001", "112233"), device.sign_in("S0002", "223344")
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


def test_the_bench_says_what_one_guess_costs_on_a_devices_stored_row():
    done = clienteling("bench", "--pins", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["pin_stored_form"] == "sealed argon2id m=65536,t=3,p=1"
    assert figures["pin_guess_testable_without_device_token"] is False
    assert 0.02 <= figures["pin_guess_seconds"] <= 5  # memory-hard: no cheap hash passes, nor one staff wait on
    years = figures["pin_6_digit_space_years_one_core"]
    assert years == pytest.approx(10**6 * figures["pin_guess_seconds"] / (365.25 * 86400), abs=1e-4)


def test_a_demo_made_before_the_six_digit_pins_gets_its_staff_anew(tmp_path, backend: str):
    db = database_for(backend, tmp_path)
    try:
        demo_with_old_pins_gets_its_staff_anew(db)
    finally:
        if backend == "postgresql":
            drop_postgres_database(str(db))


def demo_with_old_pins_gets_its_staff_anew(db) -> None:
    from clienteling.central.demo import build_demo, ensure_demo

    build_demo(db, 30)
    store = CentralStore(db)
    try:  # as a demo of the 4-digit PBKDF2 days had it
        old = [m.model_copy(update={"pin_hash": f"pbkdf2_sha256$100000${'ab' * 16}${'cd' * 32}"}) for m in demo_staff()]
        store.put_staff(old)
    finally:
        store.close()
    assert ensure_demo(db, 30) is None  # kept, not made anew…
    store = CentralStore(db)
    try:  # …but with the staff the README names
        kept = [StaffMember.model_validate_json(store.staff_doc(m.id)) for m in demo_staff()]
    finally:
        store.close()
    assert kept == demo_staff()
    assert all(m.pin_hash.startswith("$argon2id$") for m in kept)
