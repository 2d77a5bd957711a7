"""What can go wrong for staff, by meaning.

Every error has a `code` and `params`: what a screen words in its own language (`clienteling.ui.i18n.error_text`,
one table entry `error_<code>` per code in Dutch and English). `str(error)` is an English sentence for scripts,
the command line and logs; a screen never shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar


class DeviceError(Exception):
    """Base of every error the `Device` raises: `code` and `params` for a screen, `str(error)` in English for logs."""

    default_code: ClassVar[str] = "device_error"

    def __init__(self, message: str = "", *, code: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code: str = code or self.default_code
        self.params: dict[str, Any] = dict(params or {})


class InvalidScan(DeviceError):
    """What was scanned or typed is not a valid card, product or order code (`code` is the `codes.CodeError`'s)."""

    default_code = "invalid_scan"


class CustomerNotFound(DeviceError):
    """No customer has that card, email or id (here or, when reachable, at the centre)."""

    default_code = "customer_not_found"


class EnrolmentInvalid(DeviceError, ValueError):
    """An enrolment form that cannot be sent: `params["problems"]` says per field why (field -> code, as
    `rules.check_enrolment`)."""

    default_code = "enrolment_invalid"


class EnrolmentPending(DeviceError):
    """What needs her customer id at the centre (a ship-to-home order) waits until the centre has answered her
    enrolment."""

    default_code = "enrolment_pending"


class AlreadyEnrolled(DeviceError):
    """The email address typed on the enrolment form is a member's already (on this device, or at the centre):
    `params` has her `customer_id`, `card_number` and `member_since`."""

    default_code = "already_enrolled"


class ProductNotFound(DeviceError):
    """No product has that code or SKU."""

    default_code = "product_not_found"


class OrderNotFound(DeviceError):
    """No order has that number."""

    default_code = "order_not_found"


class NoAddress(DeviceError, ValueError):
    """A ship-to-home order without an address, for a customer who has none on file."""

    default_code = "no_address"


class MessageNotAllowed(DeviceError, ValueError):
    """A message she cannot be sent (issue 14): `code` `no_consent`, `no_phone`, `no_email` or `unknown_channel`
    (clienteling.outreach.channel_refusal), with `params` `channel`."""

    default_code = "no_consent"


class OutOfStock(DeviceError):
    """Not enough stock where the order would be fulfilled (`code` `out_of_stock`, or `out_of_stock_everywhere`)."""

    default_code = "out_of_stock"

    def __init__(
        self, message: str, *, sku: str, store: str, available: int, wanted: int = 0, code: str | None = None
    ) -> None:
        params = {"sku": sku, "store": store, "available": available, "wanted": wanted}
        super().__init__(message, code=code, params=params)
        self.sku, self.store, self.available = sku, store, available


class ReturnNotAllowed(DeviceError):
    """The order or line cannot be returned (not online, not delivered, window closed, too many).

    `code` and `params` are the rules' reason (`clienteling.rules.Refusal`: `window_closed`, `too_many` …).
    """

    default_code = "return_not_allowed"


class CentralUnreachable(DeviceError):
    """The centre did not answer (network down, maintenance, overloaded)."""

    default_code = "centre_unreachable"


class CentralRefused(DeviceError):
    """The centre refused the device itself (its token), or answered with something unreadable."""

    default_code = "centre_refused"


class CacheRebuilt(CentralRefused):
    """The cache was found damaged while a sync page was applied: it was set aside and made afresh, so this round of
    syncing stops (like a refused feed) and the next one fills the new cache from the start."""

    default_code = "cache_rebuilt"


class JournalDamaged(DeviceError):
    """The command journal (the orders, returns and notes not sent yet, and those the centre acknowledged) cannot
    be read safely. The app never overwrites, repairs or moves it: the file is kept as it is, for support.

    `problem` says what is wrong: `empty`, `header` (not a SQLite file), `cut_short`, `malformed` (damaged pages),
    `schema` (not a journal of this app), `newer` (made by a newer version of the app) or `missing` (the file is gone
    but its log is there).
    """

    PROBLEMS: ClassVar[dict[str, str]] = {
        "empty": "the file is empty (zero bytes)",
        "header": "the file's header is damaged: it is not a database any more",
        "cut_short": "the file has been cut short",
        "malformed": "parts of the file are damaged",
        "schema": "the file is not a command journal of this app",
        "newer": "the file was made by a newer version of the app",
        "missing": "the file is missing, but its write-ahead log is still there",
    }

    default_code = "journal_damaged"

    def __init__(self, message: str, *, path: Path, problem: str) -> None:
        code = "journal_newer" if problem == "newer" else "journal_damaged"
        super().__init__(message, code=code, params={"path": str(path), "problem": problem})
        self.path, self.problem = path, problem

    @classmethod
    def at(cls, path: Path, problem: str) -> JournalDamaged:
        if problem == "newer":
            advice = "Update the app on this device; until then it cannot be used."
        else:
            advice = (
                "It may hold orders, returns and notes that have not reached the centre yet, so the app will not"
                " start over it. Do not delete, move or replace the file: leave it as it is and call support,"
                " giving them this message."
            )
        return cls(
            f"The command journal of this device ({path}) cannot be used: {cls.PROBLEMS.get(problem, problem)}."
            f" {advice}",
            path=path,
            problem=problem,
        )


class NotConfigured(DeviceError):
    """The device has no central URL or token yet."""

    default_code = "not_configured"


class UnknownStaff(DeviceError):
    """No one with that staff id can sign in on this store's devices (unknown here, or no longer active).

    `code`: `unknown_staff`, `staff_inactive`, `no_staff_list` (nothing synced yet) or `staff_list_stale` (the
    staff list on this device was sealed for another device token, or sent unsealed by an older centre: no PIN
    can be checked against it until a sync fetches it afresh)."""

    default_code = "unknown_staff"

    def __init__(self, message: str, *, staff_id: str, code: str | None = None, name: str = "") -> None:
        super().__init__(message, code=code, params={"staff_id": staff_id, "name": name})
        self.staff_id = staff_id


class WrongPin(DeviceError):
    """The PIN is not this person's; `tries_left` more wrong PINs in a row and they are locked out for a while."""

    default_code = "wrong_pin"

    def __init__(self, message: str, *, staff_id: str, tries_left: int) -> None:
        super().__init__(message, params={"staff_id": staff_id, "tries_left": tries_left})
        self.staff_id, self.tries_left = staff_id, tries_left


class PinNotWellFormed(DeviceError):
    """Not a PIN at all (not `shortest` to `longest` digits: 6 to 12, or 4 to 6 for a PIN set before argon2id):
    refused before it is checked, so it costs none of the tries."""

    default_code = "pin_form"

    def __init__(self, message: str, *, staff_id: str, shortest: int = 6, longest: int = 12) -> None:
        super().__init__(message, params={"shortest": shortest, "longest": longest})
        self.staff_id, self.shortest, self.longest = staff_id, shortest, longest


class StaffLocked(DeviceError):
    """Too many wrong PINs in a row: this person cannot sign in until `locked_until` (UTC)."""

    default_code = "staff_locked"

    def __init__(self, message: str, *, staff_id: str, locked_until: datetime, minutes_left: int) -> None:
        params = {"staff_id": staff_id, "locked_until": locked_until, "minutes_left": minutes_left}
        super().__init__(message, params=params)
        self.staff_id, self.locked_until, self.minutes_left = staff_id, locked_until, minutes_left
