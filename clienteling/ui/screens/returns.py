"""Returns at the service desk: find an online order, choose lines, quantities, reason and condition, see the refund."""

from __future__ import annotations

import flet as ft

from clienteling.device import DeviceError, ReturnNotAllowed
from clienteling.rules import refund
from clienteling.ui import i18n
from clienteling.ui.i18n import error_text, local, money, status
from clienteling.ui.offloop import off_loop, use_loaded
from clienteling.ui.session import go, use_session
from clienteling.ui.state import until_settled
from clienteling.ui.widgets import (
    TOUCH,
    big_button,
    card,
    choice,
    code_field,
    heading,
    loading,
    message,
    qr_png,
    tagged,
    typed,
    use_task,
)

REASONS = ("too_small", "too_large", "not_as_pictured", "damaged", "changed_mind", "other")
CONDITIONS = ("resellable", "damaged")


def _order_and_customer(device, number: str):
    order = device.order(number)
    return order, device.customer(order.customer_id), device.return_eligibility(order)


@ft.component
def ReturnDone(command, order, customer, chosen):
    """The return as made: waiting, then its receipt number once the centre has it (or its refusal)."""
    session = use_session()
    done, set_done = ft.use_state(command)

    async def follow():
        async for latest in until_settled(session.device, done):
            set_done(latest)

    use_task(follow)
    receipt = done.number
    body = (
        [
            tagged(
                "return-receipt",
                ft.Text(session.t("return_receipt"), size=22, weight=ft.FontWeight.BOLD, color=ft.Colors.GREEN_800),
            ),
            tagged("return-number", ft.Text(session.t("return_number", number=receipt), size=20)),
            ft.Image(src=qr_png(receipt), width=160, height=160),
        ]
        if receipt
        else [message(i18n.refusal_text(session.lang, done.answer), "return-refused")]
        if done.state == "attention"
        else [message(session.t("return_waiting"), "return-waiting", error=False)]
    )
    paid_back = refund(order, {n: entry["quantity"] for n, entry in chosen.items()})
    body.append(ft.Text(session.t("refund", money=money(paid_back.cents, session.lang)), size=18))
    body.append(big_button(session.t("back"), lambda _: go(f"/customer/{customer.id}"), "return-done"))
    return ft.Column(body, spacing=12)


@ft.component
def ReturnsScreen():
    session = use_session()
    device = session.device
    number = ft.use_route_params().get("number")
    text, set_text = ft.use_state("")
    error, set_error = ft.use_state(None)
    chosen, set_chosen = ft.use_state({})  # line_no -> {"quantity", "reason", "condition"}
    done, set_done = ft.use_state(None)
    loaded = use_loaded(lambda: _order_and_customer(device, number) if number else None, [number])

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
        set_chosen({})
        set_done(None)  # the screen may still show the receipt of the return before
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
        ),
    ]
    if number is None:
        return ft.Column(controls + [message(error, "returns-error")], spacing=12)
    if not loaded.ready:
        return ft.Column(controls + [loading("returns-loading")], spacing=12)
    if loaded.error is not None:
        return ft.Column(controls + [message(session.explain(loaded.error), "returns-error")], spacing=12)
    order, customer, eligibility = loaded.value

    if done is not None:
        return ft.Column(controls + [ReturnDone(done, order, customer, chosen)], spacing=12)

    def update(line_no: int, **change):
        current = dict(chosen)
        entry = {"quantity": 0, "reason": "too_small", "condition": "resellable", **current.get(line_no, {}), **change}
        if entry["quantity"]:
            current[line_no] = entry
        else:
            current.pop(line_no, None)
        set_chosen(current)

    async def confirm(_):
        if not chosen:
            set_error(session.t("choose_lines"))
            return
        lines = [{"line_no": n, **entry} for n, entry in sorted(chosen.items())]
        try:
            command = await off_loop(device.register_return, order.number, lines, staff=session.staff_id)
        except ReturnNotAllowed as refused:
            set_error(session.explain(refused))
            return
        except (DeviceError, ValueError) as problem:
            set_error(session.explain(problem))
            return
        set_error(None)
        set_done(command)

    rows = []
    for line_eligibility in eligibility.lines:
        line, why = line_eligibility.line, line_eligibility.refusal
        body: list[ft.Control] = [
            ft.Text(
                f"{line.name} · {i18n.colour(session.lang, line.colour)} · {line.size}",
                size=17,
                weight=ft.FontWeight.W_600,
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
                line_choices(session, line.line_no, line_eligibility.left, chosen.get(line.line_no, {}), update)
            )
        elif eligibility.refusal is None:  # a line that cannot be returned says why; the order's own reason is above
            body.append(tagged(f"return-why-{line.line_no}", ft.Text(error_text(session.lang, why.code, why.params))))
        rows.append(card(ft.Column(body, spacing=6), f"return-line-{line.line_no}"))
    paid_back = refund(order, {n: entry["quantity"] for n, entry in chosen.items()})
    whole_order = eligibility.refusal
    controls += [
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
                    session.t("refund", money=money(paid_back.cents, session.lang)), size=20, weight=ft.FontWeight.BOLD
                ),
            ),
            message(error, "returns-error"),
            big_button(session.t("confirm_return"), confirm, "confirm-return", icon=ft.Icons.ASSIGNMENT_RETURN),
        ]
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
                entry.get("reason", "too_small"),
                [(r, session.t(f"reason_{r}")) for r in REASONS],
                lambda value: update(line_no, reason=value),
                210,
            ),
            choice(
                f"return-condition-{line_no}",
                session.t("condition"),
                entry.get("condition", "resellable"),
                [(c, session.t(f"condition_{c}")) for c in CONDITIONS],
                lambda value: update(line_no, condition=value),
                170,
            ),
        ],
        wrap=True,
        spacing=12,
    )
