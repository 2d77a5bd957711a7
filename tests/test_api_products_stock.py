"""Products by search and by code, and stock across the chain, over real HTTP."""

from __future__ import annotations

import pytest
from test_api_customers import assert_problem

from clienteling.codes import gs1_check_digit
from clienteling.contract import Product, ProductMatch, StockOverview

pytestmark = pytest.mark.both_backends  # every test here runs on SQLite and on PostgreSQL


def test_search_finds_products_by_words_of_name_category_or_colour(api):
    coats = [Product.model_validate(p) for p in api.get("/v1/products/search", params={"q": "coats"}).json()]
    assert len(coats) >= 10 and {p.category for p in coats} == {"coats"}
    first = coats[0]
    by_name = api.get("/v1/products/search", params={"q": first.name.split()[0].upper()}).json()
    assert first.style in [p["style"] for p in by_name]
    colour = first.variants[0].colour
    both = api.get("/v1/products/search", params={"q": f"coats {colour}"}).json()
    assert both and all(p["category"] == "coats" for p in both)
    assert api.get("/v1/products/search", params={"q": "zzzz"}).json() == []


def test_every_code_of_a_variant_finds_it(api):
    product = Product.model_validate(api.get("/v1/products/search", params={"q": "sneakers"}).json()[0])
    variant = product.variants[-1]
    assert gs1_check_digit(variant.gtin[:-1]) == int(variant.gtin[-1])
    for code in (variant.gtin, variant.gtin.zfill(14), variant.sku, variant.sku.lower()):
        match = ProductMatch.model_validate(api.get(f"/v1/products/by-code/{code}").json())
        assert match.variant == variant and match.product.style == product.style, code


@pytest.mark.parametrize("code", ["8712349999999", "NOPE-SKU", "12345"])
def test_unknown_code_is_404(api, code):
    assert_problem(api.get(f"/v1/products/by-code/{code}"), 404, "product_not_found")


def test_stock_lists_every_location_nearest_first_from_the_devices_store(central):
    for token, home in (("demo-AMS01", "AMS01"), ("demo-EIN01", "EIN01")):
        with central.client(token) as client:
            overview = StockOverview.model_validate(client.get("/v1/stock/CT01-NVY-M").json())
        assert overview.from_store == home
        assert overview.levels[0].store == home and overview.levels[0].distance_km == 0
        distances = [level.distance_km for level in overview.levels]
        assert distances == sorted(distances)
        assert {level.store for level in overview.levels} == {"AMS01", "UTR01", "RTD01", "DHG01", "EIN01", "DC01"}
        assert [level.kind for level in overview.levels].count("dc") == 1
        for level in overview.levels:
            assert level.available == max(level.on_hand - level.reserved, 0) and level.as_of.tzinfo is not None
    utrecht = next(
        level
        for level in StockOverview.model_validate(central.client().get("/v1/stock/CT01-NVY-M").json()).levels
        if level.store == "UTR01"
    )
    assert 30 < utrecht.distance_km < 45  # Amsterdam to Utrecht as the crow flies


def test_unknown_sku_stock_is_404(api):
    assert_problem(api.get("/v1/stock/NOPE-1"), 404, "product_not_found")
