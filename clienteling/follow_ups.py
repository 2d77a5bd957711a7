"""Follow-up tasks (issue 14): the rules the centre and the device both keep, written once. No I/O.

A follow-up is a task about a customer for an associate (or for the store's list), due on a day of the store's
calendar. Staff make one on a device ("tell Sanne when the navy coat is back in M"), offline too: the device makes its
id (a UUID), so a done or snooze made before the centre answered can name it. The centre makes one by itself when a
wishlisted item comes back in stock in her size at her home store (`back_in_stock`).

- `made`: the task a `FollowUpCommand` makes (the centre stores it; the device shows it while the command waits);
- `changed`: the task after a state change, or None when a change made later holds (`rules.follow_up_change_supersedes`);
- `due_on` / `is_due`: the day it is due (the snooze's end when snoozed; never when done);
- `came_back` and `back_in_stock`: when the centre makes a task, and for whom.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from clienteling import rules, suggest
from clienteling.contract import Customer, FollowUp, FollowUpCommand, FollowUpStateCommand, Product

SNOOZE_CHOICES = {"tomorrow": 1, "next_week": 7}
"""The quick snooze (and due) choices a screen offers, in days from today."""


def store_day(moment: datetime) -> date:
    """The day `moment` falls on in the store's calendar: a task is due on a day as the store counts days."""
    return rules.store_day(moment)


def day_after(today: date, choice: str) -> date:
    """The day a quick choice (`today`, `tomorrow`, `next_week`) names."""
    return today + timedelta(days=SNOOZE_CHOICES.get(choice, 0))


def made(command: FollowUpCommand, customer_id: str, store: str, now: datetime) -> FollowUp:
    """The task a device's command makes, as the centre stores it and the device shows it until then."""
    return FollowUp(
        id=command.id,
        customer_id=customer_id,
        store=store,
        assignee=command.assignee,
        text=command.text,
        origin="staff",
        due=command.due,
        sku=command.sku,
        style=suggest.style_of(command.sku) if command.sku else None,
        state="open",
        state_changed_at=command.created_at,
        created_by=command.staff_id,
        created_at=command.created_at,
        updated_at=now,
    )


def changed(task: FollowUp, change: FollowUpStateCommand, now: datetime) -> FollowUp | None:
    """`task` after `change`, or None when the task's state was changed later than `change` was made (it stays)."""
    if not rules.follow_up_change_supersedes(change.changed_at, task.state_changed_at):
        return None
    done = change.state == "done"
    return task.model_copy(
        update={
            "state": change.state,
            "snoozed_until": change.snoozed_until if change.state == "snoozed" else None,
            "state_changed_at": change.changed_at,
            "updated_at": max(now, task.updated_at),
            "done_at": change.changed_at if done else None,
            "done_by": change.staff_id if done else None,
        }
    )


def due_on(task: FollowUp) -> date | None:
    """The day the task is due: its snooze's end when snoozed, None when done."""
    if task.state == "done":
        return None
    if task.state == "snoozed" and task.snoozed_until is not None:
        return task.snoozed_until
    return task.due


def is_due(task: FollowUp, today: date) -> bool:
    """Due today or overdue (and not done)."""
    day = due_on(task)
    return day is not None and day <= today


def came_back(available_before: int, available_after: int) -> bool:
    """A SKU comes back in stock at a store when what can be sold there goes from none to some."""
    return available_before <= 0 < available_after


@dataclass(frozen=True)
class Wish:
    """A customer and one SKU on her wishlist."""

    customer: Customer
    sku: str


@dataclass(frozen=True)
class BackInStock:
    """A task the centre makes: tell `customer_id` that `sku` is back, for `assignee` (None: the store's list)."""

    customer_id: str
    sku: str
    assignee: str | None


def back_in_stock(
    store: str,
    sku: str,
    product: Product,
    wishes: Iterable[Wish],
    store_staff: set[str],
    open_items: set[tuple[str, str]],
) -> list[BackInStock]:
    """Who gets a task now that `sku` (a variant of `product`) came back in stock at `store`.

    A customer does when: `store` is her home store; the SKU is one she wishlisted, or the same style and colour in
    her size where she wishlisted another size; it is in her size (`suggest.fits`: her size for its category, any
    size where she has not said hers — then only the very SKU she wishlisted); and she has no task about this SKU
    that is not done (`open_items`: (customer id, SKU) pairs), so never twice. The task is her preferred associate's
    when that associate works at `store` (`store_staff`), else the store's list. One task per customer.
    """
    variant = next((v for v in product.variants if v.sku == sku), None)
    if variant is None:
        return []
    which = suggest.SIZE_OF_CATEGORY.get(product.category)
    tasks: dict[str, BackInStock] = {}
    for wish in wishes:
        customer = wish.customer
        if customer.home_store != store or customer.id in tasks or (customer.id, sku) in open_items:
            continue
        if wish.sku != sku:
            wished = next((v for v in product.variants if v.sku == wish.sku), None)
            has_size = which is not None and getattr(customer.sizes, which) is not None
            if wished is None or wished.colour != variant.colour or not has_size:
                continue
        if not suggest.fits(customer, product, sku):
            continue
        associate = customer.preferred_associate
        tasks[customer.id] = BackInStock(customer.id, sku, associate if associate in store_staff else None)
    return sorted(tasks.values(), key=lambda task: task.customer_id)
