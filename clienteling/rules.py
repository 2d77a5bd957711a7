"""The chain's business rules, written once: the centre, the device and the screens all import them.

Prices (with promotions and loyalty tiers' benefits) and shipping, whether an order and each of its lines can be returned (and if not, why: a code with
parameters that a screen words in its language), refunds, what a returned line may be exchanged for and what an exchange
pays back, Dutch postcodes, and how typed text finds a product.
No I/O of any kind; a rule that depends on time takes `now`, read from the caller's clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from clienteling.contract import (
    Consent,
    DutchPostcode,
    EmailAddress,
    EnrolCommand,
    Money,
    Order,
    OrderLine,
    OrderTotals,
    Product,
    Promotion,
    ReplacementRequest,
    ReturnLineRequest,
)
from clienteling.suggest import style_of

CURRENCY = "EUR"

# --------------------------------------------------------------------------- prices

FREE_SHIPPING_FROM_CENTS = 50_00
"""An order whose subtotal reaches this ships for free."""
SHIPPING_CENTS = 4_95
"""Shipping to the door below `FREE_SHIPPING_FROM_CENTS`."""


FREE_SHIPPING_TIERS = ("gold", "platinum")
"""Loyalty tiers whose orders ship for free whatever their subtotal, in every channel."""


def shipping_cents(subtotal_cents: int, tier: str | None = None) -> int:
    """What shipping an order of this subtotal to the door of a customer of `tier` costs."""
    if tier in FREE_SHIPPING_TIERS:
        return 0
    return 0 if subtotal_cents >= FREE_SHIPPING_FROM_CENTS else SHIPPING_CENTS


def free_shipping_reason(subtotal_cents: int, tier: str | None = None) -> str | None:
    """Why an order ships for free (`tier` or `threshold`), or None: what a screen words for the customer."""
    if tier in FREE_SHIPPING_TIERS:
        return "tier"
    return "threshold" if subtotal_cents >= FREE_SHIPPING_FROM_CENTS else None


@dataclass(frozen=True)
class UnitPrice:
    """What one unit of a SKU costs in a channel at a moment: the price, the catalogue's, and the promotion that made
    the difference (None: the catalogue's price holds)."""

    price: Money
    list_price: Money
    promotion: Promotion | None


def promotion_applies(promotion: Promotion, style: str, category: str, sku: str, channel: str, now: datetime) -> bool:
    """Whether `promotion` holds for this SKU in `channel` at `now` (from its start, up to but not at its end)."""
    if channel not in promotion.channels or not (promotion.starts_at <= now < promotion.ends_at):
        return False
    return category in promotion.categories or style in promotion.styles or sku in promotion.skus


def discounted(cents: int, percent_off: int) -> int:
    """`cents` less `percent_off` %, to the nearest cent (half a cent up)."""
    return (cents * (100 - percent_off) + 50) // 100


def unit_price(
    product: Product, sku: str, promotions: Iterable[Promotion], *, channel: str, now: datetime
) -> UnitPrice:
    """The price of one unit of `sku` of `product`: the catalogue price less the best promotion that holds (the
    largest discount; of equal ones, the first by id). Promotions never stack."""
    variant = next(v for v in product.variants if v.sku == sku)
    best: Promotion | None = None
    for promotion in sorted(promotions, key=lambda p: p.id):
        if promotion_applies(promotion, product.style, product.category, sku, channel, now) and (
            best is None or promotion.percent_off > best.percent_off
        ):
            best = promotion
    if best is None:
        return UnitPrice(variant.price, variant.price, None)
    price = Money(cents=discounted(variant.price.cents, best.percent_off), currency=variant.price.currency)
    return UnitPrice(price, variant.price, best)


def order_totals(lines: Iterable[tuple[Money, int]], tier: str | None = None) -> OrderTotals:
    """Subtotal, shipping and total of a ship-to-home order of (unit price, quantity) lines for a customer of `tier`."""
    subtotal = sum(price.cents * quantity for price, quantity in lines)
    shipping = shipping_cents(subtotal, tier)
    return OrderTotals(
        subtotal=Money(cents=subtotal, currency=CURRENCY),
        shipping=Money(cents=shipping, currency=CURRENCY),
        total=Money(cents=subtotal + shipping, currency=CURRENCY),
    )


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit: UnitPrice


@dataclass(frozen=True)
class PricedOrder:
    """A ship-to-home order priced as the centre charges it: each line's unit price (with the promotion that set it),
    the totals, and why shipping is free if it is (`tier`, `threshold`, or None)."""

    lines: list[PricedLine]
    totals: OrderTotals
    free_shipping: str | None


def price_order(
    items: Iterable[tuple[Product, str, int]],
    promotions: Iterable[Promotion],
    *,
    tier: str | None,
    channel: str,
    now: datetime,
) -> PricedOrder:
    """Price (product, SKU, quantity) lines for a customer of `tier` in `channel` at `now`: the one pricing function
    the device's review and the centre's order both call, so the review shows what the centre charges."""
    offers = list(promotions)
    lines = [
        PricedLine(sku, quantity, unit_price(product, sku, offers, channel=channel, now=now))
        for product, sku, quantity in items
    ]
    totals = order_totals(((line.unit.price, line.quantity) for line in lines), tier)
    return PricedOrder(lines, totals, free_shipping_reason(totals.subtotal.cents, tier))


# --------------------------------------------------------------------------- returns

RETURN_WINDOW = timedelta(days=30)
"""An online order can be returned until this long after its delivery (the last moment included)."""
DELIVERED = ("delivered", "partially_returned", "returned")


@dataclass(frozen=True)
class Refusal:
    """Why something cannot be returned: a `code` that programs and screens act on, and what its words need.

    Codes and their parameters:
    - `bought_in_store`: the order was bought in a store (taken back at the till, not here);
    - `not_delivered` (`status`): the order has not reached the customer yet;
    - `window_closed` (`delivered_at`, `closed_at`, `days`): the return window has closed;
    - `nothing_left` (`quantity`): every item of the line has been returned;
    - `return_waiting` (`waiting`): what is left is in a return that waits to be sent;
    - `unknown_line` (`line_no`, `twice`): a request names a line the order lacks, or a line twice;
    - `too_many` (`line_no`, `left`, `requested`): a request asks more than is left to return.
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineEligibility:
    """One order line: how many of its items can be returned now (`left`), and if none, why not."""

    line: OrderLine
    left: int
    refusal: Refusal | None

    @property
    def returnable(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True)
class ReturnEligibility:
    """An order: whether it can be returned at all (`refusal` says why not), and each of its lines."""

    order_number: str
    window_closes_at: datetime | None
    refusal: Refusal | None
    lines: tuple[LineEligibility, ...]

    @property
    def returnable(self) -> bool:
        """At least one line has an item that can be returned now."""
        return any(line.returnable for line in self.lines)

    @property
    def why_not(self) -> Refusal | None:
        """None when something can be returned; otherwise the reason the order as a whole cannot be."""
        if self.returnable:
            return None
        return self.refusal or next(line.refusal for line in self.lines)

    def line(self, line_no: int) -> LineEligibility | None:
        return next((line for line in self.lines if line.line.line_no == line_no), None)


def return_eligibility(order: Order, now: datetime, waiting: Mapping[int, int] | None = None) -> ReturnEligibility:
    """Whether `order` and each of its lines can be returned at `now`.

    Only an online order delivered to the door can be returned here, until `RETURN_WINDOW` after its
    delivery. `waiting` (line number -> items) counts returns made but not yet sent to the centre.
    """
    waiting = waiting or {}
    refusal, closes = None, None
    if order.fulfilment != "delivery":
        refusal = Refusal("bought_in_store")
    elif order.delivered_at is None or order.status not in DELIVERED:
        refusal = Refusal("not_delivered", {"status": order.status})
    else:
        closes = order.delivered_at + RETURN_WINDOW
        if now > closes:
            refusal = Refusal(
                "window_closed", {"delivered_at": order.delivered_at, "closed_at": closes, "days": RETURN_WINDOW.days}
            )
    lines = []
    for line in order.lines:
        unreturned = line.quantity - line.returned_quantity
        pending = waiting.get(line.line_no, 0)
        left = max(unreturned - pending, 0)
        why = refusal
        if why is None and unreturned <= 0:
            why = Refusal("nothing_left", {"quantity": line.quantity})
        elif why is None and left <= 0:
            why = Refusal("return_waiting", {"waiting": pending})
        lines.append(LineEligibility(line, 0 if why else left, why))
    return ReturnEligibility(order.number, closes, refusal, tuple(lines))


def refuse_return(eligibility: ReturnEligibility, requests: Iterable[ReturnLineRequest]) -> Refusal | None:
    """Why these lines of the order cannot be returned (the first reason found), or None when they can."""
    if eligibility.refusal is not None:
        return eligibility.refusal
    seen: set[int] = set()
    for request in requests:
        line = eligibility.line(request.line_no)
        if line is None or request.line_no in seen:
            return Refusal("unknown_line", {"line_no": request.line_no, "twice": line is not None})
        seen.add(request.line_no)
        if request.quantity > line.left:
            return Refusal("too_many", {"line_no": request.line_no, "left": line.left, "requested": request.quantity})
    return None


def line_refund(line: OrderLine, quantity: int) -> Money:
    """What returning `quantity` items of `line` pays back: what was paid for them (shipping is kept)."""
    return Money(cents=line.unit_price.cents * quantity, currency=line.unit_price.currency)


def refund(order: Order, quantities: Mapping[int, int]) -> Money:
    """What returning `quantities` (line number -> items) of `order` pays back in all."""
    return Money(
        cents=sum(
            line_refund(line, quantities[line.line_no]).cents for line in order.lines if line.line_no in quantities
        ),
        currency=CURRENCY,
    )


# --------------------------------------------------------------------------- exchanges
#
# An exchange is a return whose refund is replaced by another size or colour of the same style. The rule, kept simple:
# - only a line that may be returned now (`return_eligibility`) may be exchanged, each item for one item;
# - for a variant of the same style other than the one returned (another size, another colour, or both);
# - at the price she paid for the returned item, whatever the catalogue or a promotion says of the new variant today:
#   an exchange costs her nothing and pays her nothing (refund 0 for that line), shipping included;
# - in store (handed over now from this store's stock) or shipped to her home from a store or the DC that has it.


def exchange_options(product: Product, sku: str) -> list:
    """The variants a returned `sku` of `product` may be exchanged for: every other variant of its style."""
    return [variant for variant in product.variants if variant.sku != sku]


def refuse_exchange(
    eligibility: ReturnEligibility,
    lines: Iterable[ReturnLineRequest],
    replacements: Iterable[ReplacementRequest],
    known_skus: Iterable[str],
) -> Refusal | None:
    """Why this exchange cannot be made (the first reason found), or None when it can.

    `known_skus` are the SKUs the catalogue has. Codes: those of `refuse_return`, and
    - `not_returned` (`line_no`, `twice`): a replacement for a line that does not go back, or for a line twice;
    - `unknown_sku` (`sku`): the catalogue does not have the replacement;
    - `same_item` (`line_no`, `sku`): the replacement is the very item that goes back (that is no exchange);
    - `other_style` (`line_no`, `sku`, `style`): the replacement is another style (that is a return and a new sale).
    """
    lines = list(lines)
    refusal = refuse_return(eligibility, lines)
    if refusal is not None:
        return refusal
    returned = {line.line_no for line in lines}
    known = set(known_skus)
    seen: set[int] = set()
    for replacement in replacements:
        if replacement.line_no not in returned or replacement.line_no in seen:
            return Refusal("not_returned", {"line_no": replacement.line_no, "twice": replacement.line_no in seen})
        seen.add(replacement.line_no)
        if replacement.sku not in known:
            return Refusal("unknown_sku", {"sku": replacement.sku})
        original = eligibility.line(replacement.line_no).line.sku
        if replacement.sku == original:
            return Refusal("same_item", {"line_no": replacement.line_no, "sku": original})
        if style_of(replacement.sku) != style_of(original):
            return Refusal(
                "other_style", {"line_no": replacement.line_no, "sku": replacement.sku, "style": style_of(original)}
            )
    return None


def replacement_price(line: OrderLine) -> Money:
    """What one item taken in exchange for an item of `line` costs: what she paid for the item she brings back."""
    return line.unit_price


def exchange_refund(order: Order, quantities: Mapping[int, int], exchanged: Iterable[int]) -> Money:
    """What a return of `quantities` (line number -> items) pays back when the lines `exchanged` are replaced: the
    value returned less the value taken instead, which is 0 for every exchanged line (`replacement_price`)."""
    kept = set(exchanged)
    returned = refund(order, quantities).cents
    taken = sum(
        replacement_price(line).cents * quantities[line.line_no]
        for line in order.lines
        if line.line_no in quantities and line.line_no in kept
    )
    return Money(cents=returned - taken, currency=CURRENCY)


# --------------------------------------------------------------------------- plausible times

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the centre's clock a device's clock may run: a moment later than this is in the future."""
PROFILE_VIEW_MAX_AGE = timedelta(days=90)
"""The oldest profile view the centre records: a device may send one late (offline for weeks), not months late."""


def profile_view_window(now: datetime) -> tuple[datetime, datetime]:
    """The first and the last moment (both included) at which a profile view recorded at `now` can have happened."""
    return now - PROFILE_VIEW_MAX_AGE, now + CLOCK_SKEW


def implausible_view_time(viewed_at: datetime, now: datetime) -> Refusal | None:
    """Why a profile view at `viewed_at` cannot be right at `now`, or None when it can.

    Codes: `in_the_future` and `too_long_ago`, each with `earliest` and `latest` (the window's ends).
    """
    return _outside(viewed_at, *profile_view_window(now))


CONSENT_MAX_AGE = timedelta(days=90)
"""The oldest consent change the centre takes: made on a device that was offline for weeks, not months."""


def consent_window(now: datetime) -> tuple[datetime, datetime]:
    """The first and the last moment (both included) at which a consent change received at `now` can have been agreed."""
    return now - CONSENT_MAX_AGE, now + CLOCK_SKEW


def implausible_consent_time(agreed_at: datetime, now: datetime) -> Refusal | None:
    """Why a consent change agreed at `agreed_at` cannot be right at `now`, or None when it can (codes as
    `implausible_view_time`)."""
    return _outside(agreed_at, *consent_window(now))


ACTIVITY_RETENTION = timedelta(days=90)
"""What a customer did online is kept 90 days from when she did it (issue 15): long enough to see where she is in a
purchase (a coat is looked at for weeks), short enough that the clickstream never grows into a profile of her. The
centre refuses older activity at ingest and prunes it (`prune_expired`, with tombstones, so devices drop it too);
a device also drops and ignores what has aged past it while offline (`activity_cutoff`)."""


def activity_cutoff(now: datetime) -> datetime:
    """The oldest moment of an activity still kept at `now`."""
    return now - ACTIVITY_RETENTION


def implausible_activity_time(at: datetime, now: datetime) -> Refusal | None:
    """Why an activity at `at` is not taken at `now`, or None: `in_the_future`, `too_long_ago` (past its retention),
    each with `earliest` and `latest`."""
    return _outside(at, activity_cutoff(now), now + CLOCK_SKEW)


def _outside(moment: datetime, earliest: datetime, latest: datetime) -> Refusal | None:
    if moment > latest:
        return Refusal("in_the_future", {"earliest": earliest, "latest": latest})
    if moment < earliest:
        return Refusal("too_long_ago", {"earliest": earliest, "latest": latest})
    return None


def marketing_from(email: bool, sms: bool, whatsapp: bool) -> bool:
    """The `marketing` summary of a consent, as the retailer's systems had it before the channels: any channel agreed."""
    return email or sms or whatsapp


def consent_supersedes(agreed_at: datetime, held_since: datetime) -> bool:
    """Whether a consent change agreed at `agreed_at` replaces the consent a customer has held since `held_since`:
    the later agreement wins (a tie goes to the change that arrives last), so a change made offline that reaches the
    centre after a later one made elsewhere never overwrites it."""
    return agreed_at >= held_since


# --------------------------------------------------------------------------- how it went (touchpoint feedback)

FEEDBACK_WINDOW = timedelta(days=30)
"""How long after a touchpoint the customer can still rate it (the receipt's QR code works that long)."""
LOW_SCORE = 2
"""A rating at or below this is low: counted apart, and with a comment it asks the store to follow up."""
PULSE_MIN_ANSWERS = 3
"""The fewest shift ratings a store's week shows an average for: fewer could tell who answered what."""


def feedback_open(touchpoint_at: datetime, now: datetime) -> bool:
    """Whether a touchpoint at `touchpoint_at` can still be rated at `now`."""
    return now - touchpoint_at <= FEEDBACK_WINDOW


def needs_recovery(score: int, comment: str | None) -> bool:
    """Whether an answer asks the store to get back to the customer: a low score that says why."""
    return score <= LOW_SCORE and bool((comment or "").strip())


# --------------------------------------------------------------------------- the store's calendar

STORE_TIME_ZONE = "Europe/Amsterdam"
"""The chain's stores' time zone: their days and weeks (a lockout's end, a follow-up's due day, a week of sales)."""


def store_zone() -> ZoneInfo | None:
    """The stores' time zone; None where this machine has no time zone data (then its own clock's)."""
    try:
        return ZoneInfo(STORE_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def store_day(moment: datetime) -> date:
    """The store's calendar day at `moment`."""
    return moment.astimezone(store_zone()).date()


def week_of(day: date) -> date:
    """The Monday that begins `day`'s week (ISO weeks, as the chain's reports count them)."""
    return day - timedelta(days=day.weekday())


def week_start(monday: date) -> datetime:
    """The first moment (UTC) of the store's week beginning on `monday` (of any day: that day's first moment)."""
    return datetime.combine(monday, datetime.min.time(), tzinfo=store_zone()).astimezone(UTC)


# --------------------------------------------------------------------------- sales


def net_sales_cents(order: Order) -> int:
    """What an order sold, as spend and sales figures count it: what was paid for the items kept (a cancelled order
    sold nothing; returned items are taken off; shipping is not a sale)."""
    if order.status == "cancelled":
        return 0
    return sum(line.unit_price.cents * (line.quantity - line.returned_quantity) for line in order.lines)


# --------------------------------------------------------------------------- credit for online orders (issue 14)

CREDIT_WINDOW = timedelta(days=14)
"""An online order this soon after an associate's message or consult is credited to that associate."""
CREDITED_CHANNELS = ("web", "app")
"""Orders placed online; an order placed in a store is the store's own sale (`placed_by`), not a credit."""


@dataclass(frozen=True)
class Touch:
    """An associate's contact with a customer: a message sent (`message`) or her profile opened (`consult`)."""

    staff_id: str
    store: str
    reason: str  # "message" or "consult"
    at: datetime


def credit_for(channel: str, ordered_at: datetime, touches: Iterable[Touch]) -> Touch | None:
    """Who an order is credited to: for an online order (`CREDITED_CHANNELS`), the latest touch at or before
    `ordered_at` and no more than `CREDIT_WINDOW` before it (both ends included: a message sent exactly 14 days
    before counts, a second more does not); the latest touch wins, and of two at the same moment a message wins
    over a consult (it is the deliberate one). None: no credit."""
    if channel not in CREDITED_CHANNELS:
        return None
    earliest = ordered_at - CREDIT_WINDOW
    eligible = [t for t in touches if earliest <= t.at <= ordered_at]
    if not eligible:
        return None
    return max(eligible, key=lambda t: (t.at, t.reason == "message"))


def follow_up_change_supersedes(changed_at: datetime, held_since: datetime) -> bool:
    """Whether a change of a follow-up's state (done, snoozed, open again) made at `changed_at` replaces the state
    the task has held since `held_since`: the change made last wins (a tie goes to the one that arrives last), so a
    snooze made offline that reaches the centre after a colleague marked the task done never opens it again. The
    centre applies it (clienteling.central.followups) and the device shows its waiting changes by it
    (clienteling.follow_ups.shown)."""
    return changed_at >= held_since


# --------------------------------------------------------------------------- postcodes

_POSTCODE = TypeAdapter(DutchPostcode)


def dutch_postcode(text: str) -> str | None:
    """'1012ab' -> '1012 AB', as the contract has it; None when `text` is not a Dutch postcode."""
    try:
        return _POSTCODE.validate_python(text.strip().upper())
    except ValidationError:
        return None


# --------------------------------------------------------------------------- enrolment (issue 14)

_EMAIL = TypeAdapter(EmailAddress)
NAME_LONGEST = 80


def enrolment_consent(command: EnrolCommand) -> Consent:
    """The consent a customer enrolled with: the channels she agreed to at the counter, when she agreed; no
    profiling (it is asked for separately, never assumed)."""
    return Consent(
        marketing=marketing_from(command.email_consent, command.sms_consent, command.whatsapp_consent),
        profiling=False,
        updated_at=command.agreed_at,
        email=command.email_consent,
        sms=command.sms_consent,
        whatsapp=command.whatsapp_consent,
    )


def e164_phone(text: str, region: str = "NL") -> str | None:
    """A phone number as people write it ("06 12345678", "+44 20 7123 4567") in the contract's E.164 form
    ("+31612345678"); None when it is not a possible number."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class EnrolmentForm:
    """What staff typed on the enrolment form, checked: the values as they will be sent (names trimmed, the email's
    domain in lower case, the phone in E.164) and, per field, why it cannot be sent (`problems`: field -> code)."""

    first_name: str
    last_name: str
    email: str
    phone: str | None
    problems: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_enrolment(first_name: str, last_name: str, email: str, phone: str = "") -> EnrolmentForm:
    """Check an enrolment form field by field. Codes: `required` (first_name, last_name, email), `too_long` (names),
    `email_invalid`, `phone_invalid`. The same email rule the centre applies to `EnrolCommand` (contract.EmailAddress)."""
    problems: dict[str, str] = {}
    first, last = " ".join(first_name.split()), " ".join(last_name.split())
    for name, value in (("first_name", first), ("last_name", last)):
        if not value:
            problems[name] = "required"
        elif len(value) > NAME_LONGEST:
            problems[name] = "too_long"
    address = email.strip()
    if not address:
        problems["email"] = "required"
    else:
        try:
            address = _EMAIL.validate_python(address)
        except ValidationError:
            problems["email"] = "email_invalid"
    number = None
    if phone.strip():
        number = e164_phone(phone.strip())
        if number is None:
            problems["phone"] = "phone_invalid"
    return EnrolmentForm(first, last, address, number, problems)


# --------------------------------------------------------------------------- product search


def product_search_words(text: str) -> list[str]:
    """The words of a product search as typed: lower case, split at white space."""
    return text.lower().split()


def product_search_text(product: Product) -> str:
    """What a product search looks in: the style, name, category and colours of the product, in lower case."""
    colours = dict.fromkeys(variant.colour for variant in product.variants)
    return " ".join([product.style, product.name, product.category, *colours]).lower()


def product_matches(search_text: str, words: Iterable[str]) -> bool:
    """A product is found when every word typed occurs in its search text (anywhere, as typed).

    Both ends store `product_search_text` beside each product and apply this in SQL (`instr(search, ?) > 0`
    for each word); this is the same test in Python.
    """
    return all(word in search_text for word in words)
