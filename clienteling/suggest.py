"""What to show her now (issue 14): up to three suggestions for the customer in front of staff, each with its reason,
worked out on the device from what the cache holds. No I/O: the device gathers the facts, this decides.

In order of how strong the reason is:
0. a follow-up about an item is due today or overdue ("follow-up due today": staff meant to show it to her);
1. on her wishlist, in her size, in this store ("on her wishlist, in her size, 2 in this store");
2. goes with something she bought in the last year, in her size, in this store ("goes with the Harbour coat she
   bought in October");
3. on her wishlist, in her size, in another store (it can be shipped to her home).

Never: a style she bought or returned in the last 30 days (a return counts from when it was made, however old the
order), or an item she declined.

Service first (issue 15): while her journey is at the service stage (an open conversation with customer service, a
return this week: clienteling.journey), nothing is suggested; the screen says why instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clienteling.contract import Customer, Order, Product

MAX_SUGGESTIONS = 3
RECENT = timedelta(days=30)
"""What she bought or returned this recently is never suggested (it irritates)."""
GOES_WITH_WINDOW = timedelta(days=365)
"""A purchase this recent can be completed by what goes with it."""

SIZE_OF_CATEGORY = {"coats": "tops", "knitwear": "tops", "trousers": "trousers", "sneakers": "shoes"}
"""Which of her sizes fits a category."""
GOES_WITH = {
    "coats": ("knitwear", "trousers"),
    "knitwear": ("trousers", "coats"),
    "trousers": ("knitwear", "sneakers"),
    "sneakers": ("trousers",),
}
"""What completes a purchase of each category, the best first."""


@dataclass(frozen=True)
class WishedItem:
    """A wishlist item and where it is: `here` available in this store, `elsewhere` (count, city) the nearest other."""

    product: Product
    sku: str
    here: int
    elsewhere: tuple[int, str] | None


@dataclass(frozen=True)
class InStock:
    """A product with a SKU available in this store."""

    product: Product
    sku: str
    here: int


@dataclass(frozen=True)
class DueItem:
    """The item a follow-up due today (or overdue) concerns."""

    product: Product
    sku: str


@dataclass(frozen=True)
class Suggestion:
    """One thing to show her, and why: `reason` a code the screen words with `params`."""

    product: Product
    sku: str
    reason: str  # "follow_up_due", "wishlist_here", "goes_with" or "wishlist_elsewhere"
    params: dict[str, object] = field(default_factory=dict)


def style_of(sku: str) -> str:
    """The style a SKU is a variant of: the catalogue's SKUs are `<style>-<colour>-<size>`."""
    return sku.split("-", 1)[0]


def fits(customer: Customer, product: Product, sku: str) -> bool:
    """Whether `sku` is in her size for its category (any size fits where she has not said hers)."""
    which = SIZE_OF_CATEGORY.get(product.category)
    hers = getattr(customer.sizes, which) if which else None
    if hers is None:
        return True
    variant = next((v for v in product.variants if v.sku == sku), None)
    return variant is not None and variant.size == hers


def recent_styles(orders: Iterable[Order], now: datetime) -> set[str]:
    """The styles of what she bought (or returned) in the last `RECENT`: an order line's SKU starts with its style.
    A line returned in the last `RECENT` counts however long ago it was bought."""
    recent = set()
    for order in orders:
        if order.status == "cancelled":
            continue
        if now - order.created_at <= RECENT:
            recent.update(style_of(line.sku) for line in order.lines)
        elif order.status in ("returned", "partially_returned") and any(
            change.status in ("returned", "partially_returned") and now - change.at <= RECENT
            for change in order.status_history
        ):
            recent.update(style_of(line.sku) for line in order.lines if line.returned_quantity > 0)
    return recent


def suggest(
    customer: Customer,
    wished: list[WishedItem],
    orders: list[Order],
    in_stock: dict[str, list[InStock]],
    categories: dict[str, str],
    declined: set[str],
    now: datetime,
    *,
    limit: int = MAX_SUGGESTIONS,
    due: Iterable[DueItem] = (),
    service_first: bool = False,
) -> list[Suggestion]:
    """Up to `limit` suggestions for `customer` (see the module's docstring). `in_stock` holds, by category, what this
    store has; `categories` the category of each style she bought; `declined` the SKUs and styles she said no to;
    `due` the items of her follow-ups due today or overdue (shown first, unless she declined them); `service_first`
    (her journey is at the service stage) leaves none."""
    if service_first:
        return []
    recent = recent_styles(orders, now)
    chosen: list[Suggestion] = []
    seen: set[str] = set()

    def allowed(product: Product, sku: str) -> bool:
        return (
            product.style not in recent
            and product.style not in seen
            and sku not in declined
            and product.style not in declined
            and fits(customer, product, sku)
        )

    def take(suggestion: Suggestion) -> None:
        chosen.append(suggestion)
        seen.add(suggestion.product.style)

    for item in due:
        if item.product.style not in seen and item.sku not in declined and item.product.style not in declined:
            take(Suggestion(item.product, item.sku, "follow_up_due"))
    for item in sorted(wished, key=lambda w: -w.here):
        if item.here > 0 and allowed(item.product, item.sku):
            take(Suggestion(item.product, item.sku, "wishlist_here", {"n": item.here}))
    bought = [
        (order.created_at, line)
        for order in orders
        if order.status != "cancelled" and now - order.created_at <= GOES_WITH_WINDOW
        for line in order.lines
    ]
    for at, line in sorted(bought, key=lambda pair: pair[0], reverse=True):
        category = categories.get(style_of(line.sku), "")
        for wanted in GOES_WITH.get(category, ()):
            match = next((c for c in in_stock.get(wanted, []) if allowed(c.product, c.sku)), None)
            if match is not None:
                take(Suggestion(match.product, match.sku, "goes_with", {"name": line.name, "bought_at": at}))
                break
        if len(chosen) >= limit:
            break
    for item in wished:
        if item.here <= 0 and item.elsewhere and allowed(item.product, item.sku):
            count, city = item.elsewhere
            take(Suggestion(item.product, item.sku, "wishlist_elsewhere", {"n": count, "city": city}))
    return chosen[:limit]
