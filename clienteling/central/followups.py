"""Follow-up tasks (issue 14): made by staff on a device, or by the centre when a wishlisted item comes back in stock.

A synced collection (`follow_ups`), scoped to the customer like her notes: every store that serves her gets them.

Commands from a device's outbox, each run once per idempotency key (`_idempotent`):
- `create_follow_up` (`FollowUpCommand`): the task's id is made on the device, so a done or snooze made offline
  before the centre answered can name it. A task whose id the centre already holds for the same customer is answered
  as it is (the same task sent again under another key, after a restore); for another customer it is refused
  (`follow_up_id_taken`). Published as `follow_up.created`.
- `change_follow_up_state` (`FollowUpStateCommand`): done, snoozed to a day, or open again. Devices are offline for
  hours, so changes arrive out of order: the change made last wins (`rules.follow_up_change_supersedes`, which the
  device applies to what it shows too); one made before the task's current state is answered 201 with
  `superseded: true` and changes nothing. Marking it done is published as `follow_up.done`.

The centre's own tasks (`_stock_moved`, called by every path that changes stock at the centre: the ingest API's stock,
a resellable return put back): when a SKU's available count at a store goes from none to some
(`follow_ups.came_back`), the customers whose home store it is and whose wishlist holds it in their size get a task
(`follow_ups.back_in_stock` decides who: never twice for the same customer and SKU while a task about it is not
done), due that day, for their preferred associate if they work there, else on the store's list. It carries `reason`
`back_in_stock` and the SKU, no text: the device words it in the reader's language. Published as `follow_up.created`,
in the transaction of the stock change.

Erasing a customer deletes her follow-ups with tombstones (customers.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from clienteling import follow_ups
from clienteling.central.base import CommandAnswer
from clienteling.central.db import Conn
from clienteling.central.events import Events
from clienteling.central.problems import ProblemError
from clienteling.contract import (
    Customer,
    FollowUp,
    FollowUpCommand,
    FollowUpStateChange,
    FollowUpStateCommand,
    Product,
)


class FollowUps(Events):
    """Follow-up tasks."""

    def follow_ups(self, customer_id: str) -> list[str]:
        """Her follow-ups, every store's, by the day due."""
        docs = [
            r[0] for r in self.query("SELECT doc FROM follow_ups WHERE customer_id = ? ORDER BY id", (customer_id,))
        ]
        return sorted(docs, key=lambda doc: json.loads(doc)["due"])

    def create_follow_up(
        self, customer_id: str, command: FollowUpCommand, key: str, device_store: str
    ) -> CommandAnswer:
        body = f"{customer_id}\n{command.model_dump_json()}"
        return self._idempotent(
            device_store,
            key,
            "follow-up",
            body,
            lambda conn: self._create_follow_up(conn, customer_id, command, device_store),
            customer_id,
        )

    def _create_follow_up(self, conn: Conn, customer_id: str, command: FollowUpCommand, device_store: str) -> str:
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
            raise ProblemError("customer_not_found", f"there is no customer {customer_id}")
        self._staff_of_store(conn, device_store, "staff_id", command.staff_id)  # type: ignore[attr-defined]
        self._staff_of_store(conn, device_store, "assignee", command.assignee)  # type: ignore[attr-defined]
        if (
            command.sku is not None
            and conn.execute("SELECT 1 FROM variants WHERE sku = ?", (command.sku,)).fetchone() is None
        ):
            raise ProblemError("unknown_sku", f"there is no product with SKU {command.sku}")
        held = conn.execute("SELECT customer_id, doc FROM follow_ups WHERE id = ?", (command.id,)).fetchone()
        if held is not None:
            if held[0] != customer_id:
                raise ProblemError("follow_up_id_taken", f"the follow-up id {command.id} is another task's")
            return held[1]
        now = self.clock()
        task = follow_ups.made(command, customer_id, device_store, now)
        doc = task.model_dump_json()
        self._insert_follow_up(conn, task, doc)
        self._add_to_scope(conn, customer_id, device_store, "follow_up")
        self.record_event(conn, "follow_up.created", f"customer:{customer_id}", doc, now)
        return doc

    def _insert_follow_up(self, conn: Conn, task: FollowUp, doc: str) -> None:
        conn.execute(
            "INSERT INTO follow_ups (id, seq, customer_id, store, sku, state, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (task.id, self.next_seq(conn), task.customer_id, task.store, task.sku, task.state, doc),
        )

    def change_follow_up_state(
        self, customer_id: str, command: FollowUpStateCommand, key: str, device_store: str
    ) -> CommandAnswer:
        body = f"{customer_id}\n{command.model_dump_json()}"
        return self._idempotent(
            device_store,
            key,
            "follow-up-state",
            body,
            lambda conn: self._change_follow_up_state(conn, customer_id, command, device_store),
            customer_id,
        )

    def _change_follow_up_state(
        self, conn: Conn, customer_id: str, command: FollowUpStateCommand, device_store: str
    ) -> str:
        self._staff_of_store(conn, device_store, "staff_id", command.staff_id)  # type: ignore[attr-defined]
        locked = " FOR UPDATE" if self.db.dialect == "postgresql" else ""
        row = conn.execute(
            f"SELECT doc FROM follow_ups WHERE id = ? AND customer_id = ?{locked}", (command.follow_up_id, customer_id)
        ).fetchone()
        if row is None:
            raise ProblemError("follow_up_not_found", f"customer {customer_id} has no follow-up {command.follow_up_id}")
        held = FollowUp.model_validate_json(row[0])
        now = self.clock()
        after = follow_ups.changed(held, command, now)
        if after is None:
            return FollowUpStateChange(id=held.id, superseded=True, follow_up=held).model_dump_json()
        doc = after.model_dump_json()
        conn.execute(
            "UPDATE follow_ups SET seq = ?, state = ?, doc = ? WHERE id = ?",
            (self.next_seq(conn), after.state, doc, after.id),
        )
        if after.state == "done" and held.state != "done":
            self.record_event(conn, "follow_up.done", f"customer:{customer_id}", doc, now)
        return FollowUpStateChange(id=after.id, superseded=False, follow_up=after).model_dump_json()

    # ------------------------------------------------------------------ the centre's own tasks

    def _stock_moved(self, conn: Conn, store: str, sku: str, before: int, after: int, now: datetime) -> int:
        """Stock of `sku` at `store` went from `before` to `after` available, in the transaction `conn`: make the
        back-in-stock tasks it calls for (see the module's docstring). Returns how many were made."""
        if not follow_ups.came_back(before, after):
            return 0
        style = conn.execute("SELECT style FROM variants WHERE sku = ?", (sku,)).fetchone()
        if style is None:
            return 0
        wishes = [
            follow_ups.Wish(Customer.model_validate_json(customer), json.loads(item)["sku"])
            for item, customer in conn.execute(
                "SELECT w.doc, c.doc FROM wishlists w JOIN customers c ON c.id = w.customer_id"
                " WHERE w.doc->>'style' = ? AND c.home_store = ? ORDER BY w.id",
                (style[0], store),
            ).fetchall()
        ]
        if not wishes:
            return 0
        product = Product.model_validate_json(
            conn.execute("SELECT doc FROM products WHERE id = ?", (style[0],)).fetchone()[0]
        )
        staff = {r[0] for r in conn.execute("SELECT id FROM staff WHERE store = ?", (store,)).fetchall()}
        marks = ", ".join("?" for _ in wishes)
        open_items = {
            (r[0], r[1])
            for r in conn.execute(
                f"SELECT customer_id, sku FROM follow_ups WHERE sku = ? AND state <> 'done'"
                f" AND customer_id IN ({marks})",
                (sku, *[w.customer.id for w in wishes]),
            ).fetchall()
        }
        tasks = follow_ups.back_in_stock(store, sku, product, wishes, staff, open_items)
        for planned in tasks:
            task = FollowUp(
                id=str(uuid.uuid4()),
                customer_id=planned.customer_id,
                store=store,
                assignee=planned.assignee,
                reason="back_in_stock",
                origin="centre",
                due=follow_ups.store_day(now),
                sku=sku,
                style=product.style,
                state_changed_at=now,
                created_at=now,
                updated_at=now,
            )
            doc = task.model_dump_json()
            self._insert_follow_up(conn, task, doc)
            self.record_event(conn, "follow_up.created", f"customer:{task.customer_id}", doc, now)
        return len(tasks)

    def _service_recovery(
        self, conn: Conn, customer_id: str, store: str, reason: str, about: dict, now: datetime
    ) -> FollowUp | None:
        """A follow-up on `store`'s list, due today, to get back to a customer who was unhappy (issue 15): a low
        rating that says why, or a message of hers read as negative. None (nothing made) while an earlier one of the
        same kind is still open: she is on the list already."""
        for (doc,) in conn.execute(
            "SELECT doc FROM follow_ups WHERE customer_id = ? AND state <> 'done'", (customer_id,)
        ).fetchall():
            if json.loads(doc).get("reason") == reason:
                return None
        task = FollowUp(
            id=str(uuid.uuid4()),
            customer_id=customer_id,
            store=store,
            reason=reason,
            about=about,
            origin="centre",
            due=follow_ups.store_day(now),
            state_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        doc = task.model_dump_json()
        self._insert_follow_up(conn, task, doc)
        self._add_to_scope(conn, customer_id, store, "follow_up")  # type: ignore[attr-defined]
        self.record_event(conn, "follow_up.created", f"customer:{customer_id}", doc, now)
        return task

    @staticmethod
    def _available(conn: Conn, store: str, sku: str) -> int:
        """What can be sold of `sku` at `store` now (none where the centre has no figure)."""
        row = conn.execute("SELECT on_hand - reserved FROM stock WHERE id = ?", (f"{store}:{sku}",)).fetchone()
        return max(int(row[0]), 0) if row else 0
