"""The store device: its cache, its sync with the centre, and `Device`, the one face screens and scripts use.

from clienteling.device import Device
with Device.open() as device:
    picture = device.customer_picture(device.lookup("2700000000014").customer.id)
"""

from clienteling.device.errors import (
    AlreadyEnrolled,
    CacheRebuilt,
    CentralRefused,
    CentralUnreachable,
    CustomerNotFound,
    DeviceError,
    EnrolmentInvalid,
    EnrolmentPending,
    InvalidScan,
    JournalDamaged,
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
from clienteling.device.facade import Device
from clienteling.device.sync import SyncReport
from clienteling.device.views import (
    CustomerPicture,
    Enrolment,
    ExchangeOption,
    LocalCommand,
    Lookup,
    StockPlace,
    StockView,
    SyncState,
    WishlistEntry,
)

__all__ = [
    "AlreadyEnrolled",
    "CacheRebuilt",
    "CentralRefused",
    "CentralUnreachable",
    "CustomerNotFound",
    "CustomerPicture",
    "Device",
    "DeviceError",
    "Enrolment",
    "EnrolmentInvalid",
    "EnrolmentPending",
    "ExchangeOption",
    "InvalidScan",
    "JournalDamaged",
    "LocalCommand",
    "Lookup",
    "NoAddress",
    "NotConfigured",
    "OrderNotFound",
    "OutOfStock",
    "PinNotWellFormed",
    "ProductNotFound",
    "ReturnNotAllowed",
    "StaffLocked",
    "StockPlace",
    "StockView",
    "SyncReport",
    "SyncState",
    "UnknownStaff",
    "WishlistEntry",
    "WrongPin",
]
