"""Stock of a product: choose colour and size; this store first, then the other stores nearest first, then the DC."""

from __future__ import annotations

from datetime import UTC, datetime

import flet as ft

from clienteling.device import DeviceError
from clienteling.ui.i18n import ago, money, number
from clienteling.ui.i18n import colour as colour_word
from clienteling.ui.offloop import off_loop, use_loaded
from clienteling.ui.session import go, use_session
from clienteling.ui.widgets import TOUCH, card, choice, code_field, heading, loading, message, tagged, typed


def place_row(session, place, now, identifier: str, highlight: bool = False) -> ft.Control:
    name = session.t("here") if highlight else (session.t("dc") if place.kind == "dc" else place.name)
    where = f"{place.city} · {number(round(place.distance_km), session.lang)} km" if not highlight else place.name
    colour = ft.Colors.GREEN_800 if place.available > 0 else ft.Colors.RED_800
    return card(
        ft.Row(
            [
                ft.Icon(ft.Icons.STORE if place.kind == "store" else ft.Icons.WAREHOUSE, color=ft.Colors.TEAL_700),
                ft.Column(
                    [ft.Text(name, size=17, weight=ft.FontWeight.W_600), ft.Text(where, color=ft.Colors.GREY_700)],
                    spacing=2,
                    expand=True,
                ),
                ft.Column(
                    [
                        ft.Text(
                            session.t("available", n=place.available), color=colour, size=17, weight=ft.FontWeight.W_600
                        ),
                        ft.Text(session.t("as_of", ago=ago(session.lang, place.as_of, now)), color=ft.Colors.GREY_700),
                    ],
                    spacing=2,
                    horizontal_alignment=ft.CrossAxisAlignment.END,
                ),
            ]
        ),
        identifier,
    )


@ft.component
def StockScreen():
    session = use_session()
    device = session.device
    sku = ft.use_route_params().get("sku")
    text, set_text = ft.use_state("")
    error, set_error = ft.use_state(None)
    found, set_found = ft.use_state(None)

    loaded = use_loaded(lambda: device.stock(sku) if sku else None, [sku])

    async def search(e=None):
        value = typed(e, text).strip()
        if not value:
            return
        try:
            match = await off_loop(device.product, value)
            set_error(None)
            go(f"/stock/{match.variant.sku}")
        except DeviceError:
            products = await off_loop(device.search_products, value, limit=12)
            set_found(products)
            set_error(None if products else session.t("no_matches", text=value))

    controls: list[ft.Control] = [
        heading(session.t("stock_title")),
        code_field(
            "product-field",
            session.t("product_search"),
            text,
            lambda e: set_text(e.control.value),
            search,
            autofocus=sku is None,
        ),
        message(error, "stock-error"),
    ]
    if found and not sku:
        controls += [
            card(
                ft.Row([ft.Text(p.name, size=17, expand=True), ft.Text(p.style, color=ft.Colors.GREY_700)]),
                f"product-{p.style}",
                on_click=lambda _, p=p: go(f"/stock/{p.variants[0].sku}"),
            )
            for p in found
        ]
    if sku:
        if not loaded.ready:
            return ft.Column(controls + [loading("stock-loading")])
        if loaded.error is not None:
            return ft.Column(controls + [message(session.explain(loaded.error), "stock-error")])
        view = loaded.value
        if view.product is None:
            return ft.Column(controls + [message(session.t("no_matches", text=sku), "stock-error")])
        product, variant = view.product, view.variant
        colours = sorted({v.colour for v in product.variants})
        sizes = [v.size for v in product.variants if v.colour == variant.colour]

        def pick(colour: str | None = None, size: str | None = None):
            colour = colour or variant.colour
            options = [v for v in product.variants if v.colour == colour]
            chosen = next((v for v in options if v.size == (size or variant.size)), options[0])
            go(f"/stock/{chosen.sku}")

        now = datetime.now(UTC)
        rows = [place_row(session, view.here, now, "stock-here", highlight=True)] if view.here else []
        rows += [place_row(session, place, now, f"stock-{place.store}") for place in view.elsewhere]
        customer = session.extra.get("customer_for_ship")
        controls += [
            card(
                ft.Column(
                    [
                        tagged("product-name", ft.Text(product.name, size=22, weight=ft.FontWeight.BOLD)),
                        ft.Text(f"{variant.sku} · GTIN {variant.gtin} · {money(variant.price.cents, session.lang)}"),
                        ft.Row(
                            [
                                choice(
                                    "colour",
                                    session.t("colour"),
                                    variant.colour,
                                    [(c, colour_word(session.lang, c)) for c in colours],
                                    lambda value: pick(colour=value),
                                    220,
                                ),
                                choice(
                                    "size",
                                    session.t("size"),
                                    variant.size,
                                    [(size, size) for size in sizes],
                                    lambda value: pick(size=value),
                                    140,
                                ),
                                *(
                                    [
                                        tagged(
                                            "stock-ship",
                                            ft.FilledButton(
                                                content=session.t("ship_to_home"),
                                                icon=ft.Icons.LOCAL_SHIPPING,
                                                height=TOUCH,
                                                on_click=lambda _: go(f"/ship/{customer}/{sku}"),
                                            ),
                                        )
                                    ]
                                    if customer
                                    else []
                                ),
                            ],
                            wrap=True,
                        ),
                    ],
                    spacing=8,
                )
            ),
            ft.ListView(rows, spacing=8, expand=True),
        ]
    return ft.Column(controls, spacing=12, expand=True)
