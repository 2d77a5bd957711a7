"""Pick up where the other channel left off (issue 15): from a customer's recent touchpoints, the last thing she did in
any channel and the stage of her journey it points to, each as a code with parameters that the screen words
(clienteling.ui.journey_words). No I/O and no clock of its own: the device gathers the facts and gives `now`.

Touchpoints read: what she did online (`Activity`, from the retailer's systems), her wishlist (`added_at`), her
orders (online and in store: an in-store order is a store visit) with their status history (a return is a change to
`returned` or `partially_returned`), and her conversations with customer service. Profile views are not on the
device and are not used.

## The last thing she did

The latest of: every activity; every wishlist item added; every order placed (`ordered`, with its channel: web, app,
or store); every return (`returned`); the last message she wrote in a conversation (`wrote`, with the chat's channel
and its subject). Ties go to the activity (the more specific). An activity of a kind this version does not know
(`contract.ACTIVITY_KINDS`) is still her last action, worded as "was active online".

## The stage, and why

Stages, in the order of a purchase: inspiration, information, planning, buying, service, sharing.

1. **Service comes first**, whatever else she did: an open conversation with customer service in which she wrote
   (`open_conversation`: its subject and channel; the most recently updated one; a store's message to her that she
   has not answered is not one), or a return in the last 7 days
   (`returned`: the product).
2. Otherwise every rule below that holds gives a candidate with the moment of its latest touchpoint; **the latest
   candidate wins** (a tie goes to the later stage). Inspiration is only the fallback, so one stray product view does
   not take her back from planning.
   - sharing: a review (`reviewed`) or a product shared on social media (`shared`) in the last 30 days;
   - buying: something put in the basket in the last 7 days and neither ordered nor taken out since (`in_cart`);
     an order placed, online or in store, in the last 7 days (`ordered`);
   - planning: something put on the wishlist in the last 14 days and not ordered since (`wishlisted`);
   - information: a question to the chatbot in the last 7 days (`asked`); 3 or more products of one category
     viewed in the last 7 days, none of them ordered since (`compared`: how many and the category); one product
     viewed 2 or more times in the last 7 days and not ordered since (`viewed_again`); a search in the last 7 days
     (`searched`);
3. Inspiration when nothing above holds: product views in the last 30 days (`browsing`: how many), other online
   activity in the last 30 days (`active_online`), or nothing online in the last 30 days at all (`quiet`).

Activities of kinds this version does not know count only towards `active_online`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clienteling.contract import ACTIVITY_KINDS, Activity, Conversation, Order, WishlistItem
from clienteling.suggest import style_of

STAGES = ("inspiration", "information", "planning", "buying", "service", "sharing")
WEEK = timedelta(days=7)
FORTNIGHT = timedelta(days=14)
MONTH = timedelta(days=30)
COMPARED = 3
"""Products of one category viewed in a week that make her compare (`compared`)."""
VIEWED_AGAIN = 2
"""Views of one product in a week that make her look into it (`viewed_again`)."""
RETURN_STATUSES = ("returned", "partially_returned")


@dataclass(frozen=True)
class Product:
    """What the journey needs of a product: its name and category (from the catalogue, by style)."""

    name: str
    category: str


@dataclass(frozen=True)
class LastAction:
    """The last thing she did: `kind` (an activity kind, or `ordered`, `returned`, `wrote`), `channel` (web, app,
    chatbot, social, email, store, a chat's channel, or None when unknown), when, and about what."""

    kind: str
    channel: str | None
    at: datetime
    product: str | None = None  # the product's name (or its style, where the catalogue does not know it)
    text: str | None = None  # what she searched, asked or wrote (a chat: its subject)
    store: str | None = None  # the store of an in-store order

    @property
    def known(self) -> bool:
        """Whether the app has words of its own for this kind (otherwise: "was active online")."""
        return self.kind in ACTIVITY_KINDS or self.kind in ("ordered", "returned", "wrote")


@dataclass(frozen=True)
class Stage:
    """A stage of her journey, and why: `reason` a code the screen words with `params` (see the module docstring)."""

    stage: str
    reason: str
    params: dict[str, object] = field(default_factory=dict)
    at: datetime | None = None  # the latest touchpoint behind it


@dataclass(frozen=True)
class Journey:
    last: LastAction | None
    stage: Stage

    @property
    def service_first(self) -> bool:
        """Whether selling yields to service (an open conversation, a return this week)."""
        return self.stage.stage == "service"


def _name(style: str | None, products: Mapping[str, Product]) -> str | None:
    if style is None:
        return None
    known = products.get(style)
    return known.name if known else style


def _activity_style(activity: Activity) -> str | None:
    return activity.style or (style_of(activity.sku) if activity.sku else None)


def _returns(orders: Iterable[Order]) -> list[tuple[datetime, Order]]:
    """Every return of her orders: (when, the order)."""
    return [
        (change.at, order) for order in orders for change in order.status_history if change.status in RETURN_STATUSES
    ]


def _returned_name(order: Order) -> str:
    line = next((line for line in order.lines if line.returned_quantity > 0), order.lines[0])
    return line.name


def last_action(
    activities: Iterable[Activity],
    wishlist: Iterable[WishlistItem],
    orders: Iterable[Order],
    conversations: Iterable[Conversation],
    products: Mapping[str, Product],
) -> LastAction | None:
    """The last thing she did in any channel (see the module docstring), or None when nothing is known."""
    candidates: list[tuple[datetime, int, LastAction]] = []  # the middle number: activities win a tie
    for a in activities:
        candidates.append((a.at, 1, LastAction(a.kind, a.channel, a.at, _name(_activity_style(a), products), a.text)))
    for item in wishlist:
        candidates.append(
            (item.added_at, 0, LastAction("wishlist_add", None, item.added_at, _name(item.style, products)))
        )
    orders = list(orders)
    for order in orders:
        candidates.append(
            (
                order.created_at,
                0,
                LastAction("ordered", order.channel, order.created_at, order.lines[0].name, store=order.store),
            )
        )
    for at, order in _returns(orders):
        candidates.append((at, 0, LastAction("returned", order.channel, at, _returned_name(order))))
    for chat in conversations:
        hers = [m for m in chat.messages if m.author == "customer"]
        if hers:
            at = max(m.at for m in hers)
            candidates.append((at, 0, LastAction("wrote", chat.channel, at, text=chat.subject)))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0], c[1]))[2]


def _ordered_since(style: str, moment: datetime, orders: list[Order]) -> bool:
    return any(
        order.status != "cancelled"
        and order.created_at >= moment
        and any(style_of(line.sku) == style for line in order.lines)
        for order in orders
    )


def stage(
    activities: Iterable[Activity],
    wishlist: Iterable[WishlistItem],
    orders: Iterable[Order],
    conversations: Iterable[Conversation],
    products: Mapping[str, Product],
    now: datetime,
) -> Stage:
    """The stage of her journey at `now`, and why (see the module docstring for the rules and their precedence)."""
    activities = sorted(activities, key=lambda a: a.at)
    orders = list(orders)
    # 1. service first
    open_chats = [c for c in conversations if c.status == "open" and _she_spoke(c)]
    if open_chats:
        chat = max(open_chats, key=lambda c: c.updated_at)
        return Stage(
            "service", "open_conversation", {"subject": chat.subject, "channel": chat.channel}, chat.updated_at
        )
    recent_returns = [(at, order) for at, order in _returns(orders) if now - at <= WEEK]
    if recent_returns:
        at, order = max(recent_returns, key=lambda pair: pair[0])
        return Stage("service", "returned", {"product": _returned_name(order), "at": at}, at)

    candidates: list[Stage] = []
    week = [a for a in activities if now - a.at <= WEEK]
    month = [a for a in activities if now - a.at <= MONTH]
    # sharing
    for a in month:
        if a.kind in ("review", "social_share"):
            reason = "reviewed" if a.kind == "review" else "shared"
            candidates.append(Stage("sharing", reason, {"product": _name(_activity_style(a), products)}, a.at))
    # buying
    for a in week:
        style = _activity_style(a)
        if a.kind != "cart_add" or style is None or _ordered_since(style, a.at, orders):
            continue
        taken_out = any(b.kind == "cart_remove" and _activity_style(b) == style and b.at >= a.at for b in activities)
        if not taken_out:
            candidates.append(Stage("buying", "in_cart", {"product": _name(style, products)}, a.at))
    for order in orders:
        if order.status != "cancelled" and now - order.created_at <= WEEK:
            candidates.append(
                Stage(
                    "buying",
                    "ordered",
                    {"product": order.lines[0].name, "channel": order.channel, "store": order.store,
                     "at": order.created_at},
                    order.created_at,
                )
            )  # fmt: skip
    # planning
    wished = [(item.added_at, item.style) for item in wishlist]
    wished += [(a.at, _activity_style(a)) for a in activities if a.kind == "wishlist_add"]
    for at, style in wished:
        if style is None or now - at > FORTNIGHT or _ordered_since(style, at, orders):
            continue
        removed = any(b.kind == "wishlist_remove" and _activity_style(b) == style and b.at >= at for b in activities)
        if not removed:
            candidates.append(Stage("planning", "wishlisted", {"product": _name(style, products), "at": at}, at))
    # information
    for a in week:
        if a.kind == "chatbot_question":
            candidates.append(
                Stage("information", "asked", {"product": _name(_activity_style(a), products), "text": a.text}, a.at)
            )
        elif a.kind == "search" and a.text:
            candidates.append(Stage("information", "searched", {"text": a.text}, a.at))
    views: dict[str, list[datetime]] = {}
    for a in week:
        style = _activity_style(a)
        if a.kind == "product_view" and style is not None and not _ordered_since(style, a.at, orders):
            views.setdefault(style, []).append(a.at)
    for style, moments in views.items():
        if len(moments) >= VIEWED_AGAIN:
            candidates.append(
                Stage(
                    "information", "viewed_again", {"product": _name(style, products), "n": len(moments)}, max(moments)
                )
            )
    by_category: dict[str, list[str]] = {}
    for style in views:
        known = products.get(style)
        if known is not None:
            by_category.setdefault(known.category, []).append(style)
    for category, styles in by_category.items():
        if len(styles) >= COMPARED:
            latest = max(max(views[s]) for s in styles)
            candidates.append(Stage("information", "compared", {"n": len(styles), "category": category}, latest))
    if candidates:
        return max(candidates, key=lambda c: (c.at, STAGES.index(c.stage)))
    # 3. inspiration
    viewed = [a for a in month if a.kind == "product_view"]
    if viewed:
        return Stage("inspiration", "browsing", {"n": len(viewed)}, viewed[-1].at)
    if month:
        return Stage("inspiration", "active_online", {}, month[-1].at)
    return Stage("inspiration", "quiet", {"days": MONTH.days}, None)


def journey(
    activities: Iterable[Activity],
    wishlist: Iterable[WishlistItem],
    orders: Iterable[Order],
    conversations: Iterable[Conversation],
    products: Mapping[str, Product],
    now: datetime,
) -> Journey:
    """Her last action and her stage (see the module docstring)."""
    activities, wishlist, orders, conversations = list(activities), list(wishlist), list(orders), list(conversations)
    return Journey(
        last_action(activities, wishlist, orders, conversations, products),
        stage(activities, wishlist, orders, conversations, products, now),
    )


def styles_of(activities: Iterable[Activity], wishlist: Iterable[WishlistItem]) -> list[str]:
    """The styles whose names and categories the journey needs (orders carry their own names)."""
    found = {_activity_style(a) for a in activities} | {item.style for item in wishlist}
    return sorted(s for s in found if s)


def _she_spoke(conversation: Conversation) -> bool:
    """Whether she wrote in a conversation: one a store began with a message to her (issue 14's outreach) and she has
    not answered is not a question of hers waiting for service."""
    return any(m.author == "customer" for m in conversation.messages)
