"""What every screen shares: the device, who is signed in, the language, the customers served lately."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import flet as ft

from clienteling.device import Device
from clienteling.ui.i18n import explain, tr

ROLE_RIGHTS = {
    "associate": {"lookup", "stock", "ship", "figures"},
    "service_desk": {"lookup", "stock", "ship", "returns", "figures"},
    "manager": {"lookup", "stock", "ship", "returns", "settings", "figures"},
}


@dataclass(frozen=True)
class Session:
    device: Device
    lang: str
    staff: Any | None  # the signed-in StaffMember
    recent: list[str]  # customer ids, latest first; kept outside state so opening one re-renders nothing
    set_staff: Callable[..., None]  # (member or None, their language or None)
    set_lang: Callable[[str], None]
    served: Callable[[str], None]  # a customer was opened
    extra: dict = field(default_factory=dict)
    scan_keys: Any = None  # ScanKeys: a scanner's keys that come before the look-up field has focus

    def t(self, key: str, **values: object) -> str:
        return tr(self.lang, key, **values)

    def explain(self, error: BaseException) -> str:
        """An error, said in the screen's language: a device or code error by its code (never its English text);
        a plain `ValueError` that a screen raised with its own words as they are; anything else in general words."""
        if type(error) is ValueError and not hasattr(error, "code"):
            return str(error)
        return explain(self.lang, error)

    def may(self, right: str) -> bool:
        return self.staff is not None and right in ROLE_RIGHTS.get(self.staff.role, set())

    @property
    def staff_id(self) -> str | None:
        return self.staff.id if self.staff else None


SessionContext = ft.create_context(None)


def use_session() -> Session:
    return ft.use_context(SessionContext)


def screen_for(found) -> str | None:
    """The screen a look-up opens: a customer, a product's stock, an order's return; None for a list of names."""
    if found.kind == "customer":
        return f"/customer/{found.customer.id}"
    if found.kind == "product":
        return f"/stock/{found.product.variant.sku}"
    if found.kind == "order":
        return f"/returns/{found.order.number}"
    return None


def scan_keys_of(page: ft.Page, keys: Any = None) -> Any:
    """The page's `ScanKeys` (set once by the app with `keys`)."""
    if keys is not None:
        page.data = {**(page.data if isinstance(page.data, dict) else {}), "scan_keys": keys}
    return page.data.get("scan_keys") if isinstance(page.data, dict) else None


def go(route: str) -> None:
    """Open another screen: the router renders it at once, and the browser's address and history follow.

    `page.navigate` alone asks the client to change its route and waits for the change to come back
    (a round trip that was ~150 ms of the scan-to-customer time). Here the router is told first, and the
    client's echo of each push is dropped when it comes back, so a late echo never undoes a newer screen.
    A route change the client starts itself (the browser's back button) still reaches the router.
    """
    page = ft.context.page
    if route == "/" and (keys := scan_keys_of(page)) is not None:
        keys.expect()  # a scanner may fire before the look-up field has focus
    handler = page.on_route_change
    if handler is None:
        page.navigate(route)
        return
    if not hasattr(handler, "router"):
        handler = _echo_filter(page, handler)
    handler.router(SimpleNamespace(route=route))
    handler.pushed.append(route)
    del handler.pushed[:-16]
    page.navigate(route)


def _echo_filter(page: ft.Page, router: Callable) -> Callable:
    def on_route_change(event) -> None:
        if event.route in on_route_change.pushed:
            del on_route_change.pushed[: on_route_change.pushed.index(event.route) + 1]
            return
        router(event)

    on_route_change.router, on_route_change.pushed = router, []
    page.on_route_change = on_route_change
    return on_route_change
