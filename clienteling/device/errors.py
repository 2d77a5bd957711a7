"""What can go wrong for staff, by meaning: each error's message says it in their words."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import ClassVar


class DeviceError(Exception):
    """Base of every error the `Device` raises; `str(error)` is fit to show on screen."""


class InvalidScan(DeviceError):
    """What was scanned or typed is not a valid card, product or order code."""


class CustomerNotFound(DeviceError):
    """No customer has that card, email or id (here or, when reachable, at the centre)."""


class ProductNotFound(DeviceError):
    """No product has that code or SKU."""


class OrderNotFound(DeviceError):
    """No order has that number."""


class OutOfStock(DeviceError):
    """Not enough stock where the order would be fulfilled."""

    def __init__(self, message: str, *, sku: str, store: str, available: int) -> None:
        super().__init__(message)
        self.sku, self.store, self.available = sku, store, available


class ReturnNotAllowed(DeviceError):
    """The order or line cannot be returned (not online, not delivered, window closed, too many).

    `code` and `params` are the rules' reason (`clienteling.rules.Refusal`), for a screen to word.
    """

    def __init__(self, message: str, *, code: str = "", params: dict | None = None) -> None:
        super().__init__(message)
        self.code, self.params = code, params or {}


class CentralUnreachable(DeviceError):
    """The centre did not answer (network down, maintenance, overloaded)."""


class CentralRefused(DeviceError):
    """The centre refused the device itself (its token), or answered with something unreadable."""


class CacheRebuilt(CentralRefused):
    """The cache was found damaged while a sync page was applied: it was set aside and made afresh, so this round of
    syncing stops (like a refused feed) and the next one fills the new cache from the start."""


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

    def __init__(self, message: str, *, path: Path, problem: str) -> None:
        super().__init__(message)
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


class UnknownStaff(DeviceError):
    """No one with that staff id can sign in on this store's devices (unknown here, or no longer active)."""

    def __init__(self, message: str, *, staff_id: str) -> None:
        super().__init__(message)
        self.staff_id = staff_id


class WrongPin(DeviceError):
    """The PIN is not this person's; `tries_left` more wrong PINs in a row and they are locked out for a while."""

    def __init__(self, message: str, *, staff_id: str, tries_left: int) -> None:
        super().__init__(message)
        self.staff_id, self.tries_left = staff_id, tries_left


class PinNotWellFormed(DeviceError):
    """Not a PIN at all (not 4 to 6 digits): refused before it is checked, so it costs none of the tries."""

    def __init__(self, message: str, *, staff_id: str) -> None:
        super().__init__(message)
        self.staff_id = staff_id


class StaffLocked(DeviceError):
    """Too many wrong PINs in a row: this person cannot sign in until `locked_until` (UTC)."""

    def __init__(self, message: str, *, staff_id: str, locked_until: datetime, minutes_left: int) -> None:
        super().__init__(message)
        self.staff_id, self.locked_until, self.minutes_left = staff_id, locked_until, minutes_left
