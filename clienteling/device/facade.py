"""`Device`: the one face that the screens, scripts and tests use.

Everything a screen shows is read from the cache, so it works the same offline. A
customer the cache does not have is fetched from the centre when someone looks them up,
and kept. Orders, returns and notes are queued in the command journal's outbox with the local
row the screens show, then sent in the background (or at once when the centre is reachable).
The journal is a file of its own: a damaged cache is set aside and filled again from the centre
(`sync_state().cache_rebuilt_at` says so), a damaged journal stops the device (`JournalDamaged`).
The facade runs no SQL itself: the cache and the journal own theirs.

Staff sign in offline, against the PIN hashes of this store's synced staff list. Five wrong
PINs in a row lock that person out for five minutes on this device; the count and the lock
are kept in the cache, so closing the app does not reset them. The id of whoever is signed in
goes with every command they make (`placed_by`, `received_by`, `author`), and opening a
customer's profile is recorded at the centre (`record_profile_view`) for the customer's privacy.

Consent per channel (email, SMS, WhatsApp) is changed at the counter with `change_consent`: a command like a note,
sent exactly once through the outbox. `consent(customer_id)` is what a screen shows: the cached consent, or the
change made here that the centre has not confirmed in the feed yet, whichever the customer agreed to last (the rule
the centre keeps too: `rules.consent_supersedes`), so what the customer just agreed to shows at once, offline too.

Enrolment (issue 14): `enrol` checks the form (`rules.check_enrolment`: per-field codes, `EnrolmentInvalid`), refuses
an email this device already knows (`AlreadyEnrolled`), and queues an `EnrolCommand` under a provisional id
(`P` and 16 hex digits, which no centre id can be). At once, offline too, `customer(provisional id)` is her (no card
yet, tier basic): her profile opens, notes and consent changes can be made for her. When the centre answers, the
journal maps the provisional id to hers (journal.py: waiting commands are rewritten before they are sent), and
`customer()` of the provisional id is the centre's customer from then on. If her email was a member's already, the
provisional customer becomes that member, and the consent she gave at the counter is sent to the member as a
consent change (she agreed to it there and then; a change agreed later elsewhere still wins). `enrolment(id)` says
where an enrolment stands, for the card screen; `save_card` writes her card's QR code as a PNG into
`<data folder>/cards/`.
A message to the customer (issue 14) is written from a template (`clienteling.outreach`) and queued with
`send_message`, only on a channel `message_channels` offers (she consented to it by that same consent, and there is
an address for it); it goes through the outbox like a note, and the centre adds it to her Chats and hands it to the
retailer's provider. `product_link` makes a product's web address from the device's `shop_url`.
Follow-ups and the client book (issue 14). A follow-up task is made (`add_follow_up`), done (`follow_up_done`) or
snoozed (`snooze_follow_up`) with commands through the outbox like a note. The device makes the task's id, so a done
made offline before the centre answered names it; `follow_ups()` shows the cached tasks (the centre's feed, every
store's for her) with this device's changes the centre has not sent back yet laid over them, the change made last
winning (`rules.follow_up_change_supersedes`, the centre's rule too), so a task made or done here shows at once.
An associate's client book (`client_book`) is the customers they served on this device (opened her profile, sold,
took a return, wrote a note: the journal's commands, kept there) and those they follow (`follow`): a follow is a
mark on this device only, kept in the cache (like what she declined), because it is one associate's way of keeping
her at hand at this counter, not a fact about the customer the centre or other stores need; a cache made afresh
starts without them (the served customers stay, from the journal).
"""

from __future__ import annotations

import functools
import json
import math
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Self

from clienteling import codes, follow_ups, journey, outreach, pins, rules, suggest
from clienteling.config import Settings
from clienteling.contract import (
    Activity,
    AddNoteCommand,
    Address,
    Consent,
    ConsentChange,
    ConsentCommand,
    Conversation,
    Customer,
    CustomerNote,
    CustomerSummary,
    Dashboard,
    EnrolCommand,
    ExchangeCommand,
    Experience,
    FollowUp,
    FollowUpCommand,
    FollowUpStateCommand,
    Order,
    OrderLineRequest,
    OutreachCommand,
    Product,
    ProductMatch,
    ProfileViewCommand,
    Promotion,
    PulseCommand,
    ReplacementRequest,
    ReturnCommand,
    ReturnLineRequest,
    ShipToHomeOrderCommand,
    Sizes,
    StaffMember,
    Store,
    TouchpointCommand,
    WishlistItem,
    utc_now,
)
from clienteling.device.cache import Cache
from clienteling.device.central_client import CentralClient
from clienteling.device.errors import (
    AlreadyEnrolled,
    CentralRefused,
    CentralUnreachable,
    CustomerNotFound,
    EnrolmentInvalid,
    EnrolmentPending,
    InvalidScan,
    MessageNotAllowed,
    NoAddress,
    NotConfigured,
    OrderNotFound,
    OutOfStock,
    PinNotWellFormed,
    ProductNotFound,
    ReturnNotAllowed,
    StaffLocked,
    UnknownStaff,
    WrongPin,
)
from clienteling.device.journal import Journal, new_command_id, new_feedback_token
from clienteling.device.sync import Syncer, SyncReport
from clienteling.device.views import (
    ClientBookEntry,
    CustomerPicture,
    CustomerSearch,
    DashboardView,
    Enrolment,
    ExchangeOption,
    LocalCommand,
    Lookup,
    ShownFollowUp,
    StockPlace,
    StockView,
    SurveyLink,
    SyncState,
    WishlistEntry,
    profile_glance,
)
from clienteling.geo import distance_km

DASHBOARD_KEPT = "dashboard"  # the cache's meta key of the last figures the centre sent (`Device.dashboard`)
EXPERIENCE_KEPT = "experience"  # and of the last ratings report (`Device.experience`)
MAX_WRONG_PINS = 5  # wrong PINs in a row before that person is locked out
LOCKOUT = timedelta(minutes=5)
LANGUAGES = ("nl", "en")  # the languages of the screens (clienteling/ui/i18n.py)
CENTRE_SEARCH_TIMEOUT = 1.5  # seconds a name search waits for the centre's matches from other stores


class Device:
    """A store device: its cache, its command journal (`journal`, also `outbox`) and its link to the centre.

    Raises `JournalDamaged` when the command journal is damaged (nothing is opened then).
    """

    LONGEST_PIN = pins.NEW_PIN_DIGITS[1]  # digits: how many the sign-in screen's PIN field takes

    def __init__(self, settings: Settings, *, client: CentralClient | None = None) -> None:
        self.settings = settings
        self.journal = Journal(settings.journal_path)
        self.outbox = self.journal  # the commands to send live in the journal
        self.syncer: Syncer | None = None
        try:
            self.cache = Cache(settings.cache_path, hand_over=self.journal.take_over, on_rebuilt=self._cache_rebuilt)
        except BaseException:
            self.journal.close()
            raise
        # The staff list's PIN hashes come sealed to this key, derived from the device token (never in the cache
        # file): see clienteling.pins. Rows sealed for another token (it changed) or not sealed at all (kept by an
        # older version) can check no PIN: they go now, and the next sync fetches the staff list afresh.
        self._pin_key = pins.device_key(settings.device_token) if settings.device_token else None
        if self._pin_key is not None:
            mine = pins.key_id(self._pin_key)
            if any(pins.sealed_key_id(_pin_hash_of(doc)) != mine for doc in self.cache.all_staff_docs()):
                self.cache.forget_staff()
        if client is None and settings.configured:
            client = CentralClient(settings.central_url, settings.device_token)
        self.client = client
        if client:
            self.syncer = Syncer(self.cache, client, settings.data_dir / "outbox.lock", journal=self.journal)

    @classmethod
    def open(cls, data_dir: str | Path | None = None, **overrides: Any) -> Device:
        """A device from the environment and the data folder's settings, with `overrides` on top."""
        return cls(Settings.load(data_dir, **overrides))

    def close(self) -> None:
        if self.syncer:
            self.syncer.stop()
        if self.client:
            self.client.close()
        self.cache.close()
        self.journal.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def store(self) -> str | None:
        return self.settings.store

    # ------------------------------------------------------------------ staff

    def staff_list(self) -> list[StaffMember]:
        """This store's active staff, by name: whom the sign-in screen offers. Empty until the first sync."""
        members = [StaffMember.model_validate_json(doc) for doc in self.cache.staff_docs(self.store)]
        members.sort(key=lambda m: (m.name.casefold(), m.id))
        return members

    def sign_in(self, staff_id: str, pin: str) -> StaffMember:
        """The staff member, if `pin` is theirs. Works offline, from the synced staff list.

        Raises `UnknownStaff` (not on this store's list, or no longer active; `staff_list_stale` when the list was
        sealed for another device token), `PinNotWellFormed` (not 6 to 12 digits, or 4 to 6 for a PIN set before
        argon2id: a slip of the finger, refused before it is checked, so it costs no try), `WrongPin` (with the
        tries left) or `StaffLocked` (after `MAX_WRONG_PINS` wrong PINs in a row, for `LOCKOUT`;
        while locked, not even the right PIN signs in). A right PIN starts the count afresh.

        The PIN is checked against the member's row sealed to this device (`clienteling.pins`): one argon2id
        hash, about 0.2 s, so a caller on an event loop runs this off it.
        """
        member = self._staff_member(staff_id, active_only=True)
        try:
            pins.check_pin_form(pin, pins.pin_digits(member.pin_hash))
        except pins.PinError as form:
            raise PinNotWellFormed(
                f"A PIN is {form.shortest} to {form.longest} digits; that did not count as a try.",
                staff_id=member.id,
                shortest=form.shortest,
                longest=form.longest,
            ) from None
        if self._pin_key is None or pins.sealed_key_id(member.pin_hash) != pins.key_id(self._pin_key):
            raise UnknownStaff(
                "This device cannot check PINs against its staff list: it was made for another device token"
                " (or sent unsealed by an older centre). Connect to the network and sync.",
                staff_id=member.id,
                code="staff_list_stale",
                name=member.name,
            )
        # Checked before the transaction below, not inside it: an argon2id hash takes about 0.2 s, and the cache's
        # writer (a sync applying a page) must not wait on it. Whether it counts is judged in the transaction.
        right = pins.verify_sealed(pin, member.pin_hash, self._pin_key)  # constant-time comparison of the seals
        now = utc_now()
        outcome: dict[str, Any] = {}

        def judge(failures: int, until: str | None) -> tuple[int, str | None] | None:
            """The attempt's outcome, from the wrong PINs in a row so far; what the cache keeps of it."""
            locked_until = datetime.fromisoformat(until) if until else None
            if locked_until is not None:  # a clock set back never makes a lockout longer than LOCKOUT
                locked_until = min(locked_until, now + LOCKOUT)
            if locked_until is None or now >= locked_until:
                if locked_until is not None:  # the lockout has run out: a new series of tries
                    failures, locked_until = 0, None
                if right:
                    outcome.update(signed_in=True)
                    return None
                failures += 1
                if failures >= MAX_WRONG_PINS:
                    locked_until = now + LOCKOUT
            outcome.update(signed_in=False, failures=failures, locked_until=locked_until)
            return failures, locked_until.isoformat() if locked_until else None

        self.cache.count_sign_in(member.id, judge)  # read, judge and count in one transaction
        if outcome["signed_in"]:
            return member
        failures, locked_until = outcome["failures"], outcome["locked_until"]
        if locked_until is not None:
            minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
            raise StaffLocked(
                f"Too many wrong PINs: {member.name} can sign in again in {minutes} minute{'s' * (minutes != 1)},"
                f" at {_store_time(locked_until)}.",
                staff_id=member.id,
                locked_until=locked_until,
                minutes_left=minutes,
            )
        left = MAX_WRONG_PINS - failures
        raise WrongPin(
            f"That is not {member.name}'s PIN. {left} {'try' if left == 1 else 'tries'} left before sign-in is"
            f" locked for {LOCKOUT.seconds // 60} minutes.",
            staff_id=member.id,
            tries_left=left,
        )

    def staff_language(self, staff_id: str) -> str:
        """The language `staff_id` last chose on this device (`choose_language`), else the device's own."""
        chosen = self.cache.meta(f"language:{staff_id}")
        return chosen if chosen in LANGUAGES else self.settings.lang

    def choose_language(self, staff_id: str, lang: str) -> None:
        """Remember at once, for this staff member on this device, the language they chose: their next sign-in
        opens the app in it, with no Save and no restart."""
        if lang not in LANGUAGES:
            raise ValueError(f"no language {lang!r}: {' or '.join(LANGUAGES)}")
        self.cache.set_meta(f"language:{staff_id}", lang)

    def _staff_member(self, staff_id: str, *, active_only: bool) -> StaffMember:
        doc = self.cache.staff_doc(staff_id)
        member = StaffMember.model_validate_json(doc) if doc else None
        if member is None or (self.store and member.store != self.store):
            if self.cache.staff_count() == 0:
                raise UnknownStaff(
                    "This device has no staff list yet: connect to the network and sync.",
                    staff_id=staff_id,
                    code="no_staff_list",
                )
            raise UnknownStaff(f"No one with staff number {staff_id} works in this store.", staff_id=staff_id)
        if active_only and not member.active:
            raise UnknownStaff(
                f"{member.name} can no longer sign in in this store.",
                staff_id=staff_id,
                code="staff_inactive",
                name=member.name,
            )
        return member

    def record_profile_view(self, customer_id: str, staff_id: str) -> LocalCommand:
        """Record, for the customer's privacy, that `staff_id` opened their profile now.

        The record is queued in the outbox and sent in the background like any command, exactly once
        however often the network drops, but it is not work for staff: `sync_state().waiting`,
        `needs_attention()` and `commands()` leave it out (`commands(kind="profile_view")` lists them).
        """
        member = self._staff_member(staff_id, active_only=False)
        customer_id = self.resolve_customer_id(customer_id)
        if customer_id.startswith("P") and self.journal.enrolment_of(customer_id) is not None:
            pass  # enrolled here, not answered yet: the record waits behind her enrolment and goes under her id
        elif self.cache.customer_doc("id", customer_id) is None:
            raise CustomerNotFound(
                f"There is no customer {customer_id} on this device.", params={"customer_id": customer_id}
            )
        command = ProfileViewCommand(staff_id=member.id, viewed_at=utc_now())
        return self._queue("profile_view", command.model_dump(mode="json"), customer_id, member.id, send_now=False)

    # ------------------------------------------------------------------ looking up

    def lookup(self, text: str) -> Lookup:
        """What a scan or typed text names: a customer (card, email), a product, an order, or customers by name.

        Raises `InvalidScan` with a message fit for the screen when the text is a code that is wrong.
        """
        scan = codes.classify(text)
        if scan.error:
            raise InvalidScan(scan.error, code=scan.error_code, params=scan.error_params)
        if scan.kind is codes.ScanKind.CARD:
            return Lookup("customer", customer=self.customer_by_card(scan.value))
        if scan.kind is codes.ScanKind.EMAIL:
            return Lookup("customer", customer=self.customer_by_email(scan.value))
        if scan.kind is codes.ScanKind.PRODUCT:
            return Lookup("product", product=self.product(scan.value))
        if scan.kind is codes.ScanKind.ORDER:
            return Lookup("order", order=self.order(scan.value))
        found = self.find_customers(scan.value)
        return Lookup(
            "matches", matches=found.matches, elsewhere=found.elsewhere, centre_searched=found.centre_searched
        )

    def customer_by_card(self, card: str) -> Customer:
        try:
            number = codes.parse_card(card)
        except codes.CodeError as error:
            raise InvalidScan(str(error), code=error.code, params=error.params) from None
        return self._customer("card", number, {"card": number}, f"No customer has card number {number}.")

    def customer_by_email(self, email: str) -> Customer:
        address = email.strip().lower()
        if self.cache.customer_doc("email_lc", address) is None:  # enrolled here, the centre has not answered yet
            for waiting in self.commands(kind="enrol", states=("waiting",)):
                if str(waiting.body.get("email", "")).lower() == address and waiting.customer_id:
                    return self.customer(waiting.customer_id)
        return self._customer("email_lc", address, {"email": address}, f"No customer has the email address {address}.")

    def customer(self, customer_id: str) -> Customer:
        if customer_id.startswith("P"):  # enrolled on this device: hers as the centre has her, or as enrolled here
            mapped = self.journal.mapped(customer_id)
            if mapped is not None:
                return self.customer(mapped[0])
            return self._provisional_customer(customer_id)
        doc = self.cache.customer_doc("id", customer_id)
        if doc is None:
            return self._fetch_customer(
                f"/v1/customers/{customer_id}", {}, f"There is no customer {customer_id}.", {"customer_id": customer_id}
            )
        return Customer.model_validate_json(doc)

    # ------------------------------------------------------------------ enrolment

    def enrol(
        self,
        first_name: str,
        last_name: str,
        email: str,
        phone: str = "",
        *,
        email_consent: bool,
        sms_consent: bool,
        whatsapp_consent: bool,
        staff: str | StaffMember,
        send_now: bool = True,
    ) -> Enrolment:
        """Enrol a customer at this store's counter, offline too (see the module's docstring). Raises
        `EnrolmentInvalid` (params `problems`: field -> code) for a form that cannot be sent, `AlreadyEnrolled`
        (params `customer_id`, `card_number`, `member_since`) for an email a customer on this device has, and
        `UnknownStaff` unless `staff` is signed in here."""
        member = self._staff_member(_staff_id(staff) or "", active_only=True)
        form = rules.check_enrolment(first_name, last_name, email, phone)
        if not form.ok:
            raise EnrolmentInvalid(
                "the enrolment form has fields that cannot be sent: "
                + ", ".join(f"{name} ({code})" for name, code in form.problems.items()),
                params={"problems": form.problems},
            )
        doc = self.cache.customer_doc("email_lc", form.email.lower())
        if doc is not None:
            known = Customer.model_validate_json(doc)
            raise AlreadyEnrolled(
                f"{form.email} is the email address of customer {known.id}.",
                params={
                    "customer_id": known.id,
                    "card_number": known.card_number,
                    "member_since": known.created_at,
                    "name": f"{known.first_name} {known.last_name}",
                },
            )
        for waiting in self.commands(kind="enrol", states=("waiting",)):
            if waiting.body.get("email", "").lower() == form.email.lower():  # enrolled here a moment ago
                raise AlreadyEnrolled(
                    f"{form.email} was enrolled on this device a moment ago.",
                    params={
                        "customer_id": waiting.customer_id,
                        "card_number": None,
                        "member_since": None,
                        "name": f"{waiting.body['first_name']} {waiting.body['last_name']}",
                    },
                )
        provisional = "P" + secrets.token_hex(8).upper()
        command = EnrolCommand(
            provisional_id=provisional,
            first_name=form.first_name,
            last_name=form.last_name,
            email=form.email,
            phone=form.phone,
            email_consent=email_consent,
            sms_consent=sms_consent,
            whatsapp_consent=whatsapp_consent,
            staff_id=member.id,
            agreed_at=utc_now(),
        )
        self._queue("enrol", command.model_dump(mode="json"), provisional, member.id, send_now)
        enrolment = self.enrolment(provisional)
        assert enrolment is not None
        return enrolment

    def resolve_customer_id(self, customer_id: str) -> str:
        """The centre's id of a customer enrolled here under a provisional id once it has answered; else the id."""
        if customer_id.startswith("P"):
            mapped = self.journal.mapped(customer_id)
            if mapped is not None:
                return mapped[0]
        return customer_id

    def enrolment(self, customer_id: str) -> Enrolment | None:
        """Where the enrolment made on this device of this customer (by her provisional id or the centre's) stands;
        None when she was not enrolled here."""
        row = self.journal.enrolment_of(customer_id)
        if row is None:
            return None
        command = LocalCommand.from_row(row)
        body = EnrolCommand.model_validate(command.body)
        provisional = command.customer_id or ""
        common = {
            "provisional_id": provisional,
            "first_name": body.first_name,
            "last_name": body.last_name,
            "email": body.email,
            "command": command,
        }
        answer = command.answer or {}
        mapped = self.journal.mapped(provisional)
        if command.state == "sent" and mapped is not None:
            return Enrolment(
                state="enrolled",
                customer_id=mapped[0],
                card_number=answer.get("card_number"),
                member_since=_moment(answer.get("created_at")),
                **common,
            )
        if command.state in ("attention", "dismissed") and mapped is not None:
            return Enrolment(
                state="merged",
                customer_id=mapped[0],
                card_number=answer.get("card_number"),
                member_since=_moment(answer.get("member_since")),
                reason=command.reason,
                **common,
            )
        if command.state in ("attention", "dismissed"):
            return Enrolment(
                state="refused",
                customer_id=provisional,
                card_number=None,
                member_since=None,
                reason=command.reason,
                **common,
            )
        return Enrolment(state="provisional", customer_id=provisional, card_number=None, member_since=None, **common)

    def _provisional_customer(self, provisional: str) -> Customer:
        """A customer enrolled here whose enrolment the centre has not answered: as the form had her, no card yet.
        Built without validation: her id is a provisional one, which a `CustomerId` never is."""
        row = self.journal.enrolment_of(provisional)
        if row is None:
            raise CustomerNotFound(
                f"There is no customer {provisional} on this device.", params={"customer_id": provisional}
            )
        body = EnrolCommand.model_validate(json.loads(row[3]))
        return Customer.model_construct(
            id=provisional,
            first_name=body.first_name,
            last_name=body.last_name,
            email=body.email,
            phone=body.phone,
            home_store=self.store or "",
            card_number="",
            tier="basic",
            points=0,
            consent=rules.enrolment_consent(body),
            addresses=[],
            sizes=Sizes(),
            preferences=[],
            key_dates=[],
            preferred_associate=None,
            created_at=body.agreed_at,
            updated_at=body.agreed_at,
            sources={},
        )

    def save_card(self, customer_id: str) -> Path:
        """Her card's QR code with its number and her name, as a PNG in `<data folder>/cards/<card number>.png`, to
        print or send; `CustomerNotFound` while she has no card yet (the centre has not answered her enrolment)."""
        customer = self.customer(customer_id)
        if not customer.card_number:
            raise CustomerNotFound(
                "She has no card number yet: the centre has not answered her enrolment.",
                code="card_not_issued",
                params={"customer_id": customer_id},
            )
        folder = self.settings.data_dir / "cards"
        folder.mkdir(parents=True, exist_ok=True)
        return codes.write_card(
            customer.card_number,
            folder / f"{customer.card_number}.png",
            name=f"{customer.first_name} {customer.last_name}",
        )

    def _customer(self, column: str, value: str, params: dict[str, str], missing: str) -> Customer:
        doc = self.cache.customer_doc(column, value)
        if doc is not None:
            return Customer.model_validate_json(doc)
        return self._fetch_customer("/v1/customers/lookup", params, missing, params)

    def _fetch_customer(self, path: str, params: dict[str, str], missing: str, named: dict[str, str]) -> Customer:
        """A customer outside the cache, fetched from the centre with their history and kept.

        `named` is how the customer was asked for ({"card": …}, {"email": …} or {"customer_id": …}): the
        `CustomerNotFound` code says which (`customer_not_found_card` …) and, with `_offline`, that the centre
        could not be asked."""
        by = next(iter(named)).removeprefix("customer_")
        code = "customer_not_found" if by == "id" else f"customer_not_found_{by}"
        if self.client is None:
            raise CustomerNotFound(missing, code=code, params=named)
        try:
            answer = self.client.get(path, **params)
            if answer.status == 404:
                raise CustomerNotFound(missing, code=code, params=named)
            if answer.status != 200:
                raise CustomerNotFound(answer.problem().detail or missing, code=code, params=named)
            customer = Customer.model_validate_json(answer.body)
            history = {
                part: self.client.get(f"/v1/customers/{customer.id}/{part}")
                for part in ("wishlist", "orders", "conversations")
            }
        except CentralUnreachable:
            raise CustomerNotFound(
                f"{missing[:-1]} in this store, and the centre cannot be reached to look further.",
                code=f"{code}_offline",
                params=named,
            ) from None
        except ValueError:
            raise CentralRefused("the centre's answer about this customer was not readable") from None
        docs = {
            part: [json.dumps(item) for item in answer.json()] if answer.status == 200 else []
            for part, answer in history.items()
        }
        self.cache.keep_customer(customer.model_dump_json(), docs["wishlist"], docs["orders"], docs["conversations"])
        return customer

    def search_customers(self, text: str, limit: int = 20) -> list[CustomerSummary]:
        """Customers whose name, email or phone starts with the words typed, from the cache (at most `limit`)."""
        found = [CustomerSummary.model_validate_json(doc) for doc in self.cache.search_customers(text, limit)]
        found.sort(key=lambda c: (c.last_name.lower(), c.first_name.lower()))
        return found

    def find_customers(self, text: str, limit: int = 20, *, timeout: float = CENTRE_SEARCH_TIMEOUT) -> CustomerSearch:
        """This store's customers matching `text` (the cache, as `search_customers`), then the centre's matches from
        other stores, asked with a short `timeout`. Offline, or when the centre does not answer in time, only this
        store's are there, and `centre_searched` says so."""
        here = self.search_customers(text, limit)
        words = text.strip()
        if self.client is None or not 2 <= len(words) <= 100:
            return CustomerSearch(here, frozenset(), centre_searched=False)
        try:
            answer = self.client.request("GET", "/v1/customers/search", params={"q": words}, timeout=timeout)
            found = [CustomerSummary.model_validate(item) for item in answer.json()] if answer.status == 200 else None
        except (CentralUnreachable, CentralRefused, ValueError):
            found = None
        if found is None:
            return CustomerSearch(here, frozenset(), centre_searched=False)
        known = {c.id for c in here}
        others = [c for c in found if c.id not in known and c.home_store != self.store]
        others.sort(key=lambda c: (c.last_name.lower(), c.first_name.lower()))
        others = others[:limit]
        return CustomerSearch(here + others, frozenset(c.id for c in others), centre_searched=True)

    # ------------------------------------------------------------------ the customer's picture

    def customer_picture(self, customer_id: str) -> CustomerPicture:
        """Profile, wishlist with stock here and elsewhere, orders (with those made here still waiting), chats."""
        customer = self.customer(customer_id)
        customer_id = customer.id  # the centre's, for a customer enrolled here once it has answered
        self.cache.touch_customer(customer_id)
        wishlist = []
        for doc in self.cache.docs_of("wishlists", customer_id, "json_extract(doc, '$.added_at') DESC"):
            item = WishlistItem.model_validate_json(doc)
            stock = self.stock(item.sku)
            wishlist.append(WishlistEntry(item, stock.product, stock.variant, stock))
        orders = [
            Order.model_validate_json(d) for d in self.cache.docs_of("orders", customer_id, "created_at DESC, id DESC")
        ]
        chats = [
            c for c in map(_conversation, self.cache.docs_of("conversations", customer_id, "updated_at DESC")) if c
        ]
        origin = self.cache.customer_origin(customer_id)
        store_names = {s.code: s.name for s in self.stores()}
        glance = profile_glance(
            customer,
            orders,
            store_names,
            {m.id: m.name for m in self.staff_list()},
            self.today(),
        )
        pictures = self.pictures([line.sku for order in orders for line in order.lines])
        consent, pending = self._consent_of(customer)
        tasks = self.follow_ups(customer_id=customer_id)
        now = utc_now()
        activities = self.activities(customer_id, now)
        her_journey = self.journey_of(activities, [entry.item for entry in wishlist], orders, chats, now)
        return CustomerPicture(
            customer,
            wishlist,
            orders,
            chats,
            self.commands(customer_id=customer_id),
            origin == "lookup",
            glance,
            pictures,
            [
                CustomerNote.model_validate_json(d)
                for d in self.cache.docs_of("notes", customer_id, "created_at DESC, id DESC")
            ],
            store_names,
            self.suggestions(
                customer, wishlist, orders, now, due=[t.task for t in tasks], service_first=her_journey.service_first
            ),
            consent,
            pending is not None and pending.state == "waiting",
            tasks,
            activities,
            her_journey,
        )

    def activities(self, customer_id: str, now: datetime | None = None, limit: int = 500) -> list[Activity]:
        """What she did online, newest first, at most `limit` (a busy clickstream: the latest are what the journey
        reads): only what is within its retention (rules.ACTIVITY_RETENTION), also when the centre's tombstones for
        older ones have not arrived yet."""
        since = rules.activity_cutoff(now or utc_now()).isoformat()
        return [Activity.model_validate_json(d) for d in self.cache.activity_docs(customer_id, since, limit)]

    def journey_of(
        self,
        activities: list[Activity],
        wishlist: list[WishlistItem],
        orders: list[Order],
        conversations: list[Conversation],
        now: datetime | None = None,
    ) -> journey.Journey:
        """Her last action in any channel and the stage of her journey (clienteling.journey), from the cache."""
        facts = self.cache.product_facts(journey.styles_of(activities, wishlist))
        products = {style: journey.Product(name, category) for style, (name, category) in facts.items()}
        return journey.journey(activities, wishlist, orders, conversations, products, now or utc_now())

    # ------------------------------------------------------------------ products and stock

    def suggestions(
        self,
        customer: Customer,
        wishlist: list[WishlistEntry],
        orders: list[Order],
        now: datetime | None = None,
        *,
        due: list[FollowUp] = (),  # type: ignore[assignment]
        service_first: bool = False,
    ) -> list[suggest.Suggestion]:
        """Up to three things to show her now, each with its reason (clienteling.suggest), from the cache; `due`:
        her follow-ups (those due today or overdue about an item come first, "follow-up due today"); none while her
        journey is at the service stage (`service_first`)."""
        if service_first:
            return []
        today = follow_ups.store_day(now or utc_now())
        due_items = []
        for task in due:
            if task.sku and follow_ups.is_due(task, today):
                found = self.cache.product_and_sku(sku=task.sku)
                if found is not None:
                    due_items.append(suggest.DueItem(_product_of(found[0]), task.sku))
        wished = []
        for entry in wishlist:
            if entry.product is None:
                continue
            view = entry.stock
            nearest = next((p for p in view.elsewhere if p.available > 0), None)
            wished.append(
                suggest.WishedItem(
                    entry.product,
                    entry.item.sku,
                    view.here.available if view.here else 0,
                    (nearest.available, "DC" if nearest.kind == "dc" else nearest.city) if nearest else None,
                )
            )
        styles = sorted({suggest.style_of(line.sku) for order in orders for line in order.lines})
        categories = self.cache.categories_of(styles)
        wanted = sorted({c for bought in set(categories.values()) for c in suggest.GOES_WITH.get(bought, ())})
        in_stock: dict[str, list[suggest.InStock]] = {}
        for doc, sku, available in self.cache.in_stock_here(self.store or "", wanted):
            product = _product_of(doc)
            in_stock.setdefault(product.category, []).append(suggest.InStock(product, sku, available))
        declined = self.cache.declined(customer.id)
        return suggest.suggest(
            customer, wished, orders, in_stock, categories, declined, now or utc_now(), due=due_items
        )

    def decline_suggestion(self, customer_id: str, item: str) -> None:
        """She said no to `item` (a SKU or a style): it is not suggested to her again on this device."""
        self.cache.decline(customer_id, item, utc_now().isoformat())

    def pictures(self, skus: list[str]) -> dict[str, str]:
        """The product picture (an asset's name) of each SKU the cached catalogue has one for."""
        return self.cache.pictures_of(sorted(set(skus)))

    def product(self, code: str) -> ProductMatch:
        """A product by GTIN (any length, or a Digital Link) or SKU, from the cached catalogue."""
        text = code.strip()
        try:
            row = self.cache.product_and_sku(gtin14=codes.parse_product_code(text).gtin14)
        except codes.CodeError:
            row = self.cache.product_and_sku(sku=text.upper())
        if row is None:
            raise ProductNotFound(f"No product has the code {text}.", params={"code": text})
        product = Product.model_validate_json(row[0])
        return ProductMatch(product=product, variant=next(v for v in product.variants if v.sku == row[1]))

    def search_products(self, text: str, limit: int = 30) -> list[Product]:
        """Products whose search text holds every word typed: the centre's rule (`rules.product_matches`)."""
        words = rules.product_search_words(text)
        return [Product.model_validate_json(doc) for doc in self.cache.search_products(words, limit)] if words else []

    def stores(self) -> list[Store]:
        return [Store.model_validate_json(doc) for doc in self.cache.store_docs()]

    def stock(self, sku: str) -> StockView:
        """This store's stock of a SKU, then the other stores nearest first, then the DC; each with its age."""
        match = None
        try:
            match = self.product(sku)
        except ProductNotFound:
            pass
        stores = {s.code: s for s in self.stores()}
        here = stores.get(self.store or "")
        places = []
        for store, on_hand, reserved, available, as_of, source in self.cache.stock_of(sku):
            info = stores.get(store)
            if info is None:
                continue
            distance = distance_km(here.latitude, here.longitude, info.latitude, info.longitude) if here else 0.0
            places.append(
                StockPlace(
                    store,
                    info.name,
                    info.city,
                    info.kind,
                    distance,
                    on_hand,
                    reserved,
                    available,
                    datetime.fromisoformat(as_of),
                    source,
                )
            )
        places.sort(key=lambda p: (p.kind == "dc", p.distance_km, p.store))
        mine = next((p for p in places if p.store == self.store), None)
        return StockView(
            sku,
            match.product if match else None,
            match.variant if match else None,
            mine,
            [p for p in places if p.store != self.store],
        )

    def order(self, number: str) -> Order:
        doc = self.cache.order_doc(number)
        if doc is not None:
            return Order.model_validate_json(doc)
        if self.client is None:
            raise OrderNotFound(f"No order {number} in this store's records.", params={"number": number})
        try:
            answer = self.client.get(f"/v1/orders/{number}")
        except CentralUnreachable:
            raise OrderNotFound(
                f"No order {number} in this store's records, and the centre cannot be reached.",
                code="order_not_found_offline",
                params={"number": number},
            ) from None
        if answer.status != 200:
            raise OrderNotFound(f"There is no order {number}.", params={"number": number})
        return Order.model_validate_json(answer.body)

    # ------------------------------------------------------------------ commands

    def place_ship_to_home(
        self,
        customer_id: str,
        lines: list[tuple[str, int]],
        *,
        fulfilling_store: str | None = None,
        address: Address | dict | None = None,
        staff: str | StaffMember | None = None,
        send_now: bool = True,
    ) -> LocalCommand:
        """Queue a ship-to-home order (and send it at once if the centre answers). Works offline.

        Without `fulfilling_store`, the nearest place with enough stock of every line is chosen.
        Raises `OutOfStock` when the cached stock already shows there is not enough. `staff` (who is
        signed in: a `StaffMember` or a staff id) reaches the centre as the order's `placed_by`.
        """
        staff = _staff_id(staff)
        customer = self.customer(customer_id)
        customer_id = customer.id  # the centre's, for a customer enrolled here once it has answered
        if customer_id.startswith("P"):
            raise EnrolmentPending(
                "An order waits until the centre has enrolled her.", params={"customer_id": customer_id}
            )
        wanted: dict[str, int] = {}
        for sku, quantity in lines:
            self.product(sku)  # a SKU the catalogue does not know is refused here, not at the centre
            wanted[sku] = wanted.get(sku, 0) + quantity
        views = {sku: self.stock(sku) for sku in wanted}
        if fulfilling_store is None:
            fulfilling_store = self.suggest_fulfilment(wanted)
        for sku, quantity in wanted.items():
            view = views[sku]
            place = next((p for p in [view.here, *view.elsewhere] if p and p.store == fulfilling_store), None)
            available = place.available if place else 0
            if available < quantity:
                where = place.name if place else fulfilling_store
                raise OutOfStock(
                    f"{where} has {available} of {sku}, {quantity} wanted.",
                    sku=sku,
                    store=fulfilling_store,
                    available=available,
                    wanted=quantity,
                )
        if address is None:
            if not customer.addresses:
                raise NoAddress("the customer has no address on file: give one", params={"customer_id": customer_id})
            address = customer.addresses[0]
        command = ShipToHomeOrderCommand(
            customer_id=customer_id,
            fulfilling_store=fulfilling_store,
            lines=[OrderLineRequest(sku=sku, quantity=q) for sku, q in wanted.items()],
            shipping_address=address if isinstance(address, Address) else Address.model_validate(address),
            placed_by=staff,
        )
        return self._queue("ship_to_home", command.model_dump(mode="json"), customer_id, staff, send_now)

    def quote_ship_to_home(
        self, lines: list[tuple[str, int]], customer_id: str | None = None, *, now: datetime | None = None
    ) -> rules.PricedOrder:
        """A ship-to-home order of (SKU, quantity) lines priced as the centre will charge it (`rules.price_order`):
        the cached catalogue's prices less the promotions that hold in the store now, and shipping with the
        customer's tier benefits. Raises `ProductNotFound` for a SKU the catalogue does not know."""
        wanted: dict[str, int] = {}
        for sku, quantity in lines:
            wanted[sku] = wanted.get(sku, 0) + quantity
        promotions = [Promotion.model_validate_json(doc) for doc in self.cache.promotion_docs()]
        tier = self.customer(customer_id).tier if customer_id else None
        items = [(self.product(sku).product, sku, quantity) for sku, quantity in wanted.items()]
        return rules.price_order(items, promotions, tier=tier, channel="store", now=now or utc_now())

    def suggest_fulfilment(self, wanted: dict[str, int]) -> str:
        """The nearest place (this store first, the DC last) that has every line in stock."""
        views = [self.stock(sku) for sku in wanted]
        candidates = [p.store for p in ([views[0].here] if views[0].here else []) + views[0].elsewhere]
        for store in candidates:
            if all(
                any(p.store == store and p.available >= wanted[v.sku] for p in [v.here, *v.elsewhere] if p)
                for v in views
            ):
                return store
        sku = next(iter(wanted))
        raise OutOfStock(
            f"No store and no DC has enough of {sku} right now.",
            sku=sku,
            store="",
            available=0,
            wanted=wanted[sku],
            code="out_of_stock_everywhere",
        )

    def register_return(
        self,
        order_number: str,
        lines: list[ReturnLineRequest | dict],
        *,
        staff: str | StaffMember | None = None,
        send_now: bool = True,
        now: datetime | None = None,
    ) -> LocalCommand:
        """Queue the return of items of an online order, after the same checks the centre makes. Works offline.

        `staff` (a `StaffMember` or a staff id) reaches the centre as the return's `received_by`. Raises
        `ReturnNotAllowed` with the rules' reason (`code`, `params`) when the centre would refuse it.
        """
        staff = _staff_id(staff)
        order = self.order(order_number)
        requests = [
            line if isinstance(line, ReturnLineRequest) else ReturnLineRequest.model_validate(line) for line in lines
        ]
        refusal = rules.refuse_return(self.return_eligibility(order, now=now), requests)
        if refusal is not None:
            raise ReturnNotAllowed(_refusal_words(order, refusal), code=refusal.code, params=dict(refusal.params))
        command = ReturnCommand(order_number=order.number, lines=requests, received_by=staff)
        return self._queue("return", command.model_dump(mode="json"), order.customer_id, staff, send_now)

    def exchange_options(self, sku: str) -> list[ExchangeOption]:
        """What a returned `sku` may be exchanged for (`rules.exchange_options`: every other size and colour of its
        style), each with its stock here and the nearest place elsewhere that has it, from the cache."""
        product = self.product(sku).product
        options = []
        for variant in rules.exchange_options(product, sku):
            view = self.stock(variant.sku)
            nearest = next((p for p in view.elsewhere if p.available > 0), None)
            options.append(ExchangeOption(variant, view.here, nearest))
        return options

    def exchange(
        self,
        order_number: str,
        lines: list[ReturnLineRequest | dict],
        replacements: list[ReplacementRequest | dict],
        *,
        address: Address | dict | None = None,
        staff: str | StaffMember | None = None,
        send_now: bool = True,
        now: datetime | None = None,
    ) -> LocalCommand:
        """Queue an exchange at the desk: `lines` go back, and for each line in `replacements` she takes another size
        or colour of the same style instead of its refund (`in_store`: handed over now from this store; `delivery`:
        shipped to her home from `from_store`, or without it the nearest place with stock, to `address` or the order's
        own). One command, done by the centre all at once or not at all. Works offline.

        Raises `ReturnNotAllowed` with the rules' code (`rules.refuse_exchange`) and `OutOfStock` when the cached stock
        already shows the replacement is not there.
        """
        staff = _staff_id(staff)
        order = self.order(order_number)
        requests = [
            line if isinstance(line, ReturnLineRequest) else ReturnLineRequest.model_validate(line) for line in lines
        ]
        wanted = [r.model_dump() if isinstance(r, ReplacementRequest) else dict(r) for r in replacements]
        quantities = {request.line_no: request.quantity for request in requests}
        known = set()
        for replacement in wanted:
            try:
                known.add(self.product(replacement["sku"]).variant.sku)
            except ProductNotFound:
                pass
            quantity = quantities.get(replacement["line_no"], 0)
            if replacement.get("fulfilment") == "delivery" and not replacement.get("from_store") and quantity:
                replacement["from_store"] = self.suggest_fulfilment({replacement["sku"]: quantity})
        chosen = [ReplacementRequest.model_validate(r) for r in wanted]
        refusal = rules.refuse_exchange(self.return_eligibility(order, now=now), requests, chosen, known)
        if refusal is not None:
            raise ReturnNotAllowed(_refusal_words(order, refusal), code=refusal.code, params=dict(refusal.params))
        for replacement in chosen:
            store = self.store if replacement.fulfilment == "in_store" else replacement.from_store
            view = self.stock(replacement.sku)
            place = next((p for p in [view.here, *view.elsewhere] if p and p.store == store), None)
            available, quantity = (place.available if place else 0), quantities[replacement.line_no]
            if available < quantity:
                raise OutOfStock(
                    f"{place.name if place else store} has {available} of {replacement.sku}, {quantity} wanted.",
                    sku=replacement.sku,
                    store=store or "",
                    available=available,
                    wanted=quantity,
                )
        if address is None and any(r.fulfilment == "delivery" for r in chosen) and order.shipping_address is None:
            raise NoAddress("the order has no shipping address: give one", params={"order_number": order.number})
        command = ExchangeCommand(
            order_number=order.number,
            lines=requests,
            replacements=chosen,
            shipping_address=Address.model_validate(address) if isinstance(address, dict) else address,
            received_by=staff,
        )
        return self._queue("exchange", command.model_dump(mode="json"), order.customer_id, staff, send_now)

    def return_eligibility(self, order: Order | str, *, now: datetime | None = None) -> rules.ReturnEligibility:
        """Whether an order (or order number) and each of its lines can be returned now, and if not, why.

        The centre's rules (`rules.return_eligibility`), with returns made here that still wait to be sent counted
        as returned. `now` defaults to the clock.
        """
        if isinstance(order, str):
            order = self.order(order)
        waiting = self._quantities_waiting_for_return(order.number)
        return rules.return_eligibility(order, now or utc_now(), waiting)

    def _quantities_waiting_for_return(self, order_number: str) -> dict[int, int]:
        waiting: dict[int, int] = {}
        for command in self.commands(states=("waiting",)):
            if command.kind in ("return", "exchange") and command.body.get("order_number") == order_number:
                for line in command.body["lines"]:
                    waiting[line["line_no"]] = waiting.get(line["line_no"], 0) + line["quantity"]
        return waiting

    def add_note(
        self,
        customer_id: str,
        text: str,
        *,
        staff: str | StaffMember | None = None,
        kind: str = "note",
        send_now: bool = True,
    ) -> LocalCommand:
        """Queue a note (or a tag: `kind="tag"`) about a customer; `staff` (a `StaffMember` or a staff id) is its
        `author` at the centre. Every store's devices get it from the centre's feed once it has arrived."""
        staff = _staff_id(staff)
        self.customer(customer_id)
        command = AddNoteCommand(text=text.strip(), author=staff, kind=kind)
        return self._queue("note", command.model_dump(mode="json"), customer_id, staff, send_now)

    def change_consent(
        self,
        customer_id: str,
        *,
        email: bool,
        sms: bool,
        whatsapp: bool,
        staff: str | StaffMember,
        send_now: bool = True,
    ) -> LocalCommand:
        """Queue the customer's consent per channel as they agreed to it now, taken by `staff` (who is signed in: a
        `StaffMember` or a staff id of this store; `UnknownStaff` otherwise). Works offline; `consent()` shows it at
        once. The centre logs it, sets it on the customer for every store, and tells the retailer's systems."""
        member = self._staff_member(_staff_id(staff) or "", active_only=True)
        self.customer(customer_id)
        command = ConsentCommand(email=email, sms=sms, whatsapp=whatsapp, staff_id=member.id, agreed_at=utc_now())
        return self._queue("consent", command.model_dump(mode="json"), customer_id, member.id, send_now)

    def consent(self, customer_id: str) -> Consent:
        """The customer's consent as a screen shows it: the cached one, unless a change made on this device and not
        refused (waiting to be sent, or sent and not superseded) was agreed to later; then that change, with
        `marketing` as the centre will set it (any channel agreed)."""
        return self._consent_of(self.customer(customer_id))[0]

    def consent_pending(self, customer_id: str) -> LocalCommand | None:
        """The consent change made here that `consent()` shows over the cached consent, if any: the latest agreed of
        those waiting to be sent or sent and not superseded at the centre, when it was agreed no earlier than the
        cached consent. (`state` "waiting": not at the centre yet.)"""
        return self._consent_of(self.customer(customer_id))[1]

    def _consent_of(self, customer: Customer) -> tuple[Consent, LocalCommand | None]:
        """`consent()` and `consent_pending()` of a customer already read, in one pass over this device's commands."""
        held = customer.consent
        latest: tuple[datetime, LocalCommand, ConsentCommand] | None = None
        for command in self.commands(customer_id=customer.id, kind="consent", states=("waiting", "sent")):
            if command.state == "sent" and (command.answer or {}).get("superseded"):
                continue
            body = ConsentCommand.model_validate(command.body)
            if latest is None or body.agreed_at > latest[0]:
                latest = (body.agreed_at, command, body)
        if latest is None or not rules.consent_supersedes(latest[0], held.updated_at):
            return held, None
        _, command, body = latest
        shown = held.model_copy(
            update={
                "email": body.email,
                "sms": body.sms,
                "whatsapp": body.whatsapp,
                "marketing": rules.marketing_from(body.email, body.sms, body.whatsapp),
                "updated_at": body.agreed_at,
            }
        )
        return shown, command

    def message_channels(self, customer_id: str) -> dict[str, str | None]:
        """Each channel a message to her could go by, with why it cannot (`no_consent`, `no_phone`, `no_email`) or
        None when it can: by the consent as `consent()` shows it (a change made at this counter counts at once)."""
        customer = self.customer(customer_id)
        consent = self._consent_of(customer)[0]
        return {c: outreach.channel_refusal(customer, consent, c) for c in outreach.OUTREACH_CHANNELS}

    def product_link(self, style: str, sku: str | None = None) -> str:
        """The web shop's address of a product, for a message (clienteling.outreach.product_link)."""
        return outreach.product_link(self.settings.shop_url, style, sku)

    def send_message(
        self,
        customer_id: str,
        *,
        channel: str,
        template: str,
        lang: str,
        text: str,
        staff: str | StaffMember,
        sku: str | None = None,
        send_now: bool = True,
    ) -> LocalCommand:
        """Queue a message to her from a template (issue 14), as the associate `staff` saw and perhaps edited `text`:
        kept in the journal at once, offline too, and sent exactly once through the outbox; the centre checks her
        consent again and hands it to the retailer's provider. `MessageNotAllowed` for a channel she did not consent
        to or has no address for (`message_channels`)."""
        member = self._staff_member(_staff_id(staff) or "", active_only=True)
        refusal = self.message_channels(customer_id).get(channel, "unknown_channel")
        if refusal is not None:
            raise MessageNotAllowed(
                f"no message by {channel} to {customer_id}: {refusal}", code=refusal, params={"channel": channel}
            )
        command = OutreachCommand(
            channel=channel,  # type: ignore[arg-type]
            template=template,
            lang=lang,  # type: ignore[arg-type]
            sku=sku,
            text=text.strip(),
            staff_id=member.id,
            written_at=utc_now(),
        )
        return self._queue("message", command.model_dump(mode="json"), customer_id, member.id, send_now)

    def consent_log_entry(self, command: LocalCommand) -> ConsentChange | None:
        """The centre's record of a consent change made here, once it has answered it."""
        if command.kind != "consent" or command.state != "sent" or not command.answer:
            return None
        return ConsentChange.model_validate(command.answer)

    # ------------------------------------------------------------------ follow-ups and the client book

    def today(self) -> date:
        """Today in the store's calendar: the day follow-ups are due on, a glance's "in N days", a shift's day."""
        return rules.store_day(utc_now())

    def add_follow_up(
        self,
        customer_id: str,
        text: str,
        due: date,
        *,
        staff: str | StaffMember,
        for_store: bool = False,
        sku: str | None = None,
        send_now: bool = True,
    ) -> LocalCommand:
        """Queue a follow-up task about the customer, due on `due`, for `staff` (who is signed in) or, with
        `for_store`, for the store's list; `sku` the item it concerns ("tell her when it is back"). Works offline:
        `follow_ups()` shows it at once. Its id (`body["id"]`) is made here, so it can be done before it is sent."""
        member = self._staff_member(_staff_id(staff) or "", active_only=True)
        self.customer(customer_id)
        command = FollowUpCommand(
            id=new_command_id(),
            text=text.strip(),
            due=due,
            assignee=None if for_store else member.id,
            sku=sku,
            staff_id=member.id,
            created_at=utc_now(),
        )
        return self._queue("follow_up", command.model_dump(mode="json"), customer_id, member.id, send_now)

    def follow_up_done(self, follow_up_id: str, *, staff: str | StaffMember, send_now: bool = True) -> LocalCommand:
        """Mark a follow-up done (offline too: shown at once). `KeyError` for a task this device does not know."""
        return self._change_follow_up(follow_up_id, "done", None, staff, send_now)

    def snooze_follow_up(
        self, follow_up_id: str, until: date, *, staff: str | StaffMember, send_now: bool = True
    ) -> LocalCommand:
        """Snooze a follow-up to the day `until` (it is due again then)."""
        return self._change_follow_up(follow_up_id, "snoozed", until, staff, send_now)

    def reopen_follow_up(self, follow_up_id: str, *, staff: str | StaffMember, send_now: bool = True) -> LocalCommand:
        """Open a follow-up marked done or snoozed again (a tap on done by mistake)."""
        return self._change_follow_up(follow_up_id, "open", None, staff, send_now)

    def _change_follow_up(
        self, follow_up_id: str, state: str, until: date | None, staff: str | StaffMember, send_now: bool
    ) -> LocalCommand:
        member = self._staff_member(_staff_id(staff) or "", active_only=True)
        task = self.follow_up(follow_up_id).task
        # a change made after seeing the task's state is later than it, whatever this device's clock says
        command = FollowUpStateCommand(
            follow_up_id=follow_up_id,
            state=state,  # type: ignore[arg-type]
            snoozed_until=until,
            staff_id=member.id,
            changed_at=max(utc_now(), task.state_changed_at),
        )
        return self._queue("follow_up_state", command.model_dump(mode="json"), task.customer_id, member.id, send_now)

    def follow_up(self, follow_up_id: str) -> ShownFollowUp:
        """One follow-up as shown (done ones too); `KeyError` if this device does not know it."""
        for shown in self._shown_follow_ups(None, None):
            if shown.task.id == follow_up_id:
                return shown
        raise KeyError(follow_up_id)

    def follow_ups(
        self,
        staff_id: str | None = None,
        *,
        due_by: date | None = None,
        customer_id: str | None = None,
        include_done: bool = False,
    ) -> list[ShownFollowUp]:
        """Follow-ups as a screen shows them (the cached tasks with this device's changes laid over them), by the day
        due. `customer_id`: hers, every store's; otherwise this store's. `staff_id`: theirs and the store's list
        (no assignee). `due_by`: due on that day or before (`due_by=device.today()`: today's and overdue ones)."""
        shown = self._shown_follow_ups(customer_id, None if customer_id else self.store)
        return [
            s
            for s in shown
            if (include_done or s.task.state != "done")
            and (staff_id is None or s.task.assignee in (staff_id, None))
            and (due_by is None or follow_ups.is_due(s.task, due_by))
        ]

    def _shown_follow_ups(self, customer_id: str | None, store: str | None) -> list[ShownFollowUp]:
        now = utc_now()
        tasks = {
            t.id: t
            for t in (
                FollowUp.model_validate_json(d) for d in self.cache.follow_up_docs(store=store, customer_id=customer_id)
            )
        }
        made = self.commands(customer_id=customer_id, kind="follow_up", states=("waiting", "sent"))
        changes = self.commands(customer_id=customer_id, kind="follow_up_state", states=("waiting", "sent"))
        waiting: set[str] = set()
        known_customers: dict[str, bool] = {}
        for command in sorted(made + changes, key=lambda c: (c.created_at, c.command_id)):
            if command.kind == "follow_up":
                body = FollowUpCommand.model_validate(command.body)
                if body.id not in tasks and (store is None or store == self.store):
                    cid = command.customer_id or ""
                    if command.state == "sent":  # the centre has it: shown until the feed brings it, unless she went
                        if cid not in known_customers:
                            known_customers[cid] = self.cache.customer_doc("id", cid) is not None
                        if not known_customers[cid]:
                            continue
                    tasks[body.id] = follow_ups.made(body, cid, self.store or "", body.created_at)
                task_id = body.id
            else:
                change = FollowUpStateCommand.model_validate(command.body)
                task_id = change.follow_up_id
                held = tasks.get(task_id)
                if held is None:
                    continue
                after = follow_ups.changed(held, change, now)
                if after is not None:
                    tasks[task_id] = after
            if command.state == "waiting" and task_id in tasks:
                waiting.add(task_id)
        names: dict[str, str] = {}
        products: dict[str, str | None] = {}
        shown = []
        for task in tasks.values():
            if task.customer_id not in names:
                doc = self.cache.customer_doc("id", task.customer_id)
                names[task.customer_id] = (
                    " ".join(
                        part for part in (json.loads(doc).get("first_name"), json.loads(doc).get("last_name")) if part
                    )
                    if doc
                    else task.customer_id
                )
            if task.sku and task.sku not in products:
                found = self.cache.product_and_sku(sku=task.sku)
                products[task.sku] = _product_of(found[0]).name if found else None
            shown.append(ShownFollowUp(task, task.id in waiting, names[task.customer_id], products.get(task.sku or "")))
        shown.sort(key=lambda s: (follow_ups.due_on(s.task) or date.max, s.task.created_at, s.task.id))
        return shown

    def follow(self, customer_id: str, *, staff: str | StaffMember, following: bool = True) -> None:
        """`staff` follows the customer on this device (her in their client book), or no longer (`following=False`)."""
        member = self._staff_member(_staff_id(staff) or "", active_only=False)
        self.customer(customer_id)
        self.cache.set_follow(member.id, customer_id, following, utc_now().isoformat())

    def following(self, customer_id: str, staff: str | StaffMember) -> bool:
        return any(cid == customer_id for cid, _ in self.cache.followed(_staff_id(staff) or ""))

    def client_book(self, staff_id: str, *, today: date | None = None) -> list[ClientBookEntry]:
        """The customers `staff_id` served on this device (opened, sold to, took a return from, wrote about) or
        follows, each with her follow-ups not done and those due by `today`: those with something due first, then
        the most recently served."""
        served: dict[str, datetime] = {}
        for command in self.commands(include_background=True):
            if command.staff != staff_id or not command.customer_id:
                continue
            if command.customer_id not in served or command.created_at > served[command.customer_id]:
                served[command.customer_id] = command.created_at
        followed = {cid for cid, _ in self.cache.followed(staff_id)}
        day = today or self.today()
        counts: dict[str, list[int]] = {}
        for shown in self.follow_ups(staff_id):
            tally = counts.setdefault(shown.task.customer_id, [0, 0])
            tally[0] += 1
            tally[1] += follow_ups.is_due(shown.task, day)
        book = []
        for customer_id in served.keys() | followed:
            doc = self.cache.customer_doc("id", customer_id)
            if doc is None:
                continue
            person = json.loads(doc)
            open_count, due_count = counts.get(customer_id, [0, 0])
            book.append(
                ClientBookEntry(
                    customer_id,
                    f"{person.get('first_name', '')} {person.get('last_name', '')}".strip(),
                    served.get(customer_id),
                    customer_id in followed,
                    open_count,
                    due_count,
                )
            )
        oldest = datetime.min.replace(tzinfo=UTC)
        book.sort(key=lambda e: (-e.due_follow_ups, -(e.last_served or oldest).timestamp(), e.name, e.customer_id))
        return book

    def _queue(self, kind: str, body: dict, customer_id: str | None, staff: str | None, send_now: bool) -> LocalCommand:
        command_id = self.journal.add(kind, body, customer_id=customer_id, staff=staff)
        if self.syncer is not None:
            if self.syncer.running:  # the app: the background sender goes at once; nobody waits for it
                self.syncer.wake()
            elif send_now:  # a script or test without a background sender sends it itself
                self.syncer.sync_once(pull=False)
        return self.command(command_id)

    def command(self, command_id: str) -> LocalCommand:
        row = self.journal.command(command_id)
        if row is None:
            raise KeyError(command_id)
        return LocalCommand.from_row(row)

    def commands(
        self,
        *,
        customer_id: str | None = None,
        kind: str | None = None,
        states: tuple[str, ...] | None = None,
        include_background: bool = False,
    ) -> list[LocalCommand]:
        """Orders, returns, notes, consent changes and messages made on this device, newest first.

        Background records (profile views) only with `include_background`, or when asked for by `kind`.
        """
        rows = self.journal.commands(
            customer_id=customer_id, kind=kind, states=states, include_background=include_background
        )
        return [LocalCommand.from_row(r) for r in rows]

    def needs_attention(self) -> list[LocalCommand]:
        return self.commands(states=("attention",))

    def dismiss(self, command_id: str) -> None:
        """Staff have dealt with a refused command: it leaves the "needs attention" list (and stays on record)."""
        self.journal.dismiss(command_id)

    # ------------------------------------------------------------------ syncing

    def sync_now(self) -> SyncReport:
        """Push what waits and pull every change; never raises for network trouble (see the report's `error`)."""
        if self.syncer is None:
            raise NotConfigured("this device has no central URL and token yet")
        return self.syncer.sync_once()

    def request_sync(self) -> SyncReport | None:
        """ "Sync now" from a screen: wakes the background sync, which runs a round at once; without one (a script),
        runs a round here. Returns the report only when the round ran here."""
        if self.syncer is None:
            raise NotConfigured("this device has no central URL and token yet")
        if self.syncer.running:
            self.syncer.wake()
            return None
        return self.syncer.sync_once()

    def start_background_sync(self, interval: float = 15.0) -> None:
        if self.syncer is not None:
            self.syncer.start(interval)

    def sync_state(self) -> SyncState:
        waiting, attention = self.journal.counts()
        last = self.cache.meta("last_sync_at")
        rebuilt = self.cache.rebuilt()
        return SyncState(
            configured=self.syncer is not None,
            online=self.syncer.online if self.syncer else False,
            last_sync_at=datetime.fromisoformat(last) if last else None,
            waiting=waiting,
            attention=attention,
            last_error=self.syncer.last_error if self.syncer else None,
            trouble=self.syncer.trouble if self.syncer else None,
            cache_rebuilt_at=rebuilt[0] if rebuilt else None,
        )

    @property
    def cache_rebuilt(self) -> tuple[datetime, str, str] | None:
        """If this device's cache was found damaged and made afresh (and staff have not dismissed the notice):
        (when, what was wrong: `empty`, `header`, `cut_short` or `malformed`, the name the damaged file was set aside
        as). The commands made here were not in it: none was lost. The next sync fills the new cache; until then
        `sync_state().last_sync_at` is None."""
        return self.cache.rebuilt()

    def dismiss_cache_rebuilt(self) -> None:
        """Staff have read that the cache was made afresh: the notice goes."""
        self.cache.forget_rebuilt()

    def _cache_rebuilt(self) -> None:
        """The cache was set aside and made afresh while the app ran: fill it again now, not at the next interval."""
        if self.syncer is not None:
            self.syncer.wake()

    def cache_size(self) -> tuple[int, float]:
        """(customers cached, megabytes the cache file and its WAL take): for the settings screen."""
        customers, size = self.cache.size()
        return customers, size / 1_000_000

    def purge(self) -> int:
        """Forget customers kept from online lookups and unused for `purge_days`, unless a waiting command needs them."""
        purged = self.cache.purge(self.settings.purge_days, keep=self.journal.waiting_customers())
        self.cache.prune_activities(rules.activity_cutoff(utc_now()).isoformat())
        return purged

    # ------------------------------------------------------------------ the store's figures

    def dashboard(self, *, refresh: bool = True, weeks: int = 8) -> DashboardView:
        """The store's figures by week (`Dashboard`), for an associate's own and a manager's screen: asked of the
        centre when `refresh` (it works them out: clienteling.central.reports) and kept; when the centre cannot be
        asked, the ones kept last, with when they were made (`offline` says why they may be old)."""
        return self._report("/v1/dashboard", Dashboard, DASHBOARD_KEPT, refresh, weeks)

    def experience(self, *, refresh: bool = True, weeks: int = 8) -> DashboardView:
        """How the store's customers rated its touchpoints and how its staff's shifts went, by week (`Experience`),
        for the manager's screen: as `dashboard`, kept for when the centre cannot be asked."""
        return self._report("/v1/experience", Experience, EXPERIENCE_KEPT, refresh, weeks)

    def _report(self, path: str, model: type, kept_as: str, refresh: bool, weeks: int) -> DashboardView:
        offline: str | None = None
        if refresh and self.client is not None:
            try:
                answer = self.client.request("GET", path, params={"weeks": weeks}, timeout=10.0)
                if answer.status != 200:
                    raise CentralRefused(answer.problem().detail or "the centre refused the figures")
                found = model.model_validate_json(answer.body)
            except (CentralUnreachable, CentralRefused, ValueError) as error:
                offline = "centre_unreachable" if isinstance(error, CentralUnreachable) else "centre_refused"
            else:
                if found.store == self.store:
                    self.cache.set_meta(kept_as, found.model_dump_json())
                    return DashboardView(found, offline=None)
                offline = "centre_refused"
        elif refresh:
            offline = "centre_unreachable"
        kept = self.cache.meta(kept_as)
        report = model.model_validate_json(kept) if kept else None
        if report is not None and report.store != self.store:
            report = None  # kept for the store this device served before
        return DashboardView(report, offline=offline)

    # ------------------------------------------------------------------ how it went

    def ask_how_it_went(
        self,
        customer_id: str,
        kind: str,
        *,
        staff: str | StaffMember | None = None,
        reference: str | None = None,
        send_now: bool = True,
    ) -> SurveyLink:
        """A touchpoint with this customer that she may rate (a consult, an order, a return…): queued for the centre
        (offline too) with a new token, and the link her receipt or this screen shows as a QR code."""
        staff = _staff_id(staff)
        token = new_feedback_token()
        command = TouchpointCommand(token=token, type=kind, staff_id=staff, reference=reference, at=utc_now())
        queued = self._queue("touchpoint", command.model_dump(mode="json"), customer_id, staff, send_now)
        return SurveyLink(token=token, url=self.survey_link(token), command_id=queued.command_id)

    def survey_link(self, token: str) -> str:
        """Where a customer's phone rates the touchpoint `token`: the centre's public address (`survey_url`)."""
        base = (self.settings.survey_url or self.settings.central_url or "").rstrip("/")
        return f"{base}/r/{token}"

    def rate_shift(self, score: int, *, send_now: bool = True) -> LocalCommand:
        """How the shift went (1–5), from whoever signs out: sent without their name (the centre keeps the store and
        the day only), never kept here with it either."""
        command = PulseCommand(score=score, day=self.today())
        return self._queue("pulse", command.model_dump(mode="json"), None, None, send_now)


def _moment(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _staff_id(staff: str | StaffMember | None) -> str | None:
    return staff.id if isinstance(staff, StaffMember) else staff


def _refusal_words(order: Order, refusal: rules.Refusal) -> str:
    """A refused return in English, for logs and scripts (screens word `code` and `params` in their language)."""
    params = refusal.params
    if refusal.code == "bought_in_store":
        return f"Order {order.number} was bought in store: take it back at the till."
    if refusal.code == "not_delivered":
        return f"Order {order.number} is {order.status.replace('_', ' ')}: it can be returned once delivered."
    if refusal.code == "window_closed":
        return (
            f"Order {order.number} was delivered on {params['delivered_at']:%d-%m-%Y}; its {params['days']}-day"
            f" return window closed on {params['closed_at']:%d-%m-%Y}."
        )
    if refusal.code == "not_returned":
        return f"Line {params['line_no']} does not go back" + (
            " (or has a replacement twice)." if params["twice"] else "."
        )
    if refusal.code == "unknown_sku":
        return f"There is no product {params['sku']}."
    if refusal.code == "same_item":
        return (
            f"Line {params['line_no']} would be exchanged for the same {params['sku']}: choose another size or colour."
        )
    if refusal.code == "other_style":
        return f"{params['sku']} is not style {params['style']}: an exchange is for the same style."
    if refusal.code == "unknown_line":
        return f"Order {order.number} has no line {params['line_no']}" + (" twice." if params["twice"] else ".")
    line = next(line for line in order.lines if line.line_no == params["line_no"])
    return f"{line.name} ({line.size}): {params['left']} left to return, not {params['requested']}."


def _pin_hash_of(doc: str) -> str:
    return str(json.loads(doc).get("pin_hash", ""))


@functools.lru_cache(maxsize=4096)
def _product_of(doc: str) -> Product:
    """A catalogue document as a `Product`, read once per version of it (the catalogue changes seldom, and the
    suggestions look at every product in stock here each time a customer is opened). Never changed by a caller."""
    return Product.model_validate_json(doc)


def _store_time(moment: datetime) -> str:
    """A moment as the store's clock shows it (HH:MM)."""
    return moment.astimezone(rules.store_zone()).strftime("%H:%M")


def _conversation(doc: str) -> Conversation | None:
    """A cached conversation, or None when this version cannot read it (a channel a newer centre added): one chat
    this device cannot show never keeps the customer's picture from showing."""
    try:
        return Conversation.model_validate_json(doc)
    except ValueError:
        return None
