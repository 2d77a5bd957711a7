"""Stock of a product: choose colour and size; this store first, then the other stores nearest first, then the DC."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import flet as ft

from clienteling.ui.i18n import ago, from_system, money, number
from clienteling.ui.i18n import colour as colour_word
from clienteling.ui.session import go, use_session
from clienteling.ui.state import StockSearch
from clienteling.ui.widgets import (
    TOUCH,
    card,
    choice,
    code_field,
    heading,
    loading,
    message,
    product_picture,
    tagged,
    typed,
)


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
                        tagged(
                            f"{identifier}-age",
                            ft.Text(
                                from_system(session.lang, place.source, place.as_of, now)
                                if place.source
                                else session.t("as_of", ago=ago(session.lang, place.as_of, now)),
                                color=ft.Colors.GREY_700,
                            ),
                        ),
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
    sku = ft.use_route_params().get("sku")
    stock, _ = ft.use_state(lambda: StockSearch(session.device))
    ft.use_effect(lambda: asyncio.create_task(stock.open(sku)).cancel, [sku])

    async def search(e=None):
        route = await stock.search(typed(e, stock.text))
        if route:
            go(route)

    def changed(e):
        stock.text = e.control.value

    error = session.explain(stock.error) if stock.error is not None else None
    if stock.found == ():
        error = session.t("no_matches", text=stock.query)
    controls: list[ft.Control] = [
        heading(session.t("stock_title")),
        code_field("product-field", session.t("product_search"), stock.text, changed, search, autofocus=sku is None),
        message(error, "stock-error"),
    ]
    if stock.found and not sku:
        controls += [
            card(
                ft.Row([ft.Text(p.name, size=17, expand=True), ft.Text(p.style, color=ft.Colors.GREY_700)]),
                f"product-{p.style}",
                on_click=lambda _, p=p: go(f"/stock/{p.variants[0].sku}"),
            )
            for p in stock.found
        ]
    if sku:
        if stock.sku != sku or stock.loading:
            return ft.Column(controls + [loading("stock-loading")])
        view = stock.view
        if view is None:  # the error is said above
            return ft.Column(controls)
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
                        ft.Row(
                            [
                                product_picture(product.image, 72, "product-picture"),
                                ft.Column(
                                    [
                                        tagged(
                                            "product-name", ft.Text(product.name, size=22, weight=ft.FontWeight.BOLD)
                                        ),
                                        ft.Text(
                                            f"{variant.sku} · GTIN {variant.gtin}"
                                            f" · {money(variant.price.cents, session.lang)}"
                                        ),
                                    ],
                                    spacing=2,
                                ),
                            ],
                            spacing=12,
                        ),
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
