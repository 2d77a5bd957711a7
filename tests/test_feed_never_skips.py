"""The change feed never skips a row, whatever order concurrent transactions commit in (issue 12).

Several writer processes change stock rows in transactions that take their feed position first and then linger a
random few milliseconds before they commit, so that commits finish in every order; several reader processes follow
the feed meanwhile, page by page, as devices do. At the end each reader's copy equals the final table: no row version
missed, none seen twice. On PostgreSQL this is what allocating positions under the counter row's lock buys (see
clienteling/central/db.py); with a plain sequence a position taken by a transaction that commits later is overtaken
by readers, and those rows are skipped for good.

`CLIENTELING_FEED_STRESS_SECONDS` sets how long the writers write (default 60 on PostgreSQL, 10 on SQLite).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import time
from pathlib import Path

import pytest
from conftest import drop_postgres_database, new_postgres_database


def from_a_sequence(conn) -> int:
    """The control: positions from a PostgreSQL sequence, which readers overtake (run the test with
    CLIENTELING_FEED_STRESS_CONTROL=sequence to see it fail)."""
    return conn.execute("SELECT nextval('feed_control')").fetchone()[0]


NEXT_POSITION = from_a_sequence if os.environ.get("CLIENTELING_FEED_STRESS_CONTROL") == "sequence" else None
ROWS = 120  # stock rows the writers change: few, so that the same row is changed by several writers at once
STORE = "AMS01"


def writer(where: str, seconds: float, seed: int, done: multiprocessing.Queue) -> None:
    from datetime import UTC, datetime

    from clienteling.central.store import CentralStore

    rng, store, commits = random.Random(seed), CentralStore(where), 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            with store.write() as conn:
                # Half the changes make a row of their own that never changes again: skipping its one version would
                # lose it for good. The other half change a few shared rows, from several writers at once.
                sku = f"NEW-{seed}-{commits:06d}" if rng.random() < 0.5 else f"SKU-{rng.randrange(ROWS):04d}"
                seq = (NEXT_POSITION or store.next_seq)(conn)  # the position first: a commit that lingers after it
                time.sleep(rng.random() * 0.004)
                conn.execute(
                    "INSERT INTO stock (id, seq, store, sku, on_hand, reserved, as_of) VALUES (?, ?, ?, ?, 1, 0, ?)"
                    " ON CONFLICT (id) DO UPDATE SET"
                    " on_hand = stock.on_hand + 1, seq = excluded.seq, as_of = excluded.as_of",
                    (f"{STORE}:{sku}", seq, STORE, sku, datetime.now(UTC).isoformat(timespec="seconds")),
                )
                if NEXT_POSITION is not None:  # the control's counter moves at the end, as a sequence's readers see it
                    conn.execute(
                        "UPDATE meta SET value = CAST(GREATEST(CAST(value AS BIGINT), ?) AS TEXT) WHERE key = 'seq'",
                        (seq,),
                    )
            commits += 1
    finally:
        store.close()
        done.put(commits)


def reader(where: str, stop: multiprocessing.Event, out: multiprocessing.Queue) -> None:
    from clienteling.central.store import CentralStore

    store, cursor, rows, seen, twice, pages = CentralStore(where), "0", {}, set(), 0, 0
    try:
        caught_up_after_stop = False
        while not caught_up_after_stop:
            stopped = stop.is_set()  # read before the page: a page read after the writers stopped sees them all
            while True:
                page = json.loads(store.sync_page("stock", cursor, 37, STORE))
                pages += 1
                for item in page["items"]:
                    version = (item["sku"], item["on_hand"])  # on_hand grows by one each change: one version each
                    twice += version in seen
                    seen.add(version)
                    rows[item["sku"]] = item["on_hand"]
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    break
            caught_up_after_stop = stopped
    finally:
        store.close()
        out.put((rows, len(seen), twice, pages))


@pytest.fixture(params=["postgresql", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "postgresql":
        url = new_postgres_database()
        yield request.param, url
        drop_postgres_database(url)
    else:
        yield request.param, str(tmp_path / "central.db")


def test_every_reader_ends_with_the_final_table_none_missed_none_twice(database) -> None:
    backend, where = database
    from clienteling.central.store import CentralStore

    CentralStore(where).close()  # the schema, made once before anyone writes
    if NEXT_POSITION is not None:
        import psycopg

        with psycopg.connect(where, autocommit=True) as conn:
            conn.execute("CREATE SEQUENCE feed_control START 1")
    seconds = float(os.environ.get("CLIENTELING_FEED_STRESS_SECONDS") or (60 if backend == "postgresql" else 10))
    context = multiprocessing.get_context("spawn")
    stop, done, out = context.Event(), context.Queue(), context.Queue()
    readers = [context.Process(target=reader, args=(where, stop, out)) for _ in range(3)]
    writers = [context.Process(target=writer, args=(where, seconds, seed, done)) for seed in range(3)]
    for process in readers + writers:
        process.start()
    for process in writers:
        process.join(seconds + 120)
    commits = sum(done.get(timeout=30) for _ in writers)
    stop.set()
    results = [out.get(timeout=120) for _ in readers]
    for process in readers:
        process.join(30)

    store = CentralStore(where)
    try:
        final = {
            sku: on_hand for sku, on_hand in store.query("SELECT sku, on_hand FROM stock WHERE store = ?", (STORE,))
        }
    finally:
        store.close()
    assert sum(final.values()) == commits > 100  # every committed change is in the table, once
    for rows, versions, twice, pages in results:
        assert twice == 0  # no version of a row came twice
        assert rows == final  # none missed: every row as the table ends
        assert pages > 10 and versions <= commits
