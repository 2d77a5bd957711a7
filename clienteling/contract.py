"""The contract: the pydantic models that the centre and the store device share.

The centre validates requests and serialises responses with these models, the
device parses the centre's answers with them, and `/openapi.json` is generated
from them. Money is an integer number of cents with a currency; every timestamp
is UTC with an offset.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

# --------------------------------------------------------------------------- basics


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+23:59 is before year 1 in UTC, 9999-12-31T23:59-23:59 after 9999
        raise ValueError("this moment cannot be expressed in UTC: it falls before year 1 or after year 9999") from None


UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    PlainSerializer(lambda v: v.astimezone(UTC).isoformat(timespec="seconds"), return_type=str),
]
"""A point in time: must carry an offset on the way in, always UTC on the way out."""


def utc_now() -> datetime:
    """Now, in UTC, to the second (the precision of the wire format)."""
    return datetime.now(UTC).replace(microsecond=0)


StoreCode = Annotated[str, Field(pattern=r"^[A-Z]{2,4}[0-9]{2}$", examples=["AMS01"])]
SourceName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{1,39}$", examples=["webshop", "loyalty"])]
"""The name of one of the retailer's systems that feeds the centre (its integration's name)."""
Sources = dict[SourceName, UtcDatetime]
SOURCES_DESCRIPTION = (
    "Which of the retailer's systems changed this record, each with the time of its latest version (issue 13); "
    "empty for what the centre or a store made"
)
Sku = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9-]*$", examples=["CT01-NVY-M"])]
Gtin = Annotated[str, Field(pattern=r"^[0-9]{8}$|^[0-9]{12,14}$", examples=["8712345000015"])]
CardNumber = Annotated[str, Field(pattern=r"^2[0-9]{12}$", examples=["2700000000014"])]
CustomerId = Annotated[str, Field(pattern=r"^C[0-9]{7,}$", examples=["C0000001"])]
SERIES = r"[A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z]{3}"
"""The series of the centre's epoch that gave a number: a letter and three more letters or digits (Crockford's base 32,
no I, L, O or U). A centre restored from a backup numbers in a series of its own, so a number it gives never names
what a number from before the restore named (see clienteling.central.epochs)."""
ORDER_NUMBER = rf"ORD-(?:{SERIES}-)?[0-9]{{8,}}"
RETURN_NUMBER = rf"RET-(?:{SERIES}-)?[0-9]{{8,}}"
OrderNumber = Annotated[str, Field(pattern=rf"^{ORDER_NUMBER}$", examples=["ORD-K7QM-00001234", "ORD-00001234"])]
ReturnNumber = Annotated[str, Field(pattern=rf"^{RETURN_NUMBER}$", examples=["RET-K7QM-00000042"])]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
Quantity = Annotated[int, Field(ge=1, le=99)]
CommandQuantity = Annotated[int, Field(strict=True, ge=1, le=99)]
"""A quantity as a command gives it: a JSON integer, never `true`, `"1"` or `1.0`."""
StaffId = Annotated[str, Field(pattern=r"^S[0-9]{4,}$", examples=["S0001"])]


def _dutch_postcode(value: str) -> str:
    """Normalise to `1234 AB`; the letter pairs SA, SD and SS are never issued."""
    if value[-2:] in ("SA", "SD", "SS"):
        raise ValueError(f"{value} is not a Dutch postcode: SA, SD and SS are never used")
    return f"{value[:4]} {value[-2:]}"


DutchPostcode = Annotated[
    str, Field(pattern=r"^[1-9][0-9]{3} ?[A-Z]{2}$", examples=["1012 AB"]), AfterValidator(_dutch_postcode)
]


class Contract(BaseModel):
    """Base of every document that is read (the centre's answers, feed items, the device's cache): fields it does
    not know are ignored, so an older device keeps working when the centre adds one."""

    model_config = ConfigDict(extra="ignore", frozen=False)


class Command(Contract):
    """Base of what a device sends the centre to act on: unknown fields are refused (a 422 problem), never
    dropped, so that nothing a sender meant is silently left undone. Models inside a command are commands too."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_in_text(cls, value: object) -> object:
        """A NUL character is never part of what staff typed: refused (a 422 problem), never stored."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain NUL characters (U+0000)")
        return value


class Money(Contract):
    """An amount of money as whole cents, never a float."""

    cents: int = Field(ge=-10_000_000_00, le=10_000_000_00, examples=[12995])
    currency: Currency = "EUR"


# --------------------------------------------------------------------------- stores


class Store(Contract):
    code: StoreCode
    name: str = Field(min_length=1, max_length=120)
    city: str = Field(min_length=1, max_length=80)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    kind: Literal["store", "dc"]
    updated_at: UtcDatetime
    sources: Sources = Field(default_factory=dict, description=SOURCES_DESCRIPTION)


# --------------------------------------------------------------------------- staff

StaffRole = Literal["associate", "service_desk", "manager"]
# As clienteling.pins makes them: the centre keeps an argon2id hash (or, made before it, a PBKDF2 one); a device
# gets it sealed to its own key (`sealed$<key id>$…`, the hash replaced by an HMAC of it).
PIN_HASH_PATTERN = (
    r"^(?:\$|sealed\$[0-9a-f]{16}\$)argon2id\$v=19\$m=[0-9]{1,7},t=[0-9]{1,2},p=[0-9]{1,2}"
    r"\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$"
    r"|^(?:sealed\$[0-9a-f]{16}\$)?pbkdf2_sha256\$[0-9]{4,7}\$[0-9a-f]{32}\$[0-9a-f]{64}$"
)


class StaffMember(Contract):
    """Someone who works in a store and signs in on its devices with a PIN.

    Only the PIN's hash is kept (see `clienteling.pins`): at the centre an argon2id hash, on a device that hash
    sealed to the device's own key, against which the device checks a PIN offline. A member who leaves is made
    inactive rather than deleted, so that the orders, returns and notes they made still name someone; a move to
    another store is a new member there.
    """

    id: StaffId
    store: StoreCode
    name: str = Field(min_length=1, max_length=80)
    role: StaffRole
    pin_hash: str = Field(
        pattern=PIN_HASH_PATTERN,
        description=(
            "At the centre $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>; in a device's staff feed the same"
            " sealed to that device: sealed$<key id>$argon2id$…$<salt>$<HMAC of the hash>. The PIN itself is never"
            " stored; centres made before argon2id may still hold pbkdf2_sha256$<iterations>$<salt hex>$<key hex>."
        ),
    )
    active: bool = True


# --------------------------------------------------------------------------- customers

Tier = Literal["basic", "silver", "gold", "platinum"]


class Address(Contract):
    street: str = Field(min_length=1, max_length=120)
    house_number: str = Field(min_length=1, max_length=12)
    postcode: DutchPostcode
    city: str = Field(min_length=1, max_length=80)
    country: Literal["NL"] = "NL"
    label: Literal["home", "work", "other"] = "home"


class Consent(Contract):
    """What a customer agreed to be approached with (issue 14). Each channel is its own consent, given or withdrawn at
    a counter (`ConsentCommand`); a channel missing from an older document reads as no consent, so nobody is ever
    approached on a channel they did not agree to. `marketing` is the summary the retailer's systems had before the
    channels: the centre sets it to whether any channel is agreed whenever a counter changes the consent.
    `updated_at` is when the customer last changed it (as they agreed, by the device's clock): a change agreed earlier
    that reaches the centre later never overwrites it."""

    marketing: bool
    profiling: bool
    updated_at: UtcDatetime
    email: bool = Field(default=False, description="Newsletters and offers by email")
    sms: bool = Field(default=False, description="Offers by text message")
    whatsapp: bool = Field(default=False, description="Messages by WhatsApp")


class Sizes(Contract):
    tops: Literal["XS", "S", "M", "L", "XL", "XXL"] | None = None
    trousers: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    shoes: str | None = Field(default=None, pattern=r"^[0-9]{2}$")


class KeyDate(Contract):
    """A date a customer agreed to share, to be remembered on: the day and month, never a year of birth."""

    kind: Literal["birthday", "anniversary", "other"]
    month_day: str = Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", examples=["03-14"])
    label: str | None = Field(default=None, max_length=80, description="What it is, for `other`")


class Customer(Contract):
    id: CustomerId
    first_name: str = Field(min_length=1, max_length=80)
    last_name: str = Field(min_length=1, max_length=80)
    email: str = Field(min_length=3, max_length=254)
    phone: str | None = Field(default=None, pattern=r"^\+[0-9]{8,15}$")
    home_store: StoreCode
    card_number: CardNumber
    tier: Tier
    points: int = Field(ge=0)
    consent: Consent
    addresses: list[Address]
    sizes: Sizes
    preferences: list[str] = Field(default_factory=list, max_length=20)
    key_dates: list[KeyDate] = Field(default_factory=list, max_length=10, description="Dates the customer shares")
    preferred_associate: StaffId | None = Field(default=None, description="The staff member who usually serves them")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    sources: Sources = Field(default_factory=dict, description=SOURCES_DESCRIPTION)


class CustomerSummary(Contract):
    """A search hit: enough to pick the right person from a list."""

    id: CustomerId
    first_name: str
    last_name: str
    email: str
    phone: str | None
    home_store: StoreCode
    tier: Tier


# --------------------------------------------------------------------------- catalogue

Category = Literal["coats", "trousers", "knitwear", "sneakers"]
Channel = Literal["web", "app", "store"]


class Variant(Contract):
    sku: Sku
    gtin: Gtin
    colour: str = Field(min_length=1, max_length=40)
    size: str = Field(min_length=1, max_length=8)
    price: Money


class Product(Contract):
    style: str = Field(pattern=r"^[A-Z]{2}[0-9]{2,4}$", examples=["CT01"])
    name: str = Field(min_length=1, max_length=120)
    category: Category
    description: str = Field(max_length=1000)
    image: str | None = Field(default=None, description="File name of the product image in the app's assets")
    variants: list[Variant]
    updated_at: UtcDatetime
    sources: Sources = Field(default_factory=dict, description=SOURCES_DESCRIPTION)


class Promotion(Contract):
    """A price promotion from the webshop or the pricing system ("20 % off trousers this week"): it applies in every
    channel it names, to the categories, styles or SKUs it names, between its start and its end (clienteling.rules
    prices a line with it, on the device and at the centre alike)."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", examples=["PROMO-TROUSERS-W48"])
    name: str = Field(min_length=1, max_length=120, description="What a customer was told, for example in a newsletter")
    percent_off: int = Field(ge=1, le=90)
    categories: list[Category] = Field(default_factory=list)
    styles: list[str] = Field(default_factory=list, max_length=500)
    skus: list[Sku] = Field(default_factory=list, max_length=5000)
    channels: list[Channel] = Field(
        default_factory=lambda: ["web", "app", "store"],
        min_length=1,
        description="Where it holds; every channel by default",
    )
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    updated_at: UtcDatetime
    sources: Sources = Field(default_factory=dict, description=SOURCES_DESCRIPTION)


class ProductMatch(Contract):
    """A product found by one of its codes, with the variant that code names."""

    product: Product
    variant: Variant


# --------------------------------------------------------------------------- stock


class StockLevel(Contract):
    store: StoreCode
    sku: Sku
    on_hand: int = Field(ge=0)
    reserved: int = Field(ge=0)
    available: int = Field(ge=0)
    as_of: UtcDatetime
    source: SourceName | None = Field(default=None, description="The system the figure came from; none: the centre")


class StockAtLocation(StockLevel):
    store_name: str
    city: str
    kind: Literal["store", "dc"]
    distance_km: float = Field(ge=0, description="Straight-line distance from the calling device's store")


class StockOverview(Contract):
    sku: Sku
    from_store: StoreCode = Field(description="The calling device's store; distances are measured from it")
    levels: list[StockAtLocation] = Field(description="Nearest first; the calling store itself comes first")


# --------------------------------------------------------------------------- wishlists


class WishlistItem(Contract):
    id: str = Field(description="<customer id>:<sku>")
    customer_id: CustomerId
    style: str
    sku: Sku
    added_at: UtcDatetime
    sources: Sources = Field(default_factory=dict, description=SOURCES_DESCRIPTION)


# --------------------------------------------------------------------------- orders

Fulfilment = Literal["delivery", "in_store"]
OrderStatus = Literal[
    "placed", "reserved", "shipped", "delivered", "completed", "cancelled", "partially_returned", "returned"
]


class StatusChange(Contract):
    status: OrderStatus
    at: UtcDatetime
    note: str | None = None


class OrderLine(Contract):
    line_no: int = Field(ge=1)
    sku: Sku
    name: str
    colour: str
    size: str
    quantity: Quantity
    unit_price: Money
    returned_quantity: int = Field(default=0, ge=0)
    list_price: Money | None = Field(default=None, description="The catalogue price, where a promotion lowered it")
    promotion: str | None = Field(default=None, description="The id of the promotion that set `unit_price`")


class OrderTotals(Contract):
    subtotal: Money
    shipping: Money
    total: Money


CreditReason = Literal["message", "consult"]


class Credit(Contract):
    """Who an online order is credited to (issue 14): the associate whose message to the customer, or whose consult
    (her profile opened in a store), came last within 14 days before the order (`rules.credit_for`). Set by the
    centre when it stores the order; no system sends it."""

    staff_id: StaffId
    staff_name: str | None = Field(default=None, description="The associate's name, as the centre knew it then")
    store: StoreCode
    reason: CreditReason = Field(description="`message`: she was sent a message; `consult`: her profile was opened")
    touched_at: UtcDatetime = Field(description="When the message was sent or the profile opened")


class Order(Contract):
    number: OrderNumber
    customer_id: CustomerId
    channel: Channel
    fulfilment: Fulfilment
    store: StoreCode | None = Field(default=None, description="Store where the order was placed (channel store)")
    fulfilled_by: StoreCode | None = Field(default=None, description="Store or DC that ships or handed over the goods")
    status: OrderStatus
    status_history: list[StatusChange]
    lines: list[OrderLine] = Field(min_length=1)
    shipping_address: Address | None = None
    totals: OrderTotals
    placed_by: str | None = Field(default=None, description="Staff member who placed it in store")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    delivered_at: UtcDatetime | None = None
    sources: Sources = Field(default_factory=dict, description=SOURCES_DESCRIPTION)
    credited_to: Credit | None = Field(
        default=None,
        description="Online orders (web, app): the associate credited with it, set by the centre (never ingested)",
    )


# --------------------------------------------------------------------------- conversations

ConversationChannel = Literal["web_chat", "whatsapp", "email", "phone", "social", "sms"]
"""`sms` came with outreach (issue 14): a device older than it cannot read an SMS conversation (see the README's
changelog); this one reads a conversation it cannot read as absent, never failing the customer's picture."""


class Message(Contract):
    """One message of a conversation. A message an associate sent from a store (issue 14) has author `agent` (so a
    device that predates outreach shows it as one of ours) and names the associate and the store."""

    author: Literal["customer", "agent", "bot"]
    text: str = Field(min_length=1, max_length=4000)
    at: UtcDatetime
    staff_id: StaffId | None = Field(default=None, description="The associate who sent it from a store")
    staff_name: str | None = Field(default=None, description="Their name, as the centre knew it then")
    store: StoreCode | None = Field(default=None, description="The store it was sent from")
    message_id: str | None = Field(default=None, description="The outreach message's id (`M-…`), for replies")


class Conversation(Contract):
    id: str = Field(pattern=r"^CV[0-9]{7,}$")
    customer_id: CustomerId
    channel: ConversationChannel
    subject: str
    status: Literal["open", "closed"]
    messages: list[Message] = Field(min_length=1)
    started_at: UtcDatetime
    updated_at: UtcDatetime
    sources: Sources = Field(default_factory=dict, description=SOURCES_DESCRIPTION)


# --------------------------------------------------------------------------- commands


class OrderLineRequest(Command):
    sku: Sku
    quantity: CommandQuantity


class ShippingAddress(Address, Command):
    """An address as a command gives it: the same fields as `Address`, none other."""

    model_config = ConfigDict(extra="forbid")


class ShipToHomeOrderCommand(Command):
    """Place an order in store that a store or the DC ships to the customer's home."""

    customer_id: CustomerId
    fulfilling_store: StoreCode = Field(description="Store or DC whose stock is reserved and that ships")
    lines: list[OrderLineRequest] = Field(min_length=1, max_length=20)
    shipping_address: ShippingAddress
    placed_by: str | None = Field(default=None, max_length=80, description="Staff member signed in on the device")

    @field_validator("shipping_address", mode="before")
    @classmethod
    def _address_as_given(cls, value: object) -> object:
        """An `Address` a screen made is taken as its fields (and checked as strictly as a dict would be)."""
        return value.model_dump() if isinstance(value, Address) and not isinstance(value, ShippingAddress) else value


ReturnReason = Literal["too_small", "too_large", "not_as_pictured", "damaged", "changed_mind", "other"]
ItemCondition = Literal["resellable", "damaged"]


class ReturnLineRequest(Command):
    line_no: int = Field(strict=True, ge=1, le=999)
    quantity: CommandQuantity
    reason: ReturnReason
    condition: ItemCondition


class ReturnCommand(Command):
    """Take back items of an online order at a store's service desk."""

    order_number: OrderNumber
    lines: list[ReturnLineRequest] = Field(min_length=1, max_length=20)
    received_by: str | None = Field(default=None, max_length=80)


class ReturnLine(ReturnLineRequest):
    """A line of a return as the centre answers it: a document, read tolerantly like every other."""

    model_config = ConfigDict(extra="ignore")

    sku: Sku
    refund: Money
    exchanged_for: Sku | None = Field(default=None, description="The SKU she took instead of a refund (an exchange)")


class Return(Contract):
    number: ReturnNumber
    order_number: OrderNumber
    customer_id: CustomerId
    store: StoreCode = Field(description="Store whose service desk took the items back")
    lines: list[ReturnLine]
    refund: Money
    received_by: str | None = None
    created_at: UtcDatetime
    replacement_orders: list[OrderNumber] = Field(
        default_factory=list, description="An exchange: the orders that hand over or ship what she took instead"
    )


class ReplacementRequest(Command):
    """What a customer takes instead of the refund of one returned line: another size or colour of the same style, as
    many as go back of that line, at the price she paid for them (`rules.exchange_refund`)."""

    line_no: int = Field(strict=True, ge=1, le=999, description="The returned line this replaces")
    sku: Sku
    fulfilment: Fulfilment = Field(
        description="`in_store`: handed over now from this store's stock; `delivery`: shipped to her home"
    )
    from_store: StoreCode | None = Field(
        default=None, description="`delivery`: the store or DC that ships it; `in_store`: this store (may be left out)"
    )


class ExchangeCommand(Command):
    """Take back items of an online order at a store's service desk and give her another size or colour of the same
    style instead of (part of) the refund: one command, done by the centre all at once or not at all."""

    order_number: OrderNumber
    lines: list[ReturnLineRequest] = Field(min_length=1, max_length=20)
    replacements: list[ReplacementRequest] = Field(min_length=1, max_length=20)
    shipping_address: ShippingAddress | None = Field(
        default=None, description="Where a `delivery` replacement goes; left out: the order's own shipping address"
    )
    received_by: str | None = Field(default=None, max_length=80)

    @field_validator("shipping_address", mode="before")
    @classmethod
    def _address_as_given(cls, value: object) -> object:
        return value.model_dump() if isinstance(value, Address) and not isinstance(value, ShippingAddress) else value


class AddNoteCommand(Command):
    """A note about a customer made by staff in store (a size tried, a wish for a colour), or a tag: a short word
    shown beside her name in every store ("prefers WhatsApp", "wedding in June")."""

    text: str = Field(min_length=1, max_length=2000)
    author: str | None = Field(default=None, max_length=80)
    kind: Literal["note", "tag"] = "note"


class CustomerNote(Contract):
    id: str = Field(pattern=rf"^N-?(?:{SERIES}-)?[0-9]{{8,}}$")
    customer_id: CustomerId
    text: str
    author: str | None = None
    author_name: str | None = Field(default=None, description="The author's name, as the centre knew it then")
    store: StoreCode
    created_at: UtcDatetime
    kind: Literal["note", "tag"] = "note"


class ProfileViewCommand(Command):
    """A member of staff opened a customer's profile: recorded so that the customer can be told who looked."""

    staff_id: StaffId
    viewed_at: UtcDatetime = Field(description="When the profile was opened on the device (it may be sent later)")


class ProfileView(Contract):
    """One opening of a customer's profile in a store, as the centre keeps it for audit."""

    id: str = Field(pattern=rf"^V-?(?:{SERIES}-)?[0-9]{{8,}}$")
    customer_id: CustomerId
    staff_id: StaffId
    store: StoreCode = Field(description="Store of the device the profile was opened on")
    viewed_at: UtcDatetime
    recorded_at: UtcDatetime = Field(description="When the centre received the record")


# --------------------------------------------------------------------------- activities (issue 15)

ACTIVITY_KINDS = (
    "product_view",
    "wishlist_add",
    "wishlist_remove",
    "cart_add",
    "cart_remove",
    "search",
    "chatbot_question",
    "review",
    "social_share",
    "email_click",
)
"""The kinds of online activity the app knows how to word and weigh (clienteling.journey). `Activity.kind` is not a
closed list: a system may send a kind that is not here yet, and the centre keeps and syncs it, so that the webshop need
not wait for the stores' app. A device that does not know a kind still reads the record (it is a well-formed string,
not a value a Literal would refuse), words it as "was active online" and gives it no weight in the journey stage."""
ACTIVITY_CHANNELS = ("web", "app", "chatbot", "social", "email")
"""The channels the app names in words; like the kinds, any other well-formed name is kept and shown as it is."""
ActivityWord = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", examples=["product_view", "chatbot"])]
"""A kind or a channel of activity: lower-case letters, digits and `_` (a constrained string, not a Literal, so that
a value this version does not know is read, never refused)."""


class Activity(Contract):
    """One thing a customer did in an online channel (issue 15), sent by the retailer's systems through
    `POST /v1/ingest/activities` and synced to the devices of the stores serving her. Kept `rules.ACTIVITY_RETENTION`
    (90 days) from `at`: older ones are refused at ingest and pruned at the centre and on the device."""

    id: str = Field(
        min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", description="The source's own id"
    )
    customer_id: CustomerId
    channel: ActivityWord = Field(description="Where: web, app, chatbot, social, email (ACTIVITY_CHANNELS) or another")
    kind: ActivityWord = Field(
        description="What: product_view, wishlist_add, wishlist_remove, cart_add, cart_remove, search, "
        "chatbot_question, review, social_share, email_click (ACTIVITY_KINDS) or another, which the app words as "
        "online activity"
    )
    sku: Sku | None = None
    style: str | None = Field(default=None, max_length=40, description="The product's style; set from `sku` if absent")
    text: str | None = Field(
        default=None, max_length=500, description="What she searched for, asked the chatbot, or wrote in a review"
    )
    at: UtcDatetime = Field(description="When she did it")
    sources: Sources = Field(default_factory=dict, description=SOURCES_DESCRIPTION)


CONSENT_CHANNELS = ("email", "sms", "whatsapp")
"""The channels a customer agrees to one by one (`Consent`, `ConsentCommand`)."""
CONSENT_NUMBER = rf"CS-(?:{SERIES}-)?[0-9]{{8,}}"


class ConsentCommand(Command):
    """A customer agreed at the counter to be approached on these channels (and not on the others): all three are
    given, each as a JSON boolean. Sent from the device's outbox like any command, possibly long after."""

    email: bool = Field(strict=True)
    sms: bool = Field(strict=True)
    whatsapp: bool = Field(strict=True)
    staff_id: StaffId = Field(description="Who took the customer's agreement: staff of the calling device's store")
    agreed_at: UtcDatetime = Field(
        description="When the customer agreed, by the device's clock (it may be sent later): no more than 5 minutes "
        "ahead of the centre's clock and no more than 90 days ago"
    )


class ChannelConsent(Contract):
    email: bool
    sms: bool
    whatsapp: bool


class ConsentChange(Contract):
    """One change of a customer's consent made at a counter, as the centre logs it (and publishes it as
    `consent.changed`). A change agreed before the consent the centre holds (it arrived late from an offline device)
    is logged with `superseded` true and changes nothing."""

    id: str = Field(pattern=rf"^{CONSENT_NUMBER}$", examples=["CS-K7QM-00000001"])
    customer_id: CustomerId
    before: ChannelConsent = Field(description="The customer's consent at the centre when the change arrived")
    after: ChannelConsent = Field(description="What the customer agreed to at the counter")
    superseded: bool = Field(
        default=False,
        description="True: the centre held consent agreed later than this change, and kept it (the change is only "
        "logged)",
    )
    staff_id: StaffId
    staff_name: str | None = Field(default=None, description="The staff member's name, as the centre knew it then")
    store: StoreCode = Field(description="Store of the device the change was made on")
    agreed_at: UtcDatetime
    recorded_at: UtcDatetime = Field(description="When the centre received it")


# --------------------------------------------------------------------------- enrolment (issue 14)

ProvisionalId = Annotated[str, Field(pattern=r"^P[0-9A-F]{16}$", examples=["P0192F3A4B5C6D7E8"])]
"""The id a device gives a customer it enrols before the centre answers: `P` and 16 hex digits. It can never be a
`CustomerId` (those are `C` and digits), so a provisional id is never taken for the centre's, and the device maps it
to the centre's id when the centre answers."""

_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_EMAIL_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def well_formed_email(text: str) -> str:
    """An email address as a person can be written to, trimmed and with its domain in lower case; a `ValueError`
    saying why not. The address's syntax as RFC 5321 allows it for a mailbox people use (dot-atom local part of at
    most 64 characters; a domain of at least two labels of letters, digits and hyphens, a top-level label of
    letters, 253 characters at most). Quoted local parts and IP literals are refused: no shop customer has one."""
    value = text.strip()
    if value.count("@") != 1:
        raise ValueError("an email address has exactly one @")
    local, domain = value.split("@")
    if not local or len(local) > 64 or not _EMAIL_LOCAL.match(local):
        raise ValueError("the part before the @ is not a mailbox name")
    labels = domain.lower().split(".")
    if (
        len(domain) > 253
        or len(labels) < 2
        or not all(_EMAIL_LABEL.match(label) for label in labels)
        or not labels[-1].isalpha()
        or len(labels[-1]) < 2
    ):
        raise ValueError("the part after the @ is not a domain name")
    if len(value) > 254:
        raise ValueError("an email address has at most 254 characters")
    return f"{local}@{domain.lower()}"


EmailAddress = Annotated[str, AfterValidator(well_formed_email), Field(examples=["lotte@example.nl"])]


class EnrolCommand(Command):
    """Enrol a new customer at a store's counter: the centre issues her loyalty card number and customer id, makes
    her a member of the enrolling store (home store, tier basic, no points yet) with the consent per channel she
    gave, and answers the new `Customer`. An email the centre already knows is refused with
    `email_already_enrolled` (with the existing `customer_id`, `card_number` and `member_since`)."""

    provisional_id: ProvisionalId | None = Field(
        default=None, description="The id the device showed her under until the centre answered (kept for the log)"
    )
    first_name: str = Field(min_length=1, max_length=80)
    last_name: str = Field(min_length=1, max_length=80)
    email: EmailAddress
    phone: str | None = Field(default=None, pattern=r"^\+[0-9]{8,15}$", description="E.164, e.g. +31612345678")
    email_consent: bool = Field(strict=True, description="She agreed to newsletters and offers by email")
    sms_consent: bool = Field(strict=True)
    whatsapp_consent: bool = Field(strict=True)
    staff_id: StaffId = Field(description="Who enrolled her: staff of the calling device's store")
    agreed_at: UtcDatetime = Field(
        description="When she enrolled and gave her consent, by the device's clock (it may be sent later): no more "
        "than 5 minutes ahead of the centre's clock and no more than 90 days ago"
    )

    @field_validator("first_name", "last_name", mode="after")
    @classmethod
    def _a_name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("a name is not only spaces")
        return value


# --------------------------------------------------------------------------- outreach (issue 14)

OUTREACH_NUMBER = rf"M-(?:{SERIES}-)?[0-9]{{8,}}"
OutreachChannelName = Literal["whatsapp", "sms", "email"]


class OutreachCommand(Command):
    """An associate sends the customer a message from a template (clienteling.outreach), by a channel she consented
    to. `text` is the text as the associate saw and perhaps edited it: the centre sends it as it is."""

    channel: OutreachChannelName
    template: str = Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$", examples=["back_in_size"])
    lang: Literal["nl", "en"]
    sku: Sku | None = Field(default=None, description="The product the message is about, if any")
    text: str = Field(min_length=1, max_length=1600)
    staff_id: StaffId = Field(description="Who sends it: staff of the calling device's store")
    written_at: UtcDatetime = Field(description="When the associate pressed Send, by the device's clock")


DeliveryState = Literal["pending", "sent", "failed"]


class OutreachMessage(Contract):
    """A message sent from a store, as the centre recorded it (the answer to `OutreachCommand`). It is handed to the
    retailer's provider after the answer (at least once, by reference `id`); `delivery` says where that stands."""

    id: str = Field(pattern=rf"^{OUTREACH_NUMBER}$", examples=["M-K7QM-00000001"])
    customer_id: CustomerId
    conversation_id: str = Field(description="The conversation it was added to (her Chats)")
    channel: OutreachChannelName
    template: str
    lang: Literal["nl", "en"]
    sku: Sku | None = None
    text: str
    to: str = Field(description="The phone number or email address it goes to")
    staff_id: StaffId
    staff_name: str | None = None
    store: StoreCode
    sent_at: UtcDatetime = Field(description="When the centre recorded it (credit counts from here)")
    delivery: DeliveryState = "pending"
    provider_id: str | None = Field(default=None, description="The provider's id of the message, once handed over")


class InboundMessage(Command):
    """A reply from the customer, as the provider hands it to the centre (`POST /v1/outreach/inbound`): by the
    reference of the message it answers (the `M-…` id the provider was given), or else by who sent it."""

    channel: OutreachChannelName
    text: str = Field(min_length=1, max_length=4000)
    reference: str | None = Field(default=None, pattern=rf"^{OUTREACH_NUMBER}$", description="The message answered")
    sender: str | None = Field(
        default=None, min_length=3, max_length=254, description="Her phone number (+31…) or email address"
    )
    received_at: UtcDatetime | None = Field(default=None, description="When the provider received it (default now)")


class SinkMessage(Contract):
    """A message as the local sink provider received it (the demo's and the tests' provider): what an operator reads
    with `clienteling central outreach-messages` or `GET /v1/outreach/sent`."""

    provider_id: str
    reference: str = Field(description="The centre's message id (`M-…`)")
    channel: OutreachChannelName
    to: str
    text: str
    received_at: UtcDatetime


# --------------------------------------------------------------------------- follow-ups (issue 14)

FollowUpId = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-zA-Z][0-9a-zA-Z-]{7,63}$",
        description="Made by whoever made the task: a device's own UUID (so that a later command can name a task made "
        "offline before the centre answered), or the centre's",
        examples=["0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"],
    ),
]
FollowUpState = Literal["open", "done", "snoozed"]
FOLLOW_UP_REASONS = ("back_in_stock",)
"""Why the centre made a task by itself: the device words it from the code and the SKU (no English in the data)."""


class FollowUp(Contract):
    """A task for an associate (or for the store's list: `assignee` None) about a customer, due on a day of the
    store's calendar: "tell Sanne when the navy coat is back in M". Made by staff on a device (`origin` "staff",
    `text` their words) or by the centre (`origin` "centre", `reason` a code such as `back_in_stock`, no text).
    A customer's follow-ups reach every store that serves her, like her notes."""

    id: FollowUpId
    customer_id: CustomerId
    store: StoreCode = Field(description="The store whose list the task is on")
    assignee: StaffId | None = Field(default=None, description="Whose task it is; None: anyone of the store")
    text: str | None = Field(default=None, max_length=500, description="Staff's words (origin staff)")
    reason: str | None = Field(
        default=None,
        description="Why the centre made it (origin centre): `back_in_stock`; `service_recovery_feedback` (she rated "
        "a touchpoint low and said why), `service_recovery_chat` (a message of hers read as negative)",
    )
    about: dict[str, str | int] = Field(
        default_factory=dict,
        description="What a task the centre made is about, for its words: `touchpoint`, `score`, `channel`, `quote` "
        "(her own words)",
    )
    origin: Literal["staff", "centre"] = "staff"
    due: date = Field(description="The day it is due, in the store's calendar")
    sku: Sku | None = Field(default=None, description="The item it concerns, if any")
    style: str | None = None
    state: FollowUpState = "open"
    snoozed_until: date | None = Field(default=None, description="With state snoozed: the day it is due again")
    state_changed_at: UtcDatetime = Field(
        description="When its state was last changed (by the device's clock): a change made earlier never overwrites "
        "one made later"
    )
    created_by: StaffId | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    done_at: UtcDatetime | None = None
    done_by: StaffId | None = None


class FollowUpCommand(Command):
    """Make a follow-up task about the customer (from her profile or from a wishlist item). `id` is made on the
    device (its own UUID), so a later done or snooze made offline can name the task before the centre answered."""

    id: FollowUpId
    text: str = Field(min_length=1, max_length=500)
    due: date
    assignee: StaffId | None = Field(default=None, description="None: the store's list")
    sku: Sku | None = None
    staff_id: StaffId = Field(description="Who made it: staff of the calling device's store")
    created_at: UtcDatetime = Field(description="When it was made, by the device's clock")


class FollowUpStateCommand(Command):
    """Mark a follow-up done, snooze it to a day, or open it again. Changes arrive out of order from devices that
    were offline: the one made last (`changed_at`) wins (`rules.follow_up_change_supersedes`)."""

    follow_up_id: FollowUpId
    state: FollowUpState
    snoozed_until: date | None = Field(default=None, description="Required with state snoozed")
    staff_id: StaffId
    changed_at: UtcDatetime = Field(description="When the change was made, by the device's clock")

    @model_validator(mode="after")
    def _snooze_has_a_day(self) -> FollowUpStateCommand:
        if (self.state == "snoozed") != (self.snoozed_until is not None):
            raise ValueError("snoozed_until is given with state snoozed, and only then")
        return self


class FollowUpStateChange(Contract):
    """The centre's answer to a `FollowUpStateCommand`: the task as it holds it now, and whether the change was
    superseded by one made later (then nothing changed)."""

    id: FollowUpId = Field(description="The follow-up's id")
    superseded: bool = False
    follow_up: FollowUp


# --------------------------------------------------------------------------- sync

T = TypeVar("T")

# The staff come right after the stores: a new device can let someone sign in before the rest arrives.
SYNC_COLLECTIONS = (
    "stores",
    "staff",
    "products",
    "promotions",
    "stock",
    "customers",
    "wishlists",
    "orders",
    "conversations",
    "notes",
    "follow_ups",
    "activities",
)


class SyncPage(Contract, Generic[T]):
    """One page of a collection's change feed, ordered by the centre's sequence number."""

    items: list[T] = Field(description="Rows inserted or updated after the cursor")
    deleted: list[str] = Field(description="Ids of rows deleted after the cursor (tombstones)")
    next_cursor: str = Field(description="Opaque; pass as `after` for the next page")
    has_more: bool


# --------------------------------------------------------------------------- ingest (the retailer's systems)

INGEST_COLLECTIONS = tuple(c for c in SYNC_COLLECTIONS if c not in ("staff", "notes", "follow_ups"))
"""What the retailer's systems may write (`POST /v1/ingest/{collection}`): every synced collection but the staff
(the centre's own, with their PINs) and the notes and follow-ups (the stores' own), each as the collection's feed document
(stock as `IngestedStock`)."""


class IngestedStock(Command):
    """A stock figure from the warehouse or ERP: what is on hand at a location at a moment. Reservations are the
    centre's (ship-to-home orders reserve), so a figure never sets them."""

    store: StoreCode
    sku: Sku
    on_hand: int = Field(strict=True, ge=0, le=1_000_000)
    as_of: UtcDatetime = Field(description="When the figure was counted")


class IngestRecord(Command):
    """One line of an ingest batch: an upsert (`data`, all fields or only those the source owns) or a delete."""

    id: str | None = Field(
        default=None, min_length=1, max_length=80, description="The record's id; taken from `data` when left out"
    )
    source: SourceName | None = Field(default=None, description="The system that sent it; the integration's own name")
    version: int | None = Field(default=None, strict=True, ge=0, description="The source's version of the record")
    updated_at: UtcDatetime | None = Field(
        default=None, description="When the source changed it (instead of `version`): a later one wins"
    )
    deleted: bool = False
    data: dict[str, Any] | None = None


IngestStatus = Literal["accepted", "unchanged", "stale", "refused"]


class IngestLine(Contract):
    """What became of one record that was not simply accepted."""

    line: int = Field(ge=1, description="The record's line (NDJSON) or position (JSON), from 1")
    id: str | None
    status: IngestStatus = Field(
        description="unchanged: this version was already taken; stale: the centre holds a newer version from this "
        "source; refused: see code and detail (the other records of the batch are kept)"
    )
    code: str | None = None
    detail: str | None = None
    field: str | None = None


class IngestReport(Contract):
    """The answer to an ingest batch: counts, and a line for every record that was not accepted."""

    collection: str
    source: SourceName
    received: int
    accepted: int
    unchanged: int
    stale: int
    refused: int
    lines: list[IngestLine]


class FieldOwner(Contract):
    """Which system holds the truth for a field of a collection (`*`: which creates and deletes its records)."""

    collection: str
    field: str
    source: SourceName


# --------------------------------------------------------------------------- the centre's epochs

CURSOR_PATTERN = r"^(?:0|F?[0-9]{1,18}|F?[0-9a-f]{32}\.[0-9a-f]{16}\.[0-9]{1,18})$"
"""A feed cursor: `0` (from the start), `<centre>.<epoch>.<position>`, with `F` in front during a fresh pass. A plain
number is the form of centres before epochs: still accepted, and answered with `reset_required`."""
_POSITION = re.compile(r"^F?([0-9a-f]{32})\.([0-9a-f]{16})\.([0-9]{1,18})$")

LONG_POLL = "long_poll"
"""In `CentreInfo.offers`: the centre answers `GET /v1/sync/wait?after=<position>` as soon as its history moves past
`position` (a `SyncWait`), so a device learns of a change within a second instead of at its next poll."""
WAIT_LONGEST = 30.0  # seconds: the longest a device may ask `GET /v1/sync/wait` to hold its answer


def parse_position(text: str | None) -> tuple[str, str, int] | None:
    """(centre, epoch, seq) of a position or feed cursor (`<centre>.<epoch>.<seq>`, `F` in front or not); None for `0`,
    a plain number (centres before epochs) or anything else."""
    found = _POSITION.fullmatch(text or "")
    return (found.group(1), found.group(2), int(found.group(3))) if found else None


RESTORING_HEADER = "Clienteling-Restoring"
"""On a command sent again after the centre was restored from a backup: the number the centre gave it the first time,
which a restored centre gives it again (its series is one the restored centre never uses)."""
POSITION_HEADER = "Clienteling-Position"
"""On a command's acceptance: `<centre>.<epoch>.<position>`, where the change it made lies in the centre's history."""


class Epoch(Contract):
    """A stretch of the centre's history: from a process opening its database to the next one doing so."""

    epoch: str = Field(pattern=r"^[0-9a-f]{16}$")
    from_seq: int = Field(ge=0, description="The sequence value when this epoch began")
    to_seq: int | None = Field(
        default=None, ge=0, description="Where the next epoch began: this epoch's history ends here (none: current)"
    )


class CentreInfo(Contract):
    """Who the centre is and which history it holds: what a device checks its cursors and its ledger against."""

    centre: str = Field(pattern=r"^[0-9a-f]{32}$", description="The centre's id: the same after restarts and restores")
    epoch: str = Field(pattern=r"^[0-9a-f]{16}$", description="The current epoch")
    seq: int = Field(ge=0, description="The sequence value now")
    epochs: list[Epoch] = Field(description="The epochs this centre's database holds, oldest first (the newest 500)")
    offers: list[str] = Field(
        default=[],
        description=(
            f"What the centre offers beyond plain polling of the feed: `{LONG_POLL}` is `GET /v1/sync/wait`, which "
            "answers as soon as the centre's history moves past a position. Empty from a centre that offers nothing "
            "more (older centres send no such field)."
        ),
    )

    def misses(self, position: str | None) -> str | None:
        """Why this centre does not hold the change at `position` (`<centre>.<epoch>.<seq>`, as a cursor or an
        acknowledgement carries it), or None if it does. The one rule the centre checks cursors by and a device
        checks its ledger by: a position is held if it lies in an epoch of this centre no later than where that
        epoch's history ends (a restored file ends it where the backup was taken) and no later than now."""
        found = _POSITION.fullmatch(position or "")
        if found is None:
            return "no_epoch"  # a cursor or acknowledgement from before epochs, or none at all
        centre, epoch, seq = found.group(1), found.group(2), int(found.group(3))
        if centre != self.centre:
            return "another_centre"
        known = next((e for e in self.epochs if e.epoch == epoch), None)
        if known is None:
            return "unknown_epoch"
        if seq > (known.to_seq if known.to_seq is not None else self.seq):
            return "beyond_epoch" if known.to_seq is not None else "ahead"
        return None

    def position(self, seq: int, *, fresh: bool = False) -> str:
        return f"{'F' if fresh else ''}{self.centre}.{self.epoch}.{seq}"


class SyncWait(Contract):
    """The answer of `GET /v1/sync/wait`: where the centre's history stands now, and whether that is past `after`."""

    position: str = Field(
        pattern=r"^[0-9a-f]{32}\.[0-9a-f]{16}\.[0-9]{1,18}$",
        description="`<centre>.<epoch>.<seq>`: the centre's position now; pass it as `after` to wait for the next change",
    )
    changed: bool = Field(
        description=(
            "True when the history has moved past `after` (a later sequence value, another epoch, or `after` was no "
            "position of this centre): pull the feed. False when the wait ran out with no change: ask again."
        )
    )


# --------------------------------------------------------------------------- how it went (touchpoint feedback)

TOUCHPOINT_TYPES = ("consult", "ship_to_home", "return", "exchange", "pickup", "enrolment")
"""The store touchpoints a customer is asked to rate (issue 15); an older device never sends a type it lacks."""
TouchpointType = Literal["consult", "ship_to_home", "return", "exchange", "pickup", "enrolment"]
FEEDBACK_TOKEN = r"^[a-z2-7]{12}$"
"""A touchpoint's token: 12 base32 letters (60 random bits), made on the device so that a receipt printed offline
already carries its link; short enough to type from a receipt (`/r/<token>`)."""


class TouchpointCommand(Command):
    """A touchpoint in a store that the customer may rate: a consult, an order, a return… Sent from the device's
    outbox with the token the receipt's QR code and short link carry."""

    token: str = Field(pattern=FEEDBACK_TOKEN)
    type: TouchpointType
    staff_id: StaffId | None = Field(default=None, description="Who served her (staff of the device's store)")
    reference: str | None = Field(
        default=None, max_length=40, pattern=r"^[A-Za-z0-9-]+$", description="The order or return number, if any"
    )
    at: UtcDatetime = Field(description="When it happened, by the device's clock (it may be sent later)")


class Touchpoint(Contract):
    """A touchpoint as the centre keeps it: the survey page's `/r/<token>` finds it."""

    token: str = Field(pattern=FEEDBACK_TOKEN)
    type: TouchpointType
    customer_id: CustomerId
    store: StoreCode
    staff_id: StaffId | None = None
    reference: str | None = None
    at: UtcDatetime
    recorded_at: UtcDatetime


class Feedback(Contract):
    """A customer's answer to "how did it go?" about one touchpoint: one answer per touchpoint."""

    token: str = Field(pattern=FEEDBACK_TOKEN)
    type: TouchpointType
    store: StoreCode
    staff_id: StaffId | None = None
    staff_name: str | None = None
    customer_id: CustomerId
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)
    lang: Literal["nl", "en"]
    touchpoint_at: UtcDatetime
    answered_at: UtcDatetime


class PulseCommand(Command):
    """How the shift went, from a member of staff at sign-out: anonymous (no staff id; the centre keeps the store
    and the day only, and shows a week's figure once at least `rules.PULSE_MIN_ANSWERS` answered)."""

    score: int = Field(strict=True, ge=1, le=5)
    day: date = Field(description="The store's calendar day of the shift")


class PulseRecorded(Contract):
    """The centre's answer to a shift's rating: what it kept of it (no one's name, no time of day)."""

    store: StoreCode
    day: date
    score: int = Field(ge=1, le=5)


class ScoreCell(Contract):
    """Answers on a 1–5 scale in one cell of a report: how many, their average, how many were low (1 or 2).
    `average` is None when there are none, or (the staff pulse) fewer than may be shown without telling who."""

    answers: int = Field(ge=0)
    average: float | None = Field(default=None, ge=1, le=5)
    low: int = Field(default=0, ge=0)


class ScoreLine(Contract):
    """One row of a report by week: a touchpoint type, a store or a staff member."""

    key: str = Field(description="The touchpoint type, the store code or the staff id")
    name: str | None = None
    weeks: list[ScoreCell] = Field(description="One per week of the report, oldest first")
    total: ScoreCell


class Experience(Contract):
    """How customers rated the stores' touchpoints, and how the staff's shifts went, week by week
    (`GET /v1/experience`): for one store (a device's) or the whole chain (an administrator's)."""

    store: StoreCode | None = Field(description="None: the whole chain")
    made_at: UtcDatetime
    weeks: list[date] = Field(description="The Mondays the report's weeks begin on, in the store's calendar")
    overall: ScoreLine
    by_type: list[ScoreLine]
    by_store: list[ScoreLine]
    by_staff: list[ScoreLine]
    pulse: ScoreLine = Field(description="The staff pulse: a week's average only where enough answered")
    lowest: list[Feedback] = Field(description="The lowest-rated answers with a comment, the worst and latest first")


# --------------------------------------------------------------------------- the store's figures (dashboard)

DASHBOARD_WEEKS_MAX = 26


class DashboardWeek(Contract):
    """One week of a staff member's (or a whole store's) figures."""

    week: date = Field(description="The Monday the week begins on, in the store's calendar")
    in_store: Money = Field(description="Sales placed in the store (by them), net of returns and cancellations")
    credited_online: Money = Field(
        description="Online orders credited to them (to the store's staff) for a message or consult before"
    )
    follow_ups_done: int = Field(ge=0)
    customers_served: int = Field(ge=0, description="Different customers they served, messaged or followed up")


class DashboardLine(Contract):
    staff_id: StaffId | None = Field(description="None: the whole store")
    name: str | None = None
    weeks: list[DashboardWeek] = Field(description="Oldest first; the last is the week under way")


class Dashboard(Contract):
    """A store's figures by week, for the store and for each of its staff: what an associate sees of their own and a
    manager of the store's (`GET /v1/dashboard`)."""

    store: StoreCode
    made_at: UtcDatetime
    store_total: DashboardLine
    staff: list[DashboardLine] = Field(description="The store's staff, by name")


# --------------------------------------------------------------------------- events (webhooks)


class Event(Contract):
    """What the centre POSTs to a subscribed endpoint when a store did something (issue 13; signing and headers in
    clienteling.webhooks). Delivered at least once, in order per `subject`: a receiver drops an `id` it has seen."""

    id: int = Field(ge=1, description="Rising in the order the changes committed (in `Clienteling-Event-Id` too)")
    position: str = Field(
        pattern=r"^[0-9a-f]{32}\.[0-9a-f]{16}\.[0-9]{1,18}$",
        description="`<centre>.<epoch>.<id>`: unique also across a restore of the centre from a backup (which may "
        "give an `id` again to another event); drop an event whose `position` you have seen",
    )
    type: str = Field(
        description="`order.created`, `return.registered`, `note.added`, `consent.changed`, `customer.enrolled`, "
        "`feedback.received`, `follow_up.created` or `follow_up.done` (more may come: ignore what you do not know)",
        examples=["order.created"],
    )
    subject: str = Field(
        pattern=r"^[a-z]+:[A-Za-z0-9-]+$",
        description="What it is about: `order:<number>` or `customer:<id>`; events of one subject arrive in order",
        examples=["order:ORD-K7QM-00001234", "customer:C0000001"],
    )
    occurred_at: UtcDatetime
    data: dict[str, Any] = Field(
        description="The document made: the `Order` (order.created), the `Return` (return.registered), the "
        "`CustomerNote` (note.added), the `ConsentChange` (consent.changed), the `Customer` (customer.enrolled)"
        "`CustomerNote` (note.added), the `ConsentChange` (consent.changed), the `FollowUp` (follow_up.created, "
        "follow_up.done)"
    )


# --------------------------------------------------------------------------- errors and health

CENTRE_HEADER = "Clienteling-Centre"
"""The header the centre puts on every answer (its stable id): an answer without it came from something in between
(a Wi-Fi sign-in page, a proxy), so the device never takes it for the centre's word."""
PROBLEM_MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An RFC 9457 problem document; `code` names the problem for programs."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(default="about:blank")
    title: str
    status: int
    detail: str | None = None
    code: str | None = None


class Health(Contract):
    status: Literal["ok"]
    version: str
    demo: bool
