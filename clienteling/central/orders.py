"""Orders and returns: ship-to-home orders placed in a store (stock reserved at once) and returns at the desk."""

from __future__ import annotations

from clienteling import rules
from clienteling.central.base import CommandAnswer, iso
from clienteling.central.db import Conn
from clienteling.central.epochs import NUMBERED_ORDER
from clienteling.central.events import Events
from clienteling.central.problems import ProblemError
from clienteling.contract import (
    Order,
    Product,
    Promotion,
    Return,
    ReturnCommand,
    ReturnLine,
    ShipToHomeOrderCommand,
    StatusChange,
    utc_now,
)


class Orders(Events):
    """Orders and returns."""

    def orders(self, customer_id: str) -> list[str]:
        return [
            r[0]
            for r in self.query(
                f"SELECT doc FROM orders WHERE customer_id = ? ORDER BY created_at DESC, {NUMBERED_ORDER}",
                (customer_id,),
            )
        ]

    def order_doc(self, number: str) -> str | None:
        row = self.query_one("SELECT doc FROM orders WHERE id = ?", (number,))
        return row[0] if row else None

    def place_ship_to_home(
        self, command: ShipToHomeOrderCommand, key: str, device_store: str, *, restoring: str | None = None
    ) -> CommandAnswer:
        """Place a ship-to-home order. `restoring` is the number the device was given for it before this centre was
        restored from a backup: the order gets it again if `epochs.reusable` allows."""
        return self._idempotent(
            device_store,
            key,
            "ship-to-home",
            command.model_dump_json(),
            lambda conn: self._ship_to_home(conn, command, device_store, restoring),
            command.customer_id,
        )

    def _ship_to_home(
        self, conn: Conn, command: ShipToHomeOrderCommand, device_store: str, restoring: str | None
    ) -> str:
        now = utc_now()
        self._staff_of_store(conn, device_store, "placed_by", command.placed_by)
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (command.customer_id,)).fetchone() is None:
            raise ProblemError("unknown_customer", f"there is no customer {command.customer_id}")
        if conn.execute("SELECT 1 FROM stores WHERE id = ?", (command.fulfilling_store,)).fetchone() is None:
            raise ProblemError("unknown_store", f"there is no store or DC {command.fulfilling_store}")
        wanted: dict[str, int] = {}
        for line in command.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
        short = []
        items: list[tuple[Product, str, int]] = []
        for sku, quantity in wanted.items():
            found = conn.execute(
                "SELECT p.doc FROM variants v JOIN products p ON p.id = v.style WHERE v.sku = ?", (sku,)
            ).fetchone()
            if found is None:
                raise ProblemError("unknown_sku", f"there is no product with SKU {sku}", sku=sku)
            level = conn.execute(
                "SELECT on_hand - reserved FROM stock WHERE store = ? AND sku = ?", (command.fulfilling_store, sku)
            ).fetchone()
            available = max(level[0], 0) if level else 0
            if available < quantity:
                short.append({"sku": sku, "requested": quantity, "available": available})
            items.append((Product.model_validate_json(found[0]), sku, quantity))
        if short:
            described = ", ".join(f"{s['sku']}: {s['requested']} wanted, {s['available']} available" for s in short)
            raise ProblemError(
                "out_of_stock",
                f"not enough stock at {command.fulfilling_store} ({described})",
                store=command.fulfilling_store,
                lines=short,
            )
        for sku, quantity in wanted.items():
            # Reserved only if still there: the condition is checked again under the row's lock, so two centre
            # processes selling the last one never both get it (on SQLite writers are one at a time anyway).
            taken = conn.execute(
                "UPDATE stock SET reserved = reserved + ?, as_of = ?, seq = ? WHERE store = ? AND sku = ?"
                " AND on_hand - reserved >= ?",
                (quantity, iso(now), self.next_seq(conn), command.fulfilling_store, sku, quantity),
            ).rowcount
            if not taken:
                level = conn.execute(
                    "SELECT on_hand - reserved FROM stock WHERE store = ? AND sku = ?", (command.fulfilling_store, sku)
                ).fetchone()
                available = max(level[0], 0) if level else 0
                raise ProblemError(
                    "out_of_stock",
                    f"not enough stock at {command.fulfilling_store} ({sku}: {quantity} wanted, {available} available)",
                    store=command.fulfilling_store,
                    lines=[{"sku": sku, "requested": quantity, "available": available}],
                )
        tier = conn.execute("SELECT doc->>'tier' FROM customers WHERE id = ?", (command.customer_id,)).fetchone()[0]
        promotions = [
            Promotion.model_validate_json(r[0]) for r in conn.execute("SELECT doc FROM promotions").fetchall()
        ]
        priced = rules.price_order(items, promotions, tier=tier, channel="store", now=now)  # as the review showed
        lines = [
            _order_line(number, product, line)
            for number, ((product, _, _), line) in enumerate(zip(items, priced.lines, strict=True), start=1)
        ]
        totals = priced.totals
        number = self._number(conn, "ORD", "order_number", restoring)
        order = Order.model_validate(
            {
                "number": number,
                "customer_id": command.customer_id,
                "channel": "store",
                "fulfilment": "delivery",
                "store": device_store,
                "fulfilled_by": command.fulfilling_store,
                "status": "reserved",
                "status_history": [
                    {"status": "placed", "at": now, "note": f"ship to home, placed in store {device_store}"},
                    {"status": "reserved", "at": now, "note": f"stock reserved at {command.fulfilling_store}"},
                ],
                "lines": lines,
                "shipping_address": command.shipping_address,
                "totals": totals,
                "placed_by": command.placed_by,
                "created_at": now,
                "updated_at": now,
            }
        )
        doc = order.model_dump_json()
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
            (number, self.next_seq(conn), command.customer_id, iso(now), doc),
        )
        for sku in wanted:  # what is ordered leaves the wishlist
            self.delete(conn, "wishlists", f"{command.customer_id}:{sku}")
        self._add_to_scope(conn, command.customer_id, device_store, "buyer")
        self.record_event(conn, "order.created", f"order:{number}", doc, now)
        return doc

    def register_return(
        self, command: ReturnCommand, key: str, device_store: str, *, restoring: str | None = None
    ) -> CommandAnswer:
        buyer = self.query_one("SELECT customer_id FROM orders WHERE id = ?", (command.order_number,))
        return self._idempotent(
            device_store,
            key,
            "return",
            command.model_dump_json(),
            lambda conn: self._return(conn, command, device_store, restoring),
            buyer[0] if buyer else None,
        )

    def _return(self, conn: Conn, command: ReturnCommand, device_store: str, restoring: str | None) -> str:
        now = utc_now()
        self._staff_of_store(conn, device_store, "received_by", command.received_by)
        row = conn.execute("SELECT doc FROM orders WHERE id = ?", (command.order_number,)).fetchone()
        if row is None:
            raise ProblemError("order_not_found", f"there is no order {command.order_number}")
        order = Order.model_validate_json(row[0])
        eligibility = rules.return_eligibility(order, now)
        refusal = rules.refuse_return(eligibility, command.lines)
        if refusal is not None:
            raise _return_problem(order, refusal)
        by_number = {line.line_no: line for line in order.lines}
        returned = []
        for request in command.lines:
            line = by_number[request.line_no]
            line.returned_quantity += request.quantity
            returned.append(
                ReturnLine(**request.model_dump(), sku=line.sku, refund=rules.line_refund(line, request.quantity))
            )
            if request.condition == "resellable":
                self._restock(conn, device_store, line.sku, request.quantity, now)
        fully = all(line.returned_quantity == line.quantity for line in order.lines)
        order.status = "returned" if fully else "partially_returned"
        number = self._number(conn, "RET", "return_number", restoring)
        order.status_history.append(StatusChange(status=order.status, at=now, note=f"{number} at {device_store}"))
        order.updated_at = now
        self._touch(conn, "orders", order.number, order.model_dump_json())
        receipt = Return(
            number=number,
            order_number=order.number,
            customer_id=order.customer_id,
            store=device_store,
            lines=returned,
            refund=rules.refund(order, {line.line_no: line.quantity for line in command.lines}),
            received_by=command.received_by,
            created_at=now,
        )
        doc = receipt.model_dump_json()
        conn.execute("INSERT INTO returns VALUES (?, ?, ?, ?)", (number, order.number, iso(now), doc))
        self.record_event(conn, "return.registered", f"order:{order.number}", doc, now)
        return doc


def _order_line(number: int, product: Product, line: rules.PricedLine) -> dict:
    variant = next(v for v in product.variants if v.sku == line.sku)
    promoted = line.unit.promotion is not None
    return {
        "line_no": number,
        "sku": line.sku,
        "name": product.name,
        "colour": variant.colour,
        "size": variant.size,
        "quantity": line.quantity,
        "unit_price": line.unit.price,
        "returned_quantity": 0,
        "list_price": line.unit.list_price if promoted else None,
        "promotion": line.unit.promotion.id if line.unit.promotion else None,
    }


def _return_problem(order: Order, refusal: rules.Refusal) -> ProblemError:
    """The centre's answer to a return that the rules refuse: the same codes as ever, with the rule's reason."""
    params = refusal.params
    if refusal.code == "bought_in_store":
        return ProblemError(
            "not_an_online_order",
            f"order {order.number} was bought in store; take it back at the till, not as an online return",
        )
    if refusal.code == "not_delivered":
        return ProblemError(
            "order_not_delivered", f"order {order.number} is {order.status}; it can be returned once delivered"
        )
    if refusal.code == "window_closed":
        delivered, closed = params["delivered_at"], params["closed_at"]
        return ProblemError(
            "return_window_closed",
            f"order {order.number} was delivered on {delivered.date().isoformat()}; "
            f"its {params['days']}-day return window closed on {closed.date().isoformat()}",
            delivered_at=iso(delivered),
            window_closed_at=iso(closed),
        )
    if refusal.code == "unknown_line":
        return ProblemError(
            "order_line_not_found",
            f"order {order.number} has no line {params['line_no']}"
            + (" (or it was named twice)" if params["twice"] else ""),
            line_no=params["line_no"],
        )
    line = next(line for line in order.lines if line.line_no == params["line_no"])
    return ProblemError(
        "return_quantity_exceeded",
        f"line {line.line_no} of order {order.number} ({line.name}) has {params['left']} item(s) left to return, "
        f"not {params['requested']}",
        line_no=line.line_no,
        returnable=params["left"],
    )
