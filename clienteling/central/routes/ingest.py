"""The retailer's systems write to the centre: `POST /v1/ingest/{collection}` (NDJSON or JSON), and read who owns
which field. Only an integration's token (`clienteling central add-integration`) may, and only for the collections
it was given."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from clienteling.central.ingest import MAX_RECORDS, Integration, parse_json, parse_ndjson
from clienteling.central.problems import ProblemError
from clienteling.central.routes.common import NDJSON, Storage, _json, _problems, bearer
from clienteling.contract import INGEST_COLLECTIONS, FieldOwner, IngestReport

router = APIRouter()

MAX_BODY = 32 * 1024 * 1024
"""Bytes per request (about 20,000 customers); a larger load is sent as several batches."""


def integration(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Integration:
    """The integration whose token this is; a 401 for none, a 403 for a store device's or an administrator's."""
    if credentials is None:
        raise ProblemError("unauthorized", "send the integration's token as 'Authorization: Bearer <token>'")
    settings = request.app.state.centre
    found = settings.store.integration(credentials.credentials)
    if found is not None:
        return found
    if settings.store.device_store(credentials.credentials, allow_demo=settings.demo) is not None or (
        settings.store.is_admin(credentials.credentials)
    ):
        raise ProblemError(
            "forbidden", "only an integration's token writes here (clienteling central add-integration), not this one"
        )
    raise ProblemError("unauthorized", "this token is not known to the centre")


Caller = Annotated[Integration, Depends(integration)]


@router.post(
    "/v1/ingest/{collection}",
    response_model=IngestReport,
    tags=["ingest"],
    responses=_problems(401, 403, 404, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "A JSON array of records (application/json), or the same records one per line "
                "(application/x-ndjson: the form for large loads, written as it is read)"
            ),
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/IngestRecord"}}
                },
            },
        }
    },
)
async def ingest(
    request: Request,
    store: Storage,
    caller: Caller,
    collection: Annotated[str, Path(description=f"One of {', '.join(INGEST_COLLECTIONS)}")],
) -> Response:
    """Upsert and delete records of one collection. Each record is judged on its own: a refused one is reported with
    its line and reason, and the others are kept. An older version than the centre holds from the same source changes
    nothing (`stale`), the same version again neither (`unchanged`)."""
    if collection not in INGEST_COLLECTIONS:
        raise ProblemError(
            "collection_not_found",
            f"there is no collection {collection!r} to ingest; there are: {', '.join(INGEST_COLLECTIONS)}",
        )
    if collection not in caller.may:
        raise ProblemError(
            "forbidden", f"{caller.name} may write {', '.join(caller.may)}, not {collection}", collection=collection
        )
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise _too_large()
    body = await request.body()
    if len(body) > MAX_BODY:
        raise _too_large()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/json", NDJSON, "application/ndjson", "application/jsonl"):
        raise ProblemError("invalid_request", f"send {NDJSON} or application/json, not {kind or 'no content type'}")
    records = parse_json(body) if kind == "application/json" else parse_ndjson(body)
    if len(records) > MAX_RECORDS:
        raise _too_large()
    report = await run_in_threadpool(store.ingest, caller, collection, records)
    return _json(report.model_dump_json())


def _too_large() -> ProblemError:
    return ProblemError(
        "payload_too_large",
        f"send at most {MAX_RECORDS} records and {MAX_BODY // (1024 * 1024)} MB per request; split the load",
        status=413,
    )


@router.get("/v1/field-owners", response_model=list[FieldOwner], tags=["ingest"], responses=_problems(401, 403))
def field_owners(store: Storage, _: Caller) -> list[FieldOwner]:
    """Which system holds the truth for which field (`*`: creates and deletes the records); a field not listed may
    be written by every system allowed its collection."""
    return store.field_owners()
