"""What the screens hold between renders: small observable objects that do the work through the `Device`.

Each method that reaches the device awaits `off_loop`, so a screen's handler never holds up the event loop,
and a test can drive the object with a real device and no page at all (`asyncio.run(order.place(...))`).
The screens render these objects; changing a field re-renders the screen that holds it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import flet as ft

from clienteling import codes, follow_ups, outreach, rules
from clienteling.contract import Address, Customer, Money, Order, Product, StaffMember
from clienteling.device import (
    CustomerPicture,
    Device,
    DeviceError,
    ExchangeOption,
    LocalCommand,
    OutOfStock,
    ReturnNotAllowed,
    StockView,
)
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
    survey: Any = None  # the `SurveyLink` the confirmation shows her, once the order is queued

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
        self.survey = await ask_how_it_went(self.device, self.customer_id, "ship_to_home", self.staff_id)
        return command

    async def follow(self, every: float = 0.5) -> None:
        """Keep `placed` up to date until the centre has answered (sent, or refused)."""
        async for latest in until_settled(self.device, self.placed, every):
            self.placed = latest


async def ask_how_it_went(device: Device, customer_id: str, kind: str, staff_id: str | None):
    """A touchpoint she may rate, queued, with the link her phone opens; None when it could not be made (what she
    came for is done all the same: a rating is never worth an error on screen)."""
    try:
        return await off_loop(device.ask_how_it_went, customer_id, kind, staff=staff_id, send_now=False)
    except (DeviceError, ValueError):
        return None


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


class NoReplacementChosen(ReturnNotAllowed):
    """An exchange confirmed before the size or colour she takes instead was chosen."""

    default_code = "choose_replacement"


FULFILMENTS = ("in_store", "delivery")


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
    survey: Any = None  # the `SurveyLink` the receipt shows her, once the return is queued
    # An exchange instead of a refund, by line number: {"sku": the size or colour she takes (None: not chosen yet),
    # "fulfilment": "in_store" or "delivery", "from_store": where it comes from}. Only chosen lines are in it.
    exchanging: dict[int, dict[str, Any]] = field(default_factory=dict)
    options: dict[int, list[ExchangeOption]] = field(default_factory=dict)  # what each returnable line may become

    @classmethod
    def load(cls, device: Device, number: str, staff_id: str | None = None) -> ReturnForm:
        """The form for order `number`, read from the device on the calling thread (see `open`)."""
        order = device.order(number)
        form = cls(device, order, device.customer(order.customer_id), device.return_eligibility(order), staff_id)
        form.pictures = device.pictures([line.sku for line in order.lines])
        form.options = _exchange_options(device, form.eligibility)
        return form

    @classmethod
    async def open(cls, device: Device, number: str, staff_id: str | None = None) -> ReturnForm:
        """The form for order `number`, read off the event loop; raises the device's error (`OrderNotFound` …)."""
        return await off_loop(cls.load, device, number, staff_id)

    async def reload(self) -> None:
        """Start over on the same order, as it is now (a return just made counts as waiting to be sent)."""
        order = await off_loop(self.device.order, self.order.number)
        eligibility = await off_loop(self.device.return_eligibility, order)
        options = await off_loop(_exchange_options, self.device, eligibility)
        self.order, self.eligibility, self.options = order, eligibility, options
        self.chosen, self.exchanging, self.error, self.done = {}, {}, None, None

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
            if line_no in self.exchanging:
                self.exchanging = {n: e for n, e in self.exchanging.items() if n != line_no}
        self.chosen, self.error = chosen, None

    def exchange(self, line_no: int, on: bool = True) -> None:
        """ "Exchange" (`on`) or "Refund" for line `line_no`; choosing an exchange for a line with nothing chosen takes
        one item of it back. Raises as `choose`."""
        exchanging = dict(self.exchanging)
        if not on:
            exchanging.pop(line_no, None)
            self.exchanging, self.error = exchanging, None
            return
        if line_no not in self.chosen:
            self.choose(line_no, quantity=1)
        exchanging.setdefault(line_no, {"sku": None, "fulfilment": None, "from_store": None})
        self.exchanging, self.error = exchanging, None

    def pick(self, line_no: int, sku: str, fulfilment: str | None = None) -> None:
        """She takes `sku` instead of line `line_no`'s refund: handed over here (`in_store`) or shipped to her home
        (`delivery`) from the nearest place that has it; without `fulfilment`, here if there are enough here.

        Raises `ReturnNotAllowed` (`other_style`) for a SKU that is not another size or colour of the line's style,
        `OutOfStock` when the cached stock shows it is not there, and `ValueError` for an unknown fulfilment."""
        option = next((o for o in self.options.get(line_no, []) if o.variant.sku == sku), None)
        line = self.eligibility.line(line_no)
        if option is None or line is None:
            style = line.line.sku.split("-", 1)[0] if line else ""
            raise ReturnNotAllowed(
                f"line {line_no} cannot be exchanged for {sku}",
                code="other_style",
                params={"line_no": line_no, "sku": sku, "style": style},
            )
        if fulfilment is not None and fulfilment not in FULFILMENTS:
            raise ValueError(f"not a way to hand over an exchange: {fulfilment!r}")
        if line_no not in self.chosen:
            self.choose(line_no, quantity=1)
        quantity = self.chosen[line_no]["quantity"]
        here = option.available_here >= quantity
        fulfilment = fulfilment or ("in_store" if here else "delivery")
        if fulfilment == "in_store" and not here:
            raise OutOfStock(
                f"{option.available_here} of {sku} here, {quantity} wanted",
                sku=sku,
                store=self.device.store or "",
                available=option.available_here,
                wanted=quantity,
            )
        from_store = self.device.store
        if fulfilment == "delivery":
            places = [p for p in [option.nearest, option.here] if p is not None and p.available >= quantity]
            if not places:
                raise OutOfStock(
                    f"no store and no DC has {quantity} of {sku}",
                    sku=sku,
                    store="",
                    available=0,
                    wanted=quantity,
                    code="out_of_stock_everywhere",
                )
            from_store = places[0].store
        self.exchanging = {
            **self.exchanging,
            line_no: {"sku": sku, "fulfilment": fulfilment, "from_store": from_store},
        }
        self.error = None

    def chosen_option(self, line_no: int) -> ExchangeOption | None:
        """The size or colour picked for line `line_no`'s exchange, with its stock."""
        sku = self.exchanging.get(line_no, {}).get("sku")
        return next((o for o in self.options.get(line_no, []) if o.variant.sku == sku), None)

    def source_name(self, line_no: int) -> str | None:
        """Where line `line_no`'s replacement comes from, by name (this store, another store, the DC)."""
        option, entry = self.chosen_option(line_no), self.exchanging.get(line_no, {})
        places = [p for p in [option.here, option.nearest] if p is not None] if option else []
        return next((p.name for p in places if p.store == entry.get("from_store")), entry.get("from_store"))

    @property
    def refund(self) -> Money:
        """What the items chosen pay back, by the rules (an exchanged line pays nothing back)."""
        quantities = {n: entry["quantity"] for n, entry in self.chosen.items()}
        exchanged = [n for n, entry in self.exchanging.items() if entry.get("sku")]
        return rules.exchange_refund(self.order, quantities, exchanged)

    @property
    def lines(self) -> list[dict[str, Any]]:
        """The chosen lines as `register_return` takes them, by line number."""
        return [{"line_no": n, **entry} for n, entry in sorted(self.chosen.items())]

    @property
    def replacements(self) -> list[dict[str, Any]]:
        """The exchanges chosen as `Device.exchange` takes them, by line number."""
        return [
            {
                "line_no": n,
                "sku": entry["sku"],
                "fulfilment": entry["fulfilment"],
                "from_store": entry["from_store"] if entry["fulfilment"] == "delivery" else None,
            }
            for n, entry in sorted(self.exchanging.items())
        ]

    async def confirm(self) -> LocalCommand | None:
        """Register the return (queued, sent when it can be) and keep its command in `done`; or keep the error."""
        if self.confirming or self.done is not None:  # a second tap while the first is being written
            return None
        if not self.chosen:
            self.error = NothingChosen("Choose at least one item to return.")
            return None
        if any(not entry.get("sku") for entry in self.exchanging.values()):
            self.error = NoReplacementChosen("Choose the size or colour she takes instead.")
            return None
        self.confirming, self.error = True, None
        try:
            if self.exchanging:
                command = await off_loop(
                    self.device.exchange, self.order.number, self.lines, self.replacements, staff=self.staff_id
                )
            else:
                command = await off_loop(
                    self.device.register_return, self.order.number, self.lines, staff=self.staff_id
                )
        except (DeviceError, ValueError) as problem:
            self.error = problem
            return None
        finally:
            self.confirming = False
        self.done = command
        kind = "exchange" if self.exchanging else "return"
        self.survey = await ask_how_it_went(self.device, self.order.customer_id, kind, self.staff_id)
        return command

    async def follow(self, every: float = 0.5) -> None:
        """Keep `done` up to date until the centre has answered (a receipt number, or its refusal)."""
        async for latest in until_settled(self.device, self.done, every):
            self.done = latest


def _exchange_options(device: Device, eligibility: rules.ReturnEligibility) -> dict[int, list[ExchangeOption]]:
    """What each line that can go back may be exchanged for, with its stock (read from the cache)."""
    options = {}
    for line in eligibility.lines:
        if line.returnable:
            try:
                options[line.line.line_no] = device.exchange_options(line.line.sku)
            except DeviceError:  # a SKU the catalogue no longer has: it can be refunded, not exchanged
                options[line.line.line_no] = []
    return options


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


@dataclass(frozen=True)
class Composer:
    """A message to her being written (issue 14): the channel, template and language chosen, the product it is
    about (if any), the text as the template fills it or as the associate edited it, and how sending went."""

    channels: dict[str, str | None]  # each channel, and why it is not offered (None: offered)
    channel: str | None
    template: str
    lang: str
    text: str
    sku: str | None = None
    style: str | None = None
    product: str | None = None
    colour: str | None = None
    size: str | None = None
    link: str | None = None
    edited: bool = False  # the associate changed the text: a new template or language no longer replaces it
    sent: LocalCommand | None = None
    error: Exception | None = None


def message_draft(composer: Composer, first_name: str, store: str | None) -> str:
    """The template's text filled for her (clienteling.outreach.fill), the colour in the message's language."""
    from clienteling.ui import i18n

    return outreach.fill(
        composer.template,
        composer.lang,
        first_name=first_name,
        product=composer.product,
        colour=i18n.colour(composer.lang, composer.colour) if composer.colour else None,
        size=composer.size,
        link=composer.link,
        store=store,
    )


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
    survey: Any = None  # the `SurveyLink` of this consult, shown when staff ask her how it went
    composer: Composer | None = None
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

    async def open_composer(self, sku: str | None = None, lang: str = "en", template: str | None = None) -> None:
        """Start a message to her, about the product `sku` if given (a suggestion's): only the channels she
        consented to are offered, in her language if known, else `lang` (the app's)."""
        customer_id, picture = self.customer_id, self.picture
        if customer_id is None or picture is None:
            return
        channels = await off_loop(self.device.message_channels, customer_id)
        product = colour = size = style = link = None
        if sku:
            view = await off_loop(self.device.stock, sku)
            if view.product is not None:
                product, style = view.product.name, view.product.style
                link = self.device.product_link(view.product.style, sku)
            if view.variant is not None:
                colour, size = view.variant.colour, view.variant.size
        chosen = template or ("back_in_size" if product else "thanks_visit")
        composer = Composer(
            channels=channels,
            channel=next((c for c, why in channels.items() if why is None), None),
            template=chosen,
            lang=outreach.language_for(None, lang),
            text="",
            sku=sku if product else None,
            style=style,
            product=product,
            colour=colour,
            size=size,
            link=link,
        )
        self.composer = replace(composer, text=self._draft(composer))

    def compose(self, **changes: Any) -> None:
        """Change what the message is: `channel`, `template`, `lang` (the text is filled again unless the associate
        edited it), or `text` (her own words from then on)."""
        composer = self.composer
        if composer is None:
            return
        if "channel" in changes and composer.channels.get(changes["channel"], "no_consent") is not None:
            return  # never a channel she did not consent to
        if changes.get("template") is not None and (
            changes["template"] not in outreach.TEMPLATES
            or (outreach.TEMPLATES[changes["template"]].needs_product and not composer.product)
        ):
            return
        updated = replace(composer, **changes, sent=None, error=None)
        if "text" in changes:
            updated = replace(updated, edited=True)
        elif not updated.edited:
            updated = replace(updated, text=self._draft(updated))
        self.composer = updated

    def close_composer(self) -> None:
        self.composer = None

    def _draft(self, composer: Composer) -> str:
        picture = self.picture
        if picture is None:
            return ""
        store = picture.store_names.get(self.device.store or "") if picture.store_names else None
        return message_draft(composer, picture.customer.first_name, store)

    async def send_message(self) -> None:
        """Send the message as it stands: kept in the journal at once (offline too, then marked waiting) and sent
        to the centre in the background; her Chats show it."""
        customer_id, composer = self.customer_id, self.composer
        if customer_id is None or composer is None or composer.channel is None or not composer.text.strip():
            return
        try:
            made = await off_loop(
                lambda: self.device.send_message(
                    customer_id,
                    channel=composer.channel or "",
                    template=composer.template,
                    lang=composer.lang,
                    text=composer.text,
                    sku=composer.sku,
                    staff=self.staff_id or "",
                    send_now=False,
                )
            )
            picture, returns = await off_loop(self._read, customer_id)
        except DeviceError as problem:
            self.composer = replace(composer, error=problem)
            return
        if self.customer_id == customer_id:
            self.picture, self.returns = picture, returns
            self.composer = replace(composer, sent=made, error=None)

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
            composer = self.composer
            if composer is not None and composer.sent is not None and composer.sent.state == "waiting":
                try:  # a message on its way: the composer says so until the centre has it
                    latest = await off_loop(self.device.command, composer.sent.command_id)
                except (KeyError, DeviceError):
                    latest = composer.sent
                if latest != composer.sent and self.composer is composer:
                    self.composer = replace(composer, sent=latest)
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
        self.survey = None
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

    async def ask_how_it_went(self) -> None:
        """This consult as a touchpoint she may rate: its QR code shows on her profile until `done_asking` (one per
        consult: asking again shows the same)."""
        if self.customer_id is not None and self.survey is None:
            self.survey = await ask_how_it_went(self.device, self.customer_id, "consult", self.staff_id)

    def done_asking(self) -> None:
        self.survey = None


# --------------------------------------------------------------------------- enrolment (issue 14)

ENROL_FIELDS = ("first_name", "last_name", "email", "phone")


def enrol_offer(error: Exception | None, text: str) -> str | None:
    """The email to offer enrolment with, when a look-up of a typed email found nobody (here, or at the centre, or
    the centre could not be asked): "No customer with this email — enrol her?"; None otherwise."""
    code = getattr(error, "code", None)
    if code in ("customer_not_found_email", "customer_not_found_email_offline"):
        return (getattr(error, "params", None) or {}).get("email") or text.strip()
    return None


# --------------------------------------------------------------------------- follow-ups and the client book (issue 14)

DUE_CHOICES = ("today", "tomorrow", "next_week")


@ft.observable
@dataclass(eq=False)
class Figures:
    """The figures screen: the store's dashboard (the kept one at once, then the centre's), whose line is shown (a
    staff id, or None for the whole store) and which week the numbers under the chart are of (the last: this one)."""

    device: Device
    whose: str | None = None
    view: Any = None  # a `DashboardView` once read
    week: int = -1
    refreshing: bool = False
    tab: str = "sales"  # "sales", or (a manager's) "experience": how customers rated the store and the team's pulse
    experience: Any = None  # a `DashboardView` of the `Experience` report once read
    by: str = "type"  # the experience chart's lines: by touchpoint "type" or by "staff"

    async def refresh(self) -> None:
        """What this device kept (at once, offline too), then the centre's figures when it answers."""
        if self.view is None:
            self.view = await off_loop(self.device.dashboard, refresh=False)
        self.refreshing = True
        try:
            self.view = await off_loop(self.device.dashboard)
        finally:
            self.refreshing = False

    def line(self):
        """The `DashboardLine` on screen: the chosen staff member's, or the store's (None before any figures)."""
        board = self.view.dashboard if self.view else None
        if board is None:
            return None
        return next((s for s in board.staff if s.staff_id == self.whose), board.store_total)

    def show(self, whose: str | None) -> None:
        self.whose = whose

    def pick_week(self, index: int) -> None:
        line = self.line()
        if line is not None and -len(line.weeks) <= index < len(line.weeks):
            self.week = index

    async def show_tab(self, tab: str) -> None:
        """Sales or ratings; the ratings are read (kept ones at once, then the centre's) the first time."""
        self.tab = tab
        if tab == "experience" and self.experience is None:
            self.experience = await off_loop(self.device.experience, refresh=False)
            self.experience = await off_loop(self.device.experience)

    def show_by(self, by: str) -> None:
        if by in ("type", "staff"):
            self.by = by


@ft.observable
@dataclass(eq=False)
class EnrolForm:
    """The enrolment form: what is typed, her consent per channel, and per field why it cannot be sent yet
    (`problems`: field -> code, worded by the screen as `enrol_problem_<code>`). `submit` enrols her (offline too)
    and returns the route of her card; an email a member here already has sets `known` (her id, card, since)."""

    device: Device
    staff_id: str | None = None
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    email_consent: bool = False
    sms_consent: bool = False
    whatsapp_consent: bool = False
    problems: dict[str, str] = field(default_factory=dict)
    known: dict[str, Any] | None = None
    error: Exception | None = None
    busy: bool = False
    survey: Any = None  # the `SurveyLink` of this enrolment, for her card screen (how did joining go?)

    def set(self, name: str, value: Any) -> None:
        """A field changed: its problem goes (it is checked again on `submit`), and so does a member found."""
        if name not in (*ENROL_FIELDS, "email_consent", "sms_consent", "whatsapp_consent"):
            raise ValueError(f"not a field of the enrolment form: {name!r}")
        setattr(self, name, value)
        self.problems = {k: v for k, v in self.problems.items() if k != name}
        if name == "email":
            self.known = None

    def check(self) -> bool:
        """Check the form as the device will (rules.check_enrolment), without sending it."""
        self.problems = rules.check_enrolment(self.first_name, self.last_name, self.email, self.phone).problems
        return not self.problems

    async def submit(self) -> str | None:
        """Enrol her: the route of her card (`/card/<id>`, her provisional id offline), or None with `problems`,
        `known` or `error` set."""
        if self.busy or not self.check():
            return None
        self.busy, self.error, self.known = True, None, None
        try:
            made = await off_loop(
                lambda: self.device.enrol(
                    self.first_name,
                    self.last_name,
                    self.email,
                    self.phone,
                    email_consent=self.email_consent,
                    sms_consent=self.sms_consent,
                    whatsapp_consent=self.whatsapp_consent,
                    staff=self.staff_id or "",
                    send_now=False,
                )
            )
        except DeviceError as problem:
            if problem.code == "enrolment_invalid":
                self.problems = dict(problem.params.get("problems") or {})
            elif problem.code == "already_enrolled":
                self.known = dict(problem.params)
            else:
                self.error = problem
            return None
        finally:
            self.busy = False
        self.survey = await ask_how_it_went(self.device, made.customer_id, "enrolment", self.staff_id)
        return f"/card/{made.customer_id}"


def enrolment_status(enrolment) -> tuple[str, dict[str, Any]]:
    """What the card screen says of an enrolment made here, as (i18n key, values): waiting for the centre, a new
    member, a member already (since when, her card), or refused (the centre's reason)."""
    if enrolment is None:
        return "card_member", {}
    if enrolment.state == "provisional":
        return "card_provisional", {}
    if enrolment.state == "enrolled":
        return "card_enrolled", {"name": enrolment.first_name}
    if enrolment.state == "merged":
        return "card_merged", {
            "name": enrolment.first_name,
            "since": enrolment.member_since,
            "card": codes.grouped(enrolment.card_number) if enrolment.card_number else "",
        }
    return "card_refused", {"reason": enrolment.reason or ""}


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
class CardView:
    """Her digital card: the customer (by any id she had here), the enrolment made here if any, her card as a PNG
    (None until the centre issued it), and where `save` put it. `follow` reads her again while the screen is on,
    so a provisional card becomes the real one when the centre answers."""

    device: Device
    customer_id: str | None = None
    customer: Customer | None = None
    enrolment: Any = None
    png: bytes | None = None
    saved: Path | None = None
    error: Exception | None = None

    def _read(self, customer_id: str):
        enrolment = self.device.enrolment(customer_id)
        customer = self.device.customer(customer_id)
        png = None
        if customer.card_number:
            png = codes.card_png(customer.card_number, name=f"{customer.first_name} {customer.last_name}")
        return customer, enrolment, png

    async def open(self, customer_id: str) -> None:
        self.customer_id, self.customer, self.enrolment, self.png, self.saved, self.error = (
            customer_id,
            None,
            None,
            None,
            None,
            None,
        )
        try:
            customer, enrolment, png = await off_loop(self._read, customer_id)
        except DeviceError as problem:
            self.error = problem
            return
        if self.customer_id == customer_id:
            self.customer, self.enrolment, self.png = customer, enrolment, png

    @property
    def waiting(self) -> bool:
        """The centre has not answered her enrolment yet: no card number to show."""
        return self.enrolment is not None and self.enrolment.state == "provisional"

    async def refresh(self) -> bool:
        """Read her again; True when something changed (the centre answered)."""
        customer_id = self.customer_id
        if customer_id is None:
            return False
        try:
            customer, enrolment, png = await off_loop(self._read, customer_id)
        except DeviceError:
            return False
        if self.customer_id != customer_id or (customer, enrolment) == (self.customer, self.enrolment):
            return False
        self.customer, self.enrolment, self.png = customer, enrolment, png
        return True

    async def follow(self, every: float = 1.0) -> None:
        while True:
            if self.waiting:
                await self.refresh()
            await asyncio.sleep(every)

    async def save(self) -> None:
        if self.customer is None:
            return
        self.error = None
        try:
            self.saved = await off_loop(self.device.save_card, self.customer.id)
        except (DeviceError, OSError, codes.CodeError) as problem:
            self.error = problem


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
