"""How it went: touchpoints from the stores' devices, the customers' one-question page (`/r/<token>`), the staff
pulse, and the report of them (`GET /v1/experience`, and as CSV)."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from clienteling import rules
from clienteling.central import survey_page as survey
from clienteling.central.problems import ProblemError
from clienteling.central.routes.common import (
    CustomerIdPath,
    DeviceStore,
    IdempotencyKey,
    Restoring,
    Settings,
    Storage,
    _command_answer,
    _json,
    _problems,
    bearer,
    device_store_of,
)
from clienteling.contract import (
    DASHBOARD_WEEKS_MAX,
    FEEDBACK_TOKEN,
    Experience,
    PulseCommand,
    PulseRecorded,
    Touchpoint,
    TouchpointCommand,
)

router = APIRouter()
log = logging.getLogger("clienteling.central")
FORM_LIMIT = 16_384  # bytes: a score and a comment of 1,000 characters, URL-encoded, with room to spare
_TOKEN = re.compile(FEEDBACK_TOKEN)


def report_scope(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str | None:
    """Whose answers a caller may read: a device its own store's (the store code); an administrator every store's
    (None, or the store asked for with `?store=`)."""
    settings: Settings = request.app.state.centre
    if credentials is not None and settings.store.is_admin(credentials.credentials):
        asked = request.query_params.get("store")
        if asked is not None and not re.fullmatch(r"[A-Z]{2,4}[0-9]{2}", asked):
            raise ProblemError("invalid_request", "store must be a store code such as AMS01", field="store")
        return asked
    return device_store_of(settings, credentials)


ReportScope = Annotated[str | None, Depends(report_scope)]
StoreQuery = Annotated[
    str | None, Query(description="An administrator's token: one store (a device reads only its own)")
]


@router.post(
    "/v1/customers/{customer_id}/touchpoints",
    response_model=Touchpoint,
    status_code=201,
    tags=["experience"],
    responses=_problems(400, 401, 404, 409, 422),
    summary="Record a store touchpoint the customer may rate, with the token her receipt's QR code carries",
)
def record_touchpoint(
    store: Storage,
    from_store: DeviceStore,
    customer_id: CustomerIdPath,
    command: TouchpointCommand,
    key: IdempotencyKey,
    restoring: Restoring = None,
) -> Response:
    return _command_answer(store.record_touchpoint(customer_id, command, key, from_store, restoring=restoring))


@router.post(
    "/v1/pulse",
    response_model=PulseRecorded,
    status_code=201,
    tags=["experience"],
    responses=_problems(400, 401, 422),
    summary="How a shift went, from a member of staff at sign-out (anonymous: the store and the day are kept)",
)
def record_pulse(store: Storage, from_store: DeviceStore, command: PulseCommand, key: IdempotencyKey) -> Response:
    return _command_answer(store.record_pulse(command, key, from_store))


@router.get(
    "/v1/experience",
    response_model=Experience,
    tags=["experience"],
    responses=_problems(401, 422),
    summary="Customers' ratings of store touchpoints and the staff pulse, by week",
    description=(
        "Per touchpoint type, store and staff member: answers, average score and low scores (1–2) per calendar week "
        "of the store (by when the touchpoint happened), the lowest-rated answers with their comments, and the staff "
        f"pulse (a week's average only where at least {rules.PULSE_MIN_ANSWERS} answered). A device's token reads "
        "its own store; an administrator's the whole chain, or one store with `store`."
    ),
)
def get_experience(
    store: Storage,
    scope: ReportScope,
    weeks: Annotated[int, Query(ge=1, le=DASHBOARD_WEEKS_MAX)] = 8,
    _store: Annotated[str | None, Query(alias="store", description="An administrator's token: one store")] = None,
) -> Response:
    return _json(store.experience(scope, weeks).model_dump_json())


@router.get(
    "/v1/experience/answers.csv",
    tags=["experience"],
    responses={200: {"content": {"text/csv": {}}}, **_problems(401, 422)},
    summary="Every rating as CSV (no customer ids), oldest first",
)
def get_experience_csv(
    store: Storage,
    scope: ReportScope,
    since: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="From this day of the store's calendar on (YYYY-MM-DD)"
        ),
    ] = None,
    _store: Annotated[str | None, Query(alias="store", description="An administrator's token: one store")] = None,
) -> Response:
    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        raise ProblemError("invalid_request", f"since {since!r} is not a day of the calendar", field="since") from None
    name = f"ratings-{scope or 'chain'}.csv"
    return Response(
        content=store.feedback_csv(scope, day),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ------------------------------------------------------------------ the customer's page


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/r/{token}", include_in_schema=False)
def survey_form(
    store: Storage,
    token: str,
    lang: str | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    language = survey.pick_lang(lang, accept_language)
    found = store.touchpoint(token) if _TOKEN.fullmatch(token) else None
    if found is None:
        return _html(survey.notice(language, token, "unknown", "unknown_text"), 404)
    touchpoint, answer, store_name = found
    if answer is not None:
        return _html(survey.notice(language, token, "already", "already_text"))
    if not rules.feedback_open(touchpoint.at, store.clock()):
        return _html(survey.notice(language, token, "closed", "closed_text"), 410)
    return _html(
        survey.question(language, token, touchpoint.type, store_name or touchpoint.store, _staff(store, touchpoint))
    )


@router.post("/r/{token}", include_in_schema=False)
async def survey_answer(
    request: Request,
    token: str,
    lang: str | None = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> HTMLResponse:
    from starlette.concurrency import run_in_threadpool

    store = request.app.state.centre.store
    language = survey.pick_lang(lang, accept_language)
    body = await request.body()
    if len(body) > FORM_LIMIT:
        return _html(survey.notice(language, token, "unknown", "unknown_text"), 413)
    form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    comment = (form.get("comment") or [""])[0].replace("\x00", "").replace("\r\n", "\n").strip()
    raw_score = (form.get("score") or [""])[0]
    score = int(raw_score) if raw_score in ("1", "2", "3", "4", "5") else None
    found = await run_in_threadpool(store.touchpoint, token) if _TOKEN.fullmatch(token) else None
    if found is None:
        return _html(survey.notice(language, token, "unknown", "unknown_text"), 404)
    touchpoint, _, store_name = found
    shown_store = store_name or touchpoint.store
    problem = (
        survey.t(language, "pick_score")
        if score is None
        else survey.t(language, "too_long", max=survey.COMMENT_MAX)
        if len(comment) > survey.COMMENT_MAX
        else None
    )
    if problem is not None:
        staff = await run_in_threadpool(_staff, store, touchpoint)
        page = survey.question(
            language, token, touchpoint.type, shown_store, staff, error=problem, score=score, comment=comment
        )
        return _html(page, 400)
    try:
        await run_in_threadpool(store.answer_touchpoint, token, score, comment, language)
    except ProblemError as refusal:
        if refusal.code == "already_answered":
            return _html(survey.notice(language, token, "already", "already_text"), 409)
        if refusal.code == "feedback_closed":
            return _html(survey.notice(language, token, "closed", "closed_text"), 410)
        return _html(survey.notice(language, token, "unknown", "unknown_text"), 404)
    text = "thanks_low" if rules.needs_recovery(score, comment) else "thanks_text"
    return _html(survey.notice(language, token, "thanks", text, store=shown_store))


def _staff(store, touchpoint: Touchpoint) -> str | None:
    """The first name of who served her, as the page says it ("You were helped by Lotte")."""
    if not touchpoint.staff_id:
        return None
    row = store.query_one("SELECT doc->>'name' FROM staff WHERE id = ?", (touchpoint.staff_id,))
    return row[0].split()[0] if row and row[0] else None
