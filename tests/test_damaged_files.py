"""A damaged file never costs an order: each of the device's two files damaged in each way, with commands waiting.

The cache (rebuildable) is set aside and made afresh from a real centre, and every waiting command still reaches the
centre exactly once; the command journal (not rebuildable) is never overwritten or moved: opening it says what
happened and what to do, and leaves its bytes as they were.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import Central, free_port
from test_device import assert_cache_equals_centre

from clienteling.config import Settings
from clienteling.contract import utc_now
from clienteling.device import CacheRebuilt, Device, JournalDamaged
from clienteling.device import cache as cache_module
from clienteling.device.cache import Cache
from clienteling.device.journal import Journal

# The device's files are SQLite on every device; the centre they sync with runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

DAMAGES = ("truncate", "zero", "header", "garbage")
# What opening a damaged journal says for each damage (JournalDamaged.problem).
PROBLEMS = {"truncate": "cut_short", "zero": "empty", "header": "header", "garbage": "malformed"}
CENTRE_TABLES = ("orders", "notes", "returns", "profile_views")
FIXTURE = Path(__file__).parent / "data" / "cache-before-journal.db.gz"


def damage(path: Path, how: str, rng: random.Random) -> None:
    """Damage a closed SQLite file: cut it short (to a whole number of pages, the hardest to notice), empty it,
    break its header, or write garbage over pages in the middle."""
    size = path.stat().st_size
    page = 4096
    assert size >= 4 * page, f"{path} is too small to damage in the middle ({size} bytes)"
    with path.open("r+b") as handle:
        if how == "truncate":
            handle.truncate((size // page // 2) * page)
        elif how == "zero":
            handle.truncate(0)
        elif how == "header":
            handle.write(rng.randbytes(100))
        elif how == "garbage":
            pages = size // page
            for number in range(pages // 3, max(pages // 3 + 1, 2 * pages // 3)):
                handle.seek(number * page)
                handle.write(rng.randbytes(page))
        else:
            raise ValueError(how)


def garble_table(path: Path, table: str, rng: random.Random) -> None:
    """Write garbage over the root page of one table only: the file opens, and the first read of that table fails."""
    conn = sqlite3.connect(path)
    root, page = conn.execute(
        "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_master WHERE name = ?", (table,)
    ).fetchone()
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page)
        handle.write(rng.randbytes(page))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def open_device(data_dir: Path, url: str) -> Device:
    return Device(Settings.load(data_dir, central_url=url, device_token="demo-AMS01", store="AMS01"))


def unreachable() -> str:
    return f"http://127.0.0.1:{free_port()}"


def centre_counts(centre: Central) -> dict[str, int]:
    return {table: centre.rows(f"SELECT count(*) FROM {table}")[0][0] for table in CENTRE_TABLES}


def answered_keys(centre: Central) -> dict[str, int]:
    return dict(centre.rows("SELECT key, status FROM idempotency WHERE store = 'AMS01'"))


def make_waiting_commands(device: Device) -> dict[str, str]:
    """Orders, a note and a profile view made offline: {command id: kind}."""
    customers = [r[0] for r in device.cache.query("SELECT id FROM customers WHERE origin = 'sync' ORDER BY id LIMIT 3")]
    skus = [r[0] for r in device.cache.query("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 2 LIMIT 3")]
    made = {}
    for customer, sku in zip(customers, skus, strict=True):
        order = device.place_ship_to_home(customer, [(sku, 1)], fulfilling_store="DC01", staff="S0001")
        made[order.command_id] = "ship_to_home"
    note = device.add_note(customers[0], "Asked for the navy coat in M.", staff="S0002")
    made[note.command_id] = "note"
    view = device.record_profile_view(customers[1], "S0001")
    made[view.command_id] = "profile_view"
    assert len(made) == 5 and all(device.command(c).state == "waiting" for c in made)
    return made


@pytest.fixture
def synced(fresh_central, tmp_path):
    """A device of AMS01 synced with its own centre, then cut off with commands waiting; closed (files at rest)."""
    folder = tmp_path / "device"
    with open_device(folder, fresh_central.url) as device:
        assert device.sync_now().ok
    before = centre_counts(fresh_central)
    with open_device(folder, unreachable()) as cut_off:
        made = make_waiting_commands(cut_off)
        assert cut_off.sync_state().waiting == sum(kind != "profile_view" for kind in made.values())
    return folder, made, before


def assert_each_reached_the_centre_once(device: Device, centre, made: dict[str, str], before: dict[str, int]) -> None:
    assert device.journal.waiting() == []
    keys = answered_keys(centre)
    numbers = set()
    for command_id in made:
        command = device.command(command_id)
        assert command.state == "sent", command
        assert keys.get(command_id) == 201
        numbers.add(command.number)
    assert len(numbers) == len(made)
    after = centre_counts(centre)
    kinds = {"ship_to_home": "orders", "note": "notes", "return": "returns", "profile_view": "profile_views"}
    for table in CENTRE_TABLES:
        assert after[table] - before[table] == sum(kinds[k] == table for k in made.values()), table


# --------------------------------------------------------------------------- a damaged cache


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_cache_is_set_aside_and_rebuilt_and_no_waiting_command_is_lost(synced, fresh_central, how):
    folder, made, before = synced
    cache_path = folder / "cache.db"
    damage(cache_path, how, random.Random(how))
    damaged = digest(cache_path)

    with open_device(folder, fresh_central.url) as device:
        aside = list(folder.glob("cache.damaged-*.db"))
        assert len(aside) == 1 and digest(aside[0]) == damaged  # kept as it was, for support
        when, problem, name = device.cache_rebuilt
        assert name == str(aside[0]) and problem == PROBLEMS[how]
        assert abs(utc_now() - when) < timedelta(minutes=5)
        state = device.sync_state()
        assert state.cache_rebuilt_at == when and state.last_sync_at is None  # the screen can say: being refilled
        assert state.waiting == sum(kind != "profile_view" for kind in made.values())  # the journal kept them

        report = device.sync_now()
        assert report.ok, report.error
        assert_each_reached_the_centre_once(device, fresh_central, made, before)
        assert device.sync_now().ok  # sending again sends nothing twice
        assert_each_reached_the_centre_once(device, fresh_central, made, before)
        assert_cache_equals_centre(device, fresh_central)
        assert device.sync_state().cache_rebuilt_at == when  # until staff have read it
        device.dismiss_cache_rebuilt()
        assert device.cache_rebuilt is None and device.sync_state().cache_rebuilt_at is None


def test_a_zero_length_cache_never_drops_a_command_silently(synced, fresh_central):
    folder, made, _ = synced
    (folder / "cache.db").write_bytes(b"")
    with open_device(folder, unreachable()) as device:  # offline: nothing can be refilled yet
        assert device.cache_rebuilt[1] == "empty"
        assert {c.command_id for c in device.commands(include_background=True)} == set(made)
        assert [row[0] for row in device.journal.waiting()] == list(made)  # in the order they were made


def test_a_cache_damaged_while_in_use_is_rebuilt_at_the_first_read_that_fails(synced, fresh_central, monkeypatch):
    folder, made, before = synced
    monkeypatch.setattr(cache_module, "FULL_CHECK_BYTES", 0)  # as for a large cache: only the header is checked
    garble_table(folder / "cache.db", "customers", random.Random(1))
    with open_device(folder, unreachable()) as device:
        assert device.cache_rebuilt is None  # it opened: the damage is not where opening looks
        assert device.search_customers("a") == []  # the read failed, the cache was made afresh, and read again
        assert device.cache_rebuilt[1] == "malformed" and len(list(folder.glob("cache.damaged-*.db"))) == 1
    with open_device(folder, fresh_central.url) as device:
        assert device.sync_now().ok
        assert device.search_customers("a")
        assert_each_reached_the_centre_once(device, fresh_central, made, before)
        assert_cache_equals_centre(device, fresh_central)


def test_a_cache_damaged_under_a_sync_ends_that_round_and_the_next_one_fills_it_again(
    synced, fresh_central, monkeypatch
):
    folder, made, before = synced
    monkeypatch.setattr(cache_module, "FULL_CHECK_BYTES", 0)
    garble_table(folder / "cache.db", "orders", random.Random(2))  # the orders the commands make come back here
    with open_device(folder, fresh_central.url) as device:
        woken = []
        device.syncer.wake = lambda: woken.append(True)
        first = device.sync_now()
        assert first.error and "damaged" in first.error and woken  # the sender is woken to fill it at once
        assert device.cache_rebuilt[1] == "malformed"
        second = device.sync_now()
        assert second.ok, second.error
        assert_each_reached_the_centre_once(device, fresh_central, made, before)
        assert_cache_equals_centre(device, fresh_central)


def test_a_page_fetched_for_the_old_cache_is_not_applied_to_the_new_one(tmp_path, monkeypatch):
    path = tmp_path / "cache.db"
    monkeypatch.setattr(cache_module, "FULL_CHECK_BYTES", 0)
    stores = [
        {"code": f"S{n:04}", "kind": "store", "latitude": 52.0, "longitude": 4.0, "pad": "x" * 900} for n in range(40)
    ]
    page = json.dumps({"items": stores, "deleted": [], "next_cursor": "7", "has_more": False})
    cache = Cache(path)
    cache.apply_page("stores", page)
    cache.close()
    garble_table(path, "stores", random.Random(3))
    cache = Cache(path)
    assert cache.rebuilt() is None and cache.cursor("stores")[0] == "7"
    # A read finds the damage: the cache is set aside and made afresh, and the read is made again on the new file.
    assert cache.query("SELECT doc FROM stores") == []
    assert cache.rebuilt()[1] == "malformed" and cache.cursor("stores")[0] == "0"
    # A page the syncer fetched for the old file's cursor is refused (once); the next round's pages are applied.
    with pytest.raises(CacheRebuilt):
        cache.apply_page("stores", page)
    assert cache.cursor("stores")[0] == "0"
    cache.apply_page("stores", page)
    assert cache.cursor("stores")[0] == "7" and cache.query("SELECT count(*) FROM stores") == [(40,)]
    cache.close()


# --------------------------------------------------------------------------- a damaged journal


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_journal_is_never_overwritten_and_says_what_to_do(synced, fresh_central, how):
    folder, _, before = synced
    journal = folder / "journal.db"
    assert journal.stat().st_size >= 4 * 4096
    damage(journal, how, random.Random(how))
    damaged, files = digest(journal), sorted(p.name for p in folder.iterdir())

    for _ in range(2):  # and again: the first try repaired, moved or replaced nothing
        with pytest.raises(JournalDamaged) as raised:
            open_device(folder, fresh_central.url)
        error = raised.value
        assert error.problem == PROBLEMS[how] and error.path == journal
        message = str(error)
        assert str(journal) in message and "call support" in message and "Do not delete" in message
        assert digest(journal) == damaged and sorted(p.name for p in folder.iterdir()) == files
    assert centre_counts(fresh_central) == before  # nothing was sent from a journal that cannot be trusted


def test_a_journal_that_is_not_ours_or_from_a_newer_app_is_refused(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE outbox (x)")
    conn.execute("INSERT INTO outbox VALUES (1)")
    conn.commit()
    conn.close()
    with pytest.raises(JournalDamaged) as raised:
        Journal(other)
    assert raised.value.problem == "schema"
    newer = tmp_path / "newer.db"
    Journal(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(JournalDamaged) as raised:
        Journal(newer)
    assert raised.value.problem == "newer" and "Update the app" in str(raised.value)


def test_a_journal_whose_file_is_gone_but_whose_log_is_there_is_refused(tmp_path):
    path = tmp_path / "journal.db"
    Journal(path).close()
    os.rename(path, tmp_path / "elsewhere.db")
    (tmp_path / "journal.db-wal").write_bytes(b"\0" * 32)
    with pytest.raises(JournalDamaged) as raised:
        Journal(path)
    assert raised.value.problem == "missing" and not path.exists()


def test_the_journal_is_wal_and_full_sync(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    assert journal._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    journal.close()


# --------------------------------------------------------------------------- the ledger of acknowledged commands


def test_acknowledged_commands_are_kept_for_the_retention_window(tmp_path):
    now = [utc_now()]
    journal = Journal(tmp_path / "journal.db", clock=lambda: now[0])
    first = journal.add("note", {"text": "a", "author": None}, customer_id="C1", staff=None)
    refused = journal.add("note", {"text": "b", "author": None}, customer_id="C1", staff=None)
    journal.settle(first, "sent", answer='{"id": "N1"}')
    journal.settle(refused, "attention", answer="{}", reason="no")
    ledger = journal.acknowledged()
    assert [(r[0], r[1], r[2], json.loads(r[3])["text"]) for r in ledger] == [
        (first, "note", "/v1/customers/C1/notes", "a")
    ]
    now[0] += timedelta(days=13)
    assert [r[0] for r in journal.acknowledged()] == [first]
    now[0] += timedelta(days=2)
    assert journal.acknowledged() == [] and journal.prune_acknowledged() == 1
    journal.close()


# --------------------------------------------------------------------------- a cache made before the journal


def test_a_cache_made_before_the_journal_hands_every_command_to_it(fresh_central, tmp_path):
    """tests/data/cache-before-journal.db.gz was made by the code before the journal (commit ea3b8a1): an AMS01 device
    of a 60-customer demo chain placed one order that was sent and one the centre refused, then, offline, two orders,
    a note, a return and a profile view; its synced rows were deleted afterwards (to keep the file small)."""
    folder = tmp_path / "device"
    folder.mkdir()
    (folder / "cache.db").write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    old = sqlite3.connect(folder / "cache.db")
    rows = old.execute("SELECT command_id, kind, state FROM local_commands ORDER BY command_id").fetchall()
    queued = [r[0] for r in old.execute("SELECT command_id FROM outbox ORDER BY position")]
    old.close()
    assert len(rows) == 7 and len(queued) == 5
    before = centre_counts(fresh_central)

    with open_device(folder, fresh_central.url) as device:
        assert [row[0] for row in device.journal.waiting()] == queued  # same commands, same order
        listed = device.commands(include_background=True)
        assert sorted((c.command_id, c.kind, c.state) for c in listed) == rows
        assert device.sync_state().attention == 1
        assert device.cache.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'outbox'") == 0
        report = device.sync_now()
        assert report.ok, report.error
        assert device.journal.waiting() == []
        keys = answered_keys(fresh_central)
        for command_id in queued:
            command = device.command(command_id)
            # A profile view dated when the file was made may be refused by a centre that checks its age; it is
            # answered all the same, never lost. Orders, the note and the return are accepted.
            assert command.state == "sent" or (command.kind == "profile_view" and command.state == "attention")
            assert command.state != "sent" or keys[command_id] == 201
    after = centre_counts(fresh_central)
    assert after["orders"] - before["orders"] == 2 and after["notes"] - before["notes"] == 1
    assert after["returns"] - before["returns"] == 1
    # Opened again: nothing is handed over twice.
    with open_device(folder, fresh_central.url) as device:
        assert device.journal.waiting() == [] and device.sync_now().ok
    assert centre_counts(fresh_central) == after


def test_handing_over_again_queues_nothing_twice(tmp_path):
    journal = Journal(tmp_path / "journal.db")
    now = utc_now().isoformat()
    outbox = [("c1", "note", "/v1/customers/C1/notes", "{}", 0, None, now)]
    local = [("c1", "note", "C1", "{}", "waiting", None, None, None, now, now)]
    journal.take_over(outbox, local)
    journal.settle("c1", "sent", answer="{}")
    journal.take_over(outbox, local)  # a crash between the journal's commit and the cache's: done again
    assert journal.waiting() == [] and journal.command("c1")[4] == "sent"
    assert [r[0] for r in journal.acknowledged()] == ["c1"]
    journal.close()


# --------------------------------------------------------------------------- what the app shows


class RecordingPage:
    """Stands in for a Flet page: records what `main` renders."""

    def __init__(self) -> None:
        self.rendered: list[tuple] = []

    def render(self, *args) -> None:
        self.rendered.append(args)


def test_the_app_shows_a_damaged_journal_in_plain_words_instead_of_a_traceback(tmp_path, monkeypatch):
    from clienteling.ui import app
    from clienteling.ui.i18n import tr

    folder = tmp_path / "device"
    Journal(folder / "journal.db").close()
    (folder / "journal.db").write_bytes(b"")
    for name, value in {
        "CLIENTELING_DATA_DIR": str(folder),
        "CLIENTELING_CENTRAL_URL": unreachable(),
        "CLIENTELING_DEVICE_TOKEN": "demo-AMS01",
        "CLIENTELING_STORE": "AMS01",
        "CLIENTELING_LANG": "nl",
        "CLIENTELING_MANAGED_SETTINGS": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(app, "_device", None)
    monkeypatch.setattr(app, "_damaged", None)
    for _ in range(2):  # every browser session gets the same screen
        page = RecordingPage()
        app.main(page)
        ((screen, error, lang),) = page.rendered
        assert screen is app.JournalDamagedScreen and lang == "nl" and error.problem == "empty"
    text = tr("nl", "journal_damaged", problem=tr("nl", "journal_problem_empty"), path=str(error.path))
    assert str(folder / "journal.db") in text and "bel support" in text and "het is leeg" in text
    assert (folder / "journal.db").read_bytes() == b""


def test_a_damaged_cache_made_before_the_journal_gives_it_every_command_it_can_still_read(tmp_path, monkeypatch):
    from test_customer_search import make_customer, page

    path = tmp_path / "cache.db"
    monkeypatch.setattr(cache_module, "SCHEMA_VERSION", 5)  # as the code before the journal made it
    old = Cache(path)
    rng = random.Random(5)
    old.apply_page("customers", page([make_customer(rng, n) for n in range(1, 301)], [], 1))
    now = utc_now().isoformat()
    with old.write() as conn:
        for command_id in ("c1", "c2"):
            conn.execute(
                "INSERT INTO outbox (command_id, kind, path, body, created_at) VALUES (?, 'note', '/v1/x', '{}', ?)",
                (command_id, now),
            )
            conn.execute(
                "INSERT INTO local_commands VALUES (?, 'note', 'C1', '{}', 'waiting', NULL, NULL, NULL, ?, ?)",
                (command_id, now, now),
            )
    old.close()
    monkeypatch.setattr(cache_module, "SCHEMA_VERSION", len(cache_module.MIGRATIONS))
    garble_table(path, "customers", random.Random(6))

    journal = Journal(tmp_path / "journal.db")
    cache = Cache(path, hand_over=journal.take_over)
    assert cache.rebuilt()[1] == "malformed" and cache.scalar("SELECT count(*) FROM customers") == 0
    assert [row[0] for row in journal.waiting()] == ["c1", "c2"]
    assert {row[0] for row in journal.commands()} == {"c1", "c2"}
    cache.close()
    journal.close()
