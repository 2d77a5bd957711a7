"""The centre's storage: `CentralStore`, made of one part per aggregate over one small storage interface (db.py)
with two backends, SQLite and PostgreSQL:

- base.py: the database, the schema and epochs, the feed's positions, numbers, commands once per idempotency key;
- customers.py: profiles, wishlists, chats, the customer search, notes, profile views, erasure, retention;
- catalogue.py: stores, products, stock;
- orders.py: ship-to-home orders and returns;
- feed.py: the change feed and its tombstones;
- devices.py: device and administrator tokens, staff;
- followups.py: follow-up tasks, made by staff or by the centre when a wishlisted item is back in stock;
- ingest.py: the retailer's systems: integration tokens, field owners, bulk upserts and deletes;
- events.py: the outbox of events for the retailer's systems, webhooks and their deliveries (and the deliverer);
- reports.py: the store's figures by week (the dashboard);
- experience.py: touchpoints, the customers' ratings of them, the staff pulse, and their report.
- outreach.py: messages from stores to customers, their provider and its deliverer, replies, credit of online orders.

Every row of a synced collection carries `seq`, the feed position it was last changed at; deletes leave a tombstone
with its own. Rows are kept as their contract JSON (`doc`) beside the columns that queries need, so reads serve JSON
as stored.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import NamedTuple

from clienteling import codes
from clienteling.central.base import (  # noqa: F401 - what callers import from here
    CUSTOMER_SCOPED,
    IDEMPOTENCY_RETENTION,
    PROFILE_VIEW_RETENTION,
    STORE_SCOPED,
    CommandAnswer,
    StoreBase,
    hash_token,
    iso,
)
from clienteling.central.catalogue import Catalogue
from clienteling.central.customers import Customers, customer_search_text  # noqa: F401
from clienteling.central.devices import Devices
from clienteling.central.events import Events
from clienteling.central.experience import Feedbacks
from clienteling.central.feed import Feed
from clienteling.central.followups import FollowUps
from clienteling.central.ingest import Ingest
from clienteling.central.migrations import SCHEMA_VERSION  # noqa: F401
from clienteling.central.orders import Orders
from clienteling.central.outreach import Outreach
from clienteling.central.problems import ProblemError
from clienteling.central.reports import Reports


class CentralStore(
    Customers, Catalogue, Orders, Feed, Devices, Ingest, FollowUps, Outreach, Events, Reports, Feedbacks, StoreBase
):
    """The centre's database: every aggregate's part over one `Database`. Safe to share between threads."""


class Backup(NamedTuple):
    path: Path
    bytes: int
    seq: int  # the sequence value the copy holds: a restored centre's history ends here
    seconds: float


def backup(source: str | Path, target: str | Path, *, pages_per_step: int = 1024) -> Backup:
    """A consistent copy of the centre's database `source` to `target`, also while the centre runs: SQLite's online
    backup, a step of pages at a time, so writers wait at most one step, never the whole copy.

    The copy is made beside the target and moved into place when whole, so a file at `target` is always a complete
    backup. It is one self-contained file (no -wal beside it). It opens nothing for writing in `source` (it starts no
    epoch). Restoring is copying it back while the centre is stopped (see the README); the devices notice by the
    epochs (epochs.py) and send what the copy lacks again.
    """
    started = time.monotonic()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    making = target.with_name(f".{target.name}.making")
    making.unlink(missing_ok=True)
    reader = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(making)
    try:
        reader.execute("PRAGMA busy_timeout=30000")
        reader.backup(copy, pages=pages_per_step)
        copy.execute("PRAGMA journal_mode=DELETE")
        seq = int(copy.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
    finally:
        copy.close()
        reader.close()
    os.replace(making, target)
    return Backup(target, target.stat().st_size, seq, time.monotonic() - started)


def card_or_problem(text: str) -> str:
    """The card number in `text`, or a 422 problem that says what is wrong with it."""
    try:
        return codes.parse_card_number(text)
    except codes.CodeError as error:
        raise ProblemError("invalid_card_number", str(error)) from None
