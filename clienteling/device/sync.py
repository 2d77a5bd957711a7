"""Keeping the cache in step with the centre: pulling the change feed, pushing the outbox.

Pull: one cursor per collection; each page is applied with its cursor in one
transaction (see `Cache.apply_page`), so a crash at any point resumes where the last
committed page left off. While a page is applied, the next one is already being fetched.

Push: commands leave the outbox one at a time, in the order they were made, each with
its command id as the `Idempotency-Key`. An answer settles the command in the same
transaction that removes it from the outbox. Network trouble (errors, timeouts, 5xx, 429,
an answer that is not the centre's own) leaves it where it is; a refusal signed by the
centre (out of stock, return window closed) moves it to "needs attention" with the
centre's explanation and the queue goes on. A command whose answer was lost in a crash is
simply sent again: the centre answers a known key with its first answer.

On a lossy link a round goes on past a failed request: it asks again at once (httpx has
dropped the broken connection, so on a fresh one), after a few failures in a row after a
short jittered wait, and gives up only after `ROUND_ATTEMPTS` failures in a row or
`ROUND_PATIENCE` seconds without an answer. Every answer is progress and resets the
background loop's backoff, which therefore grows only while nothing gets through; a round
that got something through before it gave up is followed by the next one almost at once.

Learning of changes at once: when the centre offers long polling (`LONG_POLL` in `CentreInfo.offers`), a watcher
thread runs next to the background loop. It asks `GET /v1/sync/wait` with the position the cache has pulled every
collection to (the lowest of the cursors), and when the centre answers that its history moved on, it wakes the loop,
whose round pulls the change; then it waits for that round before asking again. Any failure (network trouble, an
answer that is not the centre's, a refusal) and it backs off and tries again later, while the loop goes on polling
on its interval, as it does with a centre that does not offer it. The watcher never holds the round lock or the cache:
nothing a person taps waits for it.
"""

from __future__ import annotations

import json
import logging
import random
import re
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from clienteling import rules
from clienteling.contract import (
    CURSOR_PATTERN,
    LONG_POLL,
    RESTORING_HEADER,
    SYNC_COLLECTIONS,
    CentreInfo,
    ConsentChange,
    ConsentCommand,
    Customer,
    CustomerNote,
    FollowUp,
    FollowUpStateChange,
    Order,
    OutreachMessage,
    ProfileView,
    PulseRecorded,
    Return,
    SyncWait,
    Touchpoint,
    parse_position,
    utc_now,
)
from clienteling.device.cache import Cache
from clienteling.device.central_client import Answer, CentralClient, NotTheCentre, RetryLater
from clienteling.device.errors import CentralRefused, CentralUnreachable
from clienteling.device.journal import BACKGROUND_KINDS, COMMAND_PATHS, Journal, new_command_id

__all__ = ["BACKGROUND_KINDS", "COMMAND_PATHS", "Backoff", "Journal", "SyncReport", "Syncer", "new_command_id"]

PAGE_SIZE = 5000
NDJSON = "application/x-ndjson"  # pages whose items are stored as they came, without being parsed in Python
ANSWER_MODELS = {
    "ship_to_home": Order,
    "return": Return,
    "exchange": Return,
    "note": CustomerNote,
    "profile_view": ProfileView,
    "consent": ConsentChange,
    "touchpoint": Touchpoint,
    "pulse": PulseRecorded,
    "enrol": Customer,
    "message": OutreachMessage,
    "follow_up": FollowUp,
    "follow_up_state": FollowUpStateChange,
}
ROUND_ATTEMPTS = 8  # failed requests in a row after which a round gives up (0.3⁸ ≈ 0.007 % on a link losing 30 %)
ROUND_PATIENCE = 20.0  # seconds without an answer after which a round gives up (a hanging centre, a dead link)
RETRY_AT_ONCE = 2  # failures in a row after which a request is asked again at once, on a fresh connection
ROUND_RETRY_BASE, ROUND_RETRY_CAP = 0.02, 1.0  # then a jittered wait up to base·2ⁿ: 20, 40, 80 … ms
WATCH_WAIT = 25.0  # seconds the centre holds a long poll with no change (below many proxies' 30 s idle timeout)
WATCH_MARGIN = 10.0  # the device waits this much longer for the answer than it asked the centre to hold it
WATCH_RETRY_BASE, WATCH_RETRY_CAP = 1.0, 60.0  # the watcher's backoff after a failure: up to 1, 2, 4 … 60 s

log = logging.getLogger("clienteling.device.sync")


@dataclass
class SyncReport:
    """What one round of syncing did."""

    pulled: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    refused: int = 0
    waiting: int = 0
    attention: int = 0
    error: str | None = None
    answers: int = 0  # requests the centre answered: progress, even in a round that ends on a failure
    sent_again: int = 0  # acknowledged commands queued again for a centre restored from a backup

    @property
    def ok(self) -> bool:
        return self.error is None


class Backoff:
    """Exponential backoff with full jitter: the n-th failure waits a random time up to base·2ⁿ (capped)."""

    def __init__(self, base: float = 0.5, cap: float = 60.0, rng: random.Random | None = None) -> None:
        self.base, self.cap, self.failures = base, cap, 0
        self._rng = rng or random.Random()

    def failed(self, retry_after: float | None = None) -> float:
        self.failures += 1
        delay = self._rng.uniform(0, min(self.cap, self.base * 2 ** (self.failures - 1)))
        return max(delay, min(retry_after or 0.0, self.cap))

    def succeeded(self) -> None:
        self.failures = 0


@contextmanager
def exclusive(path: Path):
    """Hold an OS lock on `path` (released by the OS if the process dies); yields False if another process has it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")  # noqa: SIM115 - held for the duration of the lock
    try:
        if sys.platform == "win32":
            import msvcrt

            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            except OSError:
                yield False
                return
        else:
            import fcntl

            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
        yield True
    finally:
        handle.close()


class Syncer:
    """Pulls and pushes for one device. Safe to call from several threads; one round runs at a time."""

    def __init__(
        self,
        cache: Cache,
        client: CentralClient,
        lock_path: Path,
        *,
        journal: Journal,
        page_size: int = PAGE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache = cache
        self.client = client
        self.outbox = journal  # the commands to push (journal.py)
        self.lock_path = lock_path
        self.page_size = page_size
        self.backoff = Backoff()
        self.online: bool | None = None
        self.last_error: str | None = None
        self.retry_after: float | None = None  # what the centre last asked for with Retry-After
        self.trouble: str | None = None  # what answered in the centre's place, if anything (NotTheCentre.trouble)
        self.clock = clock
        self._jitter = random.Random()
        self._answers = 0  # requests the centre answered, ever: a round's progress is how much this grew
        self._round = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clienteling-prefetch")
        self.on_change: Callable[[], None] | None = None  # the app's hook to redraw the sync bar
        self.offers: list[str] = []  # what the centre offers beyond plain polling (CentreInfo.offers), as last asked
        self.watching = False  # whether the watcher long-polls the centre now (else the loop only polls)
        self._watcher: threading.Thread | None = None
        self._pulls = threading.Condition()  # rounds that pull: how many started, how many ended, how the last went
        self._pulls_started = self._pulls_done = 0
        self._last_pull_ok = False

    # ------------------------------------------------------------------ one round

    def sync_once(self, *, pull: bool = True, push: bool = True) -> SyncReport:
        """Push what waits, then pull every collection to its end. Never raises for network trouble."""
        report = SyncReport()
        with self._round:
            answers_before = self._answers
            if pull:
                with self._pulls:
                    self._pulls_started += 1
            try:
                if push:
                    self.push(report)
                else:
                    self.check_centre(report)
                if pull:
                    self.pull(report)
                    if push and self.outbox.head() is not None:
                        self.push(report, check=False)
                self._reached()
            except CentralUnreachable as error:
                report.error = self._unreached(str(error), error.trouble if isinstance(error, NotTheCentre) else None)
            except CentralRefused as error:
                report.error = self.last_error = str(error)
                self.online = True
            report.waiting, report.attention = self.outbox.counts()
            report.answers = self._answers - answers_before
            if pull:
                with self._pulls:
                    self._pulls_done += 1
                    self._last_pull_ok = report.ok
                    self._pulls.notify_all()
        if self.on_change:
            self.on_change()
        return report

    def _reached(self) -> None:
        self.online, self.last_error, self.trouble = True, None, None
        self.backoff.succeeded()
        self.cache.set_meta("last_sync_at", utc_now().isoformat())
        # what customers did online is kept 90 days here too, whether or not the centre's tombstones came (issue 15)
        self.cache.prune_activities(rules.activity_cutoff(utc_now()).isoformat())

    def _unreached(self, message: str, trouble: str | None) -> str:
        self.online, self.last_error, self.trouble = False, message, trouble
        return message

    def _ask(self, call: Callable[[], Answer]) -> Answer:
        """`call()` (one request), asked again past network trouble: at once, then after a short jittered wait.

        Raises the last failure after `ROUND_ATTEMPTS` in a row, after `ROUND_PATIENCE` seconds, when the centre asks
        for a longer wait than `ROUND_RETRY_CAP` (Retry-After), or when the syncer is stopping. An answer is
        progress: it resets the background loop's backoff.
        """
        failures, since = 0, self.clock()
        while True:
            try:
                answer = call()
            except CentralUnreachable as error:
                failures += 1
                asked = error.answer.retry_after if isinstance(error, RetryLater) else None
                if asked is not None:
                    self.retry_after = asked
                wait = (
                    self._jitter.uniform(0, ROUND_RETRY_BASE * 2 ** (failures - RETRY_AT_ONCE - 1))
                    if failures > RETRY_AT_ONCE
                    else 0.0
                )
                wait = max(min(wait, ROUND_RETRY_CAP), asked or 0.0)
                if (
                    failures >= ROUND_ATTEMPTS
                    or wait > ROUND_RETRY_CAP
                    or self.clock() - since + wait > ROUND_PATIENCE
                    or self._stop.is_set()
                ):
                    raise
                if wait:
                    self._stop.wait(wait)
                continue
            self.retry_after = None
            self.backoff.succeeded()
            self._answers += 1
            return answer

    # ------------------------------------------------------------------ the centre's history

    def check_centre(self, report: SyncReport | None = None) -> int:
        """Ask the centre who it is and which history it holds; when that changed since the last time (a restart, or
        a restore from a backup), queue again every acknowledged command it no longer holds, ahead of what waits
        (`Journal.send_again`). Runs before every push, so that a command never reaches a restored centre before
        the commands it builds on (a return before its order). Returns how many were queued again."""
        answer = self._ask(lambda: self.client.request("GET", "/v1/centre"))
        if answer.status != 200:
            problem = answer.problem()
            raise CentralRefused(f"the centre did not say which history it holds: {problem.detail or problem.code}")
        try:
            centre = CentreInfo.model_validate_json(answer.body)
        except ValueError:
            raise CentralUnreachable("the centre's answer was damaged on the way; it will be asked again") from None
        self.offers = centre.offers
        if self.outbox.centre_seen() == f"{centre.centre}.{centre.epoch}":
            return 0
        again = self.outbox.send_again(centre)
        if report is not None:
            report.sent_again += again
        return again

    # ------------------------------------------------------------------ pull

    def pull(self, report: SyncReport | None = None, collections: tuple[str, ...] = SYNC_COLLECTIONS) -> SyncReport:
        report = report or SyncReport()
        pending = None
        for at, collection in enumerate(collections):
            after = collections[at + 1] if at + 1 < len(collections) else None
            pending = self._pull_collection(collection, report, pending, after)
        return report

    def _fetch(self, collection: str, cursor: str) -> Answer:
        return self._ask(
            lambda: self.client.request(
                "GET", f"/v1/sync/{collection}", params={"after": cursor, "limit": self.page_size}, accept=NDJSON
            )
        )

    def _first_page(self, collection: str) -> Future[Answer]:
        return self._prefetch.submit(self._fetch, collection, self.cache.cursor(collection)[0])

    def _pull_collection(
        self, collection: str, report: SyncReport, pending: Future[Answer] | None, after: str | None
    ) -> Future[Answer] | None:
        """Pull one collection to its end; returns the first page of `after`, fetched while the last page was applied."""
        pending = pending or self._first_page(collection)
        upcoming = None
        while True:
            answer = pending.result()
            if answer.status == 410 and answer.problem().code == "reset_required":
                self.cache.start_reset(collection)
                pending = self._prefetch.submit(self._fetch, collection, "0")
                continue
            if answer.status != 200:
                problem = answer.problem()
                raise CentralRefused(f"the centre refused the {collection} feed: {problem.detail or problem.code}")
            page = answer.body.decode("utf-8", "replace")
            head = self._head(page)
            if head is not None and head[1]:  # fetch the next page while this one is applied
                pending = self._prefetch.submit(self._fetch, collection, head[0])
            elif head is not None and after:  # or the next collection's first page
                upcoming = self._first_page(after)
            rows, deleted, _, has_more = self.cache.apply_page(collection, page)
            report.pulled[collection] = report.pulled.get(collection, 0) + rows
            report.deleted[collection] = report.deleted.get(collection, 0) + deleted
            if not has_more:
                return upcoming
            if head is None or not head[1]:
                pending = self._prefetch.submit(self._fetch, collection, self.cache.cursor(collection)[0])

    def _head(self, page: str) -> tuple[str, bool] | None:
        """(next_cursor, has_more) of a page, read without parsing its items."""
        if page.startswith('{"deleted"'):  # NDJSON: the head is the first line
            try:
                head = json.loads(page.partition("\n")[0])
                return str(head["next_cursor"]), bool(head["has_more"])
            except (ValueError, KeyError, TypeError):
                return None
        tail = page[-200:]
        cursor_at, more_at = tail.rfind('"next_cursor":"'), tail.rfind('"has_more":')
        if cursor_at < 0 or more_at < 0:
            return None
        cursor = tail[cursor_at + 15 : tail.find('"', cursor_at + 15)]
        return (cursor, tail[more_at + 11 :].startswith("true")) if re.fullmatch(CURSOR_PATTERN, cursor) else None

    # ------------------------------------------------------------------ push

    def push(self, report: SyncReport | None = None, *, only: str | None = None, check: bool = True) -> SyncReport:
        """Send waiting commands in order until the outbox is empty or the centre cannot be reached (see `_ask`).
        First, unless `check` is off, what a restored centre no longer holds is queued again (`check_centre`)."""
        report = report or SyncReport()
        with exclusive(self.lock_path) as mine:
            if not mine:
                return report  # another process of this device is sending
            if check:
                try:
                    self.check_centre(report)
                except CentralUnreachable:
                    pass  # the commands go on (most likely they cannot get through either); checked before the next push
            while (head := self.outbox.head()) is not None:
                command_id, kind, path, body = head
                try:
                    answer = self._ask(partial(self._send, command_id, kind, path, json.loads(body)))
                except CentralUnreachable as error:
                    self.outbox.failed(command_id, str(error))
                    raise
                if 200 <= answer.status < 300:
                    maps = _enrolled(kind, body, answer.body)
                    self.outbox.settle(
                        command_id, "sent", answer=answer.body.decode(), position=answer.position, maps=maps
                    )
                    if maps is not None:  # her profile opens at once under her id, before the feed brings her
                        self.cache.keep_customer(answer.body.decode(), [], [], [])
                    report.sent += 1
                else:
                    problem = answer.problem()
                    maps, then = _merged(kind, body, problem.code, problem.body)
                    self.outbox.settle(
                        command_id,
                        "attention",
                        answer=answer.body.decode("utf-8", "replace"),
                        reason=problem.detail or problem.code,
                        maps=maps,
                        then=then,
                    )
                    report.refused += 1
                if only == command_id:
                    break
        return report

    def _send(self, command_id: str, kind: str, path: str, body: Any) -> Answer:
        """POST one command; an acceptance that does not read as the answer to it counts as network trouble."""
        restoring = self.outbox.restoring(command_id)
        answer = self.client.request(
            "POST", path, json_body=body, key=command_id, headers={RESTORING_HEADER: restoring} if restoring else None
        )
        if 200 <= answer.status < 300:
            try:
                ANSWER_MODELS[kind].model_validate_json(answer.body)
            except ValueError:
                raise CentralUnreachable("the centre's answer was damaged on the way; it will be asked again") from None
        return answer

    # ------------------------------------------------------------------ in the background

    def pause_after(self, report: SyncReport, interval: float) -> float:
        """How long to wait after a round: `interval` if it went through; a moment if it got answers before it gave up
        (the link is lossy, not down); else the backoff, which grows only while nothing gets through."""
        if not (report.error and self.online is False):
            return interval
        if report.answers and not self.retry_after:
            return self._jitter.uniform(0, ROUND_RETRY_BASE * 2**RETRY_AT_ONCE)
        return self.backoff.failed(self.retry_after)

    def start(self, interval: float = 15.0) -> None:
        """Sync in a background thread: every `interval` seconds, at once when woken, backing off while unreachable."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                report = self.sync_once()
                self._wake.wait(self.pause_after(report, interval))
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="clienteling-sync", daemon=True)
        self._thread.start()
        self._watcher = threading.Thread(target=self._watch, name="clienteling-watch", daemon=True)
        self._watcher.start()

    # ------------------------------------------------------------------ long polling

    def pulled_to(self) -> str | None:
        """The position every collection has been pulled to (the lowest of the cursors), or None while a collection is
        in a fresh pass or the cursors are not all of one centre and epoch (the next complete round makes them so)."""
        found = []
        for collection in SYNC_COLLECTIONS:
            cursor = self.cache.cursor(collection)[0]
            position = None if cursor.startswith("F") else parse_position(cursor)
            if position is None:
                return None
            found.append(position)
        if len({(centre, epoch) for centre, epoch, _ in found}) != 1:
            return None
        centre, epoch, seq = min(found, key=lambda position: position[2])
        return f"{centre}.{epoch}.{seq}"

    def _after_pull(self, started: int) -> bool:
        """Wait until a round that started after `started` rounds had ended; False if the syncer stops first."""
        with self._pulls:
            while self._pulls_done <= started:
                if self._stop.is_set():
                    return False
                self._pulls.wait(0.5)
        return not self._stop.is_set()

    def _watch(self) -> None:
        """Long-poll the centre while it offers it, waking the loop when its history moves on (see the module doc)."""
        backoff = Backoff(WATCH_RETRY_BASE, WATCH_RETRY_CAP, self._jitter)
        known: str | None = None  # the centre's position as the last answer gave it
        if not self._after_pull(0):  # the loop's first round says what the centre offers
            return
        while not self._stop.is_set():
            try:
                if LONG_POLL not in self.offers:
                    self.watching = False  # the loop polls; look again after its next round
                    with self._pulls:
                        started = self._pulls_started
                    if not self._after_pull(started):
                        return
                    continue
                after = self.pulled_to() or known or "0"
                self.watching = True  # a change from `after` on answers this wait, whenever it arrives at the centre
                answer = self.client.request(
                    "GET",
                    "/v1/sync/wait",
                    params={"after": after, "timeout": WATCH_WAIT},
                    timeout=WATCH_WAIT + WATCH_MARGIN,
                )
                if answer.status != 200:
                    raise CentralRefused(f"the centre refused to wait (HTTP {answer.status})")
                wait = SyncWait.model_validate_json(answer.body)
            except Exception as error:  # network trouble, a refusal, a damaged answer: poll on, try again later
                self.watching = False
                if self._stop.is_set():
                    return
                if not isinstance(error, CentralUnreachable | CentralRefused | ValueError):
                    log.warning("the watcher of the centre's changes failed; it will try again", exc_info=True)
                self._stop.wait(backoff.failed())
                continue
            known = wait.position
            backoff.succeeded()
            if not wait.changed:
                continue
            with self._pulls:
                started = self._pulls_started  # a round already under way may have pulled before the change
            self.wake()
            if not self._after_pull(started):
                return
            if not self._last_pull_ok:  # the round did not get through: do not wake the loop faster than it backs off
                self._stop.wait(backoff.failed())

    @property
    def running(self) -> bool:
        """Whether the background sender runs (then a new command only has to wake it)."""
        return self._thread is not None

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._pulls:
            self._pulls.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._watcher is not None:
            # A watcher held in a long poll ends when the centre answers (within WATCH_WAIT) and changes nothing then.
            self._watcher.join(timeout=0.5)
            self._watcher = None
            self.watching = False
        self._prefetch.shutdown(wait=True, cancel_futures=True)


def _enrolled(kind: str, body: str, answer: bytes) -> tuple[str, str, str] | None:
    """An enrolment's acceptance: (her provisional id, the centre's id, "enrolled"), for `Journal.settle`."""
    if kind != "enrol":
        return None
    provisional = json.loads(body).get("provisional_id")
    customer_id = json.loads(answer).get("id")
    return (provisional, customer_id, "enrolled") if provisional and customer_id else None


def _merged(
    kind: str, body: str, code: str, problem: dict
) -> tuple[tuple[str, str, str] | None, tuple[str, dict, str, str | None] | None]:
    """An enrolment refused because her email is a member's already: the provisional customer is that member
    (`maps`), and the consent she gave at the counter is applied to her as a consent change (`then`): she agreed to
    it there and then, and a change agreed later elsewhere still wins at the centre (rules.consent_supersedes)."""
    if kind != "enrol" or code != "email_already_enrolled":
        return None, None
    sent = json.loads(body)
    existing = problem.get("customer_id")
    provisional = sent.get("provisional_id")
    if not (isinstance(existing, str) and re.fullmatch(r"C[0-9]{7,}", existing) and provisional):
        return None, None
    consent = ConsentCommand(
        email=sent["email_consent"],
        sms=sent["sms_consent"],
        whatsapp=sent["whatsapp_consent"],
        staff_id=sent["staff_id"],
        agreed_at=sent["agreed_at"],
    )
    return (provisional, existing, "merged"), ("consent", consent.model_dump(mode="json"), existing, sent["staff_id"])
