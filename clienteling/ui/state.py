"""What the screens hold between renders: small observable objects that do the work through the `Device`.

Each method that reaches the device awaits `off_loop`, so a screen's handler never holds up the event loop,
and a test can drive the object with a real device and no page at all (`asyncio.run(order.place(...))`).
The screens render these objects; changing a field re-renders the screen that holds it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import flet as ft

from clienteling import codes, follow_ups, rules
from clienteling.contract import Address, Customer, Money, Order, Product, StaffMember
from clienteling.device import CustomerPicture, Device, DeviceError, LocalCommand, ReturnNotAllowed, StockView
from clienteling.device.views import ClientBookEntry, ShownFollowUp
from clienteling.ui.offloop import in_background, off_loop
from clienteling.ui.session import screen_for

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


REASONS = ("too_small", "too_large", "not_as_pictured", "damaged", "changed_mind", "other")
CONDITIONS = ("resellable", "damaged")


class NothingChosen(ReturnNotAllowed):
    """A return confirmed before any item was chosen."""

    default_code = "nothing_chosen"


@ft.observable
@dataclass(eq=False)
class ReturnForm:
    """A return at the service desk: the order, its customer and what can go back; the lines chosen; the return made.

    `chosen` maps a line number to its `quantity`, `reason` and `condition`; only lines with items chosen are in it.
    `error` is what went wrong last (a `DeviceError` with its code: the screen words it); `done` the return made.
    """

    device: Device
    order: Order
    customer: Customer
    eligibility: rules.ReturnEligibility
    staff_id: str | None = None
    chosen: dict[int, dict[str, Any]] = field(default_factory=dict)
    error: Exception | None = None
    confirming: bool = False
    done: LocalCommand | None = None
    pictures: dict[str, str] = field(default_factory=dict)  # product picture by SKU of the order's lines

    @classmethod
    def load(cls, device: Device, number: str, staff_id: str | None = None) -> ReturnForm:
        """The form for order `number`, read from the device on the calling thread (see `open`)."""
        order = device.order(number)
        form = cls(device, order, device.customer(order.customer_id), device.return_eligibility(order), staff_id)
        form.pictures = device.pictures([line.sku for line in order.lines])
        return form

    @classmethod
    async def open(cls, device: Device, number: str, staff_id: str | None = None) -> ReturnForm:
        """The form for order `number`, read off the event loop; raises the device's error (`OrderNotFound` …)."""
        return await off_loop(cls.load, device, number, staff_id)

    async def reload(self) -> None:
        """Start over on the same order, as it is now (a return just made counts as waiting to be sent)."""
        order = await off_loop(self.device.order, self.order.number)
        eligibility = await off_loop(self.device.return_eligibility, order)
        self.order, self.eligibility = order, eligibility
        self.chosen, self.error, self.done = {}, None, None

    def choose(
        self, line_no: int, quantity: int | None = None, reason: str | None = None, condition: str | None = None
    ) -> None:
        """Change what goes back of line `line_no` (quantity 0 takes the line out).

        Raises `ReturnNotAllowed` with the rules' code for a line that cannot be returned (`window_closed`,
        `nothing_left` …, `unknown_line`) or more items than are left (`too_many`), and `ValueError` for a reason or
        condition the form does not know."""
        line = self.eligibility.line(line_no)
        if line is None:
            raise ReturnNotAllowed(
                f"no line {line_no}", code="unknown_line", params={"line_no": line_no, "twice": False}
            )
        if line.refusal is not None:
            raise ReturnNotAllowed(
                f"line {line_no}: {line.refusal.code}", code=line.refusal.code, params=dict(line.refusal.params)
            )
        entry = {"quantity": 0, "reason": REASONS[0], "condition": CONDITIONS[0], **self.chosen.get(line_no, {})}
        if quantity is not None:
            if not 0 <= quantity <= line.left:
                raise ReturnNotAllowed(
                    f"line {line_no}: {line.left} left to return, not {quantity}",
                    code="too_many",
                    params={"line_no": line_no, "left": line.left, "requested": quantity},
                )
            entry["quantity"] = quantity
        if reason is not None:
            if reason not in REASONS:
                raise ValueError(f"not a reason for a return: {reason!r}")
            entry["reason"] = reason
        if condition is not None:
            if condition not in CONDITIONS:
                raise ValueError(f"not a condition of a returned item: {condition!r}")
            entry["condition"] = condition
        chosen = dict(self.chosen)  # a new dict: assigning it is what re-renders the screen
        if entry["quantity"]:
            chosen[line_no] = entry
        else:
            chosen.pop(line_no, None)
        self.chosen, self.error = chosen, None

    @property
    def refund(self) -> Money:
        """What the items chosen pay back, by the rules."""
        return rules.refund(self.order, {n: entry["quantity"] for n, entry in self.chosen.items()})

    @property
    def lines(self) -> list[dict[str, Any]]:
        """The chosen lines as `register_return` takes them, by line number."""
        return [{"line_no": n, **entry} for n, entry in sorted(self.chosen.items())]

    async def confirm(self) -> LocalCommand | None:
        """Register the return (queued, sent when it can be) and keep its command in `done`; or keep the error."""
        if self.confirming or self.done is not None:  # a second tap while the first is being written
            return None
        if not self.chosen:
            self.error = NothingChosen("Choose at least one item to return.")
            return None
        self.confirming, self.error = True, None
        try:
            command = await off_loop(self.device.register_return, self.order.number, self.lines, staff=self.staff_id)
        except (DeviceError, ValueError) as problem:
            self.error = problem
            return None
        finally:
            self.confirming = False
        self.done = command
        return command

    async def follow(self, every: float = 0.5) -> None:
        """Keep `done` up to date until the centre has answered (a receipt number, or its refusal)."""
        async for latest in until_settled(self.device, self.done, every):
            self.done = latest


@dataclass(frozen=True)
class Matches:
    """Customers found for `query`: this store's, then other stores' (`elsewhere`), unless the centre could not be
    asked (`centre_searched` False)."""

    query: str
    found: tuple[Any, ...]
    elsewhere: frozenset[str] = frozenset()
    centre_searched: bool = True


@ft.observable
@dataclass(eq=False)
class CustomerLookup:
    """The look-up screen's field: names give this store's matches as they are typed; a submitted text or scan opens
    the screen it names (`look_up` returns its route), shows the customers it names, or keeps the error."""

    device: Device
    text: str = ""
    matches: Matches | None = None
    error: Exception | None = None

    async def typed(self, text: str) -> None:
        """The field now holds `text`: a name of two letters or more is searched here, as typed. A later keystroke
        has its own search, and only the latest is shown."""
        self.text, self.error = text, None
        scan = codes.classify(text)
        if len(text.strip()) >= 2 and scan.kind is codes.ScanKind.UNKNOWN:
            found = await off_loop(self.device.search_customers, text, limit=12)
            if self.text == text:
                self.matches = Matches(text, tuple(found))
        else:
            self.matches = None

    async def look_up(self, text: str) -> str | None:
        """What `text` names: the route of the screen to open (a customer, a product's stock, an order's return, the
        one customer a name finds), or None with `matches` or `error` set."""
        value = text.strip()
        if not value:
            return None
        self.text = value
        try:
            found = await off_loop(self.device.lookup, value)
        except DeviceError as problem:
            self.error = problem
            return None
        route = screen_for(found)
        if route:
            return route
        self.matches = Matches(value, tuple(found.matches), found.elsewhere, found.centre_searched)
        if len(found.matches) == 1:
            return f"/customer/{found.matches[0].id}"
        return None


@ft.observable
@dataclass(eq=False)
class SignIn:
    """The sign-in screen: whom was picked, the PIN typed so far, and signing in (once at a time)."""

    device: Device
    picked: str | None = None
    pin: str = ""
    error: Exception | None = None
    busy: bool = False

    def pick(self, staff_id: str) -> None:
        self.picked, self.pin, self.error = staff_id, "", None

    def typed(self, text: str) -> None:
        """What the PIN field holds: its digits only (a hardware keyboard can type anything)."""
        self.pin = "".join(c for c in text if c in "0123456789")

    async def sign_in(self, pin: str | None = None) -> tuple[StaffMember, str] | None:
        """The member picked and their language, if `pin` (else the PIN typed) is theirs; else None, with the error
        kept (`WrongPin` with the tries left, `PinNotWellFormed`, `StaffLocked` …) and the PIN cleared."""
        if self.busy or self.picked is None:
            return None
        self.busy = True
        try:
            member = await off_loop(self.device.sign_in, self.picked, self.pin if pin is None else pin)
            language = await off_loop(self.device.staff_language, member.id)
        except DeviceError as problem:
            self.error, self.pin = problem, ""
            return None
        finally:
            self.busy = False
        self.error = None
        return member, language


@ft.observable
@dataclass(eq=False)
class AttentionList:
    """The commands the centre refused, with its reason, until a person dismisses them (`items` is None until read)."""

    device: Device
    items: list[LocalCommand] | None = None
    error: Exception | None = None

    async def refresh(self) -> None:
        try:
            items = await off_loop(self.device.needs_attention)
        except DeviceError as problem:
            self.error = problem
            return
        self.items, self.error = items, None

    async def dismiss(self, command_id: str) -> None:
        """Staff have dealt with a refused command: it leaves the list (and stays on record)."""
        try:
            await off_loop(self.device.dismiss, command_id)
        except DeviceError as problem:
            self.error = problem
            return
        await self.refresh()


@ft.observable
@dataclass(eq=False)
class StockSearch:
    """The stock screen: the field, what a search found, and the stock of the SKU on screen.

    `search(text)` returns the route of the product a code names (and forgets the list), or lists the products the
    words name in `found` (for `query`; empty when none). `open(sku)` loads that SKU's stock into `view`; a later `open` wins over an
    earlier one still loading. `error` is what went wrong last (the screen words it).
    """

    device: Device
    text: str = ""
    query: str | None = None
    found: tuple[Product, ...] | None = None
    error: Exception | None = None
    sku: str | None = None
    view: StockView | None = None

    async def search(self, text: str) -> str | None:
        value = text.strip()
        if not value:
            return None
        self.text = value
        try:
            match = await off_loop(self.device.product, value)
        except DeviceError:  # not a code the catalogue knows: words to search for
            try:
                products = await off_loop(self.device.search_products, value, limit=12)
            except DeviceError as problem:
                self.error = problem
                return None
            self.query, self.found, self.error = value, tuple(products), None
            return None
        self.query, self.found, self.error = None, None, None
        return f"/stock/{match.variant.sku}"

    @property
    def loading(self) -> bool:
        return self.sku is not None and self.view is None and self.error is None

    async def open(self, sku: str | None) -> None:
        self.sku, self.view, self.error = sku, None, None
        if sku is None:
            return
        try:
            view = await off_loop(self.device.stock, sku)
        except DeviceError as problem:
            if self.sku == sku:
                self.error = problem
            return
        if self.sku == sku:
            self.view = view


SETTINGS_FIELDS = ("store", "central_url", "device_token")


@ft.observable
@dataclass(eq=False)
class SettingsForm:
    """The manager's settings: the values typed (`values`, by name), what the last action did (`note`: a key of the
    screen's words and its values, as ("purged", {"n": 3, "days": 30})), and the cache's (customers, megabytes)."""

    device: Device
    values: dict[str, str] = field(default_factory=dict)
    note: tuple[str, dict[str, Any]] | None = None
    size: tuple[int, float] | None = None

    @classmethod
    def of(cls, device: Device) -> SettingsForm:
        """The form holding the device's settings as they are."""
        settings = device.settings
        return cls(device, {name: getattr(settings, name) or "" for name in SETTINGS_FIELDS})

    def change(self, name: str, value: str) -> None:
        self.values = {**self.values, name: value}  # a new dict: assigning it is what re-renders the screen

    async def refresh(self) -> None:
        self.size = await off_loop(self.device.cache_size)

    async def save(self, lang: str | None = None) -> Path:
        """Write the values (and `lang`, the screen's language) to the settings file; read at the next start.

        The embedded demo centre is never written down (`Settings.save`: a centre typed in instead of it is)."""
        changes: dict[str, Any] = {name: value.strip() or None for name, value in self.values.items()}
        if lang is not None:
            changes["lang"] = lang
        path = await off_loop(self.device.settings.with_changes(**changes).save)
        self.note = ("saved", {})
        await self.refresh()
        return path

    async def purge(self) -> int:
        """Forget customers kept from online look-ups and unused for the purge days; how many went."""
        count = await off_loop(self.device.purge)
        self.note = ("purged", {"n": count, "days": self.device.settings.purge_days})
        await self.refresh()
        return count


PROFILE_TABS = ("wishlist", "orders", "notes", "chats", "timeline")


def order_returns(device: Device, picture: CustomerPicture) -> dict[str, rules.ReturnEligibility]:
    """What can be returned of each of the customer's orders, by number (read with the picture, off the event loop)."""
    return {order.number: device.return_eligibility(order) for order in picture.orders}


@ft.observable
@dataclass(eq=False)
class CustomerProfile:
    """A customer's whole picture as the profile shows it: the picture, what can be returned of each order (by
    number), the tab on screen; `open(customer_id)` loads it and records, in the background, that staff saw it."""

    device: Device
    staff_id: str | None = None
    customer_id: str | None = None
    picture: CustomerPicture | None = None
    returns: dict[str, rules.ReturnEligibility] = field(default_factory=dict)
    tab: str = PROFILE_TABS[0]
    error: Exception | None = None
    note_error: Exception | None = None
    consent_error: Exception | None = None
    follow_up_error: Exception | None = None
    following: bool = False  # the signed-in associate follows her (their client book)

    @property
    def loading(self) -> bool:
        return self.customer_id is not None and self.picture is None and self.error is None

    def show(self, tab: str) -> None:
        if tab not in PROFILE_TABS:
            raise ValueError(f"not a tab of the profile: {tab!r}")
        self.tab = tab

    async def add_note(self, text: str, kind: str = "note") -> None:
        """Write a note or a tag about the customer on screen: kept in the journal at once (offline too), sent to the
        centre in the background, and shown with the others."""
        customer_id = self.customer_id
        if customer_id is None or not text.strip():
            return
        self.note_error = None
        try:
            await off_loop(
                lambda: self.device.add_note(customer_id, text, staff=self.staff_id, kind=kind, send_now=False)
            )
            picture, returns = await off_loop(self._read, customer_id)
        except DeviceError as problem:
            self.note_error = problem
            return
        if self.customer_id == customer_id:
            self.picture, self.returns = picture, returns

    async def change_consent(self, email: bool, sms: bool, whatsapp: bool) -> None:
        """She agrees (or no longer agrees) to be approached by email, SMS or WhatsApp: kept at once (offline too),
        sent to the centre in the background, logged there with who took her agreement."""
        customer_id = self.customer_id
        if customer_id is None:
            return
        self.consent_error = None
        try:
            await off_loop(
                lambda: self.device.change_consent(
                    customer_id, email=email, sms=sms, whatsapp=whatsapp, staff=self.staff_id, send_now=False
                )
            )
            picture, returns = await off_loop(self._read, customer_id)
        except DeviceError as problem:
            self.consent_error = problem
            return
        if self.customer_id == customer_id:
            self.picture, self.returns = picture, returns

    async def follow_sync(self, every: float = 2.0) -> None:
        """While the profile is on screen: read her picture again after each sync round, so that what this device
        sent comes back as the centre has it (a note with its author, a consent no longer waiting) and what other
        stores did arrives, without anyone reopening her."""
        seen = None
        while True:
            state = await off_loop(self.device.sync_state)
            customer_id = self.customer_id
            if seen is not None and state.last_sync_at != seen and customer_id and self.picture is not None:
                try:
                    picture, returns = await off_loop(self._read, customer_id)
                except DeviceError:
                    picture = None
                # only a picture that changed is shown again: the same one would redraw the screen under a tap
                if picture is not None and self.customer_id == customer_id and picture != self.picture:
                    self.picture, self.returns = picture, returns
            seen = state.last_sync_at
            await asyncio.sleep(every)

    async def follow(self, following: bool) -> None:
        """The signed-in associate follows her on this device (she is in their client book), or no longer."""
        customer_id = self.customer_id
        if customer_id is None or not self.staff_id:
            return
        await off_loop(lambda: self.device.follow(customer_id, staff=self.staff_id or "", following=following))
        self.following = following

    async def done_follow_up(self, follow_up_id: str) -> None:
        """Mark one of her follow-ups done: kept at once (offline too), sent in the background."""
        await self._follow_up_change(
            lambda: self.device.follow_up_done(follow_up_id, staff=self.staff_id or "", send_now=False)
        )

    async def snooze_follow_up(self, follow_up_id: str, choice: str = "tomorrow") -> None:
        """Snooze one of her follow-ups to tomorrow (or next week)."""

        def change():
            until = follow_ups.day_after(self.device.today(), choice)
            return self.device.snooze_follow_up(follow_up_id, until, staff=self.staff_id or "", send_now=False)

        await self._follow_up_change(change)

    async def _follow_up_change(self, call) -> None:
        self.follow_up_error = None
        try:
            await off_loop(call)
        except (DeviceError, KeyError, ValueError) as problem:
            self.follow_up_error = problem
        await self.reload()

    async def reload(self) -> None:
        """Read her picture again (after something was made here: a follow-up, a done)."""
        customer_id = self.customer_id
        if customer_id is None:
            return
        try:
            picture, returns = await off_loop(self._read, customer_id)
        except DeviceError:
            return
        if self.customer_id == customer_id:
            self.picture, self.returns = picture, returns

    async def decline(self, sku: str) -> None:
        """She said no to a suggestion: it is not shown to her again, and the next one takes its place."""
        customer_id = self.customer_id
        if customer_id is None:
            return
        await off_loop(self.device.decline_suggestion, customer_id, sku)
        picture, returns = await off_loop(self._read, customer_id)
        if self.customer_id == customer_id:
            self.picture, self.returns = picture, returns

    def _read(self, customer_id: str) -> tuple[CustomerPicture, dict[str, rules.ReturnEligibility]]:
        picture = self.device.customer_picture(customer_id)
        return picture, order_returns(self.device, picture)

    async def open(self, customer_id: str) -> None:
        """Read the customer's picture off the event loop, once per customer opened (it touches their last use, reads
        every wishlist item's stock and may ask the centre); a later `open` wins over an earlier one still loading.
        The view is recorded for the customer's privacy in the background: nobody waits for it."""
        self.customer_id, self.picture, self.returns, self.error = customer_id, None, {}, None
        try:
            picture, returns = await off_loop(self._read, customer_id)
        except DeviceError as problem:
            if self.customer_id == customer_id:
                self.error = problem
            return
        if self.customer_id != customer_id:
            return
        self.picture, self.returns = picture, returns
        if self.staff_id:
            self.following = await off_loop(self.device.following, customer_id, self.staff_id)
            in_background(self.device.record_profile_view, customer_id, self.staff_id)


# --------------------------------------------------------------------------- follow-ups and the client book (issue 14)

DUE_CHOICES = ("today", "tomorrow", "next_week")


@ft.observable
@dataclass(eq=False)
class FollowUpForm:
    """A follow-up being written, from her profile or from a wishlist item ("tell her when it is back"): the words,
    the day (a quick choice or a day picked), and whether it is for the store's list rather than mine."""

    device: Device
    staff_id: str | None = None
    customer_id: str | None = None
    showing: bool = False
    sku: str | None = None
    text: str = ""
    choice: str = "tomorrow"  # one of DUE_CHOICES, or "picked"
    picked: date | None = None
    for_store: bool = False
    error: Exception | None = None

    def start(self, customer_id: str, sku: str | None = None, text: str = "") -> None:
        self.customer_id, self.sku, self.text, self.showing, self.error = customer_id, sku, text, True, None
        self.choice, self.picked, self.for_store = ("today" if sku is None else "next_week"), None, False

    def cancel(self) -> None:
        self.showing, self.error = False, None

    def choose(self, choice: str) -> None:
        if choice not in DUE_CHOICES:
            raise ValueError(f"not a due choice: {choice!r}")
        self.choice, self.picked = choice, None

    def pick(self, day: date) -> None:
        self.choice, self.picked = "picked", day

    def due(self, today: date) -> date:
        """The day it is due: the one picked, or today plus the quick choice (never before today)."""
        if self.choice == "picked" and self.picked is not None:
            return max(self.picked, today)
        return follow_ups.day_after(today, self.choice)

    async def save(self) -> LocalCommand | None:
        """Keep it at once (offline too): the outbox sends it in the background. Empty words are not a task."""
        customer_id = self.customer_id
        if customer_id is None or not self.text.strip():
            self.error = ValueError(self.text)
            self.error.code = "follow_up_text_missing"  # type: ignore[attr-defined]
            return None
        self.error = None
        try:
            made = await off_loop(
                lambda: self.device.add_follow_up(
                    customer_id,
                    self.text,
                    self.due(self.device.today()),
                    staff=self.staff_id or "",
                    for_store=self.for_store,
                    sku=self.sku,
                    send_now=False,
                )
            )
        except (DeviceError, ValueError) as problem:
            self.error = problem
            return None
        self.showing, self.text, self.sku = False, "", None
        return made


@ft.observable
@dataclass(eq=False)
class FollowUpList:
    """Follow-ups on screen: today's (due today or overdue, mine and the store's list) on the look-up screen, or the
    ones of the customer on screen; done and snooze keep the change at once (offline too) and read the list again."""

    device: Device
    staff_id: str | None = None
    customer_id: str | None = None
    items: list[ShownFollowUp] | None = None
    error: Exception | None = None

    def _read(self) -> list[ShownFollowUp]:
        if self.customer_id is not None:
            return self.device.follow_ups(customer_id=self.customer_id)
        return self.device.follow_ups(self.staff_id, due_by=self.device.today())

    async def refresh(self) -> None:
        try:
            self.items = await off_loop(self._read)
        except DeviceError as problem:
            self.error = problem

    async def done(self, follow_up_id: str) -> None:
        await self._change(lambda: self.device.follow_up_done(follow_up_id, staff=self.staff_id or "", send_now=False))

    async def snooze(self, follow_up_id: str, choice: str = "tomorrow") -> None:
        def change():
            until = follow_ups.day_after(self.device.today(), choice)
            return self.device.snooze_follow_up(follow_up_id, until, staff=self.staff_id or "", send_now=False)

        await self._change(change)

    async def _change(self, call) -> None:
        self.error = None
        try:
            await off_loop(call)
        except (DeviceError, KeyError, ValueError) as problem:
            self.error = problem
        await self.refresh()

    async def follow_sync(self, every: float = 2.0) -> None:
        """While on screen: read the list at once, then again after each sync round (a task the centre made
        arrives)."""
        await self.refresh()
        seen = None
        while True:
            state = await off_loop(self.device.sync_state)
            if seen is not None and state.last_sync_at != seen:
                await self.refresh()
            seen = state.last_sync_at
            await asyncio.sleep(every)


@ft.observable
@dataclass(eq=False)
class ClientBook:
    """My customers: those I served on this device or follow, with their open and due follow-ups."""

    device: Device
    staff_id: str | None = None
    entries: list[ClientBookEntry] | None = None

    async def refresh(self) -> None:
        self.entries = await off_loop(self.device.client_book, self.staff_id or "") if self.staff_id else []

    async def follow(self, customer_id: str, following: bool) -> None:
        if self.staff_id:
            await off_loop(lambda: self.device.follow(customer_id, staff=self.staff_id or "", following=following))
        await self.refresh()
