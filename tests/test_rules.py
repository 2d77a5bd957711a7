"""The business rules on their own: prices with shipping, return eligibility at the window's edges, refunds,
postcodes and product search, with a set `now` and no centre."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clienteling import rules
from clienteling.contract import Money, Order, Product, Promotion, ReturnLineRequest

DELIVERED = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def eur(cents: int) -> Money:
    return Money(cents=cents, currency="EUR")


def order(
    *,
    fulfilment: str = "delivery",
    status: str = "delivered",
    delivered_at: datetime | None = DELIVERED,
    lines: tuple[tuple[int, int, int], ...] = ((2, 0, 29_95), (1, 0, 89_95)),  # (quantity, returned, unit cents)
) -> Order:
    return Order.model_validate(
        {
            "number": "ORD-00000001",
            "customer_id": "C0000001",
            "channel": "web",
            "fulfilment": fulfilment,
            "status": status,
            "status_history": [{"status": status, "at": DELIVERED}],
            "lines": [
                {
                    "line_no": n,
                    "sku": f"CT0{n}-NVY-M",
                    "name": "Coat",
                    "colour": "Navy",
                    "size": "M",
                    "quantity": quantity,
                    "unit_price": eur(cents),
                    "returned_quantity": returned,
                }
                for n, (quantity, returned, cents) in enumerate(lines, start=1)
            ],
            "totals": {"subtotal": eur(0), "shipping": eur(0), "total": eur(0)},
            "created_at": DELIVERED - timedelta(days=2),
            "updated_at": DELIVERED,
            "delivered_at": delivered_at,
        }
    )


# --------------------------------------------------------------------------- prices


@pytest.mark.parametrize(
    ("lines", "subtotal", "shipping"),
    [
        ([(eur(49_95), 1)], 49_95, 4_95),  # one cent short of free shipping
        ([(eur(25_00), 2)], 50_00, 0),  # exactly the threshold ships free
        ([(eur(12_95), 2), (eur(9_95), 1)], 35_85, 4_95),
        ([(eur(129_95), 1)], 129_95, 0),
    ],
)
def test_shipping_is_charged_below_the_free_shipping_threshold_only(lines, subtotal, shipping):
    totals = rules.order_totals(lines)
    assert (totals.subtotal.cents, totals.shipping.cents, totals.total.cents) == (
        subtotal,
        shipping,
        subtotal + shipping,
    )
    assert rules.shipping_cents(rules.FREE_SHIPPING_FROM_CENTS - 1) == rules.SHIPPING_CENTS > 0


# --------------------------------------------------------------------------- return eligibility


def test_the_return_window_includes_its_last_moment_and_not_one_second_more():
    closes = DELIVERED + rules.RETURN_WINDOW
    assert closes == DELIVERED + timedelta(days=30)
    last = rules.return_eligibility(order(), now=closes)
    assert last.returnable and last.refusal is None and last.window_closes_at == closes
    assert [line.left for line in last.lines] == [2, 1]
    late = rules.return_eligibility(order(), now=closes + timedelta(seconds=1))
    assert not late.returnable
    assert late.why_not == late.refusal
    assert late.refusal.code == "window_closed"
    assert late.refusal.params == {"delivered_at": DELIVERED, "closed_at": closes, "days": 30}
    assert all(line.refusal == late.refusal and line.left == 0 for line in late.lines)


@pytest.mark.parametrize(
    ("made", "code"),
    [
        ({"fulfilment": "in_store", "status": "completed", "delivered_at": None}, "bought_in_store"),
        ({"status": "shipped", "delivered_at": None}, "not_delivered"),
        ({"status": "reserved", "delivered_at": None}, "not_delivered"),
    ],
)
def test_an_order_that_is_not_an_online_delivered_one_says_why(made, code):
    eligibility = rules.return_eligibility(order(**made), now=DELIVERED)
    assert not eligibility.returnable and eligibility.why_not.code == code
    assert all(not line.returnable and line.refusal.code == code for line in eligibility.lines)


def test_each_line_says_how_many_are_left_and_why_none_are():
    partly = order(status="partially_returned", lines=((2, 1, 29_95), (1, 1, 89_95), (3, 0, 9_95)))
    eligibility = rules.return_eligibility(partly, now=DELIVERED + timedelta(days=3), waiting={3: 3})
    first, second, third = eligibility.lines
    assert (first.left, first.returnable) == (1, True)
    assert (second.left, second.refusal) == (0, rules.Refusal("nothing_left", {"quantity": 1}))
    assert (third.left, third.refusal) == (0, rules.Refusal("return_waiting", {"waiting": 3}))
    assert eligibility.returnable and eligibility.why_not is None


def test_a_fully_returned_order_says_nothing_is_left():
    done = order(status="returned", lines=((1, 1, 29_95),))
    eligibility = rules.return_eligibility(done, now=DELIVERED)
    assert not eligibility.returnable and eligibility.why_not.code == "nothing_left"


def request(line_no: int, quantity: int) -> ReturnLineRequest:
    return ReturnLineRequest(line_no=line_no, quantity=quantity, reason="too_small", condition="resellable")


def test_a_return_request_is_refused_for_the_first_reason_found():
    eligibility = rules.return_eligibility(order(), now=DELIVERED)
    assert rules.refuse_return(eligibility, [request(1, 2), request(2, 1)]) is None
    assert rules.refuse_return(eligibility, [request(1, 3)]) == rules.Refusal(
        "too_many", {"line_no": 1, "left": 2, "requested": 3}
    )
    assert rules.refuse_return(eligibility, [request(9, 1)]).params == {"line_no": 9, "twice": False}
    assert rules.refuse_return(eligibility, [request(1, 1), request(1, 1)]).params == {"line_no": 1, "twice": True}
    closed = rules.return_eligibility(order(), now=DELIVERED + timedelta(days=31))
    assert rules.refuse_return(closed, [request(1, 1)]).code == "window_closed"


def test_a_refund_is_what_was_paid_for_the_items_returned():
    bought = order()
    assert rules.line_refund(bought.lines[0], 2) == eur(59_90)
    assert rules.refund(bought, {1: 1, 2: 1}) == eur(119_90)
    assert rules.refund(bought, {}) == eur(0)


# --------------------------------------------------------------------------- postcodes


@pytest.mark.parametrize(
    ("typed", "postcode"),
    [
        ("1012ab", "1012 AB"),
        (" 3511 LX ", "3511 LX"),
        ("9999 zz", "9999 ZZ"),
        ("0123 AB", None),  # no postcode starts with 0
        ("1012 SA", None),  # SA, SD and SS are never issued
        ("1012 sd", None),
        ("1012SS", None),
        ("1012", None),
        ("1012 A", None),
        ("10123 AB", None),
        ("", None),
    ],
)
def test_dutch_postcodes_are_checked_and_written_the_dutch_way(typed, postcode):
    assert rules.dutch_postcode(typed) == postcode


# --------------------------------------------------------------------------- product search


def test_a_product_is_found_by_every_word_typed_in_its_style_name_category_or_colour():
    coat = Product.model_validate(
        {
            "style": "CT01",
            "name": "Wool Coat",
            "category": "coats",
            "description": "Warm.",
            "variants": [
                {"sku": f"CT01-{c[:3].upper()}-{s}", "gtin": "87123450000" + str(i), "colour": c, "size": s}
                | {"price": eur(129_95)}
                for i, (c, s) in enumerate([("Navy", "M"), ("Navy", "L"), ("Camel", "M")])
            ],
            "updated_at": DELIVERED,
        }
    )
    text = rules.product_search_text(coat)
    assert text == "ct01 wool coat coats navy camel"
    assert rules.product_matches(text, rules.product_search_words("  Navy   COAT "))
    assert rules.product_matches(text, rules.product_search_words("ct01 cam"))
    assert not rules.product_matches(text, rules.product_search_words("navy sneakers"))
    assert rules.product_search_words("   ") == []


# --------------------------------------------------------------------------- promotions and tiers

WEEK_START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


def a_promotion(promotion_id: str, percent: int, **fields) -> Promotion:
    return Promotion.model_validate(
        {
            "id": promotion_id,
            "name": promotion_id,
            "percent_off": percent,
            "starts_at": WEEK_START,
            "ends_at": WEEK_START + timedelta(days=7),
            "updated_at": WEEK_START,
            **fields,
        }
    )


TROUSERS = Product.model_validate(
    {
        "style": "TR01",
        "name": "Chino",
        "category": "trousers",
        "description": "",
        "variants": [{"sku": "TR01-BLK-32", "gtin": "8712345000017", "colour": "Black", "size": "32",
                      "price": {"cents": 39_95, "currency": "EUR"}}],
        "updated_at": WEEK_START,
    }
)  # fmt: skip


@pytest.mark.parametrize(
    ("moment", "channel", "expected_cents", "expected_promotion"),
    [
        (WEEK_START, "store", 31_96, "P-20"),  # 39.95 less 20 % = 31.96
        (WEEK_START - timedelta(seconds=1), "store", 39_95, None),  # a second before it starts
        (WEEK_START + timedelta(days=7), "store", 39_95, None),  # at its end it is over
        (WEEK_START + timedelta(days=7, seconds=-1), "store", 31_96, "P-20"),
        (WEEK_START, "web", 19_98, "P-WEB"),  # the web's own 50 % (19.975 rounds up) is the better one there
    ],
)
def test_a_line_takes_the_best_promotion_that_holds_in_its_channel_at_that_moment(
    moment, channel, expected_cents, expected_promotion
):
    offers = [
        a_promotion("P-20", 20, categories=["trousers"]),
        a_promotion("P-WEB", 50, categories=["trousers"], channels=["web"]),
        a_promotion("P-COATS", 40, categories=["coats"]),
        a_promotion("P-SKU", 10, skus=["TR01-BLK-32"]),  # also holds, but 10 % < 20 %: promotions never stack
    ]
    priced = rules.unit_price(TROUSERS, "TR01-BLK-32", offers, channel=channel, now=moment)
    assert priced.price.cents == expected_cents and priced.list_price.cents == 39_95
    assert (priced.promotion.id if priced.promotion else None) == expected_promotion


def test_a_gold_member_ships_free_below_the_threshold_and_a_silver_one_pays():
    for tier, shipping, reason in (
        ("gold", 0, "tier"),
        ("platinum", 0, "tier"),
        ("silver", 4_95, None),
        (None, 4_95, None),
    ):
        order = rules.price_order([(TROUSERS, "TR01-BLK-32", 1)], [], tier=tier, channel="store", now=WEEK_START)
        assert (order.totals.shipping.cents, order.free_shipping) == (shipping, reason)
        assert order.totals.total.cents == 39_95 + shipping
    big = rules.price_order([(TROUSERS, "TR01-BLK-32", 2)], [], tier="silver", channel="store", now=WEEK_START)
    assert (big.totals.shipping.cents, big.free_shipping) == (0, "threshold")  # 79.90 reaches the threshold
