"""Orders and returns: one order, ship-to-home orders placed in a store, returns and exchanges at the desk."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from starlette.convertors import Convertor, register_url_convertor

from clienteling.central.problems import ProblemError
from clienteling.central.routes.common import (
    DeviceStore,
    IdempotencyKey,
    Restoring,
    Storage,
    _command_answer,
    _json,
    _problems,
)
from clienteling.contract import (
    ORDER_NUMBER,
    ExchangeCommand,
    Order,
    Return,
    ReturnCommand,
    ShipToHomeOrderCommand,
)


class _OrderNumberConvertor(Convertor):
    """Lets `/v1/orders/{number}` match only order numbers, so it never shadows `/v1/orders/ship-to-home`."""

    regex = ORDER_NUMBER

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("order_number", _OrderNumberConvertor())


router = APIRouter()


@router.get(
    "/v1/orders/{number:order_number}", response_model=Order, tags=["orders"], responses=_problems(401, 404, 422)
)
def get_order(
    store: Storage,
    _: DeviceStore,
    number: Annotated[str, Path(pattern=rf"^{ORDER_NUMBER}$", examples=["ORD-K7QM-00000001"])],
) -> Response:
    doc = store.order_doc(number)
    if doc is None:
        raise ProblemError("order_not_found", f"there is no order {number}")
    return _json(doc)


@router.post(
    "/v1/orders/ship-to-home",
    response_model=Order,
    status_code=201,
    tags=["orders"],
    responses=_problems(400, 401, 409, 422),
)
def ship_to_home(
    store: Storage,
    from_store: DeviceStore,
    command: ShipToHomeOrderCommand,
    key: IdempotencyKey,
    restoring: Restoring = None,
) -> Response:
    return _command_answer(store.place_ship_to_home(command, key, from_store, restoring=restoring))


@router.post(
    "/v1/returns", response_model=Return, status_code=201, tags=["returns"], responses=_problems(400, 401, 404, 422)
)
def register_return(
    store: Storage, from_store: DeviceStore, command: ReturnCommand, key: IdempotencyKey, restoring: Restoring = None
) -> Response:
    return _command_answer(store.register_return(command, key, from_store, restoring=restoring))


@router.post(
    "/v1/exchanges",
    response_model=Return,
    status_code=201,
    tags=["returns"],
    responses=_problems(400, 401, 404, 409, 422),
)
def register_exchange(
    store: Storage, from_store: DeviceStore, command: ExchangeCommand, key: IdempotencyKey, restoring: Restoring = None
) -> Response:
    """A return whose refund is replaced by another size or colour of the same style: all of it, or nothing (a
    replacement no longer in stock refuses the whole exchange with `out_of_stock`)."""
    return _command_answer(store.register_exchange(command, key, from_store, restoring=restoring))
