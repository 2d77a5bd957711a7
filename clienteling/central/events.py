"""Events out to the retailer's systems (issue 13): a transactional outbox in the centre's database, and the
deliverer that POSTs it to subscribed webhooks, signed (clienteling.webhooks), at least once, in order per subject.

The outbox. A command that changes something the back office must hear of (a ship-to-home order, a return, a note)
writes its event with `record_event` inside its own transaction, so an event exists if and only if its change
committed: a refused command (rolled back to its savepoint) leaves none, and the replay of an idempotency key runs no
work, so it makes no second one. The event's id is the change feed's next position (`next_seq`), taken under the
lock of the counter row, so ids are in commit order across processes: a reader never sees event N+1 of a subject
without event N. In the same transaction a `deliveries` row is written for every active webhook whose types include
the event's type (a webhook hears of events from its registration on).

Delivery. One thread per centre process (`Deliverer`), started with the app; of several processes only one
delivers at a time: on PostgreSQL the one holding a session advisory lock on a connection of its own (if that
process dies, its connection and the lock go with it and another takes over within a poll interval); on SQLite the
one holding a lease in `meta` (renewed while it runs, free to take once it has run out). The deliverer sends the
head of each (webhook, subject) queue: the earliest delivery not yet delivered. A delivery is only attempted when
every earlier one of its subject to that webhook has been delivered, so a receiver sees a subject's events in
order; different subjects and different webhooks proceed independently, several at a time. 2xx is delivered;
anything else (an error, a timeout, another status) is tried again after an exponential backoff with jitter, up to a
number of attempts; then the delivery is `failed` and holds the later events of its subject (shown as waiting
behind it) until an operator replays it (`clienteling central events --failed`, `--replay ID`). Failures are logged
at warning level with the webhook's and the event's id (never the secret).

Settings (environment of `clienteling central`): CLIENTELING_WEBHOOK_TIMEOUT (seconds an endpoint has to answer,
default 10), CLIENTELING_WEBHOOK_BACKOFF (first wait before a retry, default 1 s; it doubles each attempt, with
jitter), CLIENTELING_WEBHOOK_BACKOFF_CAP (longest wait, default 600 s), CLIENTELING_WEBHOOK_ATTEMPTS (attempts before
a delivery is failed, default 20: 1.5 to 2 hours of trying), CLIENTELING_WEBHOOK_POLL (how often to look for events
written by other processes, default 2 s; events written in this process wake the deliverer at once).
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from clienteling.central import epochs
from clienteling.central.base import StoreBase
from clienteling.central.db import Conn, connect_postgres
from clienteling.contract import Event
from clienteling.webhooks import EVENT_ID_HEADER, EVENT_TYPE_HEADER, EVENT_TYPES, SIGNATURE_HEADER, signature_header

log = logging.getLogger("clienteling.central.events")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
EVENT_RETENTION = timedelta(days=30)
"""A delivered event is kept 30 days (to look into what a receiver says it never got), then dropped by `prune_events`
(at every start and by `clienteling central prune`); one not yet delivered is kept until it is."""
_DELIVERER_LOCK = "clienteling webhook deliverer"
_LEASE_KEY = "webhook_deliverer"


def precise(moment: datetime) -> str:
    """A delivery's due time: UTC to the microsecond (backoffs are shorter than a second), in one fixed form, so
    that the text compares as the time does."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookError(ValueError):
    """A webhook that cannot be registered, or a replay of what is not there: the message says why."""


class Webhook(NamedTuple):
    id: str
    url: str
    types: tuple[str, ...]
    created_at: str
    active: bool


class DeliveryRow(NamedTuple):
    """One event as the operator sees it, with its delivery to one webhook (webhook None: nobody subscribed)."""

    event_id: int
    type: str
    subject: str
    occurred_at: str
    webhook_id: str | None
    status: str | None  # pending, delivered, failed, or `waiting` (pending behind a failed or earlier one)
    attempts: int
    last_error: str | None
    behind: int | None  # for `waiting`: the earlier event of its subject it waits for


class Due(NamedTuple):
    """The head of one (webhook, subject) queue."""

    webhook_id: str
    event_id: int
    attempts: int
    next_at: str
    url: str
    secret: str
    type: str
    doc: str


_HEADS = """
SELECT d.webhook_id, d.event_id, d.attempts, d.next_at, w.url, w.secret, e.type, e.doc
FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id
WHERE d.status = 'pending' AND w.active = 1 AND NOT EXISTS (
    SELECT 1 FROM deliveries p WHERE p.webhook_id = d.webhook_id AND p.subject = d.subject
    AND p.event_id < d.event_id AND p.status <> 'delivered')
ORDER BY d.next_at, d.event_id LIMIT ?
"""


class Events(StoreBase):
    """The outbox of events, the webhooks that subscribe to them and the state of each delivery."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.events_written = threading.Event()  # set when an event of this process commits: wakes the deliverer
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ writing events (inside a command)

    def record_event(self, conn: Conn, type_: str, subject: str, data: str, occurred_at: datetime) -> int:
        """Write an event (and its deliveries) in the transaction `conn`; `data` is the document's JSON. Its id is
        the next feed position, so ids rise in commit order."""
        assert type_ in EVENT_TYPES, type_
        event_id = self.next_seq(conn)
        now = epochs.current(conn)
        event = Event(
            id=event_id,
            position=f"{now.centre}.{now.epoch}.{event_id}",
            type=type_,
            subject=subject,
            occurred_at=occurred_at,
            data=json.loads(data),
        )
        conn.execute(
            "INSERT INTO events (id, type, subject, occurred_at, doc) VALUES (?, ?, ?, ?, ?)",
            (event_id, type_, subject, event.occurred_at.isoformat(timespec="seconds"), event.model_dump_json()),
        )
        due = precise(occurred_at)
        for webhook_id, types in conn.execute("SELECT id, types FROM webhooks WHERE active = 1 ORDER BY id").fetchall():
            if type_ in types.split(","):
                conn.execute(
                    "INSERT INTO deliveries (event_id, webhook_id, subject, status, attempts, next_at)"
                    " VALUES (?, ?, ?, 'pending', 0, ?)",
                    (event_id, webhook_id, subject, due),
                )
        conn.after_commit(self.events_written.set)
        return event_id

    def events_after(self, after: int, limit: int) -> list[Event]:
        """The events after feed position `after`, oldest first, at most `limit` (`GET /v1/events`)."""
        rows = self.query("SELECT doc FROM events WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
        return [Event.model_validate_json(doc) for (doc,) in rows]

    # ------------------------------------------------------------------ webhooks

    def add_webhook(self, url: str, types: list[str] | None = None, secret: str | None = None) -> tuple[str, str]:
        """Subscribe `url` to `types` (all if None); returns the webhook's id and its secret (a new random one if
        none is given). `WebhookError` says what is wrong with the arguments."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WebhookError(f"{url!r} is not an http:// or https:// URL")
        chosen = list(EVENT_TYPES) if not types else [t.strip() for t in types if t.strip()]
        unknown = [t for t in chosen if t not in EVENT_TYPES]
        if unknown or not chosen:
            raise WebhookError(
                f"unknown event type(s) {', '.join(unknown) or '(none)'}; known: {', '.join(EVENT_TYPES)}"
            )
        if secret is not None and len(secret) < 16:
            raise WebhookError("a secret must be at least 16 characters long")
        secret = secret or "whsec_" + secrets.token_urlsafe(32)
        webhook_id = "wh_" + secrets.token_hex(6)
        with self.write() as conn:
            conn.execute(
                "INSERT INTO webhooks (id, url, secret, types, created_at, active) VALUES (?, ?, ?, ?, ?, 1)",
                (webhook_id, url, secret, ",".join(dict.fromkeys(chosen)), precise(self.clock())),
            )
        return webhook_id, secret

    def remove_webhook(self, webhook_id: str) -> int:
        """Stop sending to a webhook: it is kept, inactive (its id is never given again), and its deliveries not yet
        made are dropped. Returns how many were dropped; `WebhookError` if there is no such active webhook."""
        with self.write() as conn:
            if not conn.execute("UPDATE webhooks SET active = 0 WHERE id = ? AND active = 1", (webhook_id,)).rowcount:
                raise WebhookError(
                    f"there is no active webhook {webhook_id!r} (`clienteling central webhooks` lists them)"
                )
            return conn.execute(
                "DELETE FROM deliveries WHERE webhook_id = ? AND status <> 'delivered'", (webhook_id,)
            ).rowcount

    def webhooks(self) -> list[Webhook]:
        return [
            Webhook(r[0], r[1], tuple(r[2].split(",")), r[3], bool(r[4]))
            for r in self.query("SELECT id, url, types, created_at, active FROM webhooks ORDER BY created_at, id")
        ]

    # ------------------------------------------------------------------ what the operator sees and does

    def event_rows(self, *, failed: bool = False, limit: int = 50) -> list[DeliveryRow]:
        """The latest `limit` events with their deliveries (newest first); with `failed`, only deliveries that ran
        out of attempts and those waiting behind them."""
        if failed:
            rows = self.query(
                "SELECT e.id, e.type, e.subject, e.occurred_at, d.webhook_id, d.status, d.attempts, d.last_error"
                " FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.status <> 'delivered' AND EXISTS ("
                " SELECT 1 FROM deliveries f WHERE f.webhook_id = d.webhook_id AND f.subject = d.subject"
                " AND f.event_id <= d.event_id AND f.status = 'failed')"
                " ORDER BY e.id DESC, d.webhook_id LIMIT ?",
                (limit,),
            )
        else:
            rows = self.query(
                "SELECT e.id, e.type, e.subject, e.occurred_at, d.webhook_id, d.status, d.attempts, d.last_error"
                " FROM (SELECT * FROM events ORDER BY id DESC LIMIT ?) e"
                " LEFT JOIN deliveries d ON d.event_id = e.id ORDER BY e.id DESC, d.webhook_id",
                (limit,),
            )
        answer = []
        for event_id, type_, subject, occurred_at, webhook_id, status, attempts, last_error in rows:
            behind = None
            if status == PENDING:
                earlier = self.query_one(
                    "SELECT MIN(event_id) FROM deliveries WHERE webhook_id = ? AND subject = ? AND event_id < ?"
                    " AND status <> 'delivered'",
                    (webhook_id, subject, event_id),
                )
                if earlier and earlier[0] is not None:
                    status, behind = "waiting", int(earlier[0])
            answer.append(
                DeliveryRow(
                    int(event_id), type_, subject, occurred_at, webhook_id, status, attempts or 0, last_error, behind
                )
            )
        return answer

    def replay(self, event_id: int, webhook_id: str | None = None) -> int:
        """Put the failed deliveries of event `event_id` (to `webhook_id`, or to every webhook) back to pending,
        with a fresh count of attempts; returns how many. `WebhookError` if there is none to replay."""
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is None:
                raise WebhookError(f"there is no event {event_id}")
            where = "event_id = ? AND status = 'failed'" + (" AND webhook_id = ?" if webhook_id else "")
            params: tuple = (event_id, webhook_id) if webhook_id else (event_id,)
            count = conn.execute(
                f"UPDATE deliveries SET status = 'pending', attempts = 0, next_at = ? WHERE {where}",
                (precise(self.clock()), *params),
            ).rowcount
            if not count:
                states = conn.execute(
                    "SELECT webhook_id, status FROM deliveries WHERE event_id = ? ORDER BY webhook_id", (event_id,)
                ).fetchall()
                said = ", ".join(f"{w}: {s}" for w, s in states) or "it has no deliveries (no webhook subscribed)"
                raise WebhookError(f"event {event_id} has no failed delivery to replay ({said})")
            conn.after_commit(self.events_written.set)
        return count

    def prune_events(self) -> int:
        """Drop events older than `EVENT_RETENTION` whose every delivery was delivered (or that had none), with
        their deliveries; a failed or pending delivery keeps its event however old. Returns how many."""
        cutoff = (self.clock() - EVENT_RETENTION).isoformat(timespec="seconds")
        done = (
            "SELECT id FROM events WHERE occurred_at < ? AND NOT EXISTS ("
            "SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.status <> 'delivered')"
        )
        with self.write() as conn:
            conn.execute(f"DELETE FROM deliveries WHERE event_id IN ({done})", (cutoff,))
            return conn.execute(f"DELETE FROM events WHERE id IN ({done})", (cutoff,)).rowcount

    # ------------------------------------------------------------------ for the deliverer

    def delivery_heads(self, limit: int = 200) -> list[Due]:
        """The head of each (webhook, subject) queue that is pending, earliest due first."""
        return [Due(*row) for row in self.query(_HEADS, (limit,))]

    def finish_delivery(
        self, webhook_id: str, event_id: int, *, error: str | None, now: datetime, retry_at: datetime | None
    ) -> str:
        """Record an attempt's outcome: delivered (no `error`), pending again until `retry_at`, or failed (no
        `retry_at`). Returns the new status."""
        with self.write() as conn:
            if error is None:
                conn.execute(
                    "UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?,"
                    " last_error = NULL WHERE webhook_id = ? AND event_id = ? AND status = 'pending'",
                    (precise(now), webhook_id, event_id),
                )
                return DELIVERED
            status = PENDING if retry_at is not None else FAILED
            conn.execute(
                "UPDATE deliveries SET status = ?, attempts = attempts + 1, next_at = ?, last_error = ?"
                " WHERE webhook_id = ? AND event_id = ? AND status = 'pending'",
                (status, precise(retry_at or now), error[:500], webhook_id, event_id),
            )
            return status


# ---------------------------------------------------------------------------------------------------- delivering


@dataclass(frozen=True)
class DeliverySettings:
    timeout: float = 10.0
    backoff: float = 1.0
    backoff_cap: float = 600.0
    attempts: int = 20
    poll: float = 2.0
    lease: float = 30.0  # SQLite: how long the deliverer's claim lasts unless renewed

    def delay(self, attempts: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after the `attempts`-th failed attempt: doubling from `backoff`, at most `backoff_cap`,
        with jitter (between half and all of it), so that receivers coming back are not hit all at once."""
        full = min(self.backoff_cap, self.backoff * 2 ** max(attempts - 1, 0))
        return full / 2 + rng() * full / 2


_ENVIRONMENT = {
    "timeout": ("CLIENTELING_WEBHOOK_TIMEOUT", float),
    "backoff": ("CLIENTELING_WEBHOOK_BACKOFF", float),
    "backoff_cap": ("CLIENTELING_WEBHOOK_BACKOFF_CAP", float),
    "attempts": ("CLIENTELING_WEBHOOK_ATTEMPTS", int),
    "poll": ("CLIENTELING_WEBHOOK_POLL", float),
}


def delivery_settings(environ: Mapping[str, str] | None = None) -> DeliverySettings:
    """The deliverer's settings from the environment (module docstring); `ValueError` says which is wrong."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field, (name, kind) in _ENVIRONMENT.items():
        text = environ.get(name)
        if text is None or not text.strip():
            continue
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(f"{name} must be a {'whole ' if kind is int else ''}number, not {text!r}") from None
        if not 0 < value < float("inf"):
            raise ValueError(f"{name} must be more than 0, not {text!r}")
        values[field] = value
    return DeliverySettings(**values)


def _alive(holder: str) -> bool:
    """Whether the deliverer `holder` (host/pid/nonce) may still be running: a process of this machine that is gone
    holds its lease no longer (a centre that crashed is taken over at once, not when its lease runs out)."""
    host, _, rest = holder.partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # there, but not ours to signal
        return True
    return True


class Deliverer:
    """The thread that delivers the outbox (module docstring). `start()` with the app, `stop()` on its shutdown."""

    def __init__(
        self, store: Events, settings: DeliverySettings | None = None, *, clock: Callable[[], datetime] = _now
    ) -> None:
        self.store = store
        self.settings = settings or DeliverySettings()
        self.clock = clock
        self.owner = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"
        self._stopping = threading.Event()
        self._busy: set[tuple[str, int]] = set()
        self._busy_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="clienteling-webhook")
        self._thread = threading.Thread(target=self._run, name="clienteling-deliverer", daemon=True)
        self._pg: Any = None  # PostgreSQL: the connection that holds (or asks for) the advisory lock
        self._pg_holds = False
        self._lease_until = 0.0  # SQLite: (monotonic) until when our claim is surely ours
        self._client: Any = None
        self.leading = False
        self._asked = float("-inf")  # when we last asked to be the deliverer

    def start(self) -> None:
        import httpx

        self._client = httpx.Client(timeout=self.settings.timeout, follow_redirects=False)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.store.events_written.set()
        self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._let_go()
        if self._client is not None:
            self._client.close()

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        while not self._stopping.is_set():
            wait = self.settings.poll
            try:
                # Another process delivers: ask again once a poll interval, not at every event this process writes.
                if self.leading or time.monotonic() >= self._asked + self.settings.poll:
                    self._asked = time.monotonic()
                    self.leading = self._lead()
                else:
                    wait = self._asked + self.settings.poll - time.monotonic()
                if self.leading:
                    wait = self._send_due()
            except Exception as error:  # noqa: BLE001 - the database away for a moment: said, and tried again
                log.warning("webhook deliverer: %s: %s", type(error).__name__, error)
            if self.store.events_written.wait(wait):
                self.store.events_written.clear()

    def _send_due(self) -> float:
        """Start an attempt for every head that is due; returns how long to wait before looking again."""
        wait = self.settings.poll
        # Under the lock of the set of attempts in flight: an attempt records its outcome before it leaves the set,
        # so a head read here is either still in the set or already recorded (never sent twice by a stale read).
        with self._busy_lock:
            now = self.clock()
            for due in self.store.delivery_heads():
                key = (due.webhook_id, due.event_id)
                if key in self._busy:
                    continue
                at = datetime.fromisoformat(due.next_at)
                if at > now:
                    wait = min(wait, (at - now).total_seconds())
                    continue
                self._busy.add(key)
                self._pool.submit(self._attempt, due)
        return max(wait, 0.005)

    def _attempt(self, due: Due) -> None:
        import httpx

        try:
            body = due.doc.encode()
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: signature_header(due.secret, body, int(self.clock().timestamp())),
                EVENT_ID_HEADER: str(due.event_id),
                EVENT_TYPE_HEADER: due.type,
                "User-Agent": "clienteling-webhooks",
            }
            error: str | None = None
            try:
                answer = self._client.post(due.url, content=body, headers=headers)
                if not 200 <= answer.status_code < 300:
                    error = f"HTTP {answer.status_code}"
            except httpx.TimeoutException:
                error = f"no answer within {self.settings.timeout:g} s"
            except httpx.HTTPError as failure:
                error = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
            now = self.clock()
            attempts = due.attempts + 1
            retry_at = None
            if error is not None and attempts < self.settings.attempts:
                retry_at = now + timedelta(seconds=self.settings.delay(attempts))
            status = self.store.finish_delivery(due.webhook_id, due.event_id, error=error, now=now, retry_at=retry_at)
            if error is not None:
                log.warning(
                    "webhook %s, event %s: attempt %d failed (%s); %s",
                    due.webhook_id,
                    due.event_id,
                    attempts,
                    error,
                    f"gave up: replay it with `clienteling central events --replay {due.event_id}`"
                    if status == FAILED
                    else f"trying again in {(retry_at - now).total_seconds():.2f} s"
                    if retry_at
                    else "",
                )
        except Exception as failure:  # noqa: BLE001 - the database away: the delivery stays pending, tried again
            log.warning("webhook %s, event %s: %s: %s", due.webhook_id, due.event_id, type(failure).__name__, failure)
        finally:
            with self._busy_lock:
                self._busy.discard((due.webhook_id, due.event_id))
            self.store.events_written.set()  # the next event of the subject may go now

    # ------------------------------------------------------------------ one deliverer at a time

    def _lead(self) -> bool:
        if self.store.db.dialect == "postgresql":
            return self._lead_postgres()
        return self._lead_sqlite()

    def _lead_postgres(self) -> bool:
        """Hold the advisory lock on a connection of our own; a process that has it not asks again on the same
        connection each round (no new connection each time)."""
        if self._pg is None:
            self._pg = connect_postgres(self.store.db.url, autocommit=True)
            self._pg_holds = False
        try:
            if self._pg_holds:
                self._pg.execute("SELECT 1")  # still connected, so still holding it
            else:
                self._pg_holds = bool(
                    self._pg.execute(
                        "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (_DELIVERER_LOCK,)
                    ).fetchone()[0]
                )
        except Exception:  # noqa: BLE001 - the connection is gone, and the lock with it: connect again next round
            self._let_go()
            return False
        return self._pg_holds

    def _lead_sqlite(self) -> bool:
        if time.monotonic() < self._lease_until - self.settings.lease * 2 / 3:
            return True  # claimed or renewed a short while ago
        started = time.monotonic()
        with self.store.write() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (_LEASE_KEY,)).fetchone()
            holder, _, until = (row[0] if row else "").partition(" ")
            if row and holder != self.owner and float(until or 0) > time.time() and _alive(holder):
                self._lease_until = 0.0
                return False
            self.store.set_meta(conn, _LEASE_KEY, f"{self.owner} {time.time() + self.settings.lease:.3f}")
        self._lease_until = started + self.settings.lease
        return True

    def _let_go(self) -> None:
        if self._pg is not None:
            try:
                self._pg.close()  # the session's advisory lock goes with it
            except Exception:  # noqa: BLE001, S110 - already broken: closed either way
                pass
            self._pg, self._pg_holds = None, False
        if self._lease_until:
            try:
                with self.store.write() as conn:
                    conn.execute("DELETE FROM meta WHERE key = ? AND value LIKE ?", (_LEASE_KEY, f"{self.owner} %"))
            except Exception:
                log.info("could not give back the deliverer's lease", exc_info=True)
            self._lease_until = 0.0
