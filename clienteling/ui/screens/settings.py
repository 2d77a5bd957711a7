"""Settings (manager): store, central URL, device token, language, cache size, purge now."""

from __future__ import annotations

import flet as ft

from clienteling.ui.i18n import decimal, number
from clienteling.ui.session import use_session
from clienteling.ui.state import SettingsForm
from clienteling.ui.widgets import TOUCH, big_button, heading, message, tagged, use_task


@ft.component
def SettingsScreen():
    session = use_session()
    form, _ = ft.use_state(lambda: SettingsForm.of(session.device))
    use_task(form.refresh)
    size = form.size
    if not session.may("settings"):
        return ft.Column(
            [heading(session.t("settings_title")), message(session.t("only_manager"), "settings-forbidden")]
        )

    async def save(_):
        await form.save(session.lang)

    async def purge(_):
        await form.purge()

    def field(name: str, password: bool = False):
        return tagged(
            f"setting-{name}",
            ft.TextField(
                label=session.t(name),
                value=form.values[name],
                password=password,
                can_reveal_password=password,
                width=520,
                on_change=lambda e: form.change(name, e.control.value),
            ),
        )

    return ft.Column(
        [
            heading(session.t("settings_title")),
            field("store"),
            field("central_url"),
            field("device_token", password=True),
            ft.Text(session.t("language"), size=16),
            ft.Row(
                [
                    tagged(
                        f"language-{code}",
                        (ft.FilledButton if session.lang == code else ft.OutlinedButton)(
                            content=name, height=TOUCH, on_click=lambda _, c=code: session.set_lang(c)
                        ),
                    )
                    for code, name in (("nl", "Nederlands"), ("en", "English"))
                ]
            ),
            ft.Text(
                session.t("cache_size", customers=number(size[0], session.lang), mb=decimal(size[1], session.lang))
                if size
                else ""
            ),
            ft.Row(
                [
                    big_button(session.t("save"), save, "settings-save", icon=ft.Icons.SAVE),
                    big_button(
                        session.t("purge_now"), purge, "settings-purge", icon=ft.Icons.DELETE_SWEEP, primary=False
                    ),
                ]
            ),
            message(session.t(form.note[0], **form.note[1]) if form.note else None, "settings-note", error=False),
        ],
        spacing=14,
        scroll=ft.ScrollMode.AUTO,
    )
