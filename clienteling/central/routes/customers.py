"""Customers: enrolment, look-up, search, the profile and its history, notes, consent and its log, follow-up tasks,
the log of who viewed a profile."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from clienteling.central.problems import ProblemError
from clienteling.central.routes.common import (
    NO_NUL,
    CustomerIdPath,
    DeviceStore,
    IdempotencyKey,
    ProfileReader,
    Restoring,
    Storage,
    _command_answer,
    _json,
    _list,
    _problems,
    administrator,
)
from clienteling.central.store import CentralStore, card_or_problem
from clienteling.contract import (
    AddNoteCommand,
    ConsentChange,
    ConsentCommand,
    Conversation,
    Customer,
    CustomerNote,
    CustomerSummary,
    EnrolCommand,
    FollowUp,
    FollowUpCommand,
    FollowUpStateChange,
    FollowUpStateCommand,
    Order,
    ProfileView,
    ProfileViewCommand,
    WishlistItem,
)

router = APIRouter()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@router.get(
    "/v1/customers/lookup", response_model=Customer, tags=["customers"], responses=_problems(401, 404, 422, 429)
)
def lookup_customer(
    store: Storage,
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


@router.get(
    "/v1/customers/search",
    response_model=list[CustomerSummary],
    tags=["customers"],
    responses=_problems(401, 422, 429),
)
def search_customers(
    store: Storage,
    _: ProfileReader,
    q: Annotated[
        str,
        Query(min_length=2, max_length=100, pattern=NO_NUL, description="Start of a name, email or phone"),
    ],
) -> Response:
    return _list(store.search_customers(q, 50))


@router.get(
    "/v1/customers/{customer_id}",
    response_model=Customer,
    tags=["customers"],
    responses=_problems(401, 404, 422, 429),
)
def get_customer(store: Storage, _: ProfileReader, customer_id: CustomerIdPath) -> Response:
    return _json(_customer_or_404(store, customer_id))


def _customer_or_404(store: CentralStore, customer_id: str) -> str:
    doc = store.customer_by_id(customer_id)
    if doc is None:
        raise ProblemError("customer_not_found", f"there is no customer {customer_id}")
    return doc


@router.get(
    "/v1/customers/{customer_id}/wishlist",
    response_model=list[WishlistItem],
    tags=["customers"],
    responses=_problems(401, 404, 422, 429),
)
def get_wishlist(store: Storage, _: ProfileReader, customer_id: CustomerIdPath) -> Response:
    _customer_or_404(store, customer_id)
    return _list(store.wishlist(customer_id))


@router.get(
    "/v1/customers/{customer_id}/orders",
    response_model=list[Order],
    tags=["customers"],
    responses=_problems(401, 404, 422, 429),
)
def get_orders(store: Storage, _: ProfileReader, customer_id: CustomerIdPath) -> Response:
    _customer_or_404(store, customer_id)
    return _list(store.orders(customer_id))


@router.get(
    "/v1/customers/{customer_id}/conversations",
    response_model=list[Conversation],
    tags=["customers"],
    responses=_problems(401, 404, 422, 429),
)
def get_conversations(store: Storage, _: ProfileReader, customer_id: CustomerIdPath) -> Response:
    _customer_or_404(store, customer_id)
    return _list(store.conversations(customer_id))


@router.get(
    "/v1/customers/{customer_id}/notes",
    response_model=list[CustomerNote],
    tags=["customers"],
    responses=_problems(401, 404, 422, 429),
)
def get_notes(store: Storage, _: ProfileReader, customer_id: CustomerIdPath) -> Response:
    _customer_or_404(store, customer_id)
    return _list(store.notes(customer_id))


@router.post(
    "/v1/customers",
    response_model=Customer,
    status_code=201,
    tags=["customers"],
    responses=_problems(400, 401, 409, 422),
    summary="Enrol a new customer at the device's store",
    description=(
        "Issues her customer id and a valid loyalty card number, makes her a basic member with no points whose home "
        "store is the device's store, with the consent per channel she gave, publishes `customer.enrolled`, and "
        "answers her `Customer`. The same `Idempotency-Key` with the same body answers the same customer and card. "
        "Refused: an email address the centre already holds (`email_already_enrolled`, 409, with the existing "
        "`customer_id`, `card_number` and `member_since`), a `staff_id` not of the device's store (`unknown_staff`), "
        "an `agreed_at` in the future or more than 90 days ago (`implausible_time`)."
    ),
)
def enrol_customer(store: Storage, from_store: DeviceStore, command: EnrolCommand, key: IdempotencyKey) -> Response:
    return _command_answer(store.enrol(command, key, from_store))


@router.post(
    "/v1/customers/{customer_id}/notes",
    response_model=CustomerNote,
    status_code=201,
    tags=["customers"],
    responses=_problems(400, 401, 404, 422),
)
def add_note(
    store: Storage,
    from_store: DeviceStore,
    customer_id: CustomerIdPath,
    command: AddNoteCommand,
    key: IdempotencyKey,
    restoring: Restoring = None,
) -> Response:
    return _command_answer(store.add_note(customer_id, command, key, from_store, restoring=restoring))


@router.post(
    "/v1/customers/{customer_id}/consent",
    response_model=ConsentChange,
    status_code=201,
    tags=["customers"],
    responses=_problems(400, 401, 404, 422),
    summary="Change a customer's consent per channel, as they agreed at the counter",
    description=(
        "Sets the customer's email, SMS and WhatsApp consent (and `marketing`: whether any of them is agreed), logs "
        "who took the agreement, where and when, and publishes `consent.changed`. A change agreed before the consent "
        "the centre holds (sent late by a device that was offline) is logged and answered with `superseded: true`, "
        "and changes nothing. Refused: a `staff_id` not of the device's store (`unknown_staff`), an `agreed_at` in "
        "the future or more than 90 days ago (`implausible_time`), an unknown customer (`customer_not_found`)."
    ),
)
def change_consent(
    store: Storage,
    from_store: DeviceStore,
    customer_id: CustomerIdPath,
    command: ConsentCommand,
    key: IdempotencyKey,
    restoring: Restoring = None,
) -> Response:
    return _command_answer(store.change_consent(customer_id, command, key, from_store, restoring=restoring))


@router.get(
    "/v1/customers/{customer_id}/follow-ups",
    response_model=list[FollowUp],
    tags=["customers"],
    responses=_problems(401, 404, 422, 429),
    summary="The customer's follow-up tasks, every store's, by the day due",
)
def get_follow_ups(store: Storage, _: ProfileReader, customer_id: CustomerIdPath) -> Response:
    _customer_or_404(store, customer_id)
    return _list(store.follow_ups(customer_id))


@router.post(
    "/v1/customers/{customer_id}/follow-ups",
    response_model=FollowUp,
    status_code=201,
    tags=["customers"],
    responses=_problems(400, 401, 404, 422),
    summary="Make a follow-up task about the customer",
    description=(
        "A task for an associate of the device's store (`assignee`) or for the store's list (no assignee), due on a "
        "day, about an item (`sku`) or not. Its `id` is made by the device, so that a later change can name it before "
        "this answer arrived; the same id sent again for the same customer is answered with the task as it is. "
        "Published as `follow_up.created`. Refused: a `staff_id` or `assignee` not of the device's store "
        "(`unknown_staff`), an unknown SKU (`unknown_sku`), an id another customer's task has (`follow_up_id_taken`), "
        "an unknown customer (`customer_not_found`)."
    ),
)
def create_follow_up(
    store: Storage,
    from_store: DeviceStore,
    customer_id: CustomerIdPath,
    command: FollowUpCommand,
    key: IdempotencyKey,
) -> Response:
    return _command_answer(store.create_follow_up(customer_id, command, key, from_store))


@router.post(
    "/v1/customers/{customer_id}/follow-ups/state",
    response_model=FollowUpStateChange,
    status_code=201,
    tags=["customers"],
    responses=_problems(400, 401, 404, 422),
    summary="Mark a follow-up done, snooze it to a day, or open it again",
    description=(
        "The change made last (`changed_at`) wins: a change made before the task's current state (sent late by a "
        "device that was offline) is answered with `superseded: true` and changes nothing. Done is published as "
        "`follow_up.done`. Refused: an unknown task of this customer (`follow_up_not_found`), a `staff_id` not of "
        "the device's store (`unknown_staff`)."
    ),
)
def change_follow_up_state(
    store: Storage,
    from_store: DeviceStore,
    customer_id: CustomerIdPath,
    command: FollowUpStateCommand,
    key: IdempotencyKey,
) -> Response:
    return _command_answer(store.change_follow_up_state(customer_id, command, key, from_store))


@router.get(
    "/v1/customers/{customer_id}/consent-log",
    response_model=list[ConsentChange],
    tags=["customers"],
    responses=_problems(401, 403, 404, 422),
    summary="Every change of this customer's consent made at a counter (the latest agreed first)",
    description="Read only with an administrator's token (`clienteling central add-admin`), never a device's.",
    dependencies=[Depends(administrator)],
)
def get_consent_log(store: Storage, customer_id: CustomerIdPath) -> Response:
    _customer_or_404(store, customer_id)
    return _list(store.consent_log(customer_id))


@router.get(
    "/v1/customers/{customer_id}/views",
    response_model=list[ProfileView],
    tags=["customers"],
    responses=_problems(401, 403, 404, 422),
    summary="Who opened this customer's profile, where and when (newest first)",
    description="Read only with an administrator's token (`clienteling central add-admin`), never a device's.",
    dependencies=[Depends(administrator)],
)
def get_profile_views(store: Storage, customer_id: CustomerIdPath) -> Response:
    _customer_or_404(store, customer_id)
    return _list(store.profile_views(customer_id))


@router.post(
    "/v1/customers/{customer_id}/views",
    response_model=ProfileView,
    status_code=201,
    tags=["customers"],
    responses=_problems(400, 401, 404, 422),
    summary="Record that a member of staff opened this customer's profile",
)
def record_profile_view(
    store: Storage,
    from_store: DeviceStore,
    customer_id: CustomerIdPath,
    command: ProfileViewCommand,
    key: IdempotencyKey,
    restoring: Restoring = None,
) -> Response:
    return _command_answer(store.record_profile_view(customer_id, command, key, from_store, restoring=restoring))
