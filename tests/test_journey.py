"""Pick up where the other channel left off (issue 15), below the screen: the last thing she did and her journey's stage
(clienteling.journey), their words in both languages (clienteling.ui.journey_words), and suggestions that yield to
service. Pure functions: no centre, no device, no browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clienteling import journey, suggest
from clienteling.contract import Activity, Conversation, Customer, Order, Product, WishlistItem
from clienteling.journey import Stage
from clienteling.ui import journey_words

NOW = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
PRODUCTS = {
    "CT01": journey.Product("Harbour wool coat", "coats"),
    "CT02": journey.Product("Dune trench", "coats"),
    "CT03": journey.Product("Polder parka", "coats"),
    "CT04": journey.Product("Dijk duffle", "coats"),
    "KN01": journey.Product("Marram knit", "knitwear"),
}
_ids = iter(range(1, 10_000))


def act(kind: str, ago: timedelta, style: str | None = "CT01", channel: str = "web", text: str | None = None):
    return Activity(
        id=f"A{next(_ids)}",
        customer_id="C0000001",
        channel=channel,
        kind=kind,
        sku=f"{style}-NVY-M" if style else None,
        style=style,
        text=text,
        at=NOW - ago,
    )


def wish(style: str, ago: timedelta) -> WishlistItem:
    return WishlistItem(
        id=f"C0000001:{style}-NVY-M", customer_id="C0000001", style=style, sku=f"{style}-NVY-M", added_at=NOW - ago
    )


def order(style: str, ago: timedelta, *, channel: str = "web", returned: timedelta | None = None, status="delivered"):
    created = NOW - ago
    history = [{"status": "placed", "at": created}, {"status": status, "at": created + timedelta(hours=30)}]
    line = {
        "line_no": 1,
        "sku": f"{style}-NVY-M",
        "name": PRODUCTS[style].name,
        "colour": "navy",
        "size": "M",
        "quantity": 1,
        "unit_price": {"cents": 24995, "currency": "EUR"},
    }
    if returned is not None:
        status = "returned"
        line["returned_quantity"] = 1
        history.append({"status": "returned", "at": NOW - returned})
    money = {"cents": 24995, "currency": "EUR"}
    return Order.model_validate(
        {
            "number": f"ORD-{next(_ids):08d}",
            "customer_id": "C0000001",
            "channel": channel,
            "fulfilment": "in_store" if channel == "store" else "delivery",
            "store": "AMS01" if channel == "store" else None,
            "status": status,
            "status_history": history,
            "lines": [line],
            "totals": {"subtotal": money, "shipping": {"cents": 0, "currency": "EUR"}, "total": money},
            "created_at": created,
            "updated_at": created,
        }
    )


def chat(status: str, ago: timedelta, subject: str = "My parcel is late") -> Conversation:
    return Conversation(
        id=f"CV{next(_ids):07d}",
        customer_id="C0000001",
        channel="email",
        subject=subject,
        status=status,
        messages=[{"author": "customer", "text": "Where is it?", "at": NOW - ago}],
        started_at=NOW - ago,
        updated_at=NOW - ago,
    )


def stage_of(activities=(), wishlist=(), orders=(), chats=()) -> Stage:
    return journey.stage(activities, wishlist, orders, chats, PRODUCTS, NOW)


# ------------------------------------------------------------------ every stage


def test_nothing_recent_is_inspiration_quiet_and_no_last_action() -> None:
    assert stage_of() == Stage("inspiration", "quiet", {"days": 30}, None)
    assert journey.last_action([], [], [], [], PRODUCTS) is None
    # older than a month counts for nothing
    assert stage_of([act("product_view", 40 * DAY)]).reason == "quiet"


def test_a_few_scattered_views_are_inspiration() -> None:
    found = stage_of([act("product_view", 20 * DAY, "CT01"), act("product_view", 10 * DAY, "KN01")])
    assert (found.stage, found.reason, found.params) == ("inspiration", "browsing", {"n": 2})


def test_information_one_product_viewed_again_not_bought() -> None:
    views = [act("product_view", 3 * DAY), act("product_view", DAY, channel="app")]
    found = stage_of(views)
    assert (found.stage, found.reason, found.params) == (
        "information",
        "viewed_again",
        {"product": "Harbour wool coat", "n": 2},
    )
    # bought since: no longer something she is finding out about
    assert stage_of(views, orders=[order("CT01", timedelta(hours=2))]).stage == "buying"


def test_information_four_coats_this_week_none_bought() -> None:
    views = [act("product_view", d * DAY, style) for d, style in ((1, "CT01"), (2, "CT02"), (3, "CT03"), (4, "CT04"))]
    found = stage_of(views)
    assert (found.stage, found.reason, found.params) == ("information", "compared", {"n": 4, "category": "coats"})
    assert found.at == NOW - DAY


def test_information_a_question_to_the_chatbot_and_a_search() -> None:
    asked = stage_of([act("chatbot_question", DAY, channel="chatbot", text="Does it run small?")])
    assert (asked.stage, asked.reason, asked.params["product"]) == ("information", "asked", "Harbour wool coat")
    searched = stage_of([act("search", 2 * DAY, None, text="wool coat")])
    assert (searched.stage, searched.reason, searched.params) == ("information", "searched", {"text": "wool coat"})


def test_planning_something_put_on_the_wishlist_lately_and_not_bought() -> None:
    found = stage_of(wishlist=[wish("KN01", 3 * DAY)])
    assert (found.stage, found.reason, found.params["product"]) == ("planning", "wishlisted", "Marram knit")
    assert stage_of(wishlist=[wish("KN01", 20 * DAY)]).stage == "inspiration"  # too long ago
    # taken off again online
    assert stage_of([act("wishlist_add", 3 * DAY, "KN01"), act("wishlist_remove", 2 * DAY, "KN01")]).stage == (
        "inspiration"
    )


def test_buying_in_the_basket_not_ordered_and_an_order_this_week() -> None:
    found = stage_of([act("cart_add", DAY)])
    assert (found.stage, found.reason, found.params) == ("buying", "in_cart", {"product": "Harbour wool coat"})
    assert stage_of([act("cart_add", 2 * DAY), act("cart_remove", DAY)]).reason == "active_online"
    ordered = stage_of([act("cart_add", 2 * DAY)], orders=[order("CT01", DAY)])
    assert (ordered.stage, ordered.reason) == ("buying", "ordered")
    in_store = stage_of(orders=[order("KN01", 2 * DAY, channel="store")])
    assert (in_store.stage, in_store.params["channel"], in_store.params["store"]) == ("buying", "store", "AMS01")
    assert stage_of(orders=[order("KN01", 9 * DAY)]).stage == "inspiration"  # a purchase older than a week


def test_service_an_open_conversation_or_a_return_this_week() -> None:
    found = stage_of(chats=[chat("open", 2 * DAY, "Late delivery of ORD-00000012")])
    assert (found.stage, found.reason, found.params) == (
        "service",
        "open_conversation",
        {"subject": "Late delivery of ORD-00000012", "channel": "email"},
    )
    assert stage_of(chats=[chat("closed", 2 * DAY)]).stage == "inspiration"
    returned = stage_of(orders=[order("CT02", 40 * DAY, returned=2 * DAY)])
    assert (returned.stage, returned.reason, returned.params["product"]) == ("service", "returned", "Dune trench")
    assert stage_of(orders=[order("CT02", 40 * DAY, returned=9 * DAY)]).stage == "inspiration"


def test_sharing_a_review_or_a_share() -> None:
    found = stage_of([act("review", DAY, "KN01", text="Lovely and warm")])
    assert (found.stage, found.reason, found.params) == ("sharing", "reviewed", {"product": "Marram knit"})
    assert stage_of([act("social_share", DAY, "KN01", channel="social")]).reason == "shared"


# ------------------------------------------------------------------ precedence


def test_service_comes_first_whatever_happened_later() -> None:
    later = [act("cart_add", timedelta(hours=1)), act("review", timedelta(minutes=30), "KN01")]
    found = stage_of(later, [wish("CT01", DAY)], [order("KN01", DAY)], [chat("open", 6 * DAY)])
    assert found.stage == "service" and found.reason == "open_conversation"


def test_the_latest_signal_wins_and_a_stray_view_does_not_take_her_back() -> None:
    # wishlisted two days ago, asked the chatbot yesterday: information (the latest)
    assert stage_of([act("chatbot_question", DAY, text="?")], [wish("CT01", 2 * DAY)]).stage == "information"
    # asked the chatbot two days ago, wishlisted yesterday: planning
    assert stage_of([act("chatbot_question", 2 * DAY, text="?")], [wish("CT01", DAY)]).stage == "planning"
    # one look at something else today: still planning (inspiration is only the fallback)
    assert stage_of([act("product_view", timedelta(hours=1), "KN01")], [wish("CT01", DAY)]).stage == "planning"
    # bought, then reviewed: sharing
    assert stage_of([act("review", DAY, "KN01")], orders=[order("KN01", 3 * DAY)]).stage == "sharing"
    # a tie goes to the later stage
    tie = [act("chatbot_question", DAY, text="?"), act("cart_add", DAY)]
    tie[1] = tie[1].model_copy(update={"at": tie[0].at})
    assert stage_of(tie).stage == "buying"


def test_a_kind_this_version_does_not_know_is_read_and_weighs_nothing() -> None:
    future = Activity.model_validate(
        {"id": "X1", "customer_id": "C0000001", "channel": "metaverse", "kind": "try_on_virtually",
         "at": (NOW - DAY).isoformat(), "brand_new_field": 1}
    )  # fmt: skip
    assert stage_of([future]) == Stage("inspiration", "active_online", {}, NOW - DAY)
    last = journey.last_action([future], [], [], [], PRODUCTS)
    assert last is not None and last.kind == "try_on_virtually" and not last.known
    assert journey_words.last_line("en", last, NOW) == "Was active online via metaverse yesterday"
    assert journey_words.last_line("nl", last, NOW) == "Was gisteren online actief via metaverse"
    with pytest.raises(ValueError):  # but a kind is a word, not any text
        Activity.model_validate({**future.model_dump(mode="json"), "kind": "Try On!"})


# ------------------------------------------------------------------ the last thing she did


def test_the_last_action_is_the_latest_touchpoint_in_any_channel() -> None:
    question = act("chatbot_question", DAY, channel="chatbot", text="Does the Harbour coat run small?")
    last = journey.last_action(
        [act("product_view", 3 * DAY), question],
        [wish("KN01", 2 * DAY)],
        [order("CT02", 5 * DAY)],
        [chat("closed", 4 * DAY)],
        PRODUCTS,
    )
    assert (last.kind, last.channel, last.at, last.product, last.text) == (
        "chatbot_question", "chatbot", NOW - DAY, "Harbour wool coat", "Does the Harbour coat run small?"
    )  # fmt: skip
    assert journey_words.last_line("en", last, NOW) == "Asked the chatbot yesterday: “Does the Harbour coat run small?”"
    assert (
        journey_words.last_line("nl", last, NOW) == "Vroeg gisteren aan de chatbot: “Does the Harbour coat run small?”"
    )
    in_store = journey.last_action([], [], [order("KN01", 2 * DAY, channel="store")], [], PRODUCTS)
    assert (
        journey_words.last_line("en", in_store, NOW, {"AMS01": "Amsterdam"})
        == "Bought Marram knit in Amsterdam on Saturday"
    )
    assert (
        journey_words.last_line("nl", in_store, NOW, {"AMS01": "Amsterdam"})
        == "Kocht op zaterdag Marram knit in Amsterdam"
    )
    returned = journey.last_action([], [], [order("CT02", 40 * DAY, returned=9 * DAY)], [], PRODUCTS)
    assert returned.kind == "returned"
    assert journey_words.last_line("en", returned, NOW) == "Returned Dune trench on 21 November"
    wrote = journey.last_action([], [], [], [chat("open", timedelta(hours=2))], PRODUCTS)
    assert journey_words.last_line("en", wrote, NOW) == "Wrote to customer service in an email today: My parcel is late"


def test_every_reason_is_worded_in_both_languages() -> None:
    stages = [
        Stage("service", "open_conversation", {"subject": "Late delivery", "channel": "email"}),
        Stage("service", "returned", {"product": "Dune trench", "at": NOW - DAY}),
        Stage("sharing", "reviewed", {"product": "Marram knit"}),
        Stage("sharing", "shared", {"product": None}),
        Stage("buying", "in_cart", {"product": "Harbour wool coat"}),
        Stage("buying", "ordered", {"product": "Marram knit", "channel": "web", "store": None, "at": NOW}),
        Stage("planning", "wishlisted", {"product": "Marram knit", "at": NOW - 3 * DAY}),
        Stage("information", "asked", {"product": "Harbour wool coat", "text": "?"}),
        Stage("information", "asked", {"product": None, "text": "?"}),
        Stage("information", "searched", {"text": "wool coat"}),
        Stage("information", "compared", {"n": 4, "category": "coats"}),
        Stage("information", "viewed_again", {"product": "Harbour wool coat", "n": 2}),
        Stage("inspiration", "browsing", {"n": 1}),
        Stage("inspiration", "active_online", {}),
        Stage("inspiration", "quiet", {"days": 30}),
    ]
    for found in stages:
        en, nl = (journey_words.stage_line(lang, found, NOW) for lang in ("en", "nl"))
        assert en != nl and "{" not in en + nl and "journey_" not in en + nl, (en, nl)
    compared = Stage("information", "compared", {"n": 4, "category": "coats"})
    assert journey_words.stage_line("en", compared, NOW) == "Information · viewed 4 coats this week, none bought"
    assert journey_words.stage_line("nl", compared, NOW) == "Informatie · bekeek deze week 4 jassen, niets gekocht"
    assert (
        journey_words.stage_reason("en", Stage("inspiration", "browsing", {"n": 1}), NOW)
        == "viewed 1 product this month"
    )
    late = Stage("service", "open_conversation", {"subject": "Late delivery", "channel": "email"})
    assert journey_words.service_first("en", late, NOW) == "Service first: open question: Late delivery"
    assert journey_words.service_first("nl", late, NOW) == "Eerst service: open vraag: Late delivery"


# ------------------------------------------------------------------ suggestions respect the stage


def _customer() -> Customer:
    return Customer.model_validate(
        {"id": "C0000001", "card_number": "2700000000014", "first_name": "Sanne", "last_name": "de Vries",
         "email": "s@example.com", "home_store": "AMS01", "tier": "gold", "points": 0, "addresses": [],
         "sizes": {"tops": "M"},
         "consent": {"marketing": True, "profiling": True, "updated_at": NOW.isoformat()},
         "created_at": NOW.isoformat(), "updated_at": NOW.isoformat()}
    )  # fmt: skip


def _product(style: str, category: str) -> Product:
    return Product.model_validate(
        {"style": style, "name": style, "category": category, "description": "", "updated_at": NOW.isoformat(),
         "variants": [{"sku": f"{style}-NVY-M", "gtin": "87123450000" + style[-2:], "colour": "navy", "size": "M",
                       "price": {"cents": 100, "currency": "EUR"}}]}
    )  # fmt: skip


def test_suggestions_yield_to_service_and_never_show_what_was_returned_this_month() -> None:
    coat = _product("CT02", "coats")
    wished = [suggest.WishedItem(coat, "CT02-NVY-M", 2, None)]
    assert [s.reason for s in suggest.suggest(_customer(), wished, [], {}, {}, set(), NOW)] == ["wishlist_here"]
    assert suggest.suggest(_customer(), wished, [], {}, {}, set(), NOW, service_first=True) == []
    # bought 40 days ago, returned 9 days ago: still too soon to show it again
    returned = [order("CT02", 40 * DAY, returned=9 * DAY)]
    assert suggest.suggest(_customer(), wished, returned, {}, {}, set(), NOW) == []
    long_ago = [order("CT02", 80 * DAY, returned=45 * DAY)]
    assert len(suggest.suggest(_customer(), wished, long_ago, {}, {}, set(), NOW)) == 1


# ------------------------------------------------------------------ the screen's controls (no browser)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_customer_screen_shows_the_last_action_and_the_stage_and_service_first(lang) -> None:
    from types import SimpleNamespace

    from test_ui_logic import identifiers

    from clienteling.ui import i18n
    from clienteling.ui.screens import customer

    session = SimpleNamespace(lang=lang, t=lambda key, **values: i18n.tr(lang, key, **values))
    question = act("chatbot_question", timedelta(minutes=5), channel="chatbot", text="Does it run small?")
    her = journey.journey([question], [], [], [], PRODUCTS, datetime.now(UTC))
    picture = SimpleNamespace(journey=her, store_names={}, suggestions=[])
    shown = identifiers([customer.journey_row(session, picture)])
    today = i18n.tr(lang, "journey_today")
    assert today in shown["journey-last"].value and "Does it run small?" in shown["journey-last"].value
    assert set(shown) == {"journey-last", "journey-stage"}
    assert customer.suggestions_card(session, picture, None) is None  # nothing to suggest, no service waiting
    picture.journey = journey.journey([question], [], [], [chat("open", DAY)], PRODUCTS, datetime.now(UTC))
    card = customer.suggestions_card(session, picture, None)
    said = identifiers([card])["suggestions-service-first"].value
    assert said == journey_words.service_first(lang, picture.journey.stage, datetime.now(UTC))
    assert customer.journey_row(session, SimpleNamespace(journey=None)) is None


def test_a_long_question_is_cut_to_fit_one_line() -> None:
    long = act("chatbot_question", DAY, channel="chatbot", text="Is it warm enough " * 20)
    line = journey_words.last_line("en", journey.last_action([long], [], [], [], PRODUCTS), NOW)
    assert line.endswith("…”") and len(line) < 160


def test_a_store_s_message_she_has_not_answered_is_not_service() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def chat(*authors: str) -> Conversation:
        return Conversation.model_validate(
            {
                "id": "CV8000000001",
                "customer_id": "C0000001",
                "channel": "whatsapp",
                "subject": "Back in your size",
                "status": "open",
                "messages": [
                    {"author": a, "text": "…", "at": (now - timedelta(hours=3 - i)).isoformat()}
                    for i, a in enumerate(authors)
                ],
                "started_at": (now - timedelta(hours=3)).isoformat(),
                "updated_at": (now - timedelta(hours=1)).isoformat(),
            }
        )

    assert not journey.journey([], [], [], [chat("agent")], {}, now).service_first  # our message, unanswered
    assert journey.journey([], [], [], [chat("agent", "customer")], {}, now).service_first  # she answered: service
