"""The commercetools connector (issue 13): commercetools' model onto the centre's, and the stores' orders and returns
back, with commercetools' own Python SDK (`pip install clienteling[commercetools]`).

What goes where (the mapping a retailer sets up in commercetools; the functions `*_record` below are pure):

| commercetools | the centre | how ids map |
|---|---|---|
| Channel (role InventorySupply) | store / DC (`stores`) | the channel's `key` → our store code, by the config's `[channels]` table |
| Customer | customer (`customers`) | `customerNumber` (else `key`) is our customer id (`C0000001`); `externalId` is the loyalty card number |
| ShoppingList of a customer | wishlist items (`wishlists`) | one item per line item with a variant `sku`: `<customer id>:<sku>` |
| InventoryEntry with a supplyChannel | stock (`stock`) | `<store code>:<sku>`; `quantityOnStock` is on hand, `lastModifiedAt` the figure's time |
| Order (placed online) | order (`orders`) | `orderNumber` is our order number (`ORD-…`) |

And back, from the centre's events (`GET /v1/events`):
- `order.created` of a ship-to-home order placed in a store → an order imported into commercetools (`orders/import`)
  with `orderNumber` = our number, each line item supplied from the fulfilling store's channel (`supplyChannel`);
- `return.registered` → `addReturnInfo` on the commercetools order: `returnTrackingId` = our return number, each item
  `BackInStock` (resellable) or `Unusable` (damaged), the reason as its comment.

Versions: a record's `version` at the centre is commercetools' `version` of the resource (stock: the figure's time),
so a record read twice is `unchanged` and an older one `stale`. Records that do not map (no customer number, a card
number without its check digit, a channel not in the table, a SKU of another pattern) are skipped and reported, never
fatal; what the centre refuses is reported with its reason.

A record the centre refuses (a field another system owns, a SKU it does not know) is reported, and the watermark
moves on: it is sent again when it changes in commercetools, or when its resource's watermark is taken out of the
state file (which reads that resource afresh; the centre answers what it already holds `unchanged`).

Exactly once, from at-least-once: the connector's state file (JSON, written atomically: a temporary file, fsync,
rename) holds the event cursor, the watermark per resource (the latest `lastModifiedAt` read), the commercetools
order id of each of our order numbers and the returns recorded. An event is acted on, then the state is written; a
crash in between acts on the event again, and finds its work done: the order is looked up by its `orderNumber`
first, a return by its `returnTrackingId`.

Customers: a customer the centre already has gets only the fields commercetools holds (name, email, card, addresses
when it has a Dutch one, home store); loyalty (tier, points), consent and sizes stay the centre's. A customer new to
the centre is sent again in full, with loyalty `basic`, no points and no consent given.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from clienteling.codes import has_valid_check_digit
from clienteling.contract import ORDER_NUMBER

log = logging.getLogger("clienteling.connectors.commercetools")

SOURCE = "commercetools"
PAGE = 500
"""Resources per commercetools query, and records per ingest request."""
_CUSTOMER_ID = re.compile(r"^C[0-9]{7,}$")
_CARD = re.compile(r"^2[0-9]{12}$")
_STORE_CODE = re.compile(r"^[A-Z]{2,4}[0-9]{2}$")
_SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
_ORDER = re.compile(rf"^{ORDER_NUMBER}$")
_POSTCODE = re.compile(r"^[1-9][0-9]{3} ?[A-Z]{2}$")
_PHONE = re.compile(r"^\+[0-9]{8,15}$")
KINDS = ("channels", "customers", "shopping-lists", "inventory", "orders")
"""The commercetools resources read, in this order (stores before their stock, customers before their lists)."""


class ConfigError(ValueError):
    """The configuration file cannot be used: the message says what to change."""


class Unmapped(ValueError):
    """A commercetools record that has no counterpart at the centre: the message says why."""


class CentreError(RuntimeError):
    """The centre could not be reached, or refused a whole request."""


# ---------------------------------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Config:
    project_key: str
    client_id: str
    client_secret: str
    scope: tuple[str, ...]
    auth_url: str
    api_url: str
    centre_url: str
    centre_token: str
    channels: dict[str, str]  # commercetools channel key → our store code
    state: Path
    dc: tuple[str, ...] = ()  # store codes that are distribution centres (default: codes that begin with DC)
    currency: str = "EUR"
    overlap: float = 2.0  # seconds read again before a watermark (commercetools' queries are eventually consistent)

    @property
    def stores(self) -> dict[str, str]:
        """Our store code → the commercetools channel key."""
        return {code: key for key, code in self.channels.items()}

    def kind_of(self, code: str) -> str:
        return "dc" if (code in self.dc if self.dc else code.startswith("DC")) else "store"


EXAMPLE_CONFIG = """\
[commercetools]
project_key = "my-retailer"
client_id = "..."
client_secret = "..."
scope = "manage_project:my-retailer"
auth_url = "https://auth.europe-west1.gcp.commercetools.com"
api_url = "https://api.europe-west1.gcp.commercetools.com"

[centre]
url = "http://127.0.0.1:8700"
token = "cls_..."          # clienteling central add-integration --name commercetools --may customers,wishlists,orders,stock,stores

[channels]                 # commercetools channel key = our store code
store-ams01 = "AMS01"
dc-tilburg = "DC01"

[connector]
state = "commercetools-state.json"   # the connector's own state (relative to this file)
# dc = ["DC01"]            # store codes that are distribution centres (default: codes beginning with DC)
# overlap_seconds = 2      # read again what changed this long before the watermark
"""


def load_config(path: Path) -> Config:
    """Read the connector's TOML file; `ConfigError` says what is missing or wrong (paths are relative to the file)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"there is no configuration file {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None

    def section(name: str) -> dict[str, Any]:
        value = raw.get(name)
        if not isinstance(value, dict):
            raise ConfigError(f"{path} has no [{name}] table")
        return value

    def text(table: str, key: str, default: str | None = None) -> str:
        value = section(table).get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: [{table}] {key} must be given, as text")
        return value.strip()

    ct = section("commercetools")
    scope = ct.get("scope", f"manage_project:{ct.get('project_key', '')}")
    scopes = tuple(scope.split()) if isinstance(scope, str) else tuple(scope) if isinstance(scope, list) else ()
    if not scopes or not all(isinstance(s, str) and s for s in scopes):
        raise ConfigError(f"{path}: [commercetools] scope must be text (scopes separated by spaces) or a list")
    channels = section("channels")
    for key, code in channels.items():
        if not isinstance(code, str) or not _STORE_CODE.fullmatch(code):
            raise ConfigError(f"{path}: [channels] {key} must name a store code like AMS01, not {code!r}")
    if len(set(channels.values())) != len(channels):
        raise ConfigError(f"{path}: [channels] names a store code twice")
    if not channels:
        raise ConfigError(f"{path}: [channels] must map at least one commercetools channel key to a store code")
    connector = section("connector")
    state = Path(text("connector", "state"))
    if not state.is_absolute():
        state = Path(path).resolve().parent / state
    centre_url = text("centre", "url")
    for name, url in (("[centre] url", centre_url), ("[commercetools] api_url", text("commercetools", "api_url"))):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}: {name} must be an http:// or https:// URL, not {url!r}")
    dc = connector.get("dc", [])
    if not isinstance(dc, list) or not all(isinstance(code, str) for code in dc):
        raise ConfigError(f"{path}: [connector] dc must be a list of store codes")
    overlap = connector.get("overlap_seconds", 2.0)
    if isinstance(overlap, bool) or not isinstance(overlap, int | float) or overlap < 0:
        raise ConfigError(f"{path}: [connector] overlap_seconds must be a number of seconds, 0 or more")
    return Config(
        project_key=text("commercetools", "project_key"),
        client_id=text("commercetools", "client_id"),
        client_secret=text("commercetools", "client_secret"),
        scope=scopes,
        auth_url=text("commercetools", "auth_url").rstrip("/"),
        api_url=text("commercetools", "api_url").rstrip("/"),
        centre_url=centre_url.rstrip("/"),
        centre_token=text("centre", "token"),
        channels=dict(channels),
        state=state,
        dc=tuple(dc),
        overlap=float(overlap),
    )


# ---------------------------------------------------------------------------------------------------- state


@dataclass
class State:
    """What the connector keeps between runs (module docstring)."""

    events_after: int = 0
    watermarks: dict[str, str] = field(default_factory=dict)  # resource → latest lastModifiedAt read
    orders: dict[str, str] = field(default_factory=dict)  # our order number → commercetools order id
    returns: dict[str, str] = field(default_factory=dict)  # our return number → commercetools order id
    customers: dict[str, str] = field(default_factory=dict)  # commercetools customer id → our customer id
    lists: dict[str, list[str]] = field(default_factory=dict)  # shopping list id → wishlist item ids sent

    @classmethod
    def load(cls, path: Path) -> State:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as error:
            raise ConfigError(f"the state file {path} cannot be read ({error}); move it away to start afresh") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"the state file {path} is not the connector's; move it away to start afresh")
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, path: Path) -> None:
        """Atomically: a crash leaves the old file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(self.__dict__, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


# ---------------------------------------------------------------------------------------------------- mapping (pure)


def _text(localized: Any, *languages: str) -> str | None:
    """A commercetools LocalizedString in the first language there is (nl, en, then any)."""
    if isinstance(localized, str):
        return localized or None
    if not isinstance(localized, dict) or not localized:
        return None
    for language in (*languages, "nl", "nl-NL", "en", "en-GB", "en-US"):
        if localized.get(language):
            return localized[language]
    return next((v for v in localized.values() if v), None)


def iso(moment: str | datetime) -> str:
    """A commercetools time (`2026-11-30T10:00:00.123Z`) as UTC ISO 8601 with offset."""
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _address(raw: dict[str, Any]) -> dict[str, Any] | None:
    """A commercetools address as ours, if it is a complete Dutch one."""
    postcode = (raw.get("postalCode") or "").upper().strip()
    if raw.get("country") != "NL" or not _POSTCODE.fullmatch(postcode) or postcode[-2:] in ("SA", "SD", "SS"):
        return None
    street, number, city = raw.get("streetName"), raw.get("streetNumber"), raw.get("city")
    if not (street and number and city):
        return None
    return {
        "street": street[:120],
        "house_number": str(number)[:12],
        "postcode": f"{postcode[:4]} {postcode[-2:]}",
        "city": city[:80],
        "country": "NL",
        "label": "home",
    }


def customer_id_of(customer: dict[str, Any]) -> str:
    """Our id of a commercetools customer: its `customerNumber`, else its `key`; `Unmapped` if neither is one."""
    for value in (customer.get("customerNumber"), customer.get("key")):
        if isinstance(value, str) and _CUSTOMER_ID.fullmatch(value):
            return value
    raise Unmapped(
        f"customer {customer.get('id')}: neither customerNumber nor key is a customer id like C0000001 "
        f"({customer.get('customerNumber')!r}, {customer.get('key')!r})"
    )


def customer_record(customer: dict[str, Any], channels: dict[str, str], *, complete: bool = False) -> dict[str, Any]:
    """The ingest record of a commercetools customer: the fields commercetools holds, or (`complete`, for a customer
    new to the centre) a whole document with the centre's defaults for the rest. `Unmapped` says why it has none."""
    our_id = customer_id_of(customer)
    card = customer.get("externalId")
    if card is not None and not (isinstance(card, str) and _CARD.fullmatch(card) and has_valid_check_digit(card)):
        raise Unmapped(f"customer {our_id}: externalId {card!r} is not a loyalty card number (13 digits, check digit)")
    if not customer.get("email"):
        raise Unmapped(f"customer {our_id}: no email")
    data: dict[str, Any] = {"id": our_id, "email": customer["email"]}
    for ours, theirs in (("first_name", "firstName"), ("last_name", "lastName")):
        if customer.get(theirs):
            data[ours] = customer[theirs][:80]
    if card:
        data["card_number"] = card
    addresses = [a for a in (_address(raw) for raw in customer.get("addresses") or []) if a is not None]
    if addresses:
        data["addresses"] = addresses
    phones = [a.get("mobile") or a.get("phone") for a in customer.get("addresses") or []]
    phone = next((p.replace(" ", "") for p in phones if p and _PHONE.fullmatch(p.replace(" ", ""))), None)
    if phone:
        data["phone"] = phone
    home = _home_store(customer, channels)
    if home:
        data["home_store"] = home
    if complete:
        created = iso(customer.get("createdAt") or customer["lastModifiedAt"])
        missing = [name for name in ("first_name", "last_name", "card_number", "home_store") if name not in data]
        if missing:
            raise Unmapped(f"customer {our_id} is new to the centre and has no {', '.join(missing)} in commercetools")
        data.update(
            addresses=data.get("addresses", []),
            tier="basic",
            points=0,
            consent={"marketing": False, "profiling": False, "updated_at": created},
            sizes={},
            created_at=created,
        )
    return {"id": our_id, "source": SOURCE, "version": int(customer["version"]), "data": data}


def _home_store(customer: dict[str, Any], channels: dict[str, str]) -> str | None:
    """The custom field `homeStore` (a channel key or a store code), else the first of the customer's stores that
    is a mapped channel key."""
    fields = ((customer.get("custom") or {}).get("fields")) or {}
    candidates = [fields.get("homeStore")] + [s.get("key") for s in customer.get("stores") or []]
    for value in candidates:
        if isinstance(value, str):
            if value in channels:
                return channels[value]
            if value in channels.values():
                return value
    return None


def store_record(channel: dict[str, Any], config: Config) -> dict[str, Any]:
    """The ingest record of a commercetools channel: as much of our store as the channel holds."""
    key = channel.get("key")
    code = config.channels.get(key or "")
    if code is None:
        raise Unmapped(f"channel {key or channel.get('id')} is not in the configuration's [channels]")
    data: dict[str, Any] = {"code": code, "kind": config.kind_of(code)}
    name = _text(channel.get("name"))
    if name:
        data["name"] = name[:120]
    city = (channel.get("address") or {}).get("city")
    if city:
        data["city"] = city[:80]
    coordinates = (channel.get("geoLocation") or {}).get("coordinates")
    if isinstance(coordinates, list) and len(coordinates) == 2:
        data["longitude"], data["latitude"] = float(coordinates[0]), float(coordinates[1])
    return {"id": code, "source": SOURCE, "version": int(channel["version"]), "data": data}


def stock_record(entry: dict[str, Any], channel_keys: dict[str, str], config: Config) -> dict[str, Any]:
    """The ingest record of an inventory entry: on hand at the store of its supply channel, as of its last change."""
    sku = entry.get("sku") or ""
    supply = (entry.get("supplyChannel") or {}).get("id")
    if not supply:
        raise Unmapped(f"inventory entry {entry.get('id')} ({sku}) has no supply channel: it is no store's stock")
    key = channel_keys.get(supply)
    code = config.channels.get(key or "")
    if code is None:
        raise Unmapped(f"inventory entry {entry.get('id')} ({sku}): channel {key or supply} is not in [channels]")
    if not _SKU.fullmatch(sku) or len(sku) > 40:
        raise Unmapped(f"inventory entry {entry.get('id')}: {sku!r} is not a SKU of ours")
    at = datetime.fromisoformat(entry["lastModifiedAt"]).astimezone(UTC)
    data = {"store": code, "sku": sku, "on_hand": max(int(entry.get("quantityOnStock") or 0), 0), "as_of": iso(at)}
    # The version is the change's time to the millisecond, as commercetools keeps it: two counts in one second differ.
    return {"id": f"{code}:{sku}", "source": SOURCE, "updated_at": at.isoformat(timespec="milliseconds"), "data": data}


def style_of(sku: str, product_key: str | None = None) -> str:
    """The style of a SKU: the commercetools product's key, else the SKU up to its first dash (`CT01-NVY-M`)."""
    return product_key or sku.split("-", 1)[0]


def wishlist_records(
    shopping_list: dict[str, Any], customer_id: str, product_keys: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The wishlist items of a customer's shopping list: one per line item with a SKU of ours."""
    records = []
    version = int(shopping_list["version"])
    for item in shopping_list.get("lineItems") or []:
        sku = (item.get("variant") or {}).get("sku") or ""
        if not _SKU.fullmatch(sku) or item.get("deactivatedAt"):
            continue
        item_id = f"{customer_id}:{sku}"
        data = {
            "id": item_id,
            "customer_id": customer_id,
            "sku": sku,
            "style": style_of(sku, (product_keys or {}).get(item.get("productId") or "")),
            "added_at": iso(item.get("addedAt") or shopping_list["lastModifiedAt"]),
        }
        records.append({"id": item_id, "source": SOURCE, "version": version, "data": data})
    return records


def _status(order: dict[str, Any], returned: int, quantity: int) -> str:
    if order.get("orderState") == "Cancelled":
        return "cancelled"
    if returned and returned >= quantity:
        return "returned"
    if returned:
        return "partially_returned"
    shipment = order.get("shipmentState")
    if shipment == "Delivered":
        return "delivered"
    if shipment in ("Shipped", "Partial"):
        return "shipped"
    if order.get("orderState") == "Complete":
        return "completed"
    return "placed"


def _attribute(variant: dict[str, Any], *names: str) -> str | None:
    for attribute in variant.get("attributes") or []:
        if attribute.get("name") in names:
            value = attribute.get("value")
            if isinstance(value, dict):
                value = value.get("key") or _text(value.get("label")) or _text(value)
            if value is not None:
                return str(value)
    return None


def order_record(
    order: dict[str, Any], customer_id: str, config: Config, channel_keys: dict[str, str] | None = None
) -> dict[str, Any]:
    """The ingest record of an order placed online (channel `web`, delivered to the customer); `channel_keys` (channel
    id → key) names the store of a line's supply channel, which is the order's `fulfilled_by`."""
    number = order.get("orderNumber") or ""
    if not _ORDER.fullmatch(number):
        raise Unmapped(f"order {order.get('id')}: orderNumber {number!r} is not an order number like ORD-00001234")
    returned_by_item: dict[str, int] = {}
    for info in order.get("returnInfo") or []:
        for item in info.get("items") or []:
            if item.get("lineItemId"):
                returned_by_item[item["lineItemId"]] = returned_by_item.get(item["lineItemId"], 0) + item["quantity"]
    lines, currency, fulfilled_by = [], None, None
    for number_of_line, item in enumerate(order.get("lineItems") or [], start=1):
        variant = item.get("variant") or {}
        sku = variant.get("sku") or ""
        if not _SKU.fullmatch(sku):
            raise Unmapped(f"order {number}: line {number_of_line} has no SKU of ours ({sku!r})")
        price = ((item.get("price") or {}).get("value")) or {}
        currency = currency or price.get("currencyCode")
        parts = sku.split("-")
        supply = item.get("supplyChannel") or {}
        key = supply.get("key") or (supply.get("obj") or {}).get("key") or (channel_keys or {}).get(supply.get("id"))
        if key in config.channels:
            fulfilled_by = config.channels[key]
        lines.append(
            {
                "line_no": number_of_line,
                "sku": sku,
                "name": (_text(item.get("name")) or sku)[:200],
                "colour": _attribute(variant, "colour", "color") or (parts[1] if len(parts) > 2 else ""),
                "size": _attribute(variant, "size") or (parts[-1] if len(parts) > 1 else ""),
                "quantity": int(item["quantity"]),
                "unit_price": {"cents": int(price.get("centAmount", 0)), "currency": price.get("currencyCode", "EUR")},
                "returned_quantity": min(returned_by_item.get(item.get("id") or "", 0), int(item["quantity"])),
            }
        )
    if not lines:
        raise Unmapped(f"order {number} has no line items")
    total = order.get("totalPrice") or {}
    currency = total.get("currencyCode") or currency or config.currency
    subtotal = sum(line["unit_price"]["cents"] * line["quantity"] for line in lines)
    total_cents = int(total.get("centAmount", subtotal))
    shipping = ((order.get("shippingInfo") or {}).get("price") or {}).get("centAmount")
    shipping = int(shipping) if shipping is not None else max(total_cents - subtotal, 0)
    created, changed = iso(order.get("createdAt") or order["lastModifiedAt"]), iso(order["lastModifiedAt"])
    status = _status(order, sum(line["returned_quantity"] for line in lines), sum(line["quantity"] for line in lines))
    history = [{"status": "placed", "at": created}]
    if status != "placed":
        history.append({"status": status, "at": changed})
    data: dict[str, Any] = {
        "number": number,
        "customer_id": customer_id,
        "channel": "web",
        "fulfilment": "delivery",
        "fulfilled_by": fulfilled_by,
        "status": status,
        "status_history": history,
        "lines": lines,
        "shipping_address": _address(order.get("shippingAddress") or {}),
        "totals": {
            "subtotal": {"cents": subtotal, "currency": currency},
            "shipping": {"cents": shipping, "currency": currency},
            "total": {"cents": total_cents, "currency": currency},
        },
        "created_at": created,
        "updated_at": changed,
        "delivered_at": changed if status == "delivered" else None,
    }
    return {"id": number, "source": SOURCE, "version": int(order["version"]), "data": data}


def order_import_draft(order: dict[str, Any], config: Config, customer: dict[str, Any] | None) -> Any:
    """The commercetools `OrderImportDraft` of a ship-to-home order placed in a store (our `Order` document): its
    `orderNumber` is ours, each line supplied from the fulfilling store's channel."""
    from commercetools.platform import models

    channel = config.stores.get(order.get("fulfilled_by") or "")
    if channel is None:
        raise Unmapped(
            f"order {order['number']}: its fulfilling store {order.get('fulfilled_by')} has no channel in [channels]"
        )
    address = order.get("shipping_address") or {}
    total = order["totals"]["total"]
    return models.OrderImportDraft(
        order_number=order["number"],
        customer_id=(customer or {}).get("id"),
        customer_email=(customer or {}).get("email"),
        line_items=[
            models.LineItemImportDraft(
                name=models.LocalizedString({"nl": line["name"]}),
                variant=models.ProductVariantImportDraft(sku=line["sku"]),
                quantity=line["quantity"],
                price=models.PriceDraft(
                    value=models.Money(
                        cent_amount=line["unit_price"]["cents"], currency_code=line["unit_price"]["currency"]
                    )
                ),
                supply_channel=models.ChannelResourceIdentifier(key=channel),
            )
            for line in order["lines"]
        ],
        custom_line_items=[],  # the SDK's mock backend needs the list, even empty
        total_price=models.Money(cent_amount=total["cents"], currency_code=total["currency"]),
        shipping_address=models.BaseAddress(
            country=address.get("country", "NL"),
            street_name=address.get("street"),
            street_number=address.get("house_number"),
            postal_code=address.get("postcode"),
            city=address.get("city"),
        )
        if address
        else None,
        order_state=models.OrderState.OPEN,
        shipment_state=models.ShipmentState.PENDING,
        origin=models.CartOrigin.MERCHANT,
        completed_at=None,
    )


def return_info_action(ret: dict[str, Any], ct_order: dict[str, Any]) -> Any:
    """The `addReturnInfo` update action that records our `Return` on the commercetools order."""
    from commercetools.platform import models

    items = ct_order.get("lineItems") or []
    drafts = []
    for line in ret["lines"]:
        index = line["line_no"] - 1
        item = items[index] if 0 <= index < len(items) else None
        if item is None or (item.get("variant") or {}).get("sku") != line["sku"]:  # else the line of that SKU
            item = next((i for i in items if (i.get("variant") or {}).get("sku") == line["sku"]), None)
        if item is None:
            raise Unmapped(f"return {ret['number']}: order {ret['order_number']} has no line with {line['sku']}")
        drafts.append(
            models.ReturnItemDraft(
                quantity=line["quantity"],
                line_item_id=item["id"],
                comment=line["reason"],
                shipment_state=models.ReturnShipmentState.BACK_IN_STOCK
                if line["condition"] == "resellable"
                else models.ReturnShipmentState.UNUSABLE,
            )
        )
    return models.OrderAddReturnInfoAction(
        return_tracking_id=ret["number"],
        items=drafts,
        return_date=datetime.fromisoformat(ret["created_at"]),
    )


# ---------------------------------------------------------------------------------------------------- the centre


class Centre:
    """The centre's ingest and event interfaces, with an integration's token."""

    def __init__(self, url: str, token: str, *, timeout: float = 60.0) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            answer = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise CentreError(f"the centre at {self.url} cannot be reached ({type(error).__name__}: {error})") from None
        if answer.status_code >= 300:
            try:
                problem = answer.json()
                said = f"{problem.get('code')}: {problem.get('detail')}"
            except ValueError:
                said = answer.text[:200]
            raise CentreError(f"the centre refused {method} {path} ({answer.status_code} {said})")
        return answer.json()

    def ingest(self, collection: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Send records in batches; returns the reports summed, with every line that was not accepted."""
        total: dict[str, Any] = {"received": 0, "accepted": 0, "unchanged": 0, "stale": 0, "refused": 0, "lines": []}
        for start in range(0, len(records), PAGE):
            batch = records[start : start + PAGE]
            report = self._call(
                "POST",
                f"/v1/ingest/{collection}",
                content="\n".join(json.dumps(r) for r in batch).encode(),
                headers={"Content-Type": "application/x-ndjson"},
            )
            for key in ("received", "accepted", "unchanged", "stale", "refused"):
                total[key] += report[key]
            for line in report["lines"]:
                line["line"] += start
                total["lines"].append(line)
        return total

    def events(self, after: int, limit: int = 200) -> dict[str, Any]:
        return self._call("GET", "/v1/events", params={"after": after, "limit": limit})


# ---------------------------------------------------------------------------------------------------- the connector


@dataclass
class Report:
    """What one run did: per collection what the centre said, and what was skipped or acted on, with reasons."""

    ingested: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    orders_created: list[str] = field(default_factory=list)
    orders_found: list[str] = field(default_factory=list)
    returns_recorded: list[str] = field(default_factory=list)
    events_seen: int = 0

    def count(self, collection: str, report: dict[str, Any]) -> None:
        into = self.ingested.setdefault(collection, {"accepted": 0, "unchanged": 0, "stale": 0, "refused": 0})
        for key in into:
            into[key] += report.get(key, 0)

    def lines(self) -> Iterator[str]:
        for collection, counts in self.ingested.items():
            yield f"{collection}: " + ", ".join(f"{v} {k}" for k, v in counts.items())
        yield (
            f"events: {self.events_seen} read; orders created in commercetools: {len(self.orders_created)}"
            + (f" (and {len(self.orders_found)} found already there)" if self.orders_found else "")
            + f"; returns recorded: {len(self.returns_recorded)}"
        )
        for said in self.refused:
            yield f"refused by the centre: {said}"
        for said in self.skipped:
            yield f"skipped: {said}"


def _refusal(error: Exception) -> bool:
    """Whether commercetools refused the request for what it said (400, 404: sending it again changes nothing), as
    opposed to being away, busy or in conflict (network errors, 409, 429, 5xx: tried again next run)."""
    from commercetools import CommercetoolsError

    status = getattr(getattr(error, "response", None), "status_code", None)
    return isinstance(error, CommercetoolsError) and status in (400, 404)


def platform_client(config: Config) -> Any:
    """commercetools' SDK client for the configured project."""
    from commercetools.platform.client import Client

    return Client(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scope=list(config.scope),
        url=config.api_url,
        token_url=f"{config.auth_url}/oauth/token",
    )


class Connector:
    """One commercetools project and one centre (module docstring). `run_once()` pushes the centre's new events to
    commercetools, then pulls what changed in commercetools since the watermarks; `follow()` does so repeatedly."""

    def __init__(
        self,
        config: Config,
        *,
        client: Any = None,
        centre: Centre | None = None,
    ) -> None:
        self.config = config
        self.state = State.load(config.state)
        self._client = client
        self.centre = centre or Centre(config.centre_url, config.centre_token)
        self._channel_keys: dict[str, str] = {}  # channel id → key
        self._product_keys: dict[str, str] = {}

    @property
    def api(self) -> Any:
        if self._client is None:
            self._client = platform_client(self.config)
        return self._client.with_project_key(self.config.project_key)

    def save(self) -> None:
        self.state.save(self.config.state)

    # ------------------------------------------------------------------ one run

    def run_once(self) -> Report:
        report = Report()
        self.push_events(report)
        self.pull(report)
        return report

    def follow(
        self, interval: float, *, rounds: int | None = None, on_report: Callable[[Report], None] | None = None
    ) -> None:
        """Run again every `interval` seconds (`rounds` times, or until interrupted); a centre or platform that is
        away is said, and tried again next round."""
        done = 0
        while rounds is None or done < rounds:
            started = time.monotonic()
            try:
                report = self.run_once()
                if on_report:
                    on_report(report)
            except (CentreError, OSError) as error:
                log.warning("commercetools connector: %s; trying again in %g s", error, interval)
            except Exception as error:  # noqa: BLE001 - the platform away (an SDK error): said, tried again
                log.warning(
                    "commercetools connector: %s: %s; trying again in %g s", type(error).__name__, error, interval
                )
            done += 1
            if rounds is None or done < rounds:
                time.sleep(max(interval - (time.monotonic() - started), 0))

    # ------------------------------------------------------------------ the centre's events → commercetools

    def push_events(self, report: Report) -> None:
        while True:
            page = self.centre.events(self.state.events_after)
            for event in page["items"]:
                report.events_seen += 1
                try:
                    if event["type"] == "order.created":
                        self.push_order(event["data"], report)
                    elif event["type"] == "return.registered":
                        self.push_return(event["data"], report)
                except Unmapped as why:
                    report.skipped.append(str(why))
                except Exception as error:
                    if not _refusal(error):
                        raise  # commercetools away or busy: this event is done again next run
                    report.refused.append(f"commercetools refused {event['type']} {event['subject']}: {error}")
                self.state.events_after = event["id"]
                self.save()  # after the work: a crash before this line does it again, and finds it done
            if not page["items"]:
                return

    def find_order(self, number: str) -> dict[str, Any] | None:
        """The commercetools order with this orderNumber (a query: the mock backend has no `order-number=` route)."""
        found = self.api.orders().get(where=[f'orderNumber = "{number}"'], limit=1)
        return found.results[0].serialize() if found and found.results else None

    def push_order(self, order: dict[str, Any], report: Report) -> None:
        if order.get("channel") != "store" or order.get("fulfilment") != "delivery":
            return  # only ship-to-home orders placed in a store go to commercetools
        number = order["number"]
        if number in self.state.orders:
            return
        existing = self.find_order(number)
        if existing is not None:
            self.state.orders[number] = existing["id"]
            report.orders_found.append(number)
            return
        customers = self.api.customers().get(where=[f'customerNumber = "{order["customer_id"]}"'], limit=1)
        customer = customers.results[0].serialize() if customers and customers.results else None
        created = self.api.orders().import_order().post(order_import_draft(order, self.config, customer))
        self.state.orders[number] = created.id
        report.orders_created.append(number)

    def push_return(self, ret: dict[str, Any], report: Report) -> None:
        from commercetools.platform import models

        number = ret["number"]
        if number in self.state.returns:
            return
        order_id = self.state.orders.get(ret["order_number"])
        current = self.api.orders().with_id(order_id).get().serialize() if order_id else None
        if current is None:
            current = self.find_order(ret["order_number"])
        if current is None:
            raise Unmapped(f"return {number}: commercetools has no order {ret['order_number']}")
        if any(info.get("returnTrackingId") == number for info in current.get("returnInfo") or []):
            self.state.returns[number] = current["id"]
            return
        action = return_info_action(ret, current)
        self.api.orders().with_id(current["id"]).post(models.OrderUpdate(version=current["version"], actions=[action]))
        self.state.returns[number] = current["id"]
        report.returns_recorded.append(number)

    # ------------------------------------------------------------------ commercetools → the centre

    def _changed(self, resource: str) -> Iterator[dict[str, Any]]:
        """The resources of one kind changed since its watermark, oldest change first, in pages."""
        mark = self.state.watermarks.get(resource)
        where = None
        if mark:
            since = datetime.fromisoformat(mark) - timedelta(seconds=self.config.overlap)
            where = (
                f'lastModifiedAt > "{since.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}"'
            )
        endpoint = {
            "channels": self.api.channels,
            "customers": self.api.customers,
            "shopping-lists": self.api.shopping_lists,
            "inventory": self.api.inventory,
            "orders": self.api.orders,
        }[resource]()
        after: tuple[str, str] | None = None
        while True:
            clauses = [where] if where else []
            if after:
                clauses.append(
                    f'(lastModifiedAt > "{after[0]}" or (lastModifiedAt = "{after[0]}" and id > "{after[1]}"))'
                )
            page = endpoint.get(
                where=clauses or None, sort=["lastModifiedAt asc", "id asc"], limit=PAGE, with_total=False
            )
            results = sorted((r.serialize() for r in page.results), key=lambda r: (r["lastModifiedAt"], r["id"]))
            yield from results
            if len(results) < PAGE:
                return
            after = (results[-1]["lastModifiedAt"], results[-1]["id"])

    def _advance(self, resource: str, records: list[dict[str, Any]]) -> None:
        if records:
            latest = max(datetime.fromisoformat(r["lastModifiedAt"]) for r in records)
            held = self.state.watermarks.get(resource)
            if held is None or latest > datetime.fromisoformat(held):
                self.state.watermarks[resource] = latest.isoformat(timespec="microseconds")

    def _send(self, collection: str, records: list[dict[str, Any]], report: Report) -> dict[str, Any]:
        answer = self.centre.ingest(collection, records) if records else {"lines": []}
        report.count(collection, answer)
        return answer

    def _refusals(
        self, collection: str, answer: dict[str, Any], report: Report, *, except_ids: set[str] = frozenset()
    ) -> None:
        for line in answer["lines"]:
            if line["status"] == "refused" and line.get("id") not in except_ids:
                report.refused.append(f"{collection} {line.get('id')}: {line.get('code')}: {line.get('detail')}")

    def pull(self, report: Report) -> None:
        channels = [c for c in self._all_channels()]
        self._channel_keys = {c["id"]: c.get("key") for c in channels}
        for resource in KINDS:
            records = list(self._changed(resource)) if resource != "channels" else self._since_mark(resource, channels)
            getattr(self, "_pull_" + resource.replace("-", "_"))(records, report)
            self._advance(resource, records)
            self.save()

    def _all_channels(self) -> list[dict[str, Any]]:
        page = self.api.channels().get(limit=PAGE)
        return [c.serialize() for c in page.results]

    def _since_mark(self, resource: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        mark = self.state.watermarks.get(resource)
        if not mark:
            return records
        since = datetime.fromisoformat(mark) - timedelta(seconds=self.config.overlap)
        return [r for r in records if datetime.fromisoformat(r["lastModifiedAt"]) > since]

    def _map(self, records: Iterable[dict[str, Any]], mapping: Callable[[dict[str, Any]], Any], report: Report) -> list:
        mapped = []
        for record in records:
            try:
                result = mapping(record)
            except Unmapped as why:
                report.skipped.append(str(why))
                continue
            mapped.extend(result if isinstance(result, list) else [result])
        return mapped

    def _pull_channels(self, channels: list[dict[str, Any]], report: Report) -> None:
        mapped = [c for c in channels if c.get("key") in self.config.channels]  # other channels are not stores
        answer = self._send("stores", self._map(mapped, lambda c: store_record(c, self.config), report), report)
        self._refusals("stores", answer, report)

    def _pull_customers(self, customers: list[dict[str, Any]], report: Report) -> None:
        by_id: dict[str, dict[str, Any]] = {}

        def partial(customer: dict[str, Any]) -> dict[str, Any]:
            record = customer_record(customer, self.config.channels)
            self.state.customers[customer["id"]] = record["id"]
            by_id[record["id"]] = customer
            return record

        answer = self._send("customers", self._map(customers, partial, report), report)
        # A customer new to the centre lacks what commercetools does not hold: sent again, whole, with our defaults.
        new = {
            line["id"]
            for line in answer["lines"]
            if line["status"] == "refused"
            and line.get("code") == "invalid_record"
            and "required" in (line.get("detail") or "").lower()
        }
        self._refusals("customers", answer, report, except_ids=new)
        if new:
            again = self._map(
                [by_id[i] for i in sorted(new) if i in by_id],
                lambda c: customer_record(c, self.config.channels, complete=True),
                report,
            )
            answer = self._send("customers", again, report)
            report.ingested["customers"]["refused"] -= len(new)  # counted once, by what the second try said
            self._refusals("customers", answer, report)

    def _customer_of(self, reference: dict[str, Any] | None) -> str:
        ct_id = (reference or {}).get("id")
        if not ct_id:
            raise Unmapped("no customer")
        if ct_id not in self.state.customers:
            found = self.api.customers().with_id(ct_id).get()
            if found is None:
                raise Unmapped(f"commercetools has no customer {ct_id}")
            self.state.customers[ct_id] = customer_id_of(found.serialize())
        return self.state.customers[ct_id]

    def _pull_shopping_lists(self, lists: list[dict[str, Any]], report: Report) -> None:
        records: list[dict[str, Any]] = []
        for shopping_list in lists:
            try:
                customer = self._customer_of(shopping_list.get("customer"))
            except Unmapped as why:
                report.skipped.append(f"shopping list {shopping_list.get('key') or shopping_list['id']}: {why}")
                continue
            items = wishlist_records(shopping_list, customer, self._product_keys_of(shopping_list))
            now = {r["id"] for r in items}
            for gone in sorted(set(self.state.lists.get(shopping_list["id"], [])) - now):
                items.append({"id": gone, "source": SOURCE, "version": int(shopping_list["version"]), "deleted": True})
            self.state.lists[shopping_list["id"]] = sorted(now)
            records.extend(items)
        self._refusals("wishlists", self._send("wishlists", records, report), report)

    def _product_keys_of(self, shopping_list: dict[str, Any]) -> dict[str, str]:
        for item in shopping_list.get("lineItems") or []:
            product = item.get("productId")
            if product and product not in self._product_keys:
                try:
                    found = self.api.products().with_id(product).get()
                except Exception:  # noqa: BLE001 - a product we may not read: the SKU gives the style
                    found = None
                self._product_keys[product] = (found.key if found is not None else None) or ""
        return {k: v for k, v in self._product_keys.items() if v}

    def _pull_inventory(self, entries: list[dict[str, Any]], report: Report) -> None:
        mapped = self._map(entries, lambda e: stock_record(e, self._channel_keys, self.config), report)
        self._refusals("stock", self._send("stock", mapped, report), report)

    def _pull_orders(self, orders: list[dict[str, Any]], report: Report) -> None:
        ours = set(self.state.orders)

        def mapping(order: dict[str, Any]) -> dict[str, Any]:
            try:
                customer = self._customer_of({"id": order.get("customerId")})
            except Unmapped as why:
                raise Unmapped(f"order {order.get('orderNumber') or order['id']}: {why}") from None
            return order_record(order, customer, self.config, self._channel_keys)

        # The stores' own orders are the centre's truth: those the connector made (in its state, or imported with
        # origin Merchant, should the state have been lost) never come back as web orders.
        online = [o for o in orders if o.get("orderNumber") not in ours and o.get("origin") != "Merchant"]
        self._refusals("orders", self._send("orders", self._map(online, mapping, report), report), report)
