"""`clienteling bench --suggest`: what to show her now, worked out on the device for a customer with 200 orders
(issue 14: p99 under 20 ms).

A small demo centre runs in its own process; a device syncs it, then Sanne gets 200 orders in its cache (copies of
her own with new numbers and dates, through the sync path). Timed: the suggestions from the cache (her stock-checked
wishlist and orders as the customer screen has them, the catalogue in stock here, what she declined), and, for
scale, the whole customer picture the screen reads (which includes them).
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from clienteling.bench import LocalCentre, percentile
from clienteling.config import Settings
from clienteling.contract import Order
from clienteling.device import Device

CUSTOMER = "C0000001"


def give_orders(device: Device, customer_id: str, count: int) -> int:
    """Copies of the customer's orders, `count` in all, into the device's cache through the sync path."""
    picture = device.customer_picture(customer_id)
    models = [o for o in picture.orders if o.lines] or []
    if not models:
        raise RuntimeError(f"{customer_id} has no orders to copy")
    docs = []
    for n in range(count):
        model = models[n % len(models)]
        copy = json.loads(model.model_dump_json())
        copy["number"] = f"ORD-{90_000_000 + n:08d}"
        moment = model.created_at - timedelta(days=3 * n)
        copy["created_at"] = copy["updated_at"] = moment.isoformat()
        docs.append(json.dumps(Order.model_validate(copy).model_dump(mode="json")))
    page = (
        '{"items":['
        + ",".join(docs)
        + '],"deleted":[],"next_cursor":"'
        + device.cache.cursor("orders")[0]
        + '","has_more":true}'
    )
    device.cache.apply_page("orders", page)
    return len(device.customer_picture(customer_id).orders)


def measure(folder: Path, rounds: int) -> dict:
    centre = LocalCentre(folder, 200)
    try:
        settings = Settings.load(folder / "device", central_url=centre.url, device_token="demo-AMS01", store="AMS01")
        with Device(settings) as device:
            report = device.sync_now()
            if not report.ok:
                raise RuntimeError(f"the device could not sync: {report.error}")
            orders = give_orders(device, CUSTOMER, 200)
            picture = device.customer_picture(CUSTOMER)
            suggestion_ms, picture_ms = [], []
            for _ in range(rounds):
                started = time.perf_counter()
                made = device.suggestions(picture.customer, picture.wishlist, picture.orders)
                suggestion_ms.append((time.perf_counter() - started) * 1000)
            for _ in range(max(rounds // 10, 10)):
                started = time.perf_counter()
                device.customer_picture(CUSTOMER)
                picture_ms.append((time.perf_counter() - started) * 1000)
    finally:
        centre.stop()
    return {
        "suggest_orders": orders,
        "suggest_count": len(made),
        "suggest_p50_ms": round(percentile(suggestion_ms, 0.5), 3),
        "suggest_p99_ms": round(percentile(suggestion_ms, 0.99), 3),
        "customer_picture_p50_ms": round(percentile(picture_ms, 0.5), 2),
        "customer_picture_p99_ms": round(percentile(picture_ms, 0.99), 2),
    }


def describe(results: dict) -> str:
    return (
        f"suggestions for a customer with {results['suggest_orders']} orders ({results['suggest_count']} made): "
        f"p50 {results['suggest_p50_ms']} ms, p99 {results['suggest_p99_ms']} ms (target < 20); the whole customer "
        f"picture: p50 {results['customer_picture_p50_ms']} ms, p99 {results['customer_picture_p99_ms']} ms"
    )


def main(as_json: bool, rounds: int = 500) -> int:
    with tempfile.TemporaryDirectory(prefix="clienteling-bench-suggest-") as folder:
        results = measure(Path(folder), rounds)
    print(json.dumps(results) if as_json else describe(results))
    return 0
