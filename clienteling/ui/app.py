"""The app: sign-in, then the shop-floor and service-desk screens under one router, with the sync bar always on top.

`clienteling` opens it in a desktop window, `clienteling --web --port P` serves it to browsers. With no centre
configured, the embedded demo centre is started, so the first run needs nothing else.
"""

from __future__ import annotations

import logging
import os
import threading

import flet as ft

from clienteling.config import Settings, assets_dir
from clienteling.device import Device, DeviceError, JournalDamaged
from clienteling.ui.i18n import tr
from clienteling.ui.offloop import in_background
from clienteling.ui.screens.attention import AttentionScreen
from clienteling.ui.screens.camera import CameraScreen
from clienteling.ui.screens.customer import CustomerScreen
from clienteling.ui.screens.enrol import CardScreen, EnrolScreen
from clienteling.ui.screens.figures import FiguresScreen
from clienteling.ui.screens.follow_ups import ClientBookScreen
from clienteling.ui.screens.lookup import LookupScreen
from clienteling.ui.screens.returns import ReturnsScreen
from clienteling.ui.screens.settings import SettingsScreen
from clienteling.ui.screens.ship_to_home import ShipToHomeScreen
from clienteling.ui.screens.sign_in import SignInScreen
from clienteling.ui.screens.stock import StockScreen
from clienteling.ui.session import Session, SessionContext, go, scan_keys_of, use_session
from clienteling.ui.state import ScanKeys
from clienteling.ui.widgets import TOUCH, SyncBar, tagged

ASSETS = assets_dir()  # the repository's assets/, or the installed package's copy
log = logging.getLogger(__name__)

_device_lock = threading.Lock()
_device: Device | None = None
_damaged: JournalDamaged | None = None  # the command journal was found damaged at start: said on every screen


def shared_device() -> Device:
    """The one store device of this process (every browser session of a store server shares it).

    Raises `JournalDamaged` (each time) when the device's command journal is damaged."""
    global _device, _damaged
    with _device_lock:
        if _damaged is not None:
            raise _damaged
        if _device is None:
            settings = Settings.load()
            if not settings.configured:
                from clienteling.central.embedded import start_embedded_demo

                centre = start_embedded_demo(settings.data_dir)
                settings = settings.with_embedded_centre(centre.url, centre.token, centre.store)
            try:
                _device = Device(settings)
            except JournalDamaged as error:
                _damaged = error
                raise
            try:
                _device.sync_now()
            except DeviceError as problem:  # offline at start: the cache serves, the sync bar says so
                log.warning("first sync failed: %s", problem)
            _device.start_background_sync(float(os.environ.get("CLIENTELING_SYNC_INTERVAL", "15")))
        return _device


NAV = (
    ("nav_lookup", "/", ft.Icons.PERSON_SEARCH, "lookup"),
    ("nav_stock", "/stock", ft.Icons.INVENTORY_2, "stock"),
    ("nav_returns", "/returns", ft.Icons.ASSIGNMENT_RETURN, "returns"),
    ("nav_attention", "/attention", ft.Icons.WARNING_AMBER, "lookup"),
    ("nav_figures", "/figures", ft.Icons.INSIGHTS, "figures"),
    ("nav_settings", "/settings", ft.Icons.SETTINGS, "settings"),
)


NARROW = 1100  # logical pixels: a tablet in portrait; the top bar then shows each screen as an icon over its name


def nav_button(session, key: str, route: str, icon, narrow: bool) -> ft.Control:
    identifier = f"nav-{route.strip('/') or 'lookup'}"
    if not narrow:
        return tagged(
            identifier,
            ft.TextButton(content=session.t(key), icon=icon, height=TOUCH, on_click=lambda _: go(route)),
        )
    return tagged(
        identifier,
        ft.TextButton(
            content=ft.Column(
                [ft.Icon(icon, size=20), ft.Text(session.t(key), size=12, no_wrap=True)],
                spacing=0,
                horizontal_alignment=ft.CrossAxisAlignment.CENTER,
                tight=True,
            ),
            height=TOUCH + 8,
            style=ft.ButtonStyle(padding=ft.Padding.symmetric(horizontal=8, vertical=2)),
            on_click=lambda _: go(route),
        ),
    )


@ft.component
def Shell():
    session = use_session()
    outlet = ft.use_route_outlet()
    width, set_width = ft.use_state(lambda: ft.context.page.width or 1280)

    def follow_the_width():
        ft.context.page.on_resize = lambda e: set_width(e.width)

    ft.use_effect(follow_the_width, [])
    narrow = width < NARROW
    buttons = [nav_button(session, key, route, icon, narrow) for key, route, icon, right in NAV if session.may(right)]
    top = ft.Container(
        ft.Row(
            [
                *(
                    []
                    if narrow
                    else [ft.Text(session.t("app_title"), size=20, weight=ft.FontWeight.BOLD, color=ft.Colors.WHITE)]
                ),
                ft.Row(buttons, spacing=0, wrap=False, expand=True),
                tagged(
                    "signed-in",
                    ft.Text(session.staff.name, color=ft.Colors.WHITE, no_wrap=True, overflow=ft.TextOverflow.ELLIPSIS),
                ),
                tagged(
                    "sign-out",
                    ft.TextButton(
                        content=session.t("sign_out"),
                        height=TOUCH,
                        style=ft.ButtonStyle(color=ft.Colors.WHITE),
                        on_click=lambda _: sign_out(session),
                    ),
                ),
            ],
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
        ),
        bgcolor=ft.Colors.TEAL_700,
        padding=ft.Padding.symmetric(horizontal=12 if narrow else 16, vertical=4),
        theme=ft.Theme(color_scheme=ft.ColorScheme(primary=ft.Colors.WHITE)),
    )
    return ft.Column(
        [top, SyncBar(), ft.Container(outlet, padding=16, expand=True)],
        spacing=0,
        expand=True,
    )


def sign_out(session) -> None:
    """Back to the sign-in screen, which asks whoever left how the shift went (anonymous: `Device.rate_shift`)."""
    if session.staff is not None:
        session.extra["signed_out"] = session.staff.name.split()[0]
    session.set_staff(None)
    go("/")


@ft.component
def NotFound():
    session = use_session()
    return ft.Text(session.t("not_found"))


ROUTES = [
    ft.Route(
        component=Shell,
        children=[
            ft.Route(index=True, component=LookupScreen),
            ft.Route(path="customer/:customer_id", component=CustomerScreen),
            ft.Route(path="clients", component=ClientBookScreen),
            ft.Route(path="stock", component=StockScreen),
            ft.Route(path="stock/:sku", component=StockScreen),
            ft.Route(path="ship/:customer_id/:sku", component=ShipToHomeScreen),
            ft.Route(path="returns", component=ReturnsScreen),
            ft.Route(path="returns/:number", component=ReturnsScreen),
            ft.Route(path="attention", component=AttentionScreen),
            ft.Route(path="figures", component=FiguresScreen),
            ft.Route(path="settings", component=SettingsScreen),
            ft.Route(path="scan", component=CameraScreen),
            ft.Route(path="enrol", component=EnrolScreen),
            ft.Route(path="card/:customer_id", component=CardScreen),
        ],
    )
]


@ft.component
def App(device: Device):
    staff, set_staff = ft.use_state(None)
    lang, set_lang = ft.use_state(device.settings.lang)
    recent = ft.use_ref([])
    extra = ft.use_ref({})

    def served(customer_id: str) -> None:
        extra.current["customer_for_ship"] = customer_id
        recent.current[:] = [customer_id, *[c for c in recent.current if c != customer_id]][:8]

    keys, _ = ft.use_state(ScanKeys)

    def listen():
        page = ft.context.page
        scan_keys_of(page, keys)
        page.on_keyboard_event = lambda e: keys.key(e.key, e.shift)

    ft.use_effect(listen, [])

    def sign_in_as(member, language: str | None = None) -> None:
        """A member's own language on sign-in (read off the loop by the sign-in screen); the device's after."""
        if member is not None:
            keys.expect()  # the look-up screen comes next: a scan may come before its field has focus
        set_staff(member)
        set_lang(language or device.settings.lang)

    def choose_lang(code: str) -> None:  # kept for whoever is signed in, at once
        set_lang(code)
        if staff is not None:
            in_background(device.choose_language, staff.id, code)

    session = Session(device, lang, staff, recent.current, sign_in_as, choose_lang, served, extra.current, keys)

    def body():
        if staff is None:
            return ft.Column([SyncBar(), ft.Row([SignInScreen()], alignment=ft.MainAxisAlignment.CENTER)], expand=True)
        return ft.Router(ROUTES, not_found=NotFound)

    return SessionContext(session, body)


@ft.component
def JournalDamagedScreen(error: JournalDamaged, lang: str):
    """What the app shows instead of its screens when the command journal is damaged: what happened, what to do."""
    key = "journal_newer" if error.problem == "newer" else "journal_damaged"
    text = tr(lang, key, problem=tr(lang, f"journal_problem_{error.problem}"), path=str(error.path))
    return ft.Container(
        ft.Column(
            [
                ft.Icon(ft.Icons.ERROR_OUTLINE, color=ft.Colors.RED_800, size=48),
                ft.Text(tr(lang, "journal_damaged_title"), size=22, weight=ft.FontWeight.BOLD),
                tagged("journal-damaged", ft.Text(text, size=16, selectable=True)),
            ],
            spacing=16,
        ),
        padding=32,
    )


def main(page: ft.Page) -> None:
    page.title = "Clienteling"
    page.theme = ft.Theme(color_scheme_seed=ft.Colors.TEAL)
    page.theme_mode = ft.ThemeMode.LIGHT
    page.bgcolor = ft.Colors.GREY_50
    page.padding = 0
    settings = Settings.load()
    if settings.needs_setup:  # a store build without its centre: ask, never start the demo
        from clienteling.ui.screens.setup import FirstStart

        page.render(FirstStart, settings, lambda: App(shared_device()), shared_device)
        return
    try:
        device = shared_device()
    except JournalDamaged as error:
        page.render(JournalDamagedScreen, error, settings.lang)
        return
    page.render(App, device)


def has_no_display() -> bool:
    """A machine where Flet cannot open a window (Linux without DISPLAY, or FLET_FORCE_WEB_SERVER): it would
    serve the app to browsers instead, on every interface and port 8000 unless told where."""
    from flet.utils import get_bool_env_var, is_linux_server

    return bool(is_linux_server() or get_bool_env_var("FLET_FORCE_WEB_SERVER"))


def run(web: bool = False, host: str = "127.0.0.1", port: int = 8550) -> int:
    """Open the app in a window, or serve it to browsers on `host`:`port` (also where there is no display)."""
    if not web and has_no_display():
        print("No display to open a window on: serving the app to browsers instead.", flush=True)
        web = True
    if not Settings.load().needs_setup:
        try:
            shared_device()  # make the demo and sync before the first screen
        except JournalDamaged as error:
            log.error("%s", error)  # the window says it too (main)
    if web:
        os.environ.setdefault("FLET_FORCE_WEB_SERVER", "true")  # serve only: never open a browser on the server
        print(f"Clienteling on http://{host}:{port}/", flush=True)
        ft.run(main, view=ft.AppView.WEB_BROWSER, host=host, port=port, no_cdn=True, assets_dir=str(ASSETS))
    else:
        ft.run(main, assets_dir=str(ASSETS))
    return 0
