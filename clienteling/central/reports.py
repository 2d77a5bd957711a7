"""The store's figures by week (`GET /v1/dashboard`): what each associate sold in the store, the online orders
credited to them, the follow-ups they did and the customers they served; and the same for the whole store.

Worked out at the centre, not on a device: a device holds only its own store's customers, while an online order
credited to one of its associates may be a customer of any store, and the profiles opened on the store's other
devices are only at the centre. A device keeps the last answer, so the figures stay on screen offline with their age.

An online order counts for the associate it is credited to (`Order.credited_to`, set by the centre when the order
arrives: their message or consult came last, within 14 days before it; `rules.credit_for`), in the week it was
placed.

Weeks are the store's calendar weeks (Monday to Sunday, `rules.week_of`); sales are `rules.net_sales_cents` (returns
and cancellations taken off, shipping not counted). A customer counts once per week for each staff member who served
them (a profile opened, an order placed, a message sent, a follow-up done) and once for the store.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from clienteling import rules
from clienteling.central.base import StoreBase, iso
from clienteling.contract import Dashboard, DashboardLine, DashboardWeek, Money, Order

DEFAULT_WEEKS = 8


class _Tally:
    """The figures of one line (a staff member or the store), by week."""

    def __init__(self) -> None:
        self.in_store: dict[date, int] = defaultdict(int)
        self.credited: dict[date, int] = defaultdict(int)
        self.follow_ups: dict[date, int] = defaultdict(int)
        self.served: dict[date, set[str]] = defaultdict(set)

    def line(self, staff_id: str | None, name: str | None, weeks: list[date]) -> DashboardLine:
        return DashboardLine(
            staff_id=staff_id,
            name=name,
            weeks=[
                DashboardWeek(
                    week=week,
                    in_store=Money(cents=self.in_store[week]),
                    credited_online=Money(cents=self.credited[week]),
                    follow_ups_done=self.follow_ups[week],
                    customers_served=len(self.served[week]),
                )
                for week in weeks
            ],
        )


class Reports(StoreBase):
    def dashboard(self, store: str, weeks: int = DEFAULT_WEEKS) -> Dashboard:
        """`store`'s figures for the last `weeks` weeks (the one under way included), for the store and each of its
        staff (those who have left included when they have figures in the period)."""
        now = self.clock()
        this_week = rules.week_of(rules.store_day(now))
        mondays = [this_week - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
        since = iso(rules.week_start(mondays[0]))
        staff = {
            staff_id: json.loads(doc)
            for staff_id, doc in self.query("SELECT id, doc FROM staff WHERE store = ?", (store,))
        }
        tallies: dict[str | None, _Tally] = defaultdict(_Tally)

        def count(staff_id: str | None, at: datetime | str, customer_id: str) -> date | None:
            moment = datetime.fromisoformat(at) if isinstance(at, str) else at
            week = rules.week_of(rules.store_day(moment))
            if week < mondays[0]:
                return None
            for key in {staff_id, None}:
                tallies[key].served[week].add(customer_id)
            return week

        for order in self._orders_since(since, store):
            week = count(order.placed_by if order.placed_by in staff else None, order.created_at, order.customer_id)
            if week is not None:
                for key in {order.placed_by if order.placed_by in staff else None, None}:
                    tallies[key].in_store[week] += rules.net_sales_cents(order)
        for order in self._credited_since(since, store):
            credit = order.credited_to
            who = credit.staff_id if credit.staff_id in staff else None
            week = count(who, order.created_at, order.customer_id)
            if week is not None:
                for key in {who, None}:
                    tallies[key].credited[week] += rules.net_sales_cents(order)
        for staff_id, customer_id, sent_at in self.query(
            "SELECT staff_id, customer_id, sent_at FROM outreach_messages WHERE store = ? AND sent_at >= ?",
            (store, since),
        ):
            count(staff_id if staff_id in staff else None, sent_at, customer_id)
        for (doc,) in self.query("SELECT doc FROM follow_ups WHERE store = ? AND state = 'done'", (store,)):
            task = json.loads(doc)
            if task.get("done_at") and task["done_at"] >= since:
                who = task.get("done_by") if task.get("done_by") in staff else None
                week = count(who, task["done_at"], task["customer_id"])
                if week is not None:
                    for key in {who, None}:
                        tallies[key].follow_ups[week] += 1
        for staff_id, customer_id, viewed_at in self.query(
            "SELECT staff_id, customer_id, viewed_at FROM profile_views WHERE store = ? AND viewed_at >= ?",
            (store, since),
        ):
            count(staff_id if staff_id in staff else None, viewed_at, customer_id)
        total = tallies[None]
        return Dashboard(
            store=store,
            made_at=now,
            store_total=total.line(None, None, mondays),
            staff=[
                tallies[staff_id].line(staff_id, member.get("name"), mondays)
                for staff_id, member in sorted(staff.items(), key=lambda item: (item[1].get("name") or "", item[0]))
                if member.get("active", True) or staff_id in tallies
            ],
        )

    def _credited_since(self, since: str, store: str) -> Iterable[Order]:
        """The online orders since `since` credited to a member of `store`'s staff (`Order.credited_to`)."""
        for (doc,) in self.query(
            "SELECT doc FROM orders WHERE created_at >= ? AND doc->'credited_to'->>'store' = ?", (since, store)
        ):
            yield Order.model_validate_json(doc)

    def _orders_since(self, since: str, store: str) -> Iterable[Order]:
        """The orders placed in `store` since `since`."""
        for (doc,) in self.query(
            "SELECT doc FROM orders WHERE created_at >= ? AND doc->>'store' = ? AND doc->>'channel' = 'store'",
            (since, store),
        ):
            yield Order.model_validate_json(doc)
