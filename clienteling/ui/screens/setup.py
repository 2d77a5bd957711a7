"""Set-up: the first screen of a store build that has no centre yet (never the demo, never a crash).

A store device normally gets its store code, central URL and device token from device management: the
environment, or a settings.toml that MDM puts in the managed place or the data folder (build/README.md).
When a store build (`CLIENTELING_REQUIRE_SETUP=1`, which main.py sets) starts without them, this screen
says what is missing, lets a person type the three values, checks them against the centre and saves them
with `Settings.save()`; "Start" then opens the app on that centre without a restart (`FirstStart`). It
needs no Device and no session until then: nothing is synced before the centre is known.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import flet as ft

from clienteling.config import SETTINGS_FILE, Settings
from clienteling.device.pairing import check_centre
from clienteling.ui.i18n import tr
from clienteling.ui.offloop import off_loop
from clienteling.ui.widgets import BRAND, big_button, heading, message, tagged

FIELDS = ("store", "central_url", "device_token")
STORE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,15}$")  # AMS01, UTR01; the centre says whether it exists

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Set up this device",
        "intro": (
            "This device does not know its store and central server yet. Normally device management "
            "provides them; until then you can enter them here. Ask IT for the device token."
        ),
        "missing": "Missing: {fields}.",
        "where": "Saved in {path}.",
        "save": "Check and save",
        "need_store": "Enter the store code, for example AMS01.",
        "bad_store": "A store code is letters and digits, for example AMS01.",
        "need_url": "Enter the central URL, for example https://central.example.nl.",
        "bad_url": "The central URL starts with https:// (or http://) and names a server.",
        "need_token": "Enter the device token that IT gave you.",
        "saved_ok": "Saved, and the centre knows this device and store {store}.",
        "saved_unreachable": "Saved, but the centre did not answer ({detail}). The app starts from what this "
        "device has and keeps trying.",
        "start": "Start",
        "refused": "The centre refused this device token. Check it with IT; nothing was saved.",
        "no_such_store": "The centre has no store {store}. Check the code; nothing was saved.",
    },
    "nl": {
        "title": "Dit apparaat instellen",
        "intro": (
            "Dit apparaat kent zijn winkel en centrale server nog niet. Normaal regelt apparaatbeheer dat; "
            "tot die tijd kunt u ze hier invullen. Vraag IT om het apparaattoken."
        ),
        "missing": "Ontbreekt: {fields}.",
        "where": "Wordt bewaard in {path}.",
        "save": "Controleren en opslaan",
        "need_store": "Vul de winkelcode in, bijvoorbeeld AMS01.",
        "bad_store": "Een winkelcode bestaat uit letters en cijfers, bijvoorbeeld AMS01.",
        "need_url": "Vul de centrale URL in, bijvoorbeeld https://central.example.nl.",
        "bad_url": "De centrale URL begint met https:// (of http://) en noemt een server.",
        "need_token": "Vul het apparaattoken in dat u van IT kreeg.",
        "saved_ok": "Opgeslagen, en de centrale kent dit apparaat en winkel {store}.",
        "saved_unreachable": "Opgeslagen, maar de centrale antwoordde niet ({detail}). De app begint met wat dit "
        "apparaat heeft en blijft het proberen.",
        "start": "Beginnen",
        "refused": "De centrale weigert dit apparaattoken. Controleer het met IT; er is niets opgeslagen.",
        "no_such_store": "De centrale kent geen winkel {store}. Controleer de code; er is niets opgeslagen.",
    },
}


def say(lang: str, key: str, **values: object) -> str:
    return TEXT.get(lang, TEXT["en"])[key].format(**values)


def missing_fields(settings: Settings) -> list[str]:
    return [name for name in FIELDS if not getattr(settings, name)]


def validate(values: dict[str, str]) -> dict[str, str]:
    """The fields that are wrong, each with the key of its message; empty when all three are usable."""
    problems: dict[str, str] = {}
    store = values.get("store", "").strip().upper()
    if not store:
        problems["store"] = "need_store"
    elif not STORE_CODE.match(store):
        problems["store"] = "bad_store"
    url = values.get("central_url", "").strip()
    parts = urlsplit(url)
    if not url:
        problems["central_url"] = "need_url"
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        problems["central_url"] = "bad_url"
    if not values.get("device_token", "").strip():
        problems["device_token"] = "need_token"
    return problems


@ft.component
def FirstStart(settings: Settings, start: Callable[[], Any], prepare: Callable[[], Any] | None = None):
    """The set-up screen until its settings are saved and "Start" is pressed; then what `start()` makes.

    `prepare` (opening the device and its first sync) runs off the event loop before `start()`."""
    started, set_started = ft.use_state(False)
    if started:
        return start()

    async def begin() -> None:
        if prepare is not None:
            await off_loop(prepare)
        set_started(True)

    return SetupScreen(settings, on_start=begin)


@ft.component
def SetupScreen(settings: Settings, on_start: Callable[[], Any] | None = None):
    lang, set_lang = ft.use_state(settings.lang)
    values, set_values = ft.use_state({name: getattr(settings, name) or "" for name in FIELDS})
    problems, set_problems = ft.use_state({})
    outcome, set_outcome = ft.use_state(None)  # (text, error?)
    busy, set_busy = ft.use_state(False)
    saved, set_saved = ft.use_state(False)
    missing = missing_fields(settings)

    async def save(_):
        wrong = validate(values)
        set_problems(wrong)
        if wrong:
            set_outcome(None)
            return
        store = values["store"].strip().upper()
        url = values["central_url"].strip().rstrip("/")
        token = values["device_token"].strip()
        set_busy(True)
        try:
            verdict, detail = await off_loop(check_centre, url, token, store)
        finally:
            set_busy(False)
        if verdict in ("refused", "no_such_store"):
            set_outcome((say(lang, verdict, store=store), True))
            return
        await off_loop(settings.with_changes(store=store, central_url=url, device_token=token, lang=lang).save)
        set_saved(True)
        if verdict == "ok":
            set_outcome((say(lang, "saved_ok", store=store), False))
        else:
            set_outcome((say(lang, "saved_unreachable", detail=detail), True))

    async def start_app(_):
        set_busy(True)
        try:
            result = on_start()
            if inspect.isawaitable(result):
                await result
        finally:
            set_busy(False)

    def field(name: str, password: bool = False):
        return tagged(
            f"setup-{name}",
            ft.TextField(
                label=tr(lang, name),
                value=values[name],
                password=password,
                can_reveal_password=password,
                error=say(lang, problems[name]) if name in problems else None,
                capitalization=ft.TextCapitalization.CHARACTERS if name == "store" else None,
                keyboard_type=ft.KeyboardType.URL if name == "central_url" else None,
                on_change=lambda e: set_values(lambda before: {**before, name: e.control.value}),
                on_submit=save,
            ),
        )

    names = ", ".join(tr(lang, name) for name in missing)
    text, failed = outcome if outcome else (None, False)
    form = ft.Column(
        [
            ft.Row(
                [
                    ft.Image(src="icon.png", width=56, height=56, border_radius=12),
                    heading(say(lang, "title"), "setup-title"),
                ],
                spacing=16,
            ),
            ft.Text(say(lang, "intro"), size=16),
            tagged("setup-missing", ft.Text(say(lang, "missing", fields=names), weight=ft.FontWeight.BOLD))
            if missing
            else ft.Container(height=0),
            field("store"),
            field("central_url"),
            field("device_token", password=True),
            ft.Row(
                [
                    big_button(say(lang, "save"), save, "setup-save", icon=ft.Icons.SAVE, disabled=busy),
                    tagged(
                        "setup-language",
                        ft.Dropdown(
                            label=tr(lang, "language"),
                            value=lang,
                            width=180,
                            options=[
                                ft.DropdownOption(key="nl", text="Nederlands"),
                                ft.DropdownOption(key="en", text="English"),
                            ],
                            on_select=lambda e: set_lang(e.control.value),
                        ),
                    ),
                ],
                spacing=16,
                wrap=True,
            ),
            message(text, "setup-outcome", error=failed),
            big_button(say(lang, "start"), start_app, "setup-start", icon=ft.Icons.PLAY_ARROW, disabled=busy)
            if saved and on_start
            else ft.Container(height=0),
            ft.Text(say(lang, "where", path=settings.data_dir / SETTINGS_FILE), size=12, color=ft.Colors.GREY_700),
        ],
        spacing=16,
        tight=True,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
    )
    box = ft.Container(
        form,
        padding=24,
        bgcolor=ft.Colors.WHITE,
        border_radius=12,
        border=ft.Border.all(1, ft.Colors.GREY_300),
        col={"xs": 12, "sm": 10, "md": 8, "lg": 6, "xl": 5},
    )
    return ft.Column(
        [
            ft.Container(height=6, bgcolor=BRAND),
            ft.Container(ft.ResponsiveRow([box], alignment=ft.MainAxisAlignment.CENTER), padding=16),
        ],
        scroll=ft.ScrollMode.AUTO,
        expand=True,
        spacing=0,
    )
