"""Ship to home: quantity, where it ships from, the address, a review with the price, then the confirmation."""

from __future__ import annotations

import flet as ft

from clienteling.contract import Address
from clienteling.device import DeviceError
from clienteling.rules import FREE_SHIPPING_FROM_CENTS, dutch_postcode
from clienteling.ui.i18n import money
from clienteling.ui.session import go, use_session
from clienteling.ui.widgets import TOUCH, big_button, card, choice, heading, message, qr_png, tagged


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
    step, set_step = ft.use_state("form")
    error, set_error = ft.use_state(None)
    placed, set_placed = ft.use_state(None)
    try:
        customer = device.customer(customer_id)
        match = device.product(sku)
        view = device.stock(sku)
    except DeviceError as problem:
        return ft.Column(
            [message(session.explain(problem), "ship-error"), big_button(session.t("back"), lambda _: go("/"), "back")]
        )
    qty = int(quantity) if quantity.isdigit() and int(quantity) > 0 else 1
    places = [p for p in ([view.here] if view.here else []) + view.elsewhere if p.available >= qty]
    try:
        suggested = device.suggest_fulfilment({sku: qty})
    except DeviceError:
        suggested = None
    chosen = store or suggested

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
            set_error(session.explain(problem))
            return
        if not chosen:
            set_error(session.t("nowhere"))
            return
        set_error(None)
        set_step("review")

    def place(_):
        try:
            command = device.place_ship_to_home(
                customer_id, [(sku, qty)], fulfilling_store=chosen, address=address(), staff=session.staff_id
            )
        except (DeviceError, ValueError) as problem:
            set_error(session.explain(problem))
            set_step("form")
            return
        set_placed(command)
        set_step("done")

    variant, product = match.variant, match.product
    summary = ft.Text(
        f"{product.name} · {variant.colour} · {variant.size} · {session.t('price_each', money=money(variant.price.cents, session.lang))}",
        size=17,
    )
    head = [
        heading(session.t("ship_to_home"), "ship-title"),
        ft.Text(f"{customer.first_name} {customer.last_name}", size=18),
        summary,
    ]
    if step == "done" and placed is not None:
        if placed.number:
            lines = [
                tagged(
                    "order-confirmed",
                    ft.Text(session.t("order_placed"), size=22, weight=ft.FontWeight.BOLD, color=ft.Colors.GREEN_800),
                ),
                tagged("order-number", ft.Text(session.t("order_number", number=placed.number), size=20)),
                ft.Image(src=qr_png(placed.number), width=180, height=180),
            ]
        else:
            lines = [tagged("order-waiting", message(session.t("order_waiting"), "order-waiting-text", error=False))]
            if placed.state == "attention":
                lines = [message(placed.reason or session.t("attention"), "order-refused")]
        return ft.Column(
            head
            + lines
            + [big_button(session.t("back"), lambda _: go(f"/customer/{customer_id}"), "back-to-customer")],
            spacing=12,
        )

    addr = None
    try:
        addr = address()
    except ValueError:
        pass
    if step == "review":
        quote = device.quote_ship_to_home([(sku, qty)])  # what the centre will charge, shipping included
        shipping = (
            session.t("shipping", money=money(quote.shipping.cents, session.lang))
            if quote.shipping.cents
            else session.t("shipping_free", money=money(FREE_SHIPPING_FROM_CENTS, session.lang))
        )
        place_name = next((p.name for p in places if p.store == chosen), chosen)
        shown = f"{addr.street} {addr.house_number}, {addr.postcode} {addr.city}" if addr else ""
        return ft.Column(
            head
            + [
                card(
                    ft.Column(
                        [
                            ft.Text(f"{qty}× {variant.sku}"),
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
                        big_button(session.t("back"), lambda _: set_step("form"), "review-back", primary=False),
                        big_button(session.t("place_order"), place, "place-order", icon=ft.Icons.CHECK),
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
                on_change=lambda e: set_fields({**fields, name: e.control.value}),
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
                        360,
                    ),
                ],
                wrap=True,
            ),
            ft.Text(session.t("address"), size=17, weight=ft.FontWeight.W_600),
            ft.RadioGroup(
                value="new" if use_new else "file",
                on_change=lambda e: set_use_new(e.control.value == "new"),
                content=ft.Column(
                    [
                        tagged(
                            "address-file",
                            ft.Radio(value="file", label=f"{session.t('address_on_file')}: {on_file_text}"),
                        ),
                        tagged("address-new", ft.Radio(value="new", label=session.t("new_address"))),
                    ]
                ),
            ),
            *(
                [
                    ft.Row(
                        [
                            field("street", session.t("street"), 280),
                            field("house_number", session.t("house_number"), 120),
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
