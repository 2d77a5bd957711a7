"""The centre's identity and epochs: how a device tells whether the centre still holds what it saw.

The identity (`centre_id` in `meta`) is made once and kept in the database, so it is the same after a restart and
after a restore from a backup.

An epoch begins every time a process opens the database (`begin`), at the sequence value it finds there. Epoch E's
history runs up to where the next epoch began. Why every opening: a restore is the file (or a volume snapshot) copied
back, which no command of ours sees, and the process that opens it next cannot tell a restore from a restart. What
it can do is start a stretch of history of its own. After a restore, the epochs that ran after the backup are not in
the file: a cursor or an acknowledgement from one of them names an epoch the centre does not know. One from the epoch
the backup was taken in is honoured only up to where the restored file's next epoch began, which is the backup's
sequence value. A restart costs nothing: cursors of earlier epochs stay good within their stretch.

The epoch a process writes under is always the newest in the file, read inside the transaction that writes: a
second process opening the file (a command-line tool next to the server) starts a stretch that the first one then
continues in, so no stretch ever overlaps another.

Numbers the centre gives (orders, returns, notes, profile views) carry the series of the epoch that gave them
(`ORD-K7QM-00001080`). Each epoch draws a new random series that no epoch in the file and no number in the file has.
A centre restored from a backup has forgotten the numbers it gave after the backup, but its new series differs from
theirs (one chance in about 700,000 per lost epoch that it does not), so a number never names two things. A command
a device sends again after a restore carries the number it was given (`Clienteling-Restoring`), and gets it back
(`reusable`): numbers are only ever taken from the current epoch's series, so an unused number of an earlier series
can be given back without ever naming a second thing.

The feed's cursors and every acceptance carry `<centre>.<epoch>.<position>`; `CentreInfo.misses` (in the contract,
shared with the devices) is the one rule that says whether the centre holds a position.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from clienteling.central.db import Conn
from clienteling.contract import SERIES, CentreInfo, Epoch

LINEAGE_SHOWN = 500  # epochs `CentreInfo` lists; an acknowledgement from an older one is simply sent again

_FIRST = "ABCDEFGHJKMNPQRSTVWXYZ"
_REST = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Where numbers of each kind are kept, so that a new series is one that no number in the file has.
# Newest first among numbers given in the same second: by the counter (the last 8 digits; counters run on across
# series, so they are in the order given), not by the whole id, whose series would sort a restart's numbers apart.
NUMBERED_ORDER = "substr(id, length(id) - 7) DESC, id DESC"
NUMBERED = {
    "ORD": ("orders", "id"),
    "RET": ("returns", "id"),
    "N": ("notes", "id"),
    "V": ("profile_views", "id"),
    "CS": ("consent_log", "id"),
    "M": ("outreach_messages", "id"),
}


@dataclass(frozen=True)
class Current:
    centre: str
    epoch: str
    series: str
    from_seq: int


def centre_id(conn: Conn) -> str:
    """The centre's id, made on first use (inside the caller's write transaction)."""
    conn.execute("INSERT INTO meta VALUES ('centre_id', ?) ON CONFLICT (key) DO NOTHING", (uuid.uuid4().hex,))
    return conn.execute("SELECT value FROM meta WHERE key = 'centre_id'").fetchone()[0]


def begin(conn: Conn, now: datetime) -> Current:
    """Start a new epoch at the sequence value now (inside the caller's write transaction)."""
    centre = centre_id(conn)
    # Taken under the counter row's lock (as positions are, see db.py): no position can be in flight across the
    # epoch's start, so every position below it is of the epoch before and every one above of this one.
    seq = int(conn.execute("UPDATE meta SET value = value WHERE key = 'seq' RETURNING value").fetchone()[0])
    epoch, series = secrets.token_hex(8), _new_series(conn)
    conn.execute(
        "INSERT INTO epochs (epoch, series, from_seq, started_at) VALUES (?, ?, ?, ?)",
        (epoch, series, seq, now.isoformat(timespec="seconds")),
    )
    return Current(centre, epoch, series, seq)


def _new_series(conn: Conn) -> str:
    while True:
        series = secrets.choice(_FIRST) + "".join(secrets.choice(_REST) for _ in range(3))
        if conn.execute("SELECT 1 FROM epochs WHERE series = ?", (series,)).fetchone():
            continue
        if any(
            conn.execute(f"SELECT 1 FROM {table} WHERE {column} LIKE ? LIMIT 1", (f"{prefix}-{series}-%",)).fetchone()
            for prefix, (table, column) in NUMBERED.items()
        ):
            continue
        return series


def current(conn: Conn) -> Current:
    """The epoch the file is in: the newest."""
    epoch, series, from_seq = conn.execute(
        "SELECT epoch, series, from_seq FROM epochs ORDER BY ordinal DESC LIMIT 1"
    ).fetchone()
    centre = conn.execute("SELECT value FROM meta WHERE key = 'centre_id'").fetchone()[0]
    return Current(centre, epoch, series, from_seq)


def info(conn: Conn) -> CentreInfo:
    """Who the centre is and what history it holds: the newest `LINEAGE_SHOWN` epochs, each ending where the next
    began (`GET /v1/centre`)."""
    now = current(conn)
    seq = int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
    rows = conn.execute("SELECT epoch, from_seq FROM epochs ORDER BY ordinal DESC LIMIT ?", (LINEAGE_SHOWN,)).fetchall()
    rows.reverse()
    epochs = [
        Epoch(epoch=epoch, from_seq=from_seq, to_seq=rows[at + 1][1] if at + 1 < len(rows) else None)
        for at, (epoch, from_seq) in enumerate(rows)
    ]
    return CentreInfo(centre=now.centre, epoch=now.epoch, seq=seq, epochs=epochs)


def around(conn: Conn, epoch: str, extra_meta: str) -> tuple[CentreInfo, str | None]:
    """What judging a position in `epoch` needs (that epoch, ending where the next one began, and the current one),
    and the `meta` value `extra_meta`, in one query: the change feed asks this for every page, and on PostgreSQL each
    query is a round trip."""
    row = conn.execute(
        "SELECT (SELECT value FROM meta WHERE key = 'centre_id'), (SELECT value FROM meta WHERE key = 'seq'),"
        " e.epoch, e.from_seq,"
        " (SELECT from_seq FROM epochs WHERE epoch = ?),"
        " (SELECT n.from_seq FROM epochs n WHERE n.ordinal > (SELECT ordinal FROM epochs WHERE epoch = ?)"
        "  ORDER BY n.ordinal LIMIT 1),"
        " (SELECT value FROM meta WHERE key = ?)"
        " FROM epochs e ORDER BY e.ordinal DESC LIMIT 1",
        (epoch, epoch, extra_meta),
    ).fetchone()
    centre, seq, current_epoch, current_from, asked_from, asked_to, extra = row
    epochs = (
        []
        if asked_from is None or epoch == current_epoch
        else [Epoch(epoch=epoch, from_seq=asked_from, to_seq=asked_to)]
    )
    epochs.append(Epoch(epoch=current_epoch, from_seq=current_from))
    return CentreInfo(centre=centre, epoch=current_epoch, seq=int(seq), epochs=epochs), extra


def take_number(conn: Conn, prefix: str, counter: str) -> str:
    """The next number of a kind (`ORD`, `RET`, `N`, `V`, `CS`) in the current epoch's series, e.g. `ORD-K7QM-00001080`."""
    conn.execute("INSERT INTO meta VALUES (?, '0') ON CONFLICT (key) DO NOTHING", (counter,))
    value = int(
        conn.execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = ? RETURNING value", (counter,)
        ).fetchone()[0]
    )
    return f"{prefix}-{current(conn).series}-{value:08d}"


def reusable(conn: Conn, prefix: str, number: str | None) -> bool:
    """Whether `number`, which a device says this centre gave a command before it was restored from a backup, may be
    given to that command again: a well-formed number of the kind, not of the current epoch's series (the only one
    numbers are still taken from, so no number taken later can be it), and not in use."""
    if not number:
        return False
    found = re.fullmatch(rf"{prefix}-({SERIES})-([0-9]{{8,12}})", number)
    if found is None or found.group(1) == current(conn).series:
        return False
    table, column = NUMBERED[prefix]
    return conn.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", (number,)).fetchone() is None
