"""Orders and returns: ship-to-home orders placed in a store (stock reserved at once), returns at the desk, and
exchanges at the desk.

An exchange (`ExchangeCommand`, `POST /v1/exchanges`) is a return whose refund is replaced, line by line, by another
size or colour of the same style (`rules.refuse_exchange`, `rules.exchange_refund`), done in one transaction or not at
all: the return is recorded (its answer is the `Return`, with `replacement_orders` and each exchanged line's
`exchanged_for`), and one replacement order per place it comes from is made: `in_store` (handed over now: this
store's stock goes down, the order is `completed`) or `delivery` (shipped to her home by the store or DC named:
stock is reserved there, the order is `reserved`, as a ship-to-home order). A replacement costs what she paid for
the item she brought back, shipping free. When the replacement is no longer there, the whole exchange is refused
(`out_of_stock`, 409) and nothing is returned. Events: `return.registered` and `order.created` for each replacement.
A restored centre gives the return its number again (`restoring`); the replacement orders get new numbers.
"""

from __future__ import annotations

from clienteling import rules
from clienteling.central.base import CommandAnswer, iso
from clienteling.central.db import Conn
from clienteling.central.epochs import NUMBERED_ORDER
from clienteling.central.events import Events
from clienteling.central.problems import ProblemError
from clienteling.contract import (
    ExchangeCommand,
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
        order = _order_of(conn, command.order_number)
        refusal = rules.refuse_return(rules.return_eligibility(order, now), command.lines)
        if refusal is not None:
            raise _return_problem(order, refusal)
        number = self._number(conn, "RET", "return_number", restoring)
        receipt = self._take_back(conn, order, command.lines, {}, number, device_store, command.received_by, now)
        doc = receipt.model_dump_json()
        conn.execute("INSERT INTO returns VALUES (?, ?, ?, ?)", (number, order.number, iso(now), doc))
        self.record_event(conn, "return.registered", f"order:{order.number}", doc, now)
        return doc

    def _take_back(
        self,
        conn: Conn,
        order: Order,
        requests: list,
        exchanged: dict[int, str],
        number: str,
        device_store: str,
        received_by: str | None,
        now,
    ) -> Return:
        """Take the `requests`' items back into `order` (resellable ones onto this store's shelf) as return `number`;
        `exchanged` (line number -> SKU taken instead) lines pay nothing back."""
        by_number = {line.line_no: line for line in order.lines}
        quantities = {request.line_no: request.quantity for request in requests}
        returned = []
        for request in requests:
            line = by_number[request.line_no]
            line.returned_quantity += request.quantity
            refund = rules.exchange_refund(order, {line.line_no: request.quantity}, exchanged)
            returned.append(
                ReturnLine(
                    **request.model_dump(), sku=line.sku, refund=refund, exchanged_for=exchanged.get(request.line_no)
                )
            )
            if request.condition == "resellable":
                self._restock(conn, device_store, line.sku, request.quantity, now)
        fully = all(line.returned_quantity == line.quantity for line in order.lines)
        order.status = "returned" if fully else "partially_returned"
        note = f"{number} at {device_store}" + (" (exchange)" if exchanged else "")
        order.status_history.append(StatusChange(status=order.status, at=now, note=note))
        order.updated_at = now
        self._touch(conn, "orders", order.number, order.model_dump_json())
        return Return(
            number=number,
            order_number=order.number,
            customer_id=order.customer_id,
            store=device_store,
            lines=returned,
            refund=rules.exchange_refund(order, quantities, exchanged),
            received_by=received_by,
            created_at=now,
        )

    def register_exchange(
        self, command: ExchangeCommand, key: str, device_store: str, *, restoring: str | None = None
    ) -> CommandAnswer:
        buyer = self.query_one("SELECT customer_id FROM orders WHERE id = ?", (command.order_number,))
        return self._idempotent(
            device_store,
            key,
            "exchange",
            command.model_dump_json(),
            lambda conn: self._exchange(conn, command, device_store, restoring),
            buyer[0] if buyer else None,
        )

    def _exchange(self, conn: Conn, command: ExchangeCommand, device_store: str, restoring: str | None) -> str:
        now = self.clock()
        self._staff_of_store(conn, device_store, "received_by", command.received_by)
        order = _order_of(conn, command.order_number)
        products: dict[str, Product] = {}
        for replacement in command.replacements:
            found = conn.execute(
                "SELECT p.doc FROM variants v JOIN products p ON p.id = v.style WHERE v.sku = ?", (replacement.sku,)
            ).fetchone()
            if found is not None:
                products[replacement.sku] = Product.model_validate_json(found[0])
        eligibility = rules.return_eligibility(order, now)
        refusal = rules.refuse_exchange(eligibility, command.lines, command.replacements, products)
        if refusal is not None:
            raise _exchange_problem(order, refusal)
        address = command.shipping_address or order.shipping_address
        places: dict[tuple[str, str], list] = {}  # (fulfilment, store) -> replacements, in the order given
        for replacement in command.replacements:
            store = device_store if replacement.fulfilment == "in_store" else replacement.from_store
            if replacement.fulfilment == "in_store" and replacement.from_store not in (None, device_store):
                raise ProblemError(
                    "invalid_request",
                    f"an item handed over in store comes from this store ({device_store}), "
                    f"not {replacement.from_store}: ship it (fulfilment delivery) instead",
                )
            if store is None:
                raise ProblemError("unknown_store", "a replacement shipped to her home names no store or DC to ship it")
            if conn.execute("SELECT 1 FROM stores WHERE id = ?", (store,)).fetchone() is None:
                raise ProblemError("unknown_store", f"there is no store or DC {store}")
            if replacement.fulfilment == "delivery" and address is None:
                raise ProblemError("no_address", f"order {order.number} has no shipping address: give one")
            places.setdefault((replacement.fulfilment, store), []).append(replacement)
        quantities = {line.line_no: line.quantity for line in command.lines}
        by_number = {line.line_no: line for line in order.lines}
        for (fulfilment, store), replacements in places.items():
            for replacement in replacements:
                self._take_stock(conn, fulfilment, store, replacement.sku, quantities[replacement.line_no], now)
        number = self._number(conn, "RET", "return_number", restoring)
        made = []
        for (fulfilment, store), replacements in places.items():
            lines = [
                _order_line(
                    n,
                    products[r.sku],
                    rules.PricedLine(
                        r.sku,
                        quantities[r.line_no],
                        rules.UnitPrice(
                            rules.replacement_price(by_number[r.line_no]),
                            rules.replacement_price(by_number[r.line_no]),
                            None,
                        ),
                    ),
                )
                for n, r in enumerate(replacements, start=1)
            ]
            subtotal = sum(line["unit_price"].cents * line["quantity"] for line in lines)
            totals = {
                "subtotal": {"cents": subtotal, "currency": rules.CURRENCY},
                "shipping": {"cents": 0, "currency": rules.CURRENCY},
                "total": {"cents": subtotal, "currency": rules.CURRENCY},
            }
            order_number = self._number(conn, "ORD", "order_number", None)
            in_store = fulfilment == "in_store"
            history = [{"status": "placed", "at": now, "note": f"exchange for {number} at {device_store}"}]
            history.append(
                {"status": "completed", "at": now, "note": f"handed over at {store}"}
                if in_store
                else {"status": "reserved", "at": now, "note": f"stock reserved at {store}"}
            )
            replacement_order = Order.model_validate(
                {
                    "number": order_number,
                    "customer_id": order.customer_id,
                    "channel": "store",
                    "fulfilment": fulfilment,
                    "store": device_store,
                    "fulfilled_by": store,
                    "status": "completed" if in_store else "reserved",
                    "status_history": history,
                    "lines": lines,
                    "shipping_address": None if in_store else address.model_dump(),
                    "totals": totals,
                    "placed_by": command.received_by,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            made.append((order_number, replacement_order.model_dump_json()))
        exchanged = {r.line_no: r.sku for r in command.replacements}
        receipt = self._take_back(conn, order, command.lines, exchanged, number, device_store, command.received_by, now)
        receipt.replacement_orders = [order_number for order_number, _ in made]
        doc = receipt.model_dump_json()
        conn.execute("INSERT INTO returns VALUES (?, ?, ?, ?)", (number, order.number, iso(now), doc))
        self.record_event(conn, "return.registered", f"order:{order.number}", doc, now)
        for order_number, order_doc in made:
            conn.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                (order_number, self.next_seq(conn), order.customer_id, iso(now), order_doc),
            )
            self.record_event(conn, "order.created", f"order:{order_number}", order_doc, now)
        self._add_to_scope(conn, order.customer_id, device_store, "buyer")
        return doc

    def _take_stock(self, conn: Conn, fulfilment: str, store: str, sku: str, quantity: int, now) -> None:
        """Take `quantity` of `sku` at `store`: off the shelf (handed over now) or reserved (to be shipped); only if it
        is still there, checked under the row's lock. Raises `out_of_stock` (the whole command is undone)."""
        column = "on_hand = on_hand - ?" if fulfilment == "in_store" else "reserved = reserved + ?"
        taken = conn.execute(
            f"UPDATE stock SET {column}, as_of = ?, seq = ? WHERE store = ? AND sku = ? AND on_hand - reserved >= ?",
            (quantity, iso(now), self.next_seq(conn), store, sku, quantity),
        ).rowcount
        if not taken:
            level = conn.execute(
                "SELECT on_hand - reserved FROM stock WHERE store = ? AND sku = ?", (store, sku)
            ).fetchone()
            available = max(level[0], 0) if level else 0
            raise ProblemError(
                "out_of_stock",
                f"not enough stock at {store} ({sku}: {quantity} wanted, {available} available); "
                "nothing was returned or exchanged: make it a refund, or choose another size, colour or place",
                store=store,
                lines=[{"sku": sku, "requested": quantity, "available": available}],
            )


def _order_of(conn: Conn, number: str) -> Order:
    row = conn.execute("SELECT doc FROM orders WHERE id = ?", (number,)).fetchone()
    if row is None:
        raise ProblemError("order_not_found", f"there is no order {number}")
    return Order.model_validate_json(row[0])


def _exchange_problem(order: Order, refusal: rules.Refusal) -> ProblemError:
    """The centre's answer to an exchange the rules refuse: a return's codes, or one of the exchange's own."""
    params = refusal.params
    if refusal.code == "not_returned":
        return ProblemError(
            "exchange_line_not_returned",
            f"a replacement names line {params['line_no']} of order {order.number}, which "
            + ("has a replacement already" if params["twice"] else "does not go back in this exchange"),
            line_no=params["line_no"],
        )
    if refusal.code == "unknown_sku":
        return ProblemError("unknown_sku", f"there is no product with SKU {params['sku']}", sku=params["sku"])
    if refusal.code == "same_item":
        return ProblemError(
            "exchange_same_item",
            f"line {params['line_no']} ({params['sku']}) would be exchanged for itself: choose another size or colour",
            line_no=params["line_no"],
            sku=params["sku"],
        )
    if refusal.code == "other_style":
        return ProblemError(
            "exchange_other_style",
            f"line {params['line_no']} is style {params['style']}; {params['sku']} is another style "
            "(return it and sell the other)",
            line_no=params["line_no"],
            sku=params["sku"],
        )
    return _return_problem(order, refusal)


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
