"""Ship to home: quantity, where it ships from, the address, a review with the price, then the confirmation."""

from __future__ import annotations

import flet as ft

from clienteling.contract import Address
from clienteling.rules import FREE_SHIPPING_FROM_CENTS, dutch_postcode
from clienteling.ui.i18n import colour as colour_word
from clienteling.ui.i18n import money, refusal_text
from clienteling.ui.offloop import use_loaded
from clienteling.ui.session import go, use_session
from clienteling.ui.state import ShipToHomeOrder
from clienteling.ui.widgets import (
    TOUCH,
    big_button,
    card,
    choice,
    heading,
    how_did_it_go,
    loading,
    message,
    product_picture,
    qr_png,
    tagged,
    use_task,
)


def address_option(identifier: str, text: str, chosen: bool, on_click) -> ft.Control:
    """One of the two addresses to ship to, as a row a finger can hit (at least 48 px tall)."""
    return card(
        ft.Row(
            [
                ft.Icon(
                    ft.Icons.RADIO_BUTTON_CHECKED if chosen else ft.Icons.RADIO_BUTTON_UNCHECKED,
                    color=ft.Colors.TEAL_700,
                ),
                ft.Text(text, size=16, expand=True),
            ],
            height=TOUCH - 8,
        ),
        identifier,
        on_click=on_click,
        selected=chosen,
    )


def _load(device, customer_id: str, sku: str):
    return device.customer(customer_id), device.product(sku), device.stock(sku)


@ft.component
def Confirmation(order: ShipToHomeOrder, head: list[ft.Control], customer_id: str):
    """The order as placed: waiting, then its number and QR code once the centre has it (or its refusal)."""
    session = use_session()
    use_task(order.follow)
    placed = order.placed
    if placed.number:
        lines = [
            tagged(
                "order-confirmed",
                ft.Text(session.t("order_placed"), size=22, weight=ft.FontWeight.BOLD, color=ft.Colors.GREEN_800),
            ),
            tagged("order-number", ft.Text(session.t("order_number", number=placed.number), size=20)),
            ft.Image(src=qr_png(placed.number), width=180, height=180),
        ]
    elif placed.state == "attention":
        lines = [message(refusal_text(session.lang, placed.answer), "order-refused")]
    else:
        lines = [tagged("order-waiting", message(session.t("order_waiting"), "order-waiting-text", error=False))]
    return ft.Column(
        head
        + lines
        + [
            how_did_it_go(session, order.survey),
            big_button(session.t("back"), lambda _: go(f"/customer/{customer_id}"), "back-to-customer"),
        ],
        spacing=12,
    )


@ft.component
def ShipToHomeScreen():
    session = use_session()
    device = session.device
    params = ft.use_route_params()
    customer_id, sku = params.get("customer_id", ""), params.get("sku", "")
    quantity, set_quantity = ft.use_state("1")
    store, set_store = ft.use_state(None)
    use_new, set_use_new = ft.use_state(False)
    fields, set_fields = ft.use_state({"street": "", "house_number": "", "postcode": "", "city": ""})
    order, _ = ft.use_state(lambda: ShipToHomeOrder(device, customer_id, sku, session.staff_id))
    loaded = use_loaded(lambda: _load(device, customer_id, sku), [customer_id, sku])
    qty = int(quantity) if quantity.isdigit() and int(quantity) > 0 else 1
    reviewing = order.step in ("review", "placing")
    quoted = use_loaded(
        lambda: device.quote_ship_to_home([(sku, qty)], customer_id) if reviewing else None, [sku, qty, reviewing]
    )
    if not loaded.ready:
        return loading("ship-loading")
    if loaded.error is not None:
        return ft.Column(
            [
                message(session.explain(loaded.error), "ship-error"),
                big_button(session.t("back"), lambda _: go("/"), "back"),
            ]
        )
    customer, match, view = loaded.value
    places = [p for p in ([view.here] if view.here else []) + view.elsewhere if p.available >= qty]
    nearest = view.nearest_with_stock(qty)
    suggested = nearest.store if nearest else None
    chosen = store or suggested
    error = session.explain(order.error) if order.error else None

    def address() -> Address | None:
        if not use_new:
            return customer.addresses[0] if customer.addresses else None
        if not all(v.strip() for v in fields.values()):
            raise ValueError(session.t("fill_address"))
        postcode = dutch_postcode(fields["postcode"])
        if postcode is None:
            raise ValueError(session.t("bad_postcode", postcode=fields["postcode"]))
        return Address(
            street=fields["street"].strip(),
            house_number=fields["house_number"].strip(),
            postcode=postcode,
            city=fields["city"].strip(),
        )

    def review(_):
        try:
            address()
        except ValueError as problem:
            order.failed(problem)
            return
        if not chosen:
            order.failed(ValueError(session.t("nowhere")))
            return
        order.review()

    async def place(_):
        try:
            where = address()
        except ValueError as problem:
            order.failed(problem)
            return
        await order.place(qty, chosen, where)

    variant, product = match.variant, match.product
    summary = ft.Row(
        [
            product_picture(product.image, 56, "ship-picture"),
            ft.Text(
                f"{product.name} · {colour_word(session.lang, variant.colour)} · {variant.size}"
                f" · {session.t('price_each', money=money(variant.price.cents, session.lang))}",
                size=17,
                expand=True,
            ),
        ],
        spacing=10,
    )
    head = [
        heading(session.t("ship_to_home"), "ship-title"),
        ft.Text(f"{customer.first_name} {customer.last_name}", size=18),
        summary,
    ]
    if order.step == "done" and order.placed is not None:
        return Confirmation(order, head, customer_id)

    addr = None
    try:
        addr = address()
    except ValueError:
        pass
    if reviewing:
        if not quoted.ready:
            return ft.Column(head + [loading("review-loading")], spacing=12)
        if quoted.error is not None:
            return ft.Column(head + [message(session.explain(quoted.error), "ship-error")], spacing=12)
        priced = quoted.value  # what the centre will charge (rules.price_order), shipping included
        quote = priced.totals
        if quote.shipping.cents:
            shipping = session.t("shipping", money=money(quote.shipping.cents, session.lang))
        elif priced.free_shipping == "tier":
            shipping = session.t("shipping_free_tier", tier=session.t(f"tier_{customer.tier}"))
        else:
            shipping = session.t("shipping_free", money=money(FREE_SHIPPING_FROM_CENTS, session.lang))
        promoted = [
            tagged(
                "review-promotion",
                ft.Text(
                    session.t(
                        "promoted_price",
                        money=money(line.unit.price.cents, session.lang),
                        list_money=money(line.unit.list_price.cents, session.lang),
                        promotion=line.unit.promotion.name,
                        percent=line.unit.promotion.percent_off,
                    ),
                    color=ft.Colors.DEEP_ORANGE_800,
                    weight=ft.FontWeight.W_600,
                ),
            )
            for line in priced.lines
            if line.unit.promotion is not None
        ]
        place_name = next((p.name for p in places if p.store == chosen), chosen)
        shown = f"{addr.street} {addr.house_number}, {addr.postcode} {addr.city}" if addr else ""
        return ft.Column(
            head
            + [
                card(
                    ft.Column(
                        [
                            ft.Text(f"{qty}× {variant.sku}"),
                            *promoted,
                            ft.Text(f"{session.t('fulfilling_store')}: {place_name}"),
                            ft.Text(f"{session.t('address')}: {shown}"),
                            tagged(
                                "review-subtotal",
                                ft.Text(session.t("subtotal", money=money(quote.subtotal.cents, session.lang))),
                            ),
                            tagged("review-shipping", ft.Text(shipping)),
                            tagged(
                                "review-total",
                                ft.Text(
                                    session.t("total", money=money(quote.total.cents, session.lang)),
                                    size=20,
                                    weight=ft.FontWeight.BOLD,
                                ),
                            ),
                        ],
                        spacing=6,
                    ),
                    "review",
                ),
                message(error, "ship-error"),
                ft.Row(
                    [
                        big_button(session.t("back"), lambda _: order.back_to_form(), "review-back", primary=False),
                        big_button(
                            session.t("place_order"),
                            place,
                            "place-order",
                            icon=ft.Icons.CHECK,
                            disabled=order.step == "placing",
                        ),
                    ]
                ),
            ],
            spacing=12,
        )

    def field(name: str, label: str, width: int):
        return tagged(
            f"addr-{name}",
            ft.TextField(
                label=label,
                value=fields[name],
                width=width,
                on_change=lambda e: set_fields(lambda before: {**before, name: e.control.value}),
            ),
        )

    on_file = customer.addresses[0] if customer.addresses else None
    on_file_text = f"{on_file.street} {on_file.house_number}, {on_file.postcode} {on_file.city}" if on_file else "—"
    return ft.Column(
        head
        + [
            ft.Row(
                [
                    tagged(
                        "quantity",
                        ft.TextField(
                            label=session.t("quantity"),
                            value=quantity,
                            width=120,
                            keyboard_type=ft.KeyboardType.NUMBER,
                            on_change=lambda e: set_quantity(e.control.value),
                        ),
                    ),
                    choice(
                        "fulfilling-store",
                        session.t("fulfilling_store"),
                        chosen,
                        [
                            (
                                p.store,
                                f"{p.name} ({p.available})"
                                + (f" · {session.t('suggested')}" if p.store == suggested else ""),
                            )
                            for p in places
                        ],
                        set_store,
                        520,
                    ),
                ],
                wrap=True,
            ),
            ft.Text(session.t("address"), size=17, weight=ft.FontWeight.W_600),
            address_option(
                "address-file",
                f"{session.t('address_on_file')}: {on_file_text}",
                not use_new,
                lambda _: set_use_new(False),
            ),
            address_option("address-new", session.t("new_address"), use_new, lambda _: set_use_new(True)),
            *(
                [
                    ft.Row(
                        [
                            field("street", session.t("street"), 280),
                            field("house_number", session.t("house_number"), 170),
                            field("postcode", session.t("postcode"), 140),
                            field("city", session.t("city"), 200),
                        ],
                        wrap=True,
                    )
                ]
                if use_new
                else []
            ),
            message(error, "ship-error"),
            ft.Row(
                [
                    big_button(session.t("back"), lambda _: go(f"/customer/{customer_id}"), "ship-back", primary=False),
                    big_button(session.t("review"), review, "ship-review", icon=ft.Icons.ARROW_FORWARD),
                ]
            ),
            ft.Container(height=TOUCH),
        ],
        spacing=12,
        scroll=ft.ScrollMode.AUTO,
        expand=True,
    )
