"""What to show her now (issue 14): the suggestion rules on their own, then on a real device for Sanne."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clienteling.contract import Customer, Order, Product
from clienteling.suggest import InStock, WishedItem, suggest

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def product(style: str, category: str, name: str, sizes: tuple[str, ...]) -> Product:
    return Product.model_validate(
        {
            "style": style, "name": name, "category": category, "description": "", "updated_at": NOW,
            "variants": [{"sku": f"{style}-NVY-{s}", "gtin": "8712345000017", "colour": "navy", "size": s,
                          "price": {"cents": 100_00}} for s in sizes],
        }
    )  # fmt: skip


COAT = product("CT01", "coats", "Harbour wool coat", ("M", "L"))
PARKA = product("CT02", "coats", "Dune parka", ("M",))
KNIT = product("KN01", "knitwear", "Noord merino crew", ("M", "L"))
CHINO = product("TR01", "trousers", "Canal chino", ("31", "32"))
SNEAKER = product("SN01", "sneakers", "Grachten sneaker", ("39",))
SANNE = Customer.model_validate(
    {
        "id": "C0000001", "first_name": "Sanne", "last_name": "de Vries", "email": "s@example.com",
        "home_store": "AMS01", "card_number": "2700000000014", "tier": "gold", "points": 10,
        "consent": {"marketing": True, "profiling": True, "updated_at": NOW}, "addresses": [],
        "sizes": {"tops": "M", "trousers": "31", "shoes": "39"}, "created_at": NOW, "updated_at": NOW,
    }
)  # fmt: skip


def bought(number: int, days_ago: int, item: Product, size: str) -> Order:
    at = NOW - timedelta(days=days_ago)
    return Order.model_validate(
        {
            "number": f"ORD-{number:08d}", "customer_id": "C0000001", "channel": "store", "fulfilment": "in_store",
            "store": "AMS01", "status": "completed", "status_history": [{"status": "completed", "at": at}],
            "lines": [{"line_no": 1, "sku": f"{item.style}-NVY-{size}", "name": item.name, "colour": "navy",
                       "size": size, "quantity": 1, "unit_price": {"cents": 100_00}}],
            "totals": {"subtotal": {"cents": 100_00}, "shipping": {"cents": 0}, "total": {"cents": 100_00}},
            "created_at": at, "updated_at": at,
        }
    )  # fmt: skip


CATEGORIES = {"CT01": "coats", "CT02": "coats", "KN01": "knitwear", "TR01": "trousers", "SN01": "sneakers"}
HERE = {
    "knitwear": [InStock(KNIT, "KN01-NVY-L", 4), InStock(KNIT, "KN01-NVY-M", 2)],
    "trousers": [InStock(CHINO, "TR01-NVY-32", 5), InStock(CHINO, "TR01-NVY-31", 1)],
    "sneakers": [InStock(SNEAKER, "SN01-NVY-39", 1)],
}


def test_her_wishlist_here_comes_first_then_what_goes_with_a_purchase_then_her_wishlist_elsewhere():
    wished = [
        WishedItem(PARKA, "CT02-NVY-M", 0, (2, "Utrecht")),
        WishedItem(COAT, "CT01-NVY-M", 3, None),
        WishedItem(COAT, "CT01-NVY-L", 5, None),  # not her size
    ]
    got = suggest(SANNE, wished, [bought(1, 60, COAT, "M")], HERE, CATEGORIES, set(), NOW)
    assert [(s.sku, s.reason) for s in got] == [
        ("CT01-NVY-M", "wishlist_here"),
        ("KN01-NVY-M", "goes_with"),  # in her size, though the L is more plentiful
        ("CT02-NVY-M", "wishlist_elsewhere"),
    ]
    assert got[0].params == {"n": 3} and got[2].params == {"n": 2, "city": "Utrecht"}
    assert got[1].params == {"name": "Harbour wool coat", "bought_at": NOW - timedelta(days=60)}


def test_nothing_she_bought_or_returned_this_month_nor_what_she_declined_is_suggested():
    wished = [WishedItem(COAT, "CT01-NVY-M", 3, None), WishedItem(PARKA, "CT02-NVY-M", 1, None)]
    orders = [bought(1, 10, COAT, "L"), bought(2, 200, KNIT, "M")]  # a coat 10 days ago: no coat of that style
    got = suggest(SANNE, wished, orders, HERE, CATEGORIES, {"CT02-NVY-M", "TR01"}, NOW)
    # the parka is declined by SKU, the chinos by style: the knit bought goes with sneakers neither... nor trousers
    assert [(s.sku, s.reason) for s in got] == [("KN01-NVY-M", "goes_with")]
    assert got[0].params["name"] == "Harbour wool coat"


def test_at_most_three_and_each_style_once():
    wished = [WishedItem(COAT, "CT01-NVY-M", 3, None), WishedItem(PARKA, "CT02-NVY-M", 1, None)]
    orders = [bought(1, 40, COAT, "M"), bought(2, 50, CHINO, "31"), bought(3, 90, SNEAKER, "39")]
    got = suggest(SANNE, wished, orders, HERE, CATEGORIES, set(), NOW)
    assert len(got) == 3 and len({s.product.style for s in got}) == 3
    assert [s.reason for s in got] == ["wishlist_here", "wishlist_here", "goes_with"]


def test_sanne_is_shown_what_to_show_her_and_what_she_declines_does_not_come_back(central, tmp_path):
    from clienteling.config import Settings
    from clienteling.device import Device

    settings = Settings.load(tmp_path / "device", central_url=central.url, device_token="demo-AMS01", store="AMS01")
    with Device(settings) as device:
        assert device.sync_now().ok
        picture = device.customer_picture("C0000001")
        got = picture.suggestions
        assert 1 <= len(got) <= 3 and len({s.product.style for s in got}) == len(got)
        wished = {entry.item.sku: entry for entry in picture.wishlist}
        for suggestion in got:
            variant = next(v for v in suggestion.product.variants if v.sku == suggestion.sku)
            hers = {"coats": "M", "knitwear": "M", "trousers": "31", "sneakers": "39"}[suggestion.product.category]
            assert variant.size == hers  # Sanne's sizes: M / 31 / 39
            if suggestion.reason == "wishlist_here":
                assert (
                    suggestion.sku in wished and wished[suggestion.sku].stock.here.available == suggestion.params["n"]
                )
        first = got[0].sku
        device.decline_suggestion("C0000001", first)
        again = device.customer_picture("C0000001").suggestions
        assert first not in {s.sku for s in again}
