"""The customer at a glance (issue 14): what she spent less what she returned, when she last bought and last came
into a store, the store she buys most in, the names behind the codes, and the next date she shared; worked out on
the device from the cache, so it holds offline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from clienteling.contract import Customer, Order
from clienteling.device.views import profile_glance
from clienteling.ui import i18n

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def customer(**changes) -> Customer:
    return Customer.model_validate(
        {
            "id": "C0000001", "first_name": "Sanne", "last_name": "de Vries", "email": "s@example.com",
            "phone": "+31683992408", "home_store": "AMS01", "card_number": "2700000000014", "tier": "gold",
            "points": 10, "consent": {"marketing": True, "profiling": True, "updated_at": NOW}, "addresses": [],
            "sizes": {"tops": "M", "trousers": "31", "shoes": "39"}, "created_at": NOW, "updated_at": NOW,
            **changes,
        }
    )  # fmt: skip


def order(number: int, days_ago: int, channel: str, store: str | None, cents: int, qty: int, returned: int = 0,
          status: str = "completed") -> Order:  # fmt: skip
    at = NOW - timedelta(days=days_ago)
    return Order.model_validate(
        {
            "number": f"ORD-{number:08d}", "customer_id": "C0000001", "channel": channel,
            "fulfilment": "in_store" if channel == "store" else "delivery", "store": store, "status": status,
            "status_history": [{"status": status, "at": at}],
            "lines": [{"line_no": 1, "sku": "CT01-NVY-M", "name": "Coat", "colour": "navy", "size": "M",
                       "quantity": qty, "unit_price": {"cents": cents}, "returned_quantity": returned}],
            "totals": {"subtotal": {"cents": cents * qty}, "shipping": {"cents": 0}, "total": {"cents": cents * qty}},
            "created_at": at, "updated_at": at,
        }
    )  # fmt: skip


def test_spend_is_net_of_returns_and_cancellations_and_the_favourite_store_is_where_she_buys_most():
    orders = [
        order(1, 3, "web", None, 100_00, 2, returned=1),  # 100.00 kept
        order(2, 10, "store", "UTR01", 50_00, 1),
        order(3, 40, "store", "AMS01", 20_00, 1),
        order(4, 50, "store", "AMS01", 30_00, 1),
        order(5, 1, "web", None, 999_00, 1, status="cancelled"),  # never counts
    ]
    names = {"AMS01": "Amsterdam Kalverstraat", "UTR01": "Utrecht Oudegracht"}
    glance = profile_glance(customer(preferred_associate="S0001"), orders, names, {"S0001": "Lotte Visser"}, NOW.date())
    assert glance.lifetime_spend.cents == 100_00 + 50_00 + 20_00 + 30_00 and glance.orders == 4
    assert glance.last_purchase == NOW - timedelta(days=3)  # the web order
    assert glance.last_visit == NOW - timedelta(days=10)  # her last purchase in a store
    assert (glance.favourite_store, glance.favourite_store_name) == ("AMS01", "Amsterdam Kalverstraat")
    assert glance.home_store_name == "Amsterdam Kalverstraat"
    assert glance.preferred_associate_name == "Lotte Visser"


def test_a_customer_who_never_bought_in_a_store_has_no_favourite_and_an_unknown_associate_shows_by_id():
    glance = profile_glance(
        customer(preferred_associate="S0099"), [order(1, 3, "web", None, 10_00, 1)], {}, {}, NOW.date()
    )
    assert (glance.last_visit, glance.favourite_store, glance.favourite_store_name) == (None, None, None)
    assert glance.home_store_name == "AMS01" and glance.preferred_associate_name == "S0099"


def test_the_next_shared_date_comes_round_after_the_year_turns():
    dates = [{"kind": "birthday", "month_day": "03-14"}, {"kind": "other", "month_day": "12-02", "label": "wedding"}]
    glance = profile_glance(customer(key_dates=dates), [], {}, {}, date(2026, 11, 30))
    assert (glance.next_key_date.label, glance.days_to_key_date) == ("wedding", 2)
    later = profile_glance(customer(key_dates=dates), [], {}, {}, date(2026, 12, 3))
    assert (later.next_key_date.kind, later.days_to_key_date) == ("birthday", 101)  # 14 March 2027
    today = profile_glance(
        customer(key_dates=[{"kind": "birthday", "month_day": "02-29"}]), [], {}, {}, date(2027, 2, 28)
    )
    assert today.days_to_key_date == 0  # 29 February is kept on the 28th in a year without it


def test_phone_numbers_and_dates_are_written_as_people_write_them():
    assert i18n.phone("+31683992408") == "06 83992408"
    assert i18n.phone("+442071234567") == "+44 20 7123 4567"
    assert i18n.phone("not a number") == "not a number" and i18n.phone(None) == ""
    assert (i18n.month_day("en", "03-14"), i18n.month_day("nl", "03-14")) == ("14 March", "14 maart")
