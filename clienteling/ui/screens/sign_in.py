"""Sign in: pick your name, enter your PIN. Works offline from the synced staff list."""

from __future__ import annotations

import flet as ft

from clienteling.ui.offloop import in_background, use_loaded
from clienteling.ui.session import use_session
from clienteling.ui.state import SignIn
from clienteling.ui.widgets import TOUCH, big_button, card, heading, loading, message, tagged, typed


@ft.component
def SignInScreen():
    session = use_session()
    device = session.device
    form, _ = ft.use_state(lambda: SignIn(device))
    loaded = use_loaded(device.staff_list, [])
    staff = loaded.value or []

    async def sign_in(e=None):
        signed_in = await form.sign_in(typed(e, form.pin))
        if signed_in is not None:
            session.extra.pop("signed_out", None)  # the shift question was for whoever left, not for her
            session.set_staff(*signed_in)

    people = [
        card(
            ft.Row(
                [
                    ft.Icon(ft.Icons.BADGE, color=ft.Colors.TEAL_700 if m.id == form.picked else ft.Colors.GREY_600),
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
            selected=m.id == form.picked,
            on_click=lambda _, i=m.id: form.pick(i),
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
    if form.picked:
        controls += [
            tagged(
                "pin-field",
                ft.TextField(
                    label=session.t("pin"),
                    value=form.pin,
                    password=True,
                    autofocus=True,
                    width=240,
                    max_length=device.LONGEST_PIN,
                    keyboard_type=ft.KeyboardType.NUMBER,
                    input_filter=ft.NumbersOnlyInputFilter(),  # digits only, also from a hardware keyboard
                    on_change=lambda e: form.typed(e.control.value),
                    on_submit=sign_in,
                ),
            ),
            big_button(session.t("sign_in"), sign_in, "sign-in", icon=ft.Icons.LOGIN, disabled=form.busy),
        ]
    controls.append(message(session.explain(form.error) if form.error else None, "sign-in-error"))
    controls.insert(0, ShiftPulse())
    return ft.Container(
        ft.Column(controls, spacing=10, scroll=ft.ScrollMode.AUTO),
        alignment=ft.Alignment.TOP_CENTER,
        padding=24,
        width=560,
    )


@ft.component
def ShiftPulse():
    """After a sign-out: how did the shift go? One tap, anonymous (the centre keeps the store and the day only), or
    nothing at all; gone once answered or when the next person signs in."""
    session = use_session()
    who = session.extra.get("signed_out")
    answered, set_answered = ft.use_state(False)
    if answered:
        return tagged("pulse-thanks", ft.Text(session.t("pulse_thanks"), color=ft.Colors.GREEN_800))
    if not who:
        return ft.Container(height=0)

    def rate(score: int):
        def rated(_):
            session.extra.pop("signed_out", None)
            in_background(session.device.rate_shift, score)
            set_answered(True)

        return rated

    faces = (
        ft.Icons.SENTIMENT_VERY_DISSATISFIED,
        ft.Icons.SENTIMENT_DISSATISFIED,
        ft.Icons.SENTIMENT_NEUTRAL,
        ft.Icons.SENTIMENT_SATISFIED,
        ft.Icons.SENTIMENT_VERY_SATISFIED,
    )
    return card(
        ft.Column(
            [
                ft.Text(session.t("pulse_question", name=who), size=18, weight=ft.FontWeight.W_600),
                ft.Text(session.t("pulse_anonymous"), color=ft.Colors.GREY_700),
                ft.Row(
                    [
                        tagged(
                            f"pulse-{score}",
                            ft.IconButton(
                                icon=faces[score - 1],
                                icon_size=36,
                                tooltip=session.t(f"pulse_{score}"),
                                on_click=rate(score),
                                width=TOUCH + 8,
                                height=TOUCH + 8,
                            ),
                        )
                        for score in range(1, 6)
                    ],
                    spacing=4,
                ),
            ],
            spacing=6,
        ),
        "pulse",
    )
