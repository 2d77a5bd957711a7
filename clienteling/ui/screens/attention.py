"""Commands the centre refused, with its reason: never dropped, dismissed by a person."""

from __future__ import annotations

from functools import partial

import flet as ft

from clienteling.ui.i18n import local, refusal_text
from clienteling.ui.offloop import off_loop, use_loaded
from clienteling.ui.session import use_session
from clienteling.ui.widgets import TOUCH, card, heading, loading, tagged


@ft.component
def AttentionScreen():
    session = use_session()
    device = session.device
    version, set_version = ft.use_state(0)
    loaded = use_loaded(device.needs_attention, [version])
    items = loaded.value or []

    async def dismiss(command_id: str, _event=None):
        await off_loop(device.dismiss, command_id)
        set_version(version + 1)

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
            *(rows or [ft.Text(session.t("no_attention")) if loaded.ready else loading("attention-loading")]),
        ],
        spacing=10,
        scroll=ft.ScrollMode.AUTO,
    )
