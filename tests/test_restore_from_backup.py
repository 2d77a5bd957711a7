"""A centre restored from a backup loses no order and confuses no device (issue 11, point 1).

The sequence the probe ran, with real processes: back up a running centre (`clienteling central backup`), let a store
place and sync 30 orders (and a return and a note), stop the centre, copy the backup back, start it again, let another
device place 10 new orders, then let every device sync. Before epochs the device's cursors stood ahead of the restored
sequence (it pulled nothing and kept 30 orders the centre no longer had) and the centre handed out the 30 order
numbers again for other orders. Now the devices start a fresh pull and send what the centre lost again, and every
number names one order everywhere.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from conftest import clienteling, free_port, start_central

from clienteling.config import Settings
from clienteling.contract import StaffMember, utc_now
from clienteling.device import Device


def device_of(folder: Path, url: str, store: str) -> Device:
    return Device(Settings.load(folder, central_url=url, device_token=f"demo-{store}", store=store))


def staff_of(device: Device, store: str) -> str:
    return StaffMember.model_validate_json(device.cache.staff_docs(store)[0]).id


def centre_rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True) as conn:
        return conn.execute(sql, params).fetchall()


def restore(backup: Path, db: Path) -> None:
    """What the README says: with the centre stopped, the backup copied over the database, its logs removed."""
    for companion in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        companion.unlink(missing_ok=True)
    shutil.copyfile(backup, db)


def fresh_pull(url: str, store: str, collection: str) -> dict[str, dict]:
    """The collection as the centre holds it for `store`, from a fresh pass."""
    rows, cursor = {}, "0"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer demo-{store}"}, timeout=30) as client:
        while True:
            page = client.get(f"/v1/sync/{collection}", params={"after": cursor, "limit": 5000}).json()
            for item in page["items"]:
                key = item.get("number") or item.get("id") or f"{item['store']}:{item['sku']}"
                rows[key] = item
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return rows


def cached(device: Device, collection: str) -> dict[str, dict]:
    return {row[0]: json.loads(row[1]) for row in device.cache.query(f"SELECT id, doc FROM {collection}")}


def test_a_centre_restored_from_last_nights_backup_ends_with_every_command_once(tmp_path: Path) -> None:
    db, nightly, port = tmp_path / "central.db", tmp_path / "nightly.db", free_port()
    centre = start_central(db, "--demo", "--customers", "80", port=port)
    ams = device_of(tmp_path / "ams", centre.url, "AMS01")
    ams_second = device_of(tmp_path / "ams-2", centre.url, "AMS01")
    utr = device_of(tmp_path / "utr", centre.url, "UTR01")
    try:
        for device in (ams, ams_second, utr):
            assert device.sync_now().ok
        made = clienteling("central", "backup", str(nightly), "--db", str(db))
        assert made.returncode == 0 and "backed up" in made.stdout, made.stderr
        baseline = centre_rows(nightly, "SELECT count(*) FROM orders")[0][0]

        # After the backup: AMS01 places 30 orders, a return and a note; UTR01 places 5 orders. All acknowledged.
        skus = [r[0] for r in ams.cache.query("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 3")]
        ams_customers = [r[0] for r in ams.cache.query("SELECT id FROM customers WHERE home_store = 'AMS01'")]
        utr_customers = [r[0] for r in utr.cache.query("SELECT id FROM customers WHERE home_store = 'UTR01'")]
        ams_staff, utr_staff = staff_of(ams, "AMS01"), staff_of(utr, "UTR01")
        returnable = next(
            order
            for customer in ams_customers
            for order in ams.customer_picture(customer).orders
            if order.status == "delivered"
            and order.delivered_at is not None
            and utc_now() - order.delivered_at < timedelta(days=25)
            and ams.return_eligibility(order).returnable
        )
        before_restore = {}
        for i in range(30):
            placed = ams.place_ship_to_home(
                ams_customers[i % len(ams_customers)], [(skus[i], 1)], fulfilling_store="DC01", staff=ams_staff
            )
            before_restore[skus[i]] = placed.command_id
        line = {"line_no": returnable.lines[0].line_no, "quantity": 1, "reason": "too_large", "condition": "damaged"}
        returned = ams.register_return(returnable.number, [line], staff=ams_staff)
        note = ams.add_note(ams_customers[0], "Restored? Asked for the navy coat in M.", staff=ams_staff)
        for i in range(30, 35):
            placed = utr.place_ship_to_home(
                utr_customers[i % len(utr_customers)], [(skus[i], 1)], fulfilling_store="DC01", staff=utr_staff
            )
            before_restore[skus[i]] = placed.command_id
        for device in (ams, utr):
            report = device.sync_now()
            assert report.ok and report.waiting == 0 and report.attention == 0, report
        acknowledged = {
            sku: (ams if i < 30 else utr).command(command_id).number
            for i, (sku, command_id) in enumerate(before_restore.items())
        }
        return_number, note_id = ams.command(returned.command_id).number, ams.command(note.command_id).number
        assert len(set(acknowledged.values())) == 35 and return_number and note_id

        # The restore: the centre stopped, last night's file copied back, the centre started again.
        centre.stop()
        restore(nightly, db)
        centre = start_central(db, "--demo", port=port)
        assert centre_rows(db, "SELECT count(*) FROM orders")[0][0] == baseline  # the 35 orders are gone

        # A second AMS01 tablet that had sent nothing places 10 new orders at the restored centre.
        new_numbers = []
        for i in range(35, 45):
            placed = ams_second.place_ship_to_home(
                ams_customers[i % len(ams_customers)], [(skus[i], 1)], fulfilling_store="DC01", staff=ams_staff
            )
            assert ams_second.command(placed.command_id).state == "sent"
            new_numbers.append(ams_second.command(placed.command_id).number)
        assert not set(new_numbers) & set(acknowledged.values())  # no number is handed out a second time

        ledgers = {name: len(d.journal.acknowledged()) for name, d in (("ams", ams), ("utr", utr))}
        assert ledgers == {"ams": 32, "utr": 5}  # everything they sent was after the backup
        sent_again = {}
        for name, device in (("ams", ams), ("utr", utr), ("ams_second", ams_second)):
            report = device.sync_now()
            assert report.ok and report.waiting == 0 and report.attention == 0, (name, report)
            sent_again[name] = report.sent_again
        assert sent_again == {"ams": 32, "utr": 5, "ams_second": 0}

        # Every order once, under the number its device was given; the return and the note once.
        orders = {number: json.loads(doc) for number, doc in centre_rows(db, "SELECT id, doc FROM orders")}
        assert len(orders) == baseline + 45
        for sku, number in acknowledged.items():
            assert [line["sku"] for line in orders[number]["lines"]] == [sku], number
            assert (
                sum(
                    1
                    for o in orders.values()
                    if any(line["sku"] == sku for line in o["lines"])
                    and o["channel"] == "store"
                    and o["fulfilment"] == "delivery"
                )
                == 1
            ), sku
        reserved = dict(
            centre_rows(
                db,
                f"SELECT sku, reserved FROM stock WHERE store = 'DC01' AND sku IN ({','.join('?' * 45)})",
                tuple(skus[:45]),
            )
        )
        before = dict(
            centre_rows(
                nightly,
                f"SELECT sku, reserved FROM stock WHERE store = 'DC01' AND sku IN ({','.join('?' * 45)})",
                tuple(skus[:45]),
            )
        )
        assert all(reserved[sku] == before[sku] + 1 for sku in skus[:45])  # reserved once each, never twice
        assert centre_rows(db, "SELECT id FROM returns WHERE order_number = ?", (returnable.number,)) == [
            (return_number,)
        ]
        notes = centre_rows(db, "SELECT id FROM notes WHERE customer_id = ?", (ams_customers[0],))
        assert notes == [(note_id,)]

        # Every device's cache equals the centre for its store: nothing the centre lost stays on a tablet.
        for store, device in (("AMS01", ams), ("UTR01", utr), ("AMS01", ams_second)):
            for collection in ("orders", "customers", "wishlists"):
                assert cached(device, collection) == fresh_pull(centre.url, store, collection), (store, collection)
    finally:
        for device in (ams, ams_second, utr):
            device.close()
        centre.stop()


@pytest.fixture
def restored(tmp_path: Path):
    """A running centre, a cursor taken after its backup, and the centre restored from that backup."""
    db, nightly, port = tmp_path / "central.db", tmp_path / "nightly.db", free_port()
    centre = start_central(db, "--demo", "--customers", "20", port=port)
    with centre.client() as client:
        cursor = client.get("/v1/sync/stores", params={"after": "0"}).json()["next_cursor"]
    assert clienteling("central", "backup", str(nightly), "--db", str(db)).returncode == 0
    yield centre, db, nightly, port, cursor
    centre.stop()


def test_cursors_the_centre_cannot_serve_get_reset_required_with_the_reason(restored) -> None:
    centre, _db, _nightly, _port, cursor = restored
    centre_id, epoch, seq = cursor.split(".")
    with centre.client() as client:
        assert client.get("/v1/sync/stores", params={"after": cursor}).status_code == 200
        for after, reason in (
            (f"{'0' * 32}.{epoch}.{seq}", "another_centre"),
            (f"{centre_id}.{'0' * 16}.{seq}", "unknown_epoch"),
            (f"{centre_id}.{epoch}.{int(seq) + 10**6}", "ahead"),
            (seq, "no_epoch"),
        ):
            answer = client.get("/v1/sync/stores", params={"after": after})
            assert answer.status_code == 410 and answer.json()["code"] == "reset_required", after
            assert answer.json()["reason"] == reason and "Traceback" not in answer.text


def test_a_cursor_from_after_the_backup_is_refused_by_the_restored_centre_but_one_from_before_is_not(
    restored, tmp_path: Path
) -> None:
    centre, db, nightly, port, before_backup = restored
    device = device_of(tmp_path / "device", centre.url, "AMS01")
    try:
        assert device.sync_now().ok
        sku = device.cache.query("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 3")[0][0]
        customer = device.cache.query("SELECT id FROM customers WHERE home_store = 'AMS01'")[0][0]
        device.place_ship_to_home(customer, [(sku, 1)], fulfilling_store="DC01", staff=staff_of(device, "AMS01"))
        with centre.client() as client:
            after_backup = client.get("/v1/sync/orders", params={"after": "0", "limit": 5000}).json()["next_cursor"]
        centre.stop()
        restore(nightly, db)
        centre.process = start_central(db, "--demo", port=port).process
        with centre.client() as client:
            assert client.get("/v1/sync/stores", params={"after": before_backup}).status_code == 200
            # Orders placed at the restored centre would move its sequence past the old cursor: the epoch still tells.
            refused = client.get("/v1/sync/orders", params={"after": after_backup})
            assert refused.status_code == 410 and refused.json()["reason"] == "beyond_epoch", refused.text
    finally:
        device.close()


def test_the_backup_command_says_what_is_wrong_instead_of_a_stack_trace(tmp_path: Path) -> None:
    missing = clienteling("central", "backup", str(tmp_path / "b.db"), "--db", str(tmp_path / "none.db"))
    assert missing.returncode != 0 and "no central database" in missing.stderr and "Traceback" not in missing.stderr


def test_a_journal_from_before_positions_keeps_its_ledger_and_sends_again_only_what_a_restore_lost(
    tmp_path: Path,
) -> None:
    """A 0.3 journal (schema 1) is upgraded in place: its outbox and ledger stay. What is queued again is what the
    centre does not hold: a command of a lost epoch, ahead of what waits; not one from before positions (which centre
    took it cannot be told), nor one of another centre."""
    from clienteling.contract import CentreInfo
    from clienteling.device.journal import MIGRATIONS, Journal, check_migration_keeps_commands

    path, now = tmp_path / "journal.db", utc_now().isoformat()
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO outbox (command_id, kind, path, body, created_at) VALUES ('w', 'note', '/p', '{}', ?)", (now,)
        )
        conn.execute(
            "INSERT INTO acknowledged VALUES ('old', 'note', '/p', '{}', '{\"id\": \"N00000001\"}', ?)", (now,)
        )
    conn.close()
    centre, epoch, lost = "c" * 32, "e" * 16, "d" * 16
    journal = Journal(path)
    try:
        assert [row[0] for row in journal.waiting()] == ["w"]
        assert [row[0] for row in journal.acknowledged()] == ["old"]
        with sqlite3.connect(path) as conn:
            for command_id, position, number in (
                ("kept", f"{centre}.{epoch}.3", "ORD-K7QM-00000001"),
                ("lost", f"{centre}.{lost}.9", "ORD-T8YY-00000002"),
                ("beyond", f"{centre}.{epoch}.7", "ORD-K7QM-00000003"),
                ("elsewhere", f"{'a' * 32}.{lost}.9", "ORD-AAAA-00000004"),
            ):
                conn.execute(
                    "INSERT INTO acknowledged VALUES (?, 'ship_to_home', '/v1/orders/ship-to-home', '{}', ?, ?, ?)",
                    (command_id, f'{{"number": "{number}"}}', now, position),
                )
        conn.close()
        restored = CentreInfo(
            centre=centre,
            epoch="f" * 16,
            seq=20,
            epochs=[{"epoch": epoch, "from_seq": 0, "to_seq": 5}, {"epoch": "f" * 16, "from_seq": 5}],
        )
        assert journal.send_again(restored) == 2
        assert [row[0] for row in journal.waiting()] == [
            "beyond",
            "lost",
            "w",
        ]  # as first taken (same second: by id), first
        assert journal.restoring("beyond") == "ORD-K7QM-00000003" and journal.restoring("w") is None
        assert journal.centre_seen() == f"{centre}.{'f' * 16}"
        assert journal.send_again(restored) == 0  # already waiting: never twice in the outbox
    finally:
        journal.close()
    check_migration_keeps_commands("ALTER TABLE outbox ADD COLUMN extra TEXT")  # adding a column keeps every row
    with pytest.raises(RuntimeError, match="may not drop"):
        check_migration_keeps_commands("ALTER TABLE acknowledged DROP COLUMN body")
