"""Commands the centre refused, with its reason: never dropped, dismissed by a person."""

from __future__ import annotations

from functools import partial

import flet as ft

from clienteling.ui.i18n import local, refusal_text
from clienteling.ui.session import go, use_session
from clienteling.ui.state import AttentionList
from clienteling.ui.widgets import TOUCH, card, heading, loading, message, tagged, use_task


@ft.component
def AttentionScreen():
    session = use_session()
    attention, _ = ft.use_state(lambda: AttentionList(session.device))
    use_task(attention.refresh)
    items = attention.items or []

    async def dismiss(command_id: str, _event=None):
        await attention.dismiss(command_id)

    def refund_instead(order_number: str, _event=None):
        go(f"/returns/{order_number}")

    rows = [
        card(
            ft.Row(
                [
                    ft.Icon(ft.Icons.WARNING_AMBER, color=ft.Colors.RED_800),
                    ft.Column(
                        [
                            ft.Text(
                                f"{session.t('kind_' + c.kind)} · {local(c.created_at, lang=session.lang)}",
                                size=17,
                                weight=ft.FontWeight.W_600,
                            ),
                            ft.Text(c.customer_id or "", color=ft.Colors.GREY_700),
                            tagged(
                                f"attention-reason-{c.command_id}",
                                ft.Text(refusal_text(session.lang, c.answer), color=ft.Colors.RED_800),
                            ),
                            *(  # a refused exchange did nothing: the way forward is a refund of the same items
                                [
                                    ft.Text(session.t("exchange_refused_hint")),
                                    tagged(
                                        f"attention-refund-{c.command_id}",
                                        ft.OutlinedButton(
                                            content=session.t("refund_instead"),
                                            height=TOUCH,
                                            on_click=partial(refund_instead, c.body.get("order_number")),
                                        ),
                                    ),
                                ]
                                if c.kind == "exchange"
                                else []
                            ),
                        ],
                        spacing=2,
                        expand=True,
                    ),
                    ft.OutlinedButton(
                        content=session.t("dismiss"), height=TOUCH, on_click=partial(dismiss, c.command_id)
                    ),
                ]
            ),
            f"attention-{c.command_id}",
        )
        for c in items
    ]
    return ft.Column(
        [
            heading(session.t("attention_title")),
            message(session.explain(attention.error) if attention.error else None, "attention-error"),
            *(
                rows
                or [ft.Text(session.t("no_attention")) if attention.items is not None else loading("attention-loading")]
            ),
        ],
        spacing=10,
        scroll=ft.ScrollMode.AUTO,
    )
