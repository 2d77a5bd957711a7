"""Long polling of the change feed: `GET /v1/sync/wait` answers as soon as the centre's history moves on.

A device asks with the position it has pulled to (`after=<centre>.<epoch>.<seq>`); the answer (a `SyncWait`) comes
as soon as the centre's sequence passes that value or its epoch changes, at once when `after` is no position of this
centre's current epoch, and otherwise when `timeout` seconds ran out with no change. The device then pulls the feed
as usual: the wait only says *when*, the feed stays the one way rows travel.

How a change is noticed: one background task per centre process reads the current epoch and sequence value from the
database every `POLL_INTERVAL` seconds while anyone waits (in a thread of its own, so the event loop never blocks on
the database), and wakes every waiter when it moved. Reading the database, rather than hearing of commits in this
process, is what makes it right with several centre processes over one database (`--workers`, or PostgreSQL behind a
load balancer) and with command-line tools that change the file next to the server (`forget-customer`). A command
answered by this process cuts the wait short (`WaitsAndCommands`): the task reads at once instead of at its next
tick, so a change made here wakes the waiters here a few milliseconds after its answer left.

A waiter is an `await` on an `asyncio.Event`, never a thread: FastAPI runs plain routes in a pool of 40 threads, so
1,000 held requests must not be plain routes. The one read a waiter may need (when no task runs yet, or when `after`
is ahead of the last read) goes to the same single reading thread. The token check (`device_store`, a plain function
that reads the database) runs in a pool thread only for a token not accepted in the last `TOKEN_TTL` seconds
(`RecentTokens`): after a change, 1,000 devices ask again at once, and 1,000 token checks queued in the pool would
hold up the feed pages those same devices ask for next.
"""

import asyncio
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clienteling.contract import (
    CENTRE_HEADER,
    CURSOR_PATTERN,
    LONG_POLL,
    PROBLEM_MEDIA_TYPE,
    WAIT_LONGEST,
    SyncWait,
    parse_position,
)

log = logging.getLogger("clienteling.central.watch")

POLL_INTERVAL = 0.05  # seconds between reads of the sequence while anyone waits: the latency it adds, 25 ms on average
LINGER = 5.0  # seconds the reading task goes on after the last waiter left: a device asks again at once
WAIT_DEFAULT = 25.0  # below the 30 s idle timeout of many proxies and NAT tables
TOKEN_TTL = 60.0  # seconds a token the centre accepted is taken again by the wait route without a database read
TOKENS_KEPT = 100_000  # tokens remembered at most (then forgotten all at once and checked afresh)

_CURSOR = re.compile(CURSOR_PATTERN)
_SECONDS = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,6})?")  # what WaitsAndCommands takes as a timeout; else the route judges

# The current epoch and sequence value in one read. Plain SQL both databases speak, through the store's reader.
CURRENT_SQL = (
    "SELECT (SELECT epoch FROM epochs ORDER BY ordinal DESC LIMIT 1),"
    " (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'seq')"
)


class SequenceWatch:
    """Wakes waiters when the centre's (epoch, seq) moves. Lives in one event loop (the server's); `read` is called
    in a thread of its own and returns the current (epoch, seq); `centre` is the centre's id."""

    def __init__(
        self,
        read: Callable[[], tuple[str, int]],
        centre: str,
        *,
        interval: float = POLL_INTERVAL,
        linger: float = LINGER,
    ) -> None:
        self.read, self.centre = read, centre
        self.interval, self.linger = interval, linger
        self.now: tuple[str, int] | None = None  # as last read
        self.waiting = 0
        self._changed: asyncio.Event | None = None  # replaced by a new one each time it is set
        self._poked: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clienteling-watch")

    async def refresh(self) -> tuple[str, int]:
        """Read (epoch, seq) now; wake the waiters if it moved."""
        now = await asyncio.get_running_loop().run_in_executor(self._reader, self.read)
        if now != self.now:
            self.now = now
            if self._changed is not None:
                self._changed.set()
                self._changed = asyncio.Event()
        return now

    def poke(self) -> None:
        """Something was committed in this process: read at once rather than at the next tick."""
        if self._poked is not None and self._task is not None:
            self._poked.set()

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._poked is not None
        idle_since: float | None = None
        try:
            while True:
                try:
                    await self.refresh()
                except Exception:  # the database is busy or gone for a moment: the waiters wait on, up to their timeout
                    log.warning("could not read the sequence for the waiting devices", exc_info=True)
                if self.waiting:
                    idle_since = None
                elif idle_since is None:
                    idle_since = loop.time()
                elif loop.time() - idle_since > self.linger:
                    return
                try:
                    async with asyncio.timeout(self.interval):
                        await self._poked.wait()
                except TimeoutError:
                    pass
                self._poked.clear()
        finally:
            self._task = None
            self.now = None  # unread from now on: the next waiter reads afresh

    async def wait(self, after: str, timeout: float) -> SyncWait:
        """The centre's position as soon as it is past `after`, or at the timeout (see the module's doc)."""
        if self._changed is None:
            self._changed, self._poked = asyncio.Event(), asyncio.Event()
        given = parse_position(after)
        self.waiting += 1
        try:
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._poll())
            if self.now is None or (given is not None and given[2] > self.now[1]):
                # Not read since the task started, or the device has seen more than the last read: read now.
                await self.refresh()
            assert self.now is not None
            if given is not None and given[2] > self.now[1]:
                return self._answer(True)  # ahead of the centre: the feed tells the device what to do about it
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                changed = self._changed  # taken before the state is judged, with no await between: no lost wake-up
                assert self.now is not None
                if self._past(given, self.now):
                    return self._answer(True)
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return self._answer(False)
                try:
                    async with asyncio.timeout(remaining):
                        await changed.wait()
                except TimeoutError:
                    return self._answer(self._past(given, self.now))
        finally:
            self.waiting -= 1

    def _past(self, given: tuple[str, str, int] | None, now: tuple[str, int]) -> bool:
        if given is None or given[0] != self.centre or given[1] != now[0]:
            return True  # `0`, a cursor of centres before epochs, another centre's, an earlier epoch's
        return now[1] > given[2]

    def _answer(self, changed: bool) -> SyncWait:
        assert self.now is not None
        return SyncWait(position=f"{self.centre}.{self.now[0]}.{self.now[1]}", changed=changed)


class RecentTokens:
    """The stores of device tokens accepted in the last `ttl` seconds (on `clock`), for the wait route only: it tells
    a device nothing but the centre's position, so a token taken up to a minute after it stopped being valid costs
    nothing, while checking every one in the database would queue a pool thread for each device that asks again."""

    def __init__(
        self, check: Callable[..., str], *, ttl: float = TOKEN_TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.check, self.ttl, self.clock = check, ttl, clock
        self._known: dict[str, tuple[str, float]] = {}

    def known(self, token: str) -> bool:
        """Whether `token` was accepted in the last `ttl` seconds (no database read, no thread)."""
        found = self._known.get(token)
        return found is not None and found[1] > self.clock()

    async def store_of(self, credentials: HTTPAuthorizationCredentials | None) -> str:
        token = credentials.credentials if credentials is not None else None
        known = self._known.get(token) if token is not None else None
        if known is not None and known[1] > self.clock():
            return known[0]
        found = await run_in_threadpool(self.check, credentials)  # raises the app's 401 problem for a bad token
        if token is not None:
            if len(self._known) >= TOKENS_KEPT:
                self._known.clear()
            self._known[token] = (found, self.clock() + self.ttl)
        return found


class WaitsAndCommands:
    """Two things around the app, in front of everything else:

    - a wait asked again by a device whose token was accepted lately (`RecentTokens.known`), with exactly the query
      the route takes and nothing odd about it, is held and answered here, without the framework's routing,
      dependencies and validation: after a change 1,000 devices ask again at once, and the centre's one event loop
      takes them in faster this way, so a device's feed pages that come next wait less behind them. Anything else
      (a first wait, an unknown token, a query the route would refuse) goes on to the route, which judges it;
    - after this process answered a command (any method but GET, HEAD, OPTIONS), the watch reads the sequence at
      once: a change made here reaches the devices waiting here without waiting for the next tick.
    """

    def __init__(self, app: ASGIApp, watch: SequenceWatch, tokens: RecentTokens) -> None:
        self.app, self.watch, self.tokens = app, watch, tokens
        self.signature = (CENTRE_HEADER.lower().encode("latin-1"), watch.centre.encode("latin-1"))

    def _wait_asked(self, scope: Scope) -> tuple[str, float] | None:
        """(after, timeout) of a wait this middleware may answer itself, else None."""
        if scope["path"] != "/v1/sync/wait" or scope["method"] != "GET":
            return None
        token = next((value for name, value in scope["headers"] if name == b"authorization"), b"").decode("latin-1")
        scheme, _, token = token.partition(" ")
        if scheme.lower() != "bearer" or not self.tokens.known(token.strip()):
            return None
        try:
            query = parse_qs(scope["query_string"].decode("ascii"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return None
        if not set(query) <= {"after", "timeout"} or any(len(values) != 1 for values in query.values()):
            return None
        after, timeout = query.get("after", ["0"])[0], query.get("timeout", [str(WAIT_DEFAULT)])[0]
        if not _CURSOR.fullmatch(after) or not _SECONDS.fullmatch(timeout) or float(timeout) > WAIT_LONGEST:
            return None
        return after, float(timeout)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            asked = self._wait_asked(scope)
            if asked is None:
                await self.app(scope, receive, send)
                return
            body = (await self.watch.wait(*asked)).model_dump_json().encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": [*headers, self.signature]})
            await send({"type": "http.response.body", "body": body})
            return

        async def answered(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.watch.poke()

        await self.app(scope, receive, answered)


def install(
    app: FastAPI, store: Any, device_store: Callable[..., str], *, interval: float = POLL_INTERVAL
) -> list[str]:
    """Add `GET /v1/sync/wait` (for devices: `device_store` is the app's token check) to `app`, over `store`'s
    database; returns what the centre now offers (`CentreInfo.offers`)."""
    watch = SequenceWatch(lambda: _current(store), store.centre, interval=interval)
    tokens = RecentTokens(device_store)
    bearer = HTTPBearer(auto_error=False, description="A device token; it names the device's store")
    router = APIRouter()

    async def waiting_device(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
        return await tokens.store_of(credentials)

    @router.get(
        "/v1/sync/wait",
        response_model=SyncWait,
        tags=["sync"],
        summary="Wait until the centre's history moves past a position (long polling)",
        description=(
            "Answers as soon as the centre's sequence passes `after` or its epoch changes, at once when `after` is "
            "no position of this centre's current epoch (`0`, another centre's, an earlier epoch's), and otherwise "
            "after `timeout` seconds with `changed: false`. Pull the feed when `changed` is true; then ask again "
            "with the answer's `position` (or the position the feed was pulled to). Offered when `CentreInfo.offers` "
            f"holds `{LONG_POLL}`; a device that finds it not offered polls the feed on its interval."
        ),
        responses={
            status: {
                "description": description,
                "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }
            for status, description in ((401, "No valid device token"), (422, "Not valid"))
        },
    )
    async def wait(
        _: Annotated[str, Depends(waiting_device)],
        after: Annotated[
            str,
            Query(
                pattern=CURSOR_PATTERN,
                description="A position `<centre>.<epoch>.<seq>`: a feed cursor, or `position` of the last answer",
            ),
        ] = "0",
        timeout: Annotated[
            float, Query(ge=0, le=WAIT_LONGEST, description="Seconds to hold the answer when nothing changes")
        ] = WAIT_DEFAULT,
    ) -> Response:
        answer = await watch.wait(after, timeout)
        return Response(answer.model_dump_json(), media_type="application/json")

    app.include_router(router)
    app.add_middleware(WaitsAndCommands, watch=watch, tokens=tokens)
    app.state.watch = watch
    return [LONG_POLL]


def _current(store: Any) -> tuple[str, int]:
    epoch, seq = store.query_one(CURRENT_SQL)
    return str(epoch), int(seq)
