"""What every group of routes shares: the centre's settings (kept on the app), the token checks, the request types
and the answer helpers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from clienteling.central.problems import PROBLEM_MEDIA_TYPE, ProblemError
from clienteling.central.readlimit import ProfileReadLimiter
from clienteling.central.store import CentralStore, CommandAnswer, hash_token
from clienteling.contract import POSITION_HEADER, RESTORING_HEADER

log = logging.getLogger("clienteling.central")
JSON = "application/json"
NDJSON = "application/x-ndjson"


@dataclass(frozen=True)
class Settings:
    """The centre's storage and settings, on `app.state.centre` for every route."""

    store: CentralStore
    demo: bool
    profile_reads: ProfileReadLimiter
    offers: tuple[str, ...] = ()  # what the centre offers beyond plain polling (`CentreInfo.offers`)


def central_store(request: Request) -> CentralStore:
    return request.app.state.centre.store


Storage = Annotated[CentralStore, Depends(central_store)]
bearer = HTTPBearer(auto_error=False, description="A device token; it names the device's store")

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


def device_store_of(settings: Settings, credentials: HTTPAuthorizationCredentials | None) -> str:
    """The store of the device whose token this is; else a 401 problem."""
    if credentials is None:
        raise ProblemError("unauthorized", "send the device token as 'Authorization: Bearer <token>'")
    found = settings.store.device_store(credentials.credentials, allow_demo=settings.demo)
    if found is None:
        raise ProblemError("unauthorized", "this device token is not known to the centre")
    return found


def device_store(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> str:
    """The store of the device whose token this is; else a 401."""
    return device_store_of(request.app.state.centre, credentials)


DeviceStore = Annotated[str, Depends(device_store)]


def profile_reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    from_store: DeviceStore,
) -> str:
    """The device's store, once the device's token has a profile read left (see `readlimit`); else a 429."""
    assert credentials is not None  # device_store has refused a request without a token
    device = hash_token(credentials.credentials)[:12]  # names the device in the log; the token itself never
    profile_reads = request.app.state.centre.profile_reads
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


def administrator(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    if credentials is None:
        raise ProblemError("unauthorized", "send an administrator's token as 'Authorization: Bearer <token>'")
    settings: Settings = request.app.state.centre
    if settings.store.is_admin(credentials.credentials):
        return
    if settings.store.device_store(credentials.credentials, allow_demo=settings.demo) is not None:
        raise ProblemError(
            "forbidden", "only an administrator's token reads this (clienteling central add-admin), not a device's"
        )
    raise ProblemError("unauthorized", "this token is not known to the centre")


def _command_answer(answer: CommandAnswer) -> Response:
    media_type = JSON if answer.status < 400 else PROBLEM_MEDIA_TYPE
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    if answer.position:
        headers[POSITION_HEADER] = answer.position
    return Response(content=answer.body, status_code=answer.status, media_type=media_type, headers=headers or None)
