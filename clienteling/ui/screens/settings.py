"""Settings (manager): store, central URL, device token, language, cache size, purge now."""

from __future__ import annotations

import flet as ft

from clienteling.ui.i18n import decimal, number
from clienteling.ui.offloop import off_loop, use_loaded
from clienteling.ui.session import use_session
from clienteling.ui.widgets import TOUCH, big_button, heading, message, tagged


@ft.component
def SettingsScreen():
    session = use_session()
    device = session.device
    settings = device.settings
    values, set_values = ft.use_state(
        {
            "store": settings.store or "",
            "central_url": settings.central_url or "",
            "device_token": settings.device_token or "",
        }
    )
    note, set_note = ft.use_state(None)
    size = use_loaded(device.cache_size, [note]).value
    if not session.may("settings"):
        return ft.Column(
            [heading(session.t("settings_title")), message(session.t("only_manager"), "settings-forbidden")]
        )

    async def save(_):
        changed = settings.with_changes(lang=session.lang, **{k: v.strip() or None for k, v in values.items()})
        await off_loop(changed.save)
        set_note(session.t("saved"))

    async def purge(_):
        count = await off_loop(device.purge)
        set_note(session.t("purged", n=count, days=settings.purge_days))

    def field(name: str, password: bool = False):
        return tagged(
            f"setting-{name}",
            ft.TextField(
                label=session.t(name),
                value=values[name],
                password=password,
                can_reveal_password=password,
                width=520,
                on_change=lambda e: set_values({**values, name: e.control.value}),
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
            message(note, "settings-note", error=False),
        ],
        spacing=14,
        scroll=ft.ScrollMode.AUTO,
    )
