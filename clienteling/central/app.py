"""The central API: FastAPI over `CentralStore`, speaking the shared contract.

Every route under `/v1` needs a device's bearer token; the token names the device's
store, which scopes the customer feeds and is the origin of stock distances. Every
error is an RFC 9457 problem document; nothing ever answers with a stack trace.
"""

import functools
import json
import logging
import re
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clienteling import __version__, pins
from clienteling.central import watch
from clienteling.central.problems import CATALOGUE, PROBLEM_MEDIA_TYPE, ProblemError
from clienteling.central.readlimit import ProfileReadLimiter
from clienteling.central.store import CentralStore, CommandAnswer, card_or_problem, hash_token
from clienteling.contract import (
    CENTRE_HEADER,
    CURSOR_PATTERN,
    ORDER_NUMBER,
    POSITION_HEADER,
    RESTORING_HEADER,
    AddNoteCommand,
    CentreInfo,
    Conversation,
    Customer,
    CustomerNote,
    CustomerSummary,
    Health,
    Order,
    Problem,
    Product,
    ProductMatch,
    ProfileView,
    ProfileViewCommand,
    Return,
    ReturnCommand,
    ShipToHomeOrderCommand,
    StaffMember,
    StockLevel,
    StockOverview,
    Store,
    SyncPage,
    WishlistItem,
)

log = logging.getLogger("clienteling.central")


class _OrderNumberConvertor(Convertor):
    """Lets `/v1/orders/{number}` match only order numbers, so it never shadows `/v1/orders/ship-to-home`."""

    regex = ORDER_NUMBER

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("order_number", _OrderNumberConvertor())

JSON = "application/json"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}

NO_NUL = r"^[^\u0000]*$"  # typed text never holds a NUL character
CustomerIdPath = Annotated[str, Path(pattern=r"^C[0-9]{7,}$", examples=["C0000001"])]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="A client-made unique id (UUIDv7 or ULID); the same key with the same body gives the same answer",
    ),
]
Restoring = Annotated[
    str | None,
    Header(
        alias=RESTORING_HEADER,
        max_length=40,
        pattern=r"^[A-Z]{1,3}-(?:[A-Z0-9]{4}-)?[0-9]{8,12}$",
        description=(
            "Only on a command sent again because the centre was restored from a backup: the number the centre gave it "
            "before. It gets that number again if no number of this centre's own series can be it."
        ),
    ),
]


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses a route can give."""
    titles = {
        400: "Malformed request",
        401: "No valid device token",
        403: "The token may not do this",
        404: "Not found",
        409: "Conflict",
        410: "Gone",
        422: "Not valid",
        429: "Too many profiles read too fast: retry after Retry-After seconds",
    }
    return {
        status: {
            "description": titles.get(status, "Problem"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _json(body: str, status: int = 200, **headers: str) -> Response:
    return Response(content=body, status_code=status, media_type=JSON, headers=headers or None)


def _list(docs: list[str]) -> Response:
    return _json("[" + ",".join(docs) + "]")


def _problem_response(problem: ProblemError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem.document(), status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


class SignedByTheCentre:
    """Puts `Clienteling-Centre: <id>` on every answer, problem documents included: a device takes only an answer
    that carries it for the centre's word; anything else came from something in between (a Wi-Fi sign-in page, a
    proxy) and is retried, never shown as a refusal."""

    def __init__(self, app: ASGIApp, centre: str) -> None:
        self.app = app
        self.header = (CENTRE_HEADER.lower().encode("latin-1"), centre.encode("latin-1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def signed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), self.header]}
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


def create_app(store: CentralStore, *, demo: bool = False, profile_reads: ProfileReadLimiter | None = None) -> FastAPI:
    """The centre as an ASGI app. `demo` lets the demo tokens (`demo-<STORE>`) in. `profile_reads` limits how fast a
    device token reads customer profiles (default: `readlimit`'s burst and rate on the monotonic clock)."""
    app = FastAPI(
        title="Clienteling central API",
        version=__version__,
        description=(
            "The company's single version of the truth for customers, loyalty, wishlists, orders, chats, "
            "stores, products and stock, as store devices see it. Errors are RFC 9457 problem documents."
        ),
    )
    bearer = HTTPBearer(auto_error=False, description="A device token; it names the device's store")
    centre = store.centre  # made once, kept in the database: the same after restarts and restores
    profile_reads = profile_reads or ProfileReadLimiter()
    app.add_middleware(RefusesBodiesThatAreNotUtf8)
    app.add_middleware(SignedByTheCentre, centre=centre)  # added last, so outermost: it signs the refusals above

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

    def device_store(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
        if credentials is None:
            raise ProblemError("unauthorized", "send the device token as 'Authorization: Bearer <token>'")
        found = store.device_store(credentials.credentials, allow_demo=demo)
        if found is None:
            raise ProblemError("unauthorized", "this device token is not known to the centre")
        return found

    DeviceStore = Annotated[str, Depends(device_store)]
    offers = watch.install(app, store, device_store)  # GET /v1/sync/wait: long polling of the feed

    def profile_reader(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)], from_store: DeviceStore
    ) -> str:
        """The device's store, once the device's token has a profile read left (see `readlimit`); else a 429."""
        assert credentials is not None  # device_store has refused a request without a token
        device = hash_token(credentials.credentials)[:12]  # names the device in the log; the token itself never
        verdict = profile_reads.take(device)
        if verdict.allowed:
            return from_store
        if verdict.log:
            log.warning(
                "possible export of customer profiles: device %s of store %s read %d profile(s) in %.1f s and was "
                "refused %d more (limit: %d at once, %g a second); answering 429",
                device,
                from_store,
                verdict.reads,
                verdict.seconds,
                verdict.refused,
                profile_reads.burst,
                profile_reads.per_second,
            )
        problem = ProblemError(
            "too_many_profile_reads",
            f"this device has read customer profiles faster than a person could; retry in {verdict.retry_after} s",
            retry_after=verdict.retry_after,
        )
        problem.headers["Retry-After"] = str(verdict.retry_after)
        raise problem

    ProfileReader = Annotated[str, Depends(profile_reader)]

    def administrator(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> None:
        if credentials is None:
            raise ProblemError("unauthorized", "send an administrator's token as 'Authorization: Bearer <token>'")
        if store.is_admin(credentials.credentials):
            return
        if store.device_store(credentials.credentials, allow_demo=demo) is not None:
            raise ProblemError(
                "forbidden", "only an administrator's token reads this (clienteling central add-admin), not a device's"
            )
        raise ProblemError("unauthorized", "this token is not known to the centre")

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

    @app.get(
        "/v1/customers/lookup", response_model=Customer, tags=["customers"], responses=_problems(401, 404, 422, 429)
    )
    def lookup_customer(
        _: ProfileReader,
        card: Annotated[
            str | None,
            Query(
                pattern=r"^[0-9][0-9 -]{11,22}[0-9]$",
                description="Loyalty card number: 13 digits, spaces and dashes allowed",
                examples=["2700000000014"],
            ),
        ] = None,
        email: Annotated[
            str | None,
            Query(
                max_length=254,
                pattern=NO_NUL,
                description="Email address, any case",
                examples=["sanne.devries@example.com"],
            ),
        ] = None,
    ) -> Response:
        if (card is None) == (email is None):
            raise ProblemError("invalid_request", "give either card or email, not both and not neither")
        if card is not None:
            number = card_or_problem(card)
            doc = store.customer_by_card(number)
            missing = f"no customer has card number {number}"
        else:
            if not _EMAIL.match(email.strip()):
                raise ProblemError("invalid_request", f"{email!r} is not an email address")
            doc = store.customer_by_email(email)
            missing = f"no customer has the email address {email.strip()}"
        if doc is None:
            raise ProblemError("customer_not_found", missing)
        return _json(doc)

    @app.get(
        "/v1/customers/search",
        response_model=list[CustomerSummary],
        tags=["customers"],
        responses=_problems(401, 422, 429),
    )
    def search_customers(
        _: ProfileReader,
        q: Annotated[
            str,
            Query(min_length=2, max_length=100, pattern=NO_NUL, description="Start of a name, email or phone"),
        ],
    ) -> Response:
        return _list(store.search_customers(q, 50))

    @app.get(
        "/v1/customers/{customer_id}",
        response_model=Customer,
        tags=["customers"],
        responses=_problems(401, 404, 422, 429),
    )
    def get_customer(_: ProfileReader, customer_id: CustomerIdPath) -> Response:
        return _json(_customer_or_404(customer_id))

    def _customer_or_404(customer_id: str) -> str:
        doc = store.customer_by_id(customer_id)
        if doc is None:
            raise ProblemError("customer_not_found", f"there is no customer {customer_id}")
        return doc

    @app.get(
        "/v1/customers/{customer_id}/wishlist",
        response_model=list[WishlistItem],
        tags=["customers"],
        responses=_problems(401, 404, 422, 429),
    )
    def get_wishlist(_: ProfileReader, customer_id: CustomerIdPath) -> Response:
        _customer_or_404(customer_id)
        return _list(store.wishlist(customer_id))

    @app.get(
        "/v1/customers/{customer_id}/orders",
        response_model=list[Order],
        tags=["customers"],
        responses=_problems(401, 404, 422, 429),
    )
    def get_orders(_: ProfileReader, customer_id: CustomerIdPath) -> Response:
        _customer_or_404(customer_id)
        return _list(store.orders(customer_id))

    @app.get(
        "/v1/customers/{customer_id}/conversations",
        response_model=list[Conversation],
        tags=["customers"],
        responses=_problems(401, 404, 422, 429),
    )
    def get_conversations(_: ProfileReader, customer_id: CustomerIdPath) -> Response:
        _customer_or_404(customer_id)
        return _list(store.conversations(customer_id))

    @app.get(
        "/v1/customers/{customer_id}/notes",
        response_model=list[CustomerNote],
        tags=["customers"],
        responses=_problems(401, 404, 422, 429),
    )
    def get_notes(_: ProfileReader, customer_id: CustomerIdPath) -> Response:
        _customer_or_404(customer_id)
        return _list(store.notes(customer_id))

    @app.post(
        "/v1/customers/{customer_id}/notes",
        response_model=CustomerNote,
        status_code=201,
        tags=["customers"],
        responses=_problems(400, 401, 404, 422),
    )
    def add_note(
        from_store: DeviceStore,
        customer_id: CustomerIdPath,
        command: AddNoteCommand,
        key: IdempotencyKey,
        restoring: Restoring = None,
    ) -> Response:
        return _command_answer(store.add_note(customer_id, command, key, from_store, restoring=restoring))

    @app.get(
        "/v1/customers/{customer_id}/views",
        response_model=list[ProfileView],
        tags=["customers"],
        responses=_problems(401, 403, 404, 422),
        summary="Who opened this customer's profile, where and when (newest first)",
        description="Read only with an administrator's token (`clienteling central add-admin`), never a device's.",
        dependencies=[Depends(administrator)],
    )
    def get_profile_views(customer_id: CustomerIdPath) -> Response:
        _customer_or_404(customer_id)
        return _list(store.profile_views(customer_id))

    @app.post(
        "/v1/customers/{customer_id}/views",
        response_model=ProfileView,
        status_code=201,
        tags=["customers"],
        responses=_problems(400, 401, 404, 422),
        summary="Record that a member of staff opened this customer's profile",
    )
    def record_profile_view(
        from_store: DeviceStore,
        customer_id: CustomerIdPath,
        command: ProfileViewCommand,
        key: IdempotencyKey,
        restoring: Restoring = None,
    ) -> Response:
        return _command_answer(store.record_profile_view(customer_id, command, key, from_store, restoring=restoring))

    @app.get("/v1/products/search", response_model=list[Product], tags=["products"], responses=_problems(401, 422))
    def search_products(
        _: DeviceStore,
        q: Annotated[
            str,
            Query(
                min_length=1, max_length=100, pattern=NO_NUL, description="Words of a name, style, category or colour"
            ),
        ],
    ) -> Response:
        return _list(store.search_products(q))

    @app.get(
        "/v1/products/by-code/{code}",
        response_model=ProductMatch,
        tags=["products"],
        responses=_problems(401, 404, 422),
    )
    def product_by_code(
        _: DeviceStore,
        code: Annotated[
            str, Path(max_length=64, description="A GTIN (8, 12, 13 or 14 digits) or a SKU", examples=["CT01-NVY-M"])
        ],
    ) -> Response:
        found = store.product_by_code(code)
        if found is None:
            raise ProblemError("product_not_found", f"no product has the code {code!r}")
        product, sku = found
        return _json(f'{{"product":{product},"variant":' + _variant_json(product, sku) + "}")

    @app.get("/v1/stock/{sku}", response_model=StockOverview, tags=["stock"], responses=_problems(401, 404, 422))
    def stock(
        from_store: DeviceStore, sku: Annotated[str, Path(max_length=40, examples=["CT01-NVY-M"])]
    ) -> StockOverview:
        levels = store.stock_overview(sku, from_store)
        if levels is None:
            raise ProblemError("product_not_found", f"there is no product with SKU {sku!r}")
        return StockOverview(sku=sku, from_store=from_store, levels=levels)

    @app.get(
        "/v1/orders/{number:order_number}", response_model=Order, tags=["orders"], responses=_problems(401, 404, 422)
    )
    def get_order(
        _: DeviceStore, number: Annotated[str, Path(pattern=rf"^{ORDER_NUMBER}$", examples=["ORD-K7QM-00000001"])]
    ) -> Response:
        doc = store.order_doc(number)
        if doc is None:
            raise ProblemError("order_not_found", f"there is no order {number}")
        return _json(doc)

    @app.post(
        "/v1/orders/ship-to-home",
        response_model=Order,
        status_code=201,
        tags=["orders"],
        responses=_problems(400, 401, 409, 422),
    )
    def ship_to_home(
        from_store: DeviceStore, command: ShipToHomeOrderCommand, key: IdempotencyKey, restoring: Restoring = None
    ) -> Response:
        return _command_answer(store.place_ship_to_home(command, key, from_store, restoring=restoring))

    @app.post(
        "/v1/returns", response_model=Return, status_code=201, tags=["returns"], responses=_problems(400, 401, 404, 422)
    )
    def register_return(
        from_store: DeviceStore, command: ReturnCommand, key: IdempotencyKey, restoring: Restoring = None
    ) -> Response:
        return _command_answer(store.register_return(command, key, from_store, restoring=restoring))

    def _command_answer(answer: CommandAnswer) -> Response:
        media_type = JSON if answer.status < 400 else PROBLEM_MEDIA_TYPE
        headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
        if answer.position:
            headers[POSITION_HEADER] = answer.position
        return Response(content=answer.body, status_code=answer.status, media_type=media_type, headers=headers or None)

    @app.get(
        "/v1/centre",
        response_model=CentreInfo,
        tags=["sync"],
        responses=_problems(401),
        summary="Who this centre is and which history it holds",
        description=(
            "The centre's id, its current epoch and the epochs its database holds. A device checks the positions of "
            "the commands the centre acknowledged against it (`CentreInfo.misses`) and sends again what a centre "
            "restored from a backup no longer holds."
        ),
    )
    def centre_info(_: DeviceStore) -> Response:
        return _json(store.centre_info().model_copy(update={"offers": offers}).model_dump_json())

    for collection, model in (
        ("stores", Store),
        ("staff", StaffMember),
        ("products", Product),
        ("stock", StockLevel),
        ("customers", Customer),
        ("wishlists", WishlistItem),
        ("orders", Order),
        ("conversations", Conversation),
    ):
        app.add_api_route(
            f"/v1/sync/{collection}",
            _sync_route(store, collection, device_store, bearer),
            methods=["GET"],
            response_model=SyncPage[model],
            tags=["sync"],
            summary=f"Changes to {collection} after a cursor",
            description=(
                "The page as one JSON document, or with `Accept: application/x-ndjson` as lines: first "
                '`{"deleted", "next_cursor", "has_more", "items": N}`, then the N items, one JSON object a line.'
            ),
            responses={
                **_problems(401, 410, 422),
                200: {"content": {NDJSON: {"schema": {"type": "string"}}}},
            },
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = Problem.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _methods_at(app: FastAPI, path: str) -> set[str]:
    methods: set[str] = set()
    for route in app.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods.update(getattr(route, "methods", None) or ())
    return methods


def _variant_json(product_json: str, sku: str) -> str:
    variant = next(v for v in json.loads(product_json)["variants"] if v["sku"] == sku)
    return json.dumps(variant, separators=(",", ":"), ensure_ascii=False)


NDJSON = "application/x-ndjson"


def _sync_route(store: CentralStore, collection: str, device_store, bearer):
    def sync(
        request: Request,
        from_store: Annotated[str, Depends(device_store)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        after: Annotated[
            str, Query(pattern=CURSOR_PATTERN, description="The `next_cursor` of the previous page; 0 to start")
        ] = "0",
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    ) -> Response:
        # Staff rows leave sealed to the calling device's token: a copied cache file cannot test a PIN (pins.py).
        each = None
        if collection == "staff":
            assert credentials is not None  # device_store has refused a request without a token
            each = functools.partial(pins.seal_staff_doc, key=pins.device_key(credentials.credentials))
        if NDJSON in request.headers.get("accept", ""):
            return Response(
                store.sync_page(collection, after, limit, from_store, ndjson=True, each=each), media_type=NDJSON
            )
        return _json(store.sync_page(collection, after, limit, from_store, each=each))

    sync.__name__ = f"sync_{collection}"
    return sync
