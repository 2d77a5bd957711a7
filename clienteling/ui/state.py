"""What the screens hold between renders: small observable objects that do the work through the `Device`.

Each method that reaches the device awaits `off_loop`, so a screen's handler never holds up the event loop,
and a test can drive the object with a real device and no page at all (`asyncio.run(order.place(...))`).
The screens render these objects; changing a field re-renders the screen that holds it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import flet as ft

from clienteling.contract import Address
from clienteling.device import Device, DeviceError, LocalCommand
from clienteling.ui.offloop import off_loop

SETTLED = ("sent", "attention", "dismissed")


@ft.observable
@dataclass(eq=False)
class ShipToHomeOrder:
    """A ship-to-home order being made: review, place, then watch what the centre makes of it."""

    device: Device
    customer_id: str
    sku: str
    staff_id: str | None = None
    step: str = "form"  # "form", "review", "placing", "done"
    error: Exception | None = None
    placed: LocalCommand | None = None

    def review(self) -> None:
        self.error, self.step = None, "review"

    def back_to_form(self) -> None:
        self.error, self.step = None, "form"

    def failed(self, problem: Exception) -> None:
        self.error, self.step = problem, "form"

    async def place(self, quantity: int, store: str | None, address: Address | None) -> LocalCommand | None:
        """Queue the order (the sender is only woken: this never waits for the centre) and show its confirmation."""
        if self.step == "placing":  # a second tap while the first is being written
            return None
        self.step, self.error = "placing", None
        try:
            command = await off_loop(
                self.device.place_ship_to_home,
                self.customer_id,
                [(self.sku, quantity)],
                fulfilling_store=store,
                address=address,
                staff=self.staff_id,
            )
        except (DeviceError, ValueError) as problem:
            self.failed(problem)
            return None
        self.placed, self.step = command, "done"
        return command

    async def follow(self, every: float = 0.5) -> None:
        """Keep `placed` up to date until the centre has answered (sent, or refused)."""
        async for latest in until_settled(self.device, self.placed, every):
            self.placed = latest


async def until_settled(device: Device, command: LocalCommand | None, every: float = 0.5):
    """Each new state of `command` as the background sender moves it on, until the centre has answered."""
    while command is not None and command.state not in SETTLED:
        await asyncio.sleep(every)
        try:
            latest = await off_loop(device.command, command.command_id)
        except (KeyError, DeviceError):
            return
        if latest != command:
            command = latest
            yield latest


@ft.observable
@dataclass(eq=False)
class SyncStatus:
    """The sync bar's picture of the device: online or not, waiting and refused commands; "Sync now"."""

    device: Device
    state: Any = None
    syncing: bool = False

    async def refresh(self) -> None:
        latest = await off_loop(self.device.sync_state)
        if latest != self.state:
            self.state = latest

    async def dismiss_cache_rebuilt(self) -> None:
        """Staff have read that the cache was rebuilt: the line leaves the bar."""
        await off_loop(self.device.dismiss_cache_rebuilt)
        await self.refresh()

    async def sync_now(self) -> None:
        """Wake the background sender and puller (or run one round where there is none); never waits on the loop."""
        if self.syncing or self.state is None or not self.state.configured:
            return
        self.syncing = True
        try:
            await off_loop(self.device.request_sync)
        finally:
            self.syncing = False
        await self.refresh()


@ft.observable
@dataclass(eq=False)
class ScanKeys:
    """What a scanner types on the look-up screen, heard by the page as well as by the scan field.

    A keyboard-wedge scanner fires as soon as a screen appears, and the keys that come before the new field
    has focus reach only the page's keyboard handler: the field alone would lose a scan's first digits. So
    while the look-up screen is on its way or on screen, every key the page hears is kept too. When the field
    is submitted, the keys win if the field's text is only their tail (the field missed the first ones); the
    field's text wins otherwise (a soft keyboard, a paste, an edit in the middle). An Enter that comes before
    the field has focus completes the scan by itself.
    """

    listening: bool = False
    field_focused: bool = False
    buffer: str = ""
    completed: str | None = None

    def expect(self) -> None:
        """The look-up screen is opening: keys from now on are (part of) a scan."""
        self.listening, self.field_focused, self.buffer = True, False, ""

    def focused(self, has_focus: bool) -> None:
        self.field_focused = has_focus

    def closed(self) -> None:
        self.listening, self.field_focused, self.buffer = False, False, ""

    def key(self, label: str, shift: bool = False) -> None:
        """A key the page heard; kept only while listening."""
        if not self.listening:
            return
        if label == "Enter":
            if self.buffer and not self.field_focused:  # the field never saw this scan: it ends here
                self.completed, self.buffer = self.buffer, ""
        elif label == "Backspace":
            self.buffer = self.buffer[:-1]
        elif len(label) == 1:
            self.buffer += label if shift or not label.isalpha() else label.lower()

    def take(self, field_text: str) -> str:
        """What was scanned, as the field is submitted: the keys heard, or the field's own text (see above)."""
        keys, self.buffer = self.buffer, ""
        return keys if len(keys) > len(field_text) and keys.endswith(field_text) else field_text

    def take_completed(self) -> str | None:
        text, self.completed = self.completed, None
        return text
