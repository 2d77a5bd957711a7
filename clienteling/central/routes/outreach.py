"""Reaching out (issue 14): a message to a customer from a store, the provider's replies, and what the local sink
provider received (clienteling.central.outreach)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from clienteling.central.ingest import Integration
from clienteling.central.problems import ProblemError
from clienteling.central.routes.common import (
    CustomerIdPath,
    DeviceStore,
    IdempotencyKey,
    Restoring,
    Storage,
    _command_answer,
    _problems,
    administrator,
)
from clienteling.central.routes.ingest import Caller
from clienteling.contract import Conversation, InboundMessage, OutreachCommand, OutreachMessage, SinkMessage

router = APIRouter()


@router.post(
    "/v1/customers/{customer_id}/messages",
    response_model=OutreachMessage,
    status_code=201,
    tags=["outreach"],
    responses=_problems(400, 401, 404, 422),
    summary="Send the customer a message from a store, on a channel she consented to",
    description=(
        "Adds the message to her conversation on that channel (her Chats, in every store) with the associate's name "
        "and store, and hands it to the retailer's provider after answering (at least once; `delivery` in the answer "
        "is where that stood then). Refused: a channel she did not consent to (`no_consent`), no phone number or "
        "email address for it (`no_contact_address`), an unknown template (`unknown_template`), a `staff_id` not of the "
        "device's store (`unknown_staff`), an unknown customer (`customer_not_found`)."
    ),
)
def send_message(
    store: Storage,
    from_store: DeviceStore,
    customer_id: CustomerIdPath,
    command: OutreachCommand,
    key: IdempotencyKey,
    restoring: Restoring = None,
) -> Response:
    return _command_answer(store.send_message(customer_id, command, key, from_store, restoring=restoring))


def _conversations_writer(caller: Caller) -> Integration:
    if "conversations" not in caller.may:
        raise ProblemError("forbidden", f"{caller.name} may not write conversations, so not hand over replies")
    return caller


@router.post(
    "/v1/outreach/inbound",
    response_model=Conversation,
    status_code=201,
    tags=["outreach"],
    responses=_problems(401, 403, 404, 422),
    summary="A customer's reply, handed over by the provider",
    description=(
        "With an integration's token that may write `conversations`. The reply names the message it answers "
        "(`reference`: the `M-…` id the provider was given) or its `sender` (her phone number or email address: the "
        "latest conversation a store started with her on that channel). It is added to that conversation as her "
        "message, which reaches every store's devices. The `Idempotency-Key` is the provider's own id of the reply."
    ),
)
def inbound(store: Storage, caller: Annotated[Integration, Depends(_conversations_writer)], reply: InboundMessage,
            key: IdempotencyKey) -> Response:  # fmt: skip
    return _command_answer(store.receive_reply(reply, key, caller.name))


@router.get(
    "/v1/outreach/sent",
    response_model=list[SinkMessage],
    tags=["outreach"],
    responses=_problems(401, 403),
    summary="What the local sink provider received (demo and tests)",
    description="Read only with an administrator's token (`clienteling central add-admin`), newest first.",
    dependencies=[Depends(administrator)],
)
def sent(store: Storage, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[SinkMessage]:
    return store.sink_messages(limit)
