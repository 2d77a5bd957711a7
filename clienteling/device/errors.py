"""What can go wrong for staff, by meaning: each error's message says it in their words."""

from __future__ import annotations


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
