"""What every screen shares: the device, who is signed in, the language, the customers served lately."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flet as ft

from clienteling.device import Device
from clienteling.ui.i18n import tr

ROLE_RIGHTS = {
    "associate": {"lookup", "stock", "ship"},
    "service_desk": {"lookup", "stock", "ship", "returns"},
    "manager": {"lookup", "stock", "ship", "returns", "settings"},
}


@dataclass(frozen=True)
class Session:
    device: Device
    lang: str
    staff: Any | None  # the signed-in StaffMember
    recent: tuple[str, ...]
    set_staff: Callable[[Any | None], None]
    set_lang: Callable[[str], None]
    served: Callable[[str], None]  # a customer was opened
    extra: dict = field(default_factory=dict)

    def t(self, key: str, **values: object) -> str:
        return tr(self.lang, key, **values)

    def may(self, right: str) -> bool:
        return self.staff is not None and right in ROLE_RIGHTS.get(self.staff.role, set())

    @property
    def staff_id(self) -> str | None:
        return self.staff.id if self.staff else None


SessionContext = ft.create_context(None)


def use_session() -> Session:
    return ft.use_context(SessionContext)


def go(route: str) -> None:
    ft.context.page.navigate(route)
