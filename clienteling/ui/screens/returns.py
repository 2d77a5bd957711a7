"""Returns at the service desk: find an online order, choose lines, quantities, reason and condition, see the refund;
or, per line, an exchange instead of the refund: another size or colour of the same style, with its stock here and
elsewhere, handed over now or shipped to her home, in the same one confirm."""

from __future__ import annotations

import flet as ft

from clienteling.device import DeviceError
from clienteling.ui import i18n
from clienteling.ui.i18n import error_text, local, money, status
from clienteling.ui.offloop import off_loop, use_loaded
from clienteling.ui.session import go, use_session
from clienteling.ui.state import CONDITIONS, REASONS, NothingChosen, ReturnForm
from clienteling.ui.widgets import (
    TOUCH,
    big_button,
    card,
    choice,
    code_field,
    heading,
    how_did_it_go,
    loading,
    message,
    product_picture,
    qr_png,
    tagged,
    typed,
    use_task,
)


def _said(session, error: Exception | None) -> str | None:
    if error is None:
        return None
    return session.t("choose_lines") if isinstance(error, NothingChosen) else session.explain(error)


@ft.component
def ReturnDone(form: ReturnForm, head: list[ft.Control]):
    """The return as made: waiting, then its receipt number once the centre has it (or its refusal)."""
    session = use_session()
    use_task(form.follow)
    done = form.done
    receipt = done.number
    exchange = done.kind == "exchange"

    async def refund_instead(_):
        await form.reload()  # the refused exchange did nothing: the same lines can be refunded now

    body = (
        [
            tagged(
                "exchange-receipt" if exchange else "return-receipt",
                ft.Text(
                    session.t("exchange_receipt" if exchange else "return_receipt"),
                    size=22,
                    weight=ft.FontWeight.BOLD,
                    color=ft.Colors.GREEN_800,
                ),
            ),
            tagged("return-number", ft.Text(session.t("return_number", number=receipt), size=20)),
            *[
                tagged(f"exchange-order-{n}", ft.Text(session.t("exchange_order", number=number), size=18))
                for n, number in enumerate((done.answer or {}).get("replacement_orders") or [], start=1)
            ],
            ft.Image(src=qr_png(receipt), width=160, height=160),
        ]
        if receipt
        else [
            message(i18n.refusal_text(session.lang, done.answer), "return-refused"),
            *(
                [
                    ft.Text(session.t("exchange_refused_hint")),
                    big_button(session.t("refund_instead"), refund_instead, "exchange-refund-instead"),
                ]
                if exchange
                else []
            ),
        ]
        if done.state == "attention"
        else [message(session.t("exchange_waiting" if exchange else "return_waiting"), "return-waiting", error=False)]
    )
    if exchange:
        body += exchange_summary(session, form)
    body.append(ft.Text(session.t("refund", money=money(form.refund.cents, session.lang)), size=18))
    body.append(how_did_it_go(session, form.survey))
    body.append(big_button(session.t("back"), lambda _: go(f"/customer/{form.customer.id}"), "return-done"))
    return ft.Column(head + [ft.Column(body, spacing=12)], spacing=12)


@ft.component
def ReturnsScreen():
    session = use_session()
    device = session.device
    number = ft.use_route_params().get("number")
    text, set_text = ft.use_state("")
    error, set_error = ft.use_state(None)  # the order field's: a number that finds no order
    staff_id = session.staff_id
    loaded = use_loaded(lambda: ReturnForm.load(device, number, staff_id) if number else None, [number, staff_id])

    if not session.may("returns"):
        return ft.Column(
            [heading(session.t("returns_title")), message(session.t("only_service_desk"), "returns-forbidden")]
        )

    async def find(e=None):
        value = typed(e, text).strip()
        if not value:
            return
        try:
            found = await off_loop(device.lookup, value)
        except DeviceError as problem:
            set_error(session.explain(problem))
            return
        if found.kind != "order":
            set_error(session.t("no_matches", text=value))
            return
        set_error(None)
        form = loaded.value if loaded.ready else None
        if form is not None and form.order.number == found.order.number:
            await form.reload()  # the same order again (the screen may still show the receipt of the return before)
        go(f"/returns/{found.order.number}")

    controls: list[ft.Control] = [
        heading(session.t("returns_title")),
        code_field(
            "order-field",
            session.t("order_field"),
            text,
            lambda e: set_text(e.control.value),
            find,
            autofocus=number is None,
            width=520,  # the label ("Ordernummer of scan de QR-code van de order") on one line
        ),
    ]
    if number is None:
        return ft.Column(controls + [message(error, "returns-error")], spacing=12)
    if not loaded.ready:
        return ft.Column(controls + [loading("returns-loading")], spacing=12)
    if loaded.error is not None:
        return ft.Column(controls + [message(session.explain(loaded.error), "returns-error")], spacing=12)
    return ReturnLines(loaded.value, controls, error)


@ft.component
def ReturnLines(form: ReturnForm, head: list[ft.Control], find_error: str | None):
    """The order, its lines with what can go back and what is chosen, the refund, and "Confirm return"; then the
    return made. (A component of its own: it re-renders whenever the form changes.)"""
    session = use_session()
    if form.done is not None:
        return ReturnDone(form, head)
    order, customer, eligibility = form.order, form.customer, form.eligibility

    def update(line_no: int, **change):
        try:
            form.choose(line_no, **change)
        except (DeviceError, ValueError) as problem:  # the buttons keep within bounds: this is only a safeguard
            form.error = problem

    async def confirm(_):
        await form.confirm()

    rows = []
    for line_eligibility in eligibility.lines:
        line, why = line_eligibility.line, line_eligibility.refusal
        body: list[ft.Control] = [
            ft.Row(
                [
                    product_picture(form.pictures.get(line.sku), 48, f"return-picture-{line.line_no}"),
                    ft.Text(
                        f"{line.name} · {i18n.colour(session.lang, line.colour)} · {line.size}",
                        size=17,
                        weight=ft.FontWeight.W_600,
                        expand=True,
                    ),
                ],
                spacing=10,
            ),
            ft.Text(
                session.t(
                    "line_left",
                    n=line.quantity,
                    price=money(line.unit_price.cents, session.lang),
                    left=line_eligibility.left,
                ),
                color=ft.Colors.GREY_700,
            ),
        ]
        if why is None:
            body.append(
                line_choices(session, line.line_no, line_eligibility.left, form.chosen.get(line.line_no, {}), update)
            )
            if line.line_no in form.chosen:
                body.append(exchange_choices(session, form, line.line_no))
        elif eligibility.refusal is None:  # a line that cannot be returned says why; the order's own reason is above
            body.append(tagged(f"return-why-{line.line_no}", ft.Text(error_text(session.lang, why.code, why.params))))
        rows.append(card(ft.Column(body, spacing=6), f"return-line-{line.line_no}"))
    whole_order = eligibility.refusal
    controls = [
        *head,
        card(
            ft.Column(
                [
                    tagged("return-order", ft.Text(order.number, size=20, weight=ft.FontWeight.BOLD)),
                    ft.Text(f"{customer.first_name} {customer.last_name} · {status(session.lang, order.status)}"),
                    ft.Text(
                        local(order.delivered_at, lang=session.lang) if order.delivered_at else "",
                        color=ft.Colors.GREY_700,
                    ),
                    *(
                        [
                            tagged(
                                "return-why",
                                ft.Text(
                                    error_text(session.lang, whole_order.code, whole_order.params),
                                    color=ft.Colors.RED_800,
                                    weight=ft.FontWeight.W_600,
                                ),
                            )
                        ]
                        if whole_order
                        else []
                    ),
                ],
                spacing=2,
            )
        ),
        *rows,
    ]
    if eligibility.returnable:
        controls += [
            tagged(
                "refund",
                ft.Text(
                    session.t("refund", money=money(form.refund.cents, session.lang)),
                    size=20,
                    weight=ft.FontWeight.BOLD,
                ),
            ),
            message(find_error or _said(session, form.error), "returns-error"),
            *exchange_summary(session, form),
            big_button(
                session.t("confirm_exchange" if form.exchanging else "confirm_return"),
                confirm,
                "confirm-return",
                icon=ft.Icons.ASSIGNMENT_RETURN,
                disabled=form.confirming,
            ),
        ]
    elif find_error:
        controls.append(message(find_error, "returns-error"))
    return ft.Column(controls, spacing=12, scroll=ft.ScrollMode.AUTO, expand=True)


def line_choices(session, line_no: int, left: int, entry: dict, update) -> ft.Control:
    """How many items of a returnable line go back (at most `left`), why, and in what condition."""
    quantity = entry.get("quantity", 0)
    return ft.Row(
        [
            ft.Row(
                [
                    tagged(
                        f"return-less-{line_no}",
                        ft.OutlinedButton(
                            content="−",
                            width=TOUCH,
                            height=TOUCH,
                            disabled=not quantity,
                            on_click=lambda _: update(line_no, quantity=quantity - 1),
                        ),
                    ),
                    tagged(
                        f"return-qty-{line_no}",
                        ft.Text(str(quantity), size=20, width=32, text_align=ft.TextAlign.CENTER),
                    ),
                    tagged(
                        f"return-more-{line_no}",
                        ft.OutlinedButton(
                            content="+",
                            width=TOUCH,
                            height=TOUCH,
                            disabled=quantity >= left,
                            on_click=lambda _: update(line_no, quantity=quantity + 1),
                        ),
                    ),
                ],
                spacing=4,
            ),
            choice(
                f"return-reason-{line_no}",
                session.t("reason"),
                entry.get("reason", REASONS[0]),
                [(r, session.t(f"reason_{r}")) for r in REASONS],
                lambda value: update(line_no, reason=value),
                210,
            ),
            choice(
                f"return-condition-{line_no}",
                session.t("condition"),
                entry.get("condition", CONDITIONS[0]),
                [(c, session.t(f"condition_{c}")) for c in CONDITIONS],
                lambda value: update(line_no, condition=value),
                170,
            ),
        ],
        wrap=True,
        spacing=12,
    )


def _tried(form: ReturnForm, change) -> None:
    """Run a change of the form; what the rules or the stock refuse is kept as the form's error (the screen words it)."""
    try:
        change()
    except (DeviceError, ValueError) as problem:
        form.error = problem


def _item(session, option) -> str:
    return f"{option.variant.size} · {i18n.colour(session.lang, option.variant.colour)}"


def exchange_choices(session, form: ReturnForm, line_no: int) -> ft.Control:
    """Refund or Exchange for a line going back; for an exchange, every other size and colour of its style with its
    stock here and the nearest elsewhere, and whether it is handed over now or shipped to her home."""
    entry = form.exchanging.get(line_no)
    exchanging = entry is not None

    def toggle(label: str, selected: bool, key: str, on_click, disabled: bool = False) -> ft.Control:
        button = ft.FilledButton if selected else ft.OutlinedButton
        return tagged(key, button(content=label, height=TOUCH, on_click=on_click, disabled=disabled))

    controls: list[ft.Control] = [
        ft.Row(
            [
                ft.Text(session.t("return_outcome"), color=ft.Colors.GREY_700),
                toggle(
                    session.t("outcome_refund"),
                    not exchanging,
                    f"return-refund-{line_no}",
                    lambda _: _tried(form, lambda: form.exchange(line_no, on=False)),
                ),
                toggle(
                    session.t("outcome_exchange"),
                    exchanging,
                    f"return-exchange-{line_no}",
                    lambda _: _tried(form, lambda: form.exchange(line_no)),
                    disabled=not form.options.get(line_no),
                ),
            ],
            spacing=8,
            wrap=True,
        )
    ]
    if not form.options.get(line_no):
        controls.append(ft.Text(session.t("exchange_no_options"), color=ft.Colors.GREY_700))
    if exchanging:
        quantity = form.chosen[line_no]["quantity"]
        controls.append(ft.Text(session.t("exchange_for"), weight=ft.FontWeight.W_600))
        options = []
        for option in form.options.get(line_no, []):
            nearest = option.nearest
            stock = ", ".join(
                [
                    session.t("stock_here_n", n=option.available_here),
                    session.t("stock_nearest", n=nearest.available, place=nearest.city)
                    if nearest
                    else session.t("stock_nowhere_else"),
                ]
            )
            sku = option.variant.sku
            options.append(
                toggle(
                    f"{_item(session, option)} ({stock})",
                    entry.get("sku") == sku,
                    f"exchange-option-{line_no}-{sku}",
                    lambda _, sku=sku: _tried(form, lambda: form.pick(line_no, sku)),
                    disabled=option.available_here < quantity and not (nearest and nearest.available >= quantity),
                )
            )
        controls.append(ft.Row(options, spacing=8, run_spacing=8, wrap=True))
        option = form.chosen_option(line_no)
        if option is not None:
            sku = option.variant.sku
            shippable = (
                bool(option.nearest and option.nearest.available >= quantity) or option.available_here >= quantity
            )
            controls.append(
                ft.Row(
                    [
                        toggle(
                            session.t("fulfilment_in_store"),
                            entry["fulfilment"] == "in_store",
                            f"exchange-in-store-{line_no}",
                            lambda _: _tried(form, lambda: form.pick(line_no, sku, "in_store")),
                            disabled=option.available_here < quantity,
                        ),
                        toggle(
                            session.t("fulfilment_delivery"),
                            entry["fulfilment"] == "delivery",
                            f"exchange-delivery-{line_no}",
                            lambda _: _tried(form, lambda: form.pick(line_no, sku, "delivery")),
                            disabled=not shippable,
                        ),
                    ],
                    spacing=8,
                    wrap=True,
                )
            )
    return tagged(f"exchange-choices-{line_no}", ft.Column(controls, spacing=6))


def exchange_summary(session, form: ReturnForm) -> list[ft.Control]:
    """What she gets instead of a refund, line by line, and where it comes from."""
    rows = []
    for line_no, entry in sorted(form.exchanging.items()):
        option = form.chosen_option(line_no)
        if option is None:
            continue
        line = form.eligibility.line(line_no).line
        item = f"{line.name} {_item(session, option)}"
        key = "exchange_gets_in_store" if entry["fulfilment"] == "in_store" else "exchange_gets_delivery"
        rows.append(
            tagged(
                f"exchange-summary-{line_no}",
                ft.Text(
                    session.t(key, item=item, place=form.source_name(line_no)), size=17, weight=ft.FontWeight.W_600
                ),
            )
        )
    return rows
