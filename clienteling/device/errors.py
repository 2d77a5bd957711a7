"""What can go wrong for staff, by meaning: each error's message says it in their words."""

from __future__ import annotations

from datetime import datetime


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
    """The order or line cannot be returned (not online, not delivered, window closed, too many)."""


class CentralUnreachable(DeviceError):
    """The centre did not answer (network down, maintenance, overloaded)."""


class CentralRefused(DeviceError):
    """The centre refused the device itself (its token), or answered with something unreadable."""


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
