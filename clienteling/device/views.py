"""What the `Device` hands to screens and scripts: the contract's models, arranged for a person."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from clienteling import rules
from clienteling.contract import (
    Activity,
    Consent,
    Conversation,
    Customer,
    CustomerNote,
    CustomerSummary,
    Dashboard,
    Experience,
    FollowUp,
    KeyDate,
    Money,
    Order,
    Product,
    ProductMatch,
    Variant,
    WishlistItem,
)
from clienteling.journey import Journey
from clienteling.suggest import Suggestion


@dataclass(frozen=True)
class StockPlace:
    """One location's stock of a SKU, with how far away it is and how old the figure is."""

    store: str
    name: str
    city: str
    kind: str  # "store" or "dc"
    distance_km: float
    on_hand: int
    reserved: int
    available: int
    as_of: datetime
    source: str | None = None  # the retailer's system the figure came from; None: the centre itself

    def age_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.as_of).total_seconds())


@dataclass(frozen=True)
class StockView:
    """A SKU's stock: this store first, then the other stores nearest first, then the DC."""

    sku: str
    product: Product | None
    variant: Variant | None
    here: StockPlace | None
    elsewhere: list[StockPlace]

    def nearest_with_stock(self, quantity: int = 1) -> StockPlace | None:
        """Where an order of `quantity` could be fulfilled: here if possible, else the nearest place that has it."""
        for place in ([self.here] if self.here else []) + self.elsewhere:
            if place.available >= quantity:
                return place
        return None


@dataclass(frozen=True)
class ExchangeOption:
    """Another size or colour a returned item may be exchanged for: its stock here and the nearest place elsewhere
    that has it (None: nowhere else)."""

    variant: Variant
    here: StockPlace | None
    nearest: StockPlace | None

    @property
    def available_here(self) -> int:
        return self.here.available if self.here else 0


@dataclass(frozen=True)
class WishlistEntry:
    item: WishlistItem
    product: Product | None
    variant: Variant | None
    stock: StockView


@dataclass(frozen=True)
class Enrolment:
    """A customer enrolled on this device, and where her enrolment stands (`Device.enrolment`).

    `state`: `provisional` (the centre has not answered: `customer_id` is her provisional id, no card yet),
    `enrolled` (a new member: `customer_id` and `card_number` are the centre's), `merged` (her email was a member's
    already: `customer_id`, `card_number` and `member_since` are that member's, and the consent she gave here is sent
    to her as a consent change), `refused` (the centre refused it for another reason: `reason`, `answer`)."""

    provisional_id: str
    state: str
    customer_id: str
    first_name: str
    last_name: str
    email: str
    card_number: str | None
    member_since: datetime | None
    command: LocalCommand
    reason: str | None = None


@dataclass(frozen=True)
class LocalCommand:
    """An order, return, note or profile view made on this device, and what became of it at the centre."""

    command_id: str
    # "ship_to_home", "return", "exchange", "note", "consent", "enrol", "message"; or a background record:
    # "profile_view", "touchpoint", "pulse"
    kind: str
    customer_id: str | None
    state: str  # "waiting", "sent", "attention" or "dismissed"
    body: dict[str, Any]
    answer: dict[str, Any] | None
    reason: str | None
    staff: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def number(self) -> str | None:
        """The order or return number the centre gave, once it has."""
        if self.state == "sent" and self.answer:
            return self.answer.get("number") or self.answer.get("id")
        return None

    @classmethod
    def from_row(cls, row: tuple) -> LocalCommand:
        command_id, kind, customer_id, body, state, answer, reason, staff, created, updated = row
        parsed = None
        if answer:
            try:
                parsed = json.loads(answer)
            except ValueError:
                parsed = {"detail": answer}
        return cls(
            command_id,
            kind,
            customer_id,
            state,
            json.loads(body),
            parsed,
            reason,
            staff,
            datetime.fromisoformat(created),
            datetime.fromisoformat(updated),
        )


@dataclass(frozen=True)
class ProfileGlance:
    """The customer at a glance, worked out from what the cache holds: what they spent (less what they returned),
    when they last bought and last came into a store, the store they buy in most, and the names behind the codes."""

    lifetime_spend: Money
    orders: int
    last_purchase: datetime | None
    last_visit: datetime | None  # their last purchase in a store
    favourite_store: str | None  # where they bought most in a store (most recent on a tie); None: never in a store
    favourite_store_name: str | None
    home_store_name: str
    preferred_associate_name: str | None
    next_key_date: KeyDate | None  # the first shared date from today on (today included)
    days_to_key_date: int | None


def profile_glance(
    customer: Customer, orders: list[Order], store_names: dict[str, str], staff_names: dict[str, str], today: date
) -> ProfileGlance:
    """`ProfileGlance` of `customer` from their orders; names of stores and staff where this device knows them."""
    kept = [o for o in orders if o.status != "cancelled"]
    spend = sum(rules.net_sales_cents(o) for o in kept)
    in_store = [o for o in kept if o.channel == "store" and o.store]
    counts: dict[str, tuple[int, datetime]] = {}
    for order in in_store:
        count, latest = counts.get(order.store, (0, order.created_at))
        counts[order.store] = (count + 1, max(latest, order.created_at))
    favourite = max(counts, key=lambda code: counts[code]) if counts else None
    upcoming = sorted(((_days_until(d.month_day, today), d) for d in customer.key_dates), key=lambda pair: pair[0])
    associate = customer.preferred_associate
    return ProfileGlance(
        lifetime_spend=Money(cents=spend, currency="EUR"),
        orders=len(kept),
        last_purchase=max((o.created_at for o in kept), default=None),
        last_visit=max((o.created_at for o in in_store), default=None),
        favourite_store=favourite,
        favourite_store_name=store_names.get(favourite, favourite) if favourite else None,
        home_store_name=store_names.get(customer.home_store, customer.home_store),
        preferred_associate_name=staff_names.get(associate, associate) if associate else None,
        next_key_date=upcoming[0][1] if upcoming else None,
        days_to_key_date=upcoming[0][0] if upcoming else None,
    )


def _days_until(month_day: str, today: date) -> int:
    """Days from `today` to the next `MM-DD` (0: today); 29 February counts as 28 February in other years."""
    month, day = (int(part) for part in month_day.split("-"))
    for year in (today.year, today.year + 1):
        try:
            moment = date(year, month, day)
        except ValueError:  # 29 February in a year without it
            moment = date(year, month, 28)
        if moment >= today:
            return (moment - today).days
    raise AssertionError("a date comes round within a year")


@dataclass(frozen=True)
class ShownFollowUp:
    """A follow-up as a screen shows it: the centre's task with the changes made here that it does not have yet
    (`waiting`: one of them is still to be sent), and whose it is about."""

    task: FollowUp
    waiting: bool = False
    customer_name: str = ""
    product_name: str | None = None  # the item it concerns, as the cached catalogue names it

    @property
    def id(self) -> str:
        return self.task.id


@dataclass(frozen=True)
class ClientBookEntry:
    """One customer of an associate's client book: served on this device (opened, sold to) or followed."""

    customer_id: str
    name: str
    last_served: datetime | None
    following: bool
    open_follow_ups: int
    due_follow_ups: int  # due today or overdue


@dataclass(frozen=True)
class CustomerPicture:
    """Everything the company knows about one customer, as one call gives it to a screen."""

    customer: Customer
    wishlist: list[WishlistEntry]
    orders: list[Order]
    conversations: list[Conversation]
    commands: list[LocalCommand] = field(default_factory=list)  # made here, newest first
    kept_from_lookup: bool = False  # fetched online: outside this store's own customers
    glance: ProfileGlance | None = None
    pictures: dict[str, str] = field(default_factory=dict)  # product picture by SKU, for every SKU of their orders
    notes: list[CustomerNote] = field(default_factory=list)  # notes and tags from every store, newest first
    store_names: dict[str, str] = field(default_factory=dict)  # by store code, for what the screen names
    suggestions: list[Suggestion] = field(default_factory=list)  # what to show her now (clienteling.suggest)
    consent: Consent | None = None  # as the screen shows it: a change made here overlays the cached one
    consent_waiting: bool = False  # that change has not reached the centre yet
    follow_ups: list[ShownFollowUp] = field(default_factory=list)  # her tasks not done, every store's, by day due
    activities: list[Activity] = field(default_factory=list)  # what she did online, kept 90 days, newest first
    journey: Journey | None = None  # her last action in any channel and her journey's stage (clienteling.journey)

    @property
    def tags(self) -> list[str]:
        """Her tags from every store and those made here still on their way, oldest first, each once."""
        made_here = [
            c.body.get("text", "")
            for c in reversed(self.commands)
            if c.kind == "note" and c.body.get("kind") == "tag" and c.state in ("waiting", "sent")
        ]
        synced = [n.text for n in reversed(self.notes) if n.kind == "tag"]
        return list(dict.fromkeys(t for t in synced + made_here if t))

    @property
    def notes_waiting(self) -> list[LocalCommand]:
        """Notes made here that the centre has not confirmed yet (or refused), newest first."""
        return [
            c
            for c in self.commands
            if c.kind == "note" and c.body.get("kind", "note") == "note" and c.state in ("waiting", "attention")
        ]


@dataclass(frozen=True)
class Lookup:
    """What a scan or typed text found: a customer, a product, an order, or a list of customers."""

    kind: str  # "customer", "product", "order" or "matches"
    customer: Customer | None = None
    product: ProductMatch | None = None
    order: Order | None = None
    matches: list[CustomerSummary] = field(default_factory=list)
    elsewhere: frozenset[str] = frozenset()  # ids among `matches` of other stores' customers (found at the centre)
    centre_searched: bool = True  # False: the centre could not be asked, only this store's customers were searched


@dataclass(frozen=True)
class CustomerSearch:
    """Customers found by name, email or phone: this store's (from the cache) first, then other stores' (from the
    centre, their ids in `elsewhere`). `centre_searched` is False when the centre could not be asked in time."""

    matches: list[CustomerSummary]
    elsewhere: frozenset[str]
    centre_searched: bool


@dataclass(frozen=True)
class SyncState:
    """What the sync bar shows."""

    configured: bool
    online: bool | None  # None: not tried yet
    last_sync_at: datetime | None
    waiting: int
    attention: int
    last_error: str | None
    trouble: str | None = None  # something answered in the centre's place: "captive_portal", "proxy" or "network"
    # When this device's cache was found damaged, set aside and made afresh from the centre (no command was lost:
    # they live in the command journal); None if it never was, or staff have dismissed it (Device.cache_rebuilt).
    cache_rebuilt_at: datetime | None = None

    @property
    def status_key(self) -> str:
        """The translation key of what the sync bar says: online, offline, or what in the network needs attention."""
        if self.online:
            return "online"
        return f"offline_{self.trouble}" if self.trouble else "offline"


RETURN_STATUSES = ("partially_returned", "returned")


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened with a customer, in words a screen puts in its language.

    `kind`: "order" (online), "visit" (bought in a store), "ship_to_home" (ordered in a store, sent to the door),
    "return", "chat", or a command made here that the centre's
    documents do not show yet ("ship_to_home", "return", "note"; then `made_here` is set and `state` is its state).
    """

    at: datetime
    kind: str
    title: str = ""  # an order number, a chat's subject
    state: str | None = None  # an order's status after a return, a command's state
    total_cents: int | None = None
    channel: str | None = None  # a chat's channel
    made_here: bool = False


def timeline(picture: CustomerPicture) -> list[TimelineEvent]:
    """Everything in `picture`, newest first, each thing once.

    A command made here that the centre has taken is shown by the centre's own documents (the order, the order's
    return in its history), not a second time as a command; it is shown itself only until those arrive. A chat
    stands at its latest message (`updated_at`), the time the Chats tab shows.
    """
    events: list[TimelineEvent] = []
    numbers = {order.number: order for order in picture.orders}
    returns_seen: dict[str, int] = {}
    for order in picture.orders:
        events.append(
            TimelineEvent(
                order.created_at,
                _order_kind(order),
                order.number,
                total_cents=order.totals.total.cents,
            )
        )
        for change in order.status_history:
            if change.status in RETURN_STATUSES:
                events.append(TimelineEvent(change.at, "return", order.number, state=change.status))
                returns_seen[order.number] = returns_seen.get(order.number, 0) + 1
    for chat in picture.conversations:
        events.append(TimelineEvent(chat.updated_at, "chat", chat.subject, channel=chat.channel))
    for command in sorted(picture.commands, key=lambda c: (c.created_at, c.command_id)):
        if command.state == "sent" and command.kind == "ship_to_home" and command.number in numbers:
            continue
        if command.state == "sent" and command.kind in ("return", "exchange"):
            order_number = (command.answer or {}).get("order_number") or command.body.get("order_number")
            if returns_seen.get(order_number, 0) > 0:  # one return in the order's history stands for this one
                returns_seen[order_number] -= 1
                continue
        events.append(TimelineEvent(command.created_at, command.kind, state=command.state, made_here=True))
    events.sort(key=lambda event: event.at, reverse=True)
    return events


def _order_kind(order: Order) -> str:
    if order.channel != "store":
        return "order"
    return "ship_to_home" if order.fulfilment == "delivery" else "visit"


@dataclass(frozen=True)
class DashboardView:
    """A report of the centre's as a screen shows it (`Dashboard`, `Experience`): the centre's answer (None: never
    fetched on this device), and why it could not be asked afresh (`centre_unreachable`, `centre_refused`), if so:
    its `made_at` tells its age."""

    dashboard: Dashboard | Experience | None
    offline: str | None = None


@dataclass(frozen=True)
class SurveyLink:
    """A touchpoint the customer may rate: its token, the link her phone opens (the QR code's), the command that
    takes it to the centre."""

    token: str
    url: str
    command_id: str
