"""Small pieces the screens share: tagged controls the tests can find, headings, messages, the sync bar."""

from __future__ import annotations

import asyncio
import io

import flet as ft
import qrcode

from clienteling.ui.i18n import ago
from clienteling.ui.session import go, use_session
from clienteling.ui.state import SyncStatus

TOUCH = 48  # the smallest touch target, in logical pixels
BRAND = ft.Colors.TEAL_700


def tagged(identifier: str, control: ft.Control) -> ft.Control:
    """A control the browser tests find by `flt-semantics-identifier`."""
    return ft.Semantics(identifier=identifier, content=control)


def typed(event, fallback: str) -> str:
    """What a field holds as it is submitted: the event's own value (the state set by the field's last change
    may not have come back yet when a scanner types fast and presses Enter), else `fallback`."""
    value = getattr(getattr(event, "control", None), "value", None)
    # An empty value can be the event's control as an earlier render built it, before the text came in.
    return value if isinstance(value, str) and value else fallback


def code_field(identifier: str, label: str, value: str, on_change, on_submit, **more) -> ft.Control:
    """A field for a scanner or typing: a code, an email, a name, an order number. Enter submits it."""
    return tagged(
        identifier,
        ft.TextField(
            label=label,
            value=value,
            prefix_icon=ft.Icons.QR_CODE_SCANNER,
            on_change=on_change,
            on_submit=on_submit,
            **more,
        ),
    )


def choice(identifier: str, label: str, value: str | None, options, on_pick, width: int) -> ft.Control:
    """A dropdown of (key, text) options; `on_pick` gets the key chosen."""
    return tagged(
        identifier,
        ft.Dropdown(
            label=label,
            value=value,
            width=width,
            options=[ft.DropdownOption(key=key, text=text) for key, text in options],
            on_select=lambda e: on_pick(e.control.value),
        ),
    )


def heading(text: str, identifier: str | None = None) -> ft.Control:
    control = ft.Text(text, size=24, weight=ft.FontWeight.BOLD)
    return tagged(identifier, control) if identifier else control


def message(text: str | None, identifier: str, *, error: bool = True) -> ft.Control:
    if not text:
        return ft.Container(height=0)
    colour = ft.Colors.RED_800 if error else ft.Colors.GREEN_800
    icon = ft.Icons.ERROR_OUTLINE if error else ft.Icons.CHECK_CIRCLE_OUTLINE
    return tagged(
        identifier,
        ft.Container(
            ft.Row([ft.Icon(icon, color=colour), ft.Text(text, color=colour, size=16, expand=True)]),
            bgcolor=ft.Colors.RED_50 if error else ft.Colors.GREEN_50,
            padding=12,
            border_radius=8,
        ),
    )


def big_button(text: str, on_click, identifier: str, *, icon=None, primary: bool = True, disabled: bool = False):
    style = ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=20, vertical=14))
    kind = ft.FilledButton if primary else ft.OutlinedButton
    return tagged(
        identifier,
        kind(content=text, icon=icon, on_click=on_click, height=TOUCH + 4, style=style, disabled=disabled),
    )


def loading(identifier: str) -> ft.Control:
    """What a screen shows for the moment its data is read (off the event loop)."""
    return tagged(identifier, ft.Container(ft.ProgressRing(width=28, height=28), padding=24))


def card(content: ft.Control, identifier: str | None = None, on_click=None, selected: bool = False) -> ft.Control:
    box = ft.Container(
        content,
        padding=14,
        border_radius=10,
        bgcolor=ft.Colors.TEAL_50 if selected else ft.Colors.WHITE,
        border=ft.Border.all(2 if selected else 1, ft.Colors.TEAL_700 if selected else ft.Colors.GREY_300),
        on_click=on_click,
    )
    return tagged(identifier, box) if identifier else box


def use_task(work) -> None:
    """Run the coroutine function `work` while the calling component is on screen; it is cancelled when it goes."""

    def start():
        return asyncio.create_task(work()).cancel

    ft.use_effect(start, [])


def qr_png(payload: str) -> bytes:
    image = qrcode.make(payload, error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def how_did_it_go(session, link) -> ft.Control:
    """The QR code and short link of a touchpoint she may rate (a `SurveyLink`), under a confirmation or receipt:
    her phone opens the one-question page (nothing when there is no link)."""
    if link is None:
        return ft.Container(height=0)
    short = link.url.split("://", 1)[-1]
    return card(
        ft.Row(
            [
                ft.Image(src=qr_png(link.url), width=132, height=132),
                ft.Column(
                    [
                        ft.Text(session.t("survey_ask"), size=18, weight=ft.FontWeight.W_600),
                        ft.Text(session.t("survey_hint"), color=ft.Colors.GREY_700),
                        tagged("survey-link", ft.Text(short, size=15, color=ft.Colors.TEAL_800)),
                    ],
                    spacing=4,
                    expand=True,
                ),
            ],
            spacing=16,
        ),
        "survey",
    )


@ft.component
def SyncBar():
    """Online or offline, the last sync, commands waiting and needing attention; always on screen."""
    session = use_session()
    status, _ = ft.use_state(lambda: SyncStatus(session.device))

    async def poll():
        while True:
            await status.refresh()
            await asyncio.sleep(1)

    use_task(poll)
    state = status.state
    if state is None:
        return ft.Container(height=TOUCH)

    async def sync_now(_):
        await status.sync_now()

    async def dismiss_rebuilt(_):
        await status.dismiss_cache_rebuilt()

    online = bool(state.online)
    colour = ft.Colors.GREEN_700 if online else ft.Colors.ORANGE_800
    last = (
        session.t("last_sync", ago=ago(session.lang, state.last_sync_at))
        if state.last_sync_at
        else session.t("not_synced")
    )
    items: list[ft.Control] = [
        tagged(
            "sync-status",
            ft.Row(
                [
                    ft.Icon(ft.Icons.CLOUD_DONE if online else ft.Icons.CLOUD_OFF, color=colour),
                    ft.Text(session.t(state.status_key), color=colour, weight=ft.FontWeight.BOLD),
                ],
                spacing=6,
            ),
        ),
        tagged("sync-last", ft.Text(last)),
        tagged("sync-waiting", ft.Text(session.t("waiting_n", n=state.waiting))),
    ]
    if state.attention:
        items.append(
            tagged(
                "sync-attention",
                ft.TextButton(
                    content=session.t("attention_n", n=state.attention),
                    icon=ft.Icons.WARNING_AMBER,
                    style=ft.ButtonStyle(color=ft.Colors.RED_800),
                    on_click=lambda _: go("/attention"),
                    height=TOUCH,
                ),
            )
        )
    items.append(ft.Container(expand=True))
    items.append(
        tagged(
            "sync-now",
            ft.TextButton(
                content=session.t("sync_now"),
                icon=ft.Icons.SYNC,
                on_click=sync_now,
                height=TOUCH,
                disabled=status.syncing,
            ),
        )
    )
    bar: ft.Control = ft.Row(items, spacing=18, vertical_alignment=ft.CrossAxisAlignment.CENTER, wrap=False)
    if state.cache_rebuilt_at:  # the cache was damaged and made afresh: a line below; tapping it dismisses it
        notice = session.t("cache_refilling" if state.last_sync_at is None else "cache_rebuilt")
        bar = ft.Column(
            [bar, tagged("sync-rebuilt", ft.TextButton(content=notice, on_click=dismiss_rebuilt))], spacing=0
        )
    return ft.Container(
        bar,
        bgcolor=ft.Colors.GREEN_50 if online else ft.Colors.ORANGE_50,
        padding=ft.Padding.symmetric(horizontal=16, vertical=4),
    )


def product_picture(image: str | None, size: int = 64, identifier: str | None = None) -> ft.Control:
    """A product's picture from the app's assets (the catalogue names it), square, or a plain tile if it has none."""
    tile: ft.Control
    if image:
        tile = ft.Image(
            src=image,
            width=size,
            height=size,
            fit=ft.BoxFit.COVER,
            border_radius=8,
            error_content=ft.Icon(ft.Icons.CHECKROOM, color=ft.Colors.GREY_500),
        )
    else:
        tile = ft.Container(
            ft.Icon(ft.Icons.CHECKROOM, color=ft.Colors.GREY_500),
            width=size,
            height=size,
            bgcolor=ft.Colors.GREY_200,
            border_radius=8,
            alignment=ft.Alignment.CENTER,
        )
    return tagged(identifier, tile) if identifier else tile
