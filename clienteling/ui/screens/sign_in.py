"""Sign in: pick your name, enter your PIN. Works offline from the synced staff list."""

from __future__ import annotations

import flet as ft

from clienteling.device import DeviceError
from clienteling.ui.offloop import off_loop, use_loaded
from clienteling.ui.session import use_session
from clienteling.ui.widgets import TOUCH, big_button, card, heading, loading, message, tagged, typed


@ft.component
def SignInScreen():
    session = use_session()
    device = session.device
    picked, set_picked = ft.use_state(None)
    pin, set_pin = ft.use_state("")
    error, set_error = ft.use_state(None)
    busy, set_busy = ft.use_state(False)
    loaded = use_loaded(device.staff_list, [])
    staff = loaded.value or []

    async def sign_in(e=None):
        if busy:
            return
        set_busy(True)
        try:
            member = await off_loop(device.sign_in, picked, typed(e, pin))
            language = await off_loop(device.staff_language, member.id)
        except DeviceError as problem:
            set_error(session.explain(problem))
            set_pin("")
            return
        finally:
            set_busy(False)
        session.set_staff(member, language)

    people = [
        card(
            ft.Row(
                [
                    ft.Icon(ft.Icons.BADGE, color=ft.Colors.TEAL_700 if m.id == picked else ft.Colors.GREY_600),
                    ft.Column(
                        [
                            ft.Text(m.name, size=18, weight=ft.FontWeight.W_600),
                            ft.Text(session.t(f"role_{m.role}"), color=ft.Colors.GREY_700),
                        ],
                        spacing=2,
                    ),
                ],
                height=TOUCH,
            ),
            f"staff-{m.id}",
            selected=m.id == picked,
            on_click=lambda _, i=m.id: (set_picked(i), set_error(None), set_pin("")),
        )
        for m in staff
    ]
    controls: list[ft.Control] = [
        ft.Row(
            [
                ft.Icon(ft.Icons.STOREFRONT, color=ft.Colors.TEAL_700, size=32),
                ft.Text(f"Clienteling · {device.store or ''}", size=18, color=ft.Colors.TEAL_800),
            ]
        ),
        heading(session.t("sign_in_title"), "sign-in-title"),
        ft.Text(session.t("sign_in_pick"), size=16),
        *(people or [message(session.t("no_staff"), "no-staff") if loaded.ready else loading("staff-loading")]),
    ]
    if picked:
        controls += [
            tagged(
                "pin-field",
                ft.TextField(
                    label=session.t("pin"),
                    value=pin,
                    password=True,
                    autofocus=True,
                    width=240,
                    max_length=6,
                    keyboard_type=ft.KeyboardType.NUMBER,
                    input_filter=ft.NumbersOnlyInputFilter(),  # digits only, also from a hardware keyboard
                    on_change=lambda e: set_pin("".join(c for c in e.control.value if c in "0123456789")),
                    on_submit=sign_in,
                ),
            ),
            big_button(session.t("sign_in"), sign_in, "sign-in", icon=ft.Icons.LOGIN, disabled=busy),
        ]
    controls.append(message(error, "sign-in-error"))
    return ft.Container(
        ft.Column(controls, spacing=10, scroll=ft.ScrollMode.AUTO),
        alignment=ft.Alignment.TOP_CENTER,
        padding=24,
        width=560,
    )
