"""Commands the centre refused, with its reason: never dropped, dismissed by a person."""

from __future__ import annotations

import flet as ft

from clienteling.ui.i18n import local
from clienteling.ui.session import use_session
from clienteling.ui.widgets import TOUCH, card, heading, tagged


@ft.component
def AttentionScreen():
    session = use_session()
    device = session.device
    version, set_version = ft.use_state(0)
    items = device.needs_attention()

    def dismiss(command_id: str):
        device.dismiss(command_id)
        set_version(version + 1)

    rows = [
        card(
            ft.Row(
                [
                    ft.Icon(ft.Icons.WARNING_AMBER, color=ft.Colors.RED_800),
                    ft.Column(
                        [
                            ft.Text(
                                f"{session.t('kind_' + c.kind)} · {local(c.created_at)}",
                                size=17,
                                weight=ft.FontWeight.W_600,
                            ),
                            ft.Text(c.customer_id or "", color=ft.Colors.GREY_700),
                            tagged(
                                f"attention-reason-{c.command_id}", ft.Text(c.reason or "", color=ft.Colors.RED_800)
                            ),
                        ],
                        spacing=2,
                        expand=True,
                    ),
                    ft.OutlinedButton(
                        content=session.t("dismiss"), height=TOUCH, on_click=lambda _, i=c.command_id: dismiss(i)
                    ),
                ]
            ),
            f"attention-{c.command_id}",
        )
        for c in items
    ]
    return ft.Column(
        [heading(session.t("attention_title")), *(rows or [ft.Text(session.t("no_attention"))])],
        spacing=10,
        scroll=ft.ScrollMode.AUTO,
    )
