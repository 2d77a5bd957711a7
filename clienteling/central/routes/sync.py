"""The change feed and who the centre is: `GET /v1/sync/{collection}` for each collection, `GET /v1/centre`."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials

from clienteling import pins
from clienteling.central.routes.common import (
    NDJSON,
    DeviceStore,
    Storage,
    _json,
    _problems,
    bearer,
)
from clienteling.contract import (
    CURSOR_PATTERN,
    Activity,
    CentreInfo,
    Conversation,
    Customer,
    CustomerNote,
    FollowUp,
    Order,
    Product,
    Promotion,
    StaffMember,
    StockLevel,
    Store,
    SyncPage,
    WishlistItem,
)

router = APIRouter()


@router.get(
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
def centre_info(request: Request, store: Storage, _: DeviceStore) -> Response:
    offers = list(request.app.state.centre.offers)
    return _json(store.centre_info().model_copy(update={"offers": offers}).model_dump_json())


def _sync_route(collection: str):
    def sync(
        request: Request,
        store: Storage,
        from_store: DeviceStore,
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


for collection, model in (
    ("stores", Store),
    ("staff", StaffMember),
    ("products", Product),
    ("promotions", Promotion),
    ("stock", StockLevel),
    ("customers", Customer),
    ("wishlists", WishlistItem),
    ("orders", Order),
    ("conversations", Conversation),
    ("notes", CustomerNote),
    ("follow_ups", FollowUp),
    ("activities", Activity),
):
    router.add_api_route(
        f"/v1/sync/{collection}",
        _sync_route(collection),
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
