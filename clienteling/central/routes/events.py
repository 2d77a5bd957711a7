"""The outbox of events, pulled: `GET /v1/events?after=<id>&limit=N` (issue 13).

What the signed webhooks push (clienteling.central.events), a connector that runs now and then (`clienteling connect
commercetools --once`) reads here instead: the events after the id it last saw, in id order, which is the order the
changes committed. Any integration's token may read them (`clienteling central add-integration`), whatever
collections it may write: an event says what a store did, which every back-office system that is registered may
learn; a store device's or an administrator's token is refused (403). Events are kept as the outbox keeps them: a
delivered one (or one no webhook wanted) 30 days, so a reader that is away longer misses what was pruned. An event's
`position` (`<centre>.<epoch>.<id>`) tells a reader that the centre was restored from a backup (ids may then be
given again): drop an event whose position you have seen.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from clienteling.central.routes.common import Storage, _problems
from clienteling.central.routes.ingest import Caller
from clienteling.contract import Contract, Event

router = APIRouter()

MAX_LIMIT = 1000


class EventPage(Contract):
    """A page of the outbox: events after `after`, in id order, and the id to ask after next."""

    items: list[Event]
    next: int = Field(ge=0, description="Pass as `after` for the next page (the last item's id, or `after` itself)")


@router.get("/v1/events", response_model=EventPage, tags=["events"], responses=_problems(401, 403, 422))
async def events(
    store: Storage,
    _: Caller,
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="The id of the last event seen (0: from the oldest kept)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> EventPage:
    """The events after `after`, oldest first. An empty page's `next` is `after`: ask again later."""
    items = await run_in_threadpool(store.events_after, after, limit)
    return EventPage(items=items, next=items[-1].id if items else after)
