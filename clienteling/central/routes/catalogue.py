"""The catalogue and stock: products by words or by code, and every location's stock of a SKU."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from clienteling.central.problems import ProblemError
from clienteling.central.routes.common import (
    NO_NUL,
    DeviceStore,
    Storage,
    _json,
    _list,
    _problems,
)
from clienteling.contract import (
    Product,
    ProductMatch,
    StockOverview,
)

router = APIRouter()


@router.get("/v1/products/search", response_model=list[Product], tags=["products"], responses=_problems(401, 422))
def search_products(
    store: Storage,
    _: DeviceStore,
    q: Annotated[
        str,
        Query(min_length=1, max_length=100, pattern=NO_NUL, description="Words of a name, style, category or colour"),
    ],
) -> Response:
    return _list(store.search_products(q))


@router.get(
    "/v1/products/by-code/{code}",
    response_model=ProductMatch,
    tags=["products"],
    responses=_problems(401, 404, 422),
)
def product_by_code(
    store: Storage,
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


@router.get("/v1/stock/{sku}", response_model=StockOverview, tags=["stock"], responses=_problems(401, 404, 422))
def stock(
    store: Storage, from_store: DeviceStore, sku: Annotated[str, Path(max_length=40, examples=["CT01-NVY-M"])]
) -> StockOverview:
    levels = store.stock_overview(sku, from_store)
    if levels is None:
        raise ProblemError("product_not_found", f"there is no product with SKU {sku!r}")
    return StockOverview(sku=sku, from_store=from_store, levels=levels)


def _variant_json(product_json: str, sku: str) -> str:
    variant = next(v for v in json.loads(product_json)["variants"] if v["sku"] == sku)
    return json.dumps(variant, separators=(",", ":"), ensure_ascii=False)
