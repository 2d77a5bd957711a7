"""Returns at the service desk: find an online order, choose lines, quantities, reason and condition, see the refund."""

from __future__ import annotations

import flet as ft

from clienteling.device import DeviceError
from clienteling.ui.i18n import local, money, status
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
    return order, device.customer(order.customer_id)


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
        else [message(done.reason, "return-refused")]
        if done.state == "attention"
        else [message(session.t("return_waiting"), "return-waiting", error=False)]
    )
    refund = sum(
        line.unit_price.cents * chosen[line.line_no]["quantity"] for line in order.lines if line.line_no in chosen
    )
    body.append(ft.Text(session.t("refund", money=money(refund, session.lang)), size=18))
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
    order, customer = loaded.value

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
        except (DeviceError, ValueError) as problem:
            set_error(session.explain(problem))
            return
        set_error(None)
        set_done(command)

    rows = []
    for line in order.lines:
        left = line.quantity - line.returned_quantity
        entry = chosen.get(line.line_no, {})
        chosen_quantity = entry.get("quantity", 0)
        rows.append(
            card(
                ft.Column(
                    [
                        ft.Text(f"{line.name} · {line.colour} · {line.size}", size=17, weight=ft.FontWeight.W_600),
                        ft.Text(
                            session.t(
                                "line_left",
                                n=line.quantity,
                                price=money(line.unit_price.cents, session.lang),
                                left=left,
                            ),
                            color=ft.Colors.GREY_700,
                        ),
                        ft.Row(
                            [
                                ft.Row(
                                    [
                                        tagged(
                                            f"return-less-{line.line_no}",
                                            ft.OutlinedButton(
                                                content="−",
                                                width=TOUCH,
                                                height=TOUCH,
                                                disabled=not entry.get("quantity"),
                                                on_click=lambda _, n=line.line_no, q=chosen_quantity: update(
                                                    n, quantity=q - 1
                                                ),
                                            ),
                                        ),
                                        tagged(
                                            f"return-qty-{line.line_no}",
                                            ft.Text(
                                                str(entry.get("quantity", 0)),
                                                size=20,
                                                width=32,
                                                text_align=ft.TextAlign.CENTER,
                                            ),
                                        ),
                                        tagged(
                                            f"return-more-{line.line_no}",
                                            ft.OutlinedButton(
                                                content="+",
                                                width=TOUCH,
                                                height=TOUCH,
                                                disabled=entry.get("quantity", 0) >= left,
                                                on_click=lambda _, n=line.line_no, q=chosen_quantity: update(
                                                    n, quantity=q + 1
                                                ),
                                            ),
                                        ),
                                    ],
                                    spacing=4,
                                ),
                                choice(
                                    f"return-reason-{line.line_no}",
                                    session.t("reason"),
                                    entry.get("reason", "too_small"),
                                    [(r, session.t(f"reason_{r}")) for r in REASONS],
                                    lambda value, n=line.line_no: update(n, reason=value),
                                    210,
                                ),
                                choice(
                                    f"return-condition-{line.line_no}",
                                    session.t("condition"),
                                    entry.get("condition", "resellable"),
                                    [(c, session.t(f"condition_{c}")) for c in CONDITIONS],
                                    lambda value, n=line.line_no: update(n, condition=value),
                                    170,
                                ),
                            ],
                            wrap=True,
                            spacing=12,
                        ),
                    ],
                    spacing=6,
                ),
                f"return-line-{line.line_no}",
            )
        )
    refund = sum(
        line.unit_price.cents * chosen[line.line_no]["quantity"] for line in order.lines if line.line_no in chosen
    )
    controls += [
        card(
            ft.Column(
                [
                    tagged("return-order", ft.Text(order.number, size=20, weight=ft.FontWeight.BOLD)),
                    ft.Text(f"{customer.first_name} {customer.last_name} · {status(session.lang, order.status)}"),
                    ft.Text(local(order.delivered_at) if order.delivered_at else "", color=ft.Colors.GREY_700),
                ],
                spacing=2,
            )
        ),
        *rows,
        tagged(
            "refund",
            ft.Text(session.t("refund", money=money(refund, session.lang)), size=20, weight=ft.FontWeight.BOLD),
        ),
        message(error, "returns-error"),
        big_button(session.t("confirm_return"), confirm, "confirm-return", icon=ft.Icons.ASSIGNMENT_RETURN),
    ]
    return ft.Column(controls, spacing=12, scroll=ft.ScrollMode.AUTO, expand=True)
