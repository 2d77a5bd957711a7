"""What the `Device` hands to screens and scripts: the contract's models, arranged for a person."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clienteling.contract import (
    Conversation,
    Customer,
    CustomerSummary,
    Order,
    Product,
    ProductMatch,
    Variant,
    WishlistItem,
)


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
class WishlistEntry:
    item: WishlistItem
    product: Product | None
    variant: Variant | None
    stock: StockView


@dataclass(frozen=True)
class LocalCommand:
    """An order, return, note or profile view made on this device, and what became of it at the centre."""

    command_id: str
    kind: str  # "ship_to_home", "return", "note" or "profile_view" (a background record, see Device.commands)
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
class CustomerPicture:
    """Everything the company knows about one customer, as one call gives it to a screen."""

    customer: Customer
    wishlist: list[WishlistEntry]
    orders: list[Order]
    conversations: list[Conversation]
    commands: list[LocalCommand] = field(default_factory=list)  # made here, newest first
    kept_from_lookup: bool = False  # fetched online: outside this store's own customers


@dataclass(frozen=True)
class Lookup:
    """What a scan or typed text found: a customer, a product, an order, or a list of customers."""

    kind: str  # "customer", "product", "order" or "matches"
    customer: Customer | None = None
    product: ProductMatch | None = None
    order: Order | None = None
    matches: list[CustomerSummary] = field(default_factory=list)


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
