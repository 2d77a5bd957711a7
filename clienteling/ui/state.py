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
