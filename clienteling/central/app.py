"""The central API: FastAPI over `CentralStore`, speaking the shared contract.

Every route under `/v1` needs a device's bearer token; the token names the device's
store, which scopes the customer feeds and is the origin of stock distances. Every
error is an RFC 9457 problem document; nothing ever answers with a stack trace.
"""

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clienteling import __version__
from clienteling.central import watch
from clienteling.central.events import Deliverer, DeliverySettings, delivery_settings
from clienteling.central.outreach import MessageDeliverer, OutreachSettings, Provider, outreach_settings
from clienteling.central.problems import CATALOGUE, PROBLEM_MEDIA_TYPE, ProblemError
from clienteling.central.readlimit import ProfileReadLimiter
from clienteling.central.routes import (
    catalogue,
    customers,
    events,
    experience,
    ingest,
    orders,
    outreach,
    reports,
    sync,
)
from clienteling.central.routes.common import Settings, device_store_of
from clienteling.central.store import CentralStore
from clienteling.contract import (
    CENTRE_HEADER,
    Event,
    Health,
    IngestRecord,
    Problem,
)

log = logging.getLogger("clienteling.central")


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}


def _problem_response(problem: ProblemError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem.document(), status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


class SignedByTheCentre:
    """Puts `Clienteling-Centre: <id>` on every answer, problem documents included: a device takes only an answer
    that carries it for the centre's word; anything else came from something in between (a Wi-Fi sign-in page, a
    proxy) and is retried, never shown as a refusal."""

    def __init__(self, app: ASGIApp, centre: str, worker: str | None = None) -> None:
        self.app = app
        self.headers = [(CENTRE_HEADER.lower().encode("latin-1"), centre.encode("latin-1"))]
        if worker is not None:  # with --workers N: which process answered (the tests check that each one serves)
            self.headers.append((WORKER_HEADER.lower().encode("latin-1"), worker.encode("latin-1")))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def signed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *self.headers]}
            await send(message)

        await self.app(scope, receive, signed)


class RefusesBodiesThatAreNotUtf8:
    """A request body must be UTF-8 (RFC 8259) with no raw NUL byte: anything else is a 422 problem before any route
    reads it. Without this, a Latin-1 body was a 400 and a UTF-16 body without a byte-order mark was taken, since
    `json.loads` guesses the encoding of bytes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"\x00" in body or not _is_utf8(body):
            problem = ProblemError("invalid_request", "the request body must be UTF-8 text with no NUL byte")
            await _problem_response(problem)(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def create_app(
    store: CentralStore,
    *,
    demo: bool = False,
    profile_reads: ProfileReadLimiter | None = None,
    worker: str | None = None,
    delivery: DeliverySettings | None = None,
    provider: Provider | None = None,
    outreach_delivery: OutreachSettings | None = None,
) -> FastAPI:
    """The centre as an ASGI app. `demo` lets the demo tokens (`demo-<STORE>`) in. `profile_reads` limits how fast a
    device token reads customer profiles (default: `readlimit`'s burst and rate on the monotonic clock). `worker`,
    if given, is sent in `Clienteling-Worker` on every answer. While the app runs, a `Deliverer` sends the outbox's
    events to the webhooks (events.py), with `delivery`'s settings (default: from the environment), and a
    `MessageDeliverer` hands the messages stores send to `provider` (default: the one the environment names,
    clienteling.central.outreach), with `outreach_delivery`'s settings."""
    settings_of_delivery = delivery or delivery_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        deliverer = Deliverer(store, settings_of_delivery)
        deliverer.start()
        app.state.deliverer = deliverer
        messenger = MessageDeliverer(store, provider, outreach_delivery or outreach_settings())
        messenger.start()
        app.state.messenger = messenger
        try:
            yield
        finally:
            await asyncio.to_thread(messenger.stop)
            await asyncio.to_thread(deliverer.stop)

    app = FastAPI(
        lifespan=lifespan,
        title="Clienteling central API",
        version=__version__,
        description=(
            "The company's single version of the truth for customers, loyalty, wishlists, orders, chats, "
            "stores, products and stock, as store devices see it. Errors are RFC 9457 problem documents."
        ),
    )
    settings = Settings(store, demo, profile_reads or ProfileReadLimiter())
    # GET /v1/sync/wait: long polling of the feed (watch.py), with the same token check as every device route
    offers = watch.install(app, store, lambda credentials: device_store_of(settings, credentials))
    app.state.centre = dataclasses.replace(settings, offers=tuple(offers))
    centre = store.centre  # made once, kept in the database: the same after restarts and restores
    app.add_middleware(RefusesBodiesThatAreNotUtf8)
    # added last, so outermost: it signs the refusals above
    app.add_middleware(SignedByTheCentre, centre=centre, worker=worker)

    # ------------------------------------------------------------------ errors

    @app.exception_handler(ProblemError)
    async def on_problem(_: Request, problem: ProblemError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else {}
        return _problem_response(problem, {**headers, **problem.headers} or None)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"where": ".".join(str(part) for part in e.get("loc", ())), "message": e.get("msg", "")}
            for e in error.errors()
        ]
        detail = "; ".join(f"{e['where']}: {e['message']}" for e in errors[:5]) or "the request is not valid"
        return _problem_response(ProblemError("invalid_request", detail, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(error.status_code, "bad_request")
        detail = error.detail if isinstance(error.detail, str) else CATALOGUE[code][1]
        headers = dict(error.headers or {})
        if error.status_code == 405:  # every route at this path counts, not only the first that matched
            headers["Allow"] = ", ".join(sorted(_methods_at(app, request.url.path)))
        return _problem_response(ProblemError(code, detail, status=error.status_code), headers)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _problem_response(  # sent from outside the middleware, so it signs the answer itself
            ProblemError("internal_error", "the centre could not answer this request; it has been logged"),
            {CENTRE_HEADER: centre},
        )

    # ------------------------------------------------------------------ the routes

    @app.get("/health", response_model=Health, tags=["health"])
    def health() -> Health:
        return Health(status="ok", version=__version__, demo=demo)

    @app.get("/problems/{code}", include_in_schema=False)
    def problem_page(code: str) -> dict[str, Any]:
        if code not in CATALOGUE:
            raise ProblemError("not_found", f"there is no problem type {code!r}")
        status, title = CATALOGUE[code]
        return {"code": code, "status": status, "title": title}

    for router in (
        customers.router,
        catalogue.router,
        orders.router,
        sync.router,
        ingest.router,
        events.router,
        reports.router,
        experience.router,
        outreach.router,
    ):
        app.include_router(router)

    @app.webhooks.post(
        "event",
        tags=["events"],
        summary="What the centre POSTs to a subscribed endpoint (`clienteling central add-webhook`)",
        description=(
            'One event, signed: `Clienteling-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under '
            "the webhook's secret>`, with `Clienteling-Event-Id` and `Clienteling-Event-Type`. Answer 2xx once it is "
            "taken; anything else is tried again later. At least once (drop an `id` seen before), in order per "
            "`subject`. `clienteling.webhooks.verify_signature` checks the signature."
        ),
    )
    def event(body: Event) -> None:
        """Documentation only: the centre sends this, it does not take it."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                webhooks=app.webhooks.routes,
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema()
            schemas["IngestRecord"] = IngestRecord.model_json_schema()  # the ingest request body names it
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


# `clienteling central --workers N` hands its settings to the N worker processes in these variables (the workers are
# started by uvicorn, which can only name the app by an import string): they are set by the command, not by users.
WORKER_DB = "CLIENTELING_CENTRAL_WORKER_DB"
WORKER_DEMO = "CLIENTELING_CENTRAL_WORKER_DEMO"
WORKER_PROFILE_READS = "CLIENTELING_CENTRAL_WORKER_PROFILE_READS"
WORKER_HEADER = "Clienteling-Worker"


def app_from_environment() -> FastAPI:
    """The app of one worker process of `clienteling central --workers N` (uvicorn's `factory=True`): the database,
    demo mode and profile read limit come from the WORKER_* variables. Each worker opens the database itself, which
    starts an epoch (epochs.py): harmless, as every write continues in the newest. Writes are serialised across the
    processes by the database (SQLite: `BEGIN IMMEDIATE`), so idempotency, stock and numbers hold across them. Each
    worker keeps its own profile read buckets: a device spread over N workers may read up to N times the limit."""
    import os

    from clienteling.central.readlimit import parse_limit

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limit = os.environ.get(WORKER_PROFILE_READS)
    return create_app(
        CentralStore(os.environ[WORKER_DB]),
        demo=os.environ.get(WORKER_DEMO) == "1",
        profile_reads=parse_limit(limit) if limit else None,
        worker=str(os.getpid()),
    )


def _every_route(routes: list) -> Iterator[Any]:
    """The routes, those of included routers too (FastAPI keeps an included router as one entry; none has a prefix)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _every_route(inner.routes)
        else:
            yield route


def _methods_at(app: FastAPI, path: str) -> set[str]:
    methods: set[str] = set()
    for route in _every_route(app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods.update(getattr(route, "methods", None) or ())
    return methods
