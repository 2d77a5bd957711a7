"""The store's figures: the dashboard an associate and a manager see (clienteling.central.reports)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from clienteling.central.routes.common import DeviceStore, Storage, _json, _problems
from clienteling.contract import DASHBOARD_WEEKS_MAX, Dashboard

router = APIRouter()


@router.get(
    "/v1/dashboard",
    response_model=Dashboard,
    tags=["reports"],
    responses=_problems(401, 422),
    summary="The calling device's store's figures by week, for the store and each of its staff",
    description=(
        "Sales placed in the store (by whom), online orders credited to the store's staff for a message or a consult "
        "before them, follow-ups done and customers served, per calendar week of the store (Monday first), the week "
        "under way last. Sales are net of returns and cancellations, without shipping."
    ),
)
def get_dashboard(
    store: Storage,
    from_store: DeviceStore,
    weeks: Annotated[int, Query(ge=1, le=DASHBOARD_WEEKS_MAX, description="How many weeks, this one included")] = 8,
) -> Response:
    return _json(store.dashboard(from_store, weeks).model_dump_json())
