"""`clienteling bench --watch`: how fast a change at the centre reaches devices that long-poll it (issue 12).

A demo centre runs in its own process. N simulated devices (default 1,000) each hold a long poll
(`GET /v1/sync/wait`) open with `httpx.AsyncClient`, asking again at once with the position each answer gives, as a
device's watcher does. Another client, in a thread of its own, places orders at the centre, one every `spacing`
seconds, as another device would. For each change and each simulated device: the time from the centre's answer to the
writer (the commit, at the latest) to that device's answer announcing it; p50, p99 and max. Alongside, a few real
`Device`s run their background loop with a 300 s interval and the watcher on: the time from the commit to the order
being in each one's cache.

Everything but the centre runs in this one process, so the figures include the load generator's own delays; its CPU
share (and the centre's) is reported so that the figures can be read on a small machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

import httpx

from clienteling.bench import LocalCentre, percentile
from clienteling.config import Settings
from clienteling.contract import POSITION_HEADER, parse_position
from clienteling.device import Device

WAIT = 25.0  # seconds each simulated device asks the centre to hold its wait
TOKEN = "demo-AMS01"


def raise_open_files(wanted: int) -> int:
    """Raise this process's soft limit of open files towards `wanted` (children inherit it); returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted)) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used (Linux /proc); 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    return {
        "p50": round(percentile(values, 0.5) * 1000, 1),
        "p99": round(percentile(values, 0.99) * 1000, 1),
        "max": round(max(values) * 1000, 1),
        "n": len(values),
    }


def _stock_to_order(url: str, wanted: int) -> list[str]:
    """SKUs with stock available at DC01, one entry for each unit, at least `wanted` of them if the demo has them."""
    skus: list[str] = []
    cursor = "0"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
        while len(skus) < wanted:
            page = client.get("/v1/sync/stock", params={"after": cursor, "limit": 5000}).json()
            for row in page["items"]:
                if row["store"] == "DC01" and row["available"] > 0:
                    skus.extend([row["sku"]] * min(row["available"], 3))
            cursor = page["next_cursor"]
            if not page["has_more"]:
                break
    if len(skus) < wanted:
        raise RuntimeError(f"the demo has stock for only {len(skus)} orders at DC01")
    return skus


def _order(sku: str) -> dict:
    address = {"street": "Prinsengracht", "house_number": "263", "postcode": "1016GV", "city": "Amsterdam"}
    return {
        "customer_id": "C0000010",
        "fulfilling_store": "DC01",
        "lines": [{"sku": sku, "quantity": 1}],
        "shipping_address": address,
        "placed_by": "S0001",
    }


class Changes:
    """The writer: orders placed one every `spacing` seconds, each with when it was sent and answered and its seq."""

    def __init__(self, url: str, skus: list[str]) -> None:
        self.url, self.skus = url, skus
        self.pid = 0  # the centre's process, whose CPU time is read
        self.made: list[dict] = []  # {"seq", "sent", "answered", "number"}
        self.lock = threading.Lock()

    def make(self, client: httpx.Client) -> dict:
        sku = self.skus.pop()
        sent = time.monotonic()
        answer = client.post(
            "/v1/orders/ship-to-home", json=_order(sku), headers={"Idempotency-Key": os.urandom(12).hex()}
        )
        answered = time.monotonic()
        if answer.status_code != 201:
            raise RuntimeError(f"the centre refused an order: {answer.text[:300]}")
        position = parse_position(answer.headers[POSITION_HEADER])
        assert position is not None
        change = {"seq": position[2], "sent": sent, "answered": answered, "number": answer.json()["number"]}
        with self.lock:
            self.made.append(change)
        return change


def _watch_caches(devices: list[Device], change: dict, seen: dict, deadline: float) -> None:
    """Poll the real devices' caches every 2 ms until each has the order (or the deadline): when each had it."""
    waiting = set(range(len(devices)))
    while waiting and time.monotonic() < deadline:
        for at in list(waiting):
            if devices[at].cache.scalar("SELECT count(*) FROM orders WHERE id = ?", (change["number"],)):
                seen[(at, change["seq"])] = time.monotonic()
                waiting.discard(at)
        time.sleep(0.002)


async def _waiter(client: httpx.AsyncClient, after: str, answers: list, stop: asyncio.Event, errors: list) -> None:
    while not stop.is_set():
        try:
            response = await client.get("/v1/sync/wait", params={"after": after, "timeout": WAIT})
            at = time.monotonic()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            errors.append(f"{type(error).__name__}: {error}")
            await asyncio.sleep(0.5)
            continue
        if response.status_code != 200:
            errors.append(str(response.status_code))
            await asyncio.sleep(0.5)
            continue
        after = body["position"]
        if body["changed"]:
            answers.append((at, parse_position(after)[2]))


async def _raw_waiter(url: str, after: str, answers: list, stop: asyncio.Event, errors: list) -> None:
    """The same as `_waiter`, as a minimal HTTP/1.1 client on asyncio streams (one keep-alive connection): it costs
    the load generator a small fraction of what `httpx.AsyncClient` does per answer, so that 1,000 answers at once
    measure the centre rather than the generator's own queue."""
    host, _, port = url.removeprefix("http://").partition(":")
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while not stop.is_set():
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(
                f"GET /v1/sync/wait?after={after}&timeout={WAIT} HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {TOKEN}\r\n\r\n".encode()
            )
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            length = int(head.partition("content-length:")[2].partition("\r\n")[0])
            body = json.loads(await reader.readexactly(length))
            at = time.monotonic()
            if "connection: close" in head:
                writer.close()
                reader = writer = None
            if not head.startswith("http/1.1 200"):
                raise ValueError(head.partition("\r\n")[0])
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            errors.append(f"{type(error).__name__}: {error}")
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.5)
            continue
        after = body["position"]
        if body["changed"]:
            answers.append((at, parse_position(after)[2]))


async def _simulate(
    url: str,
    start: str,
    count: int,
    changes: Changes,
    rounds: int,
    spacing: float,
    devices: list[Device],
    progress,
    client: str,
) -> dict:
    stop = asyncio.Event()
    answers: list[list[tuple[float, int]]] = [[] for _ in range(count)]
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=url, headers=headers, timeout=WAIT + 15, limits=limits)
        for _ in range(count if client == "httpx" else 0)
    ]
    tasks = [
        asyncio.create_task(
            _waiter(clients[i], start, answers[i], stop, errors)
            if client == "httpx"
            else _raw_waiter(url, start, answers[i], stop, errors)
        )
        for i in range(count)
    ]
    loop = asyncio.get_running_loop()
    seen: dict[tuple[int, int], float] = {}
    writer = httpx.Client(base_url=url, headers=headers, timeout=60)

    async def everyone_has(seq: int, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if all(a and a[-1][1] >= seq for a in answers):
                return True
            await asyncio.sleep(0.05)
        return False

    try:
        # A first change that all the waiters must have answered: then all of them are connected and waiting again.
        progress(f"opening {count} long polls")
        started = time.monotonic()
        while True:
            warm = await loop.run_in_executor(None, changes.make, writer)
            if await everyone_has(warm["seq"], 20):
                break
            if time.monotonic() - started > 180:
                raise RuntimeError(f"not all {count} long polls answered within 180 s: {len(errors)} errors")
        progress(f"{count} long polls open in {time.monotonic() - started:.1f} s; {rounds} changes, {spacing} s apart")
        await asyncio.sleep(spacing)
        measured_from = len(changes.made)
        cpu_before, wall_before = time.process_time(), time.monotonic()
        centre_before = cpu_seconds(changes.pid)
        for _ in range(rounds):
            change = await loop.run_in_executor(None, changes.make, writer)
            watching = threading.Thread(
                target=_watch_caches, args=(devices, change, seen, time.monotonic() + 15), daemon=True
            )
            watching.start()
            await asyncio.sleep(spacing)
            await loop.run_in_executor(None, watching.join)
        last = changes.made[-1]["seq"]
        complete = await everyone_has(last, 15)
        cpu = time.process_time() - cpu_before
        centre_cpu = cpu_seconds(changes.pid) - centre_before
        wall = time.monotonic() - wall_before
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(client.aclose() for client in clients), return_exceptions=True)
        writer.close()

    measured = changes.made[measured_from:]
    from_answer, from_request, missed = [], [], 0
    for got in answers:
        for change in measured:
            first = next((at for at, seq in got if seq >= change["seq"]), None)
            if first is None:
                missed += 1
                continue
            from_answer.append(max(0.0, first - change["answered"]))
            from_request.append(first - change["sent"])
    to_cache = [
        seen[(at, change["seq"])] - change["answered"]
        for change in measured
        for at in range(len(devices))
        if (at, change["seq"]) in seen
    ]
    return {
        "devices": count,
        "client": client,
        "changes": len(measured),
        "spacing_s": spacing,
        "commit_to_device_ms": _ms(from_answer),
        "request_to_device_ms": _ms(from_request),
        "missed": missed,
        "all_answered": complete,
        "errors": len(errors),
        "error_kinds": sorted({e[:80] for e in errors})[:5],
        "real_devices": len(devices),
        "commit_to_cache_ms": _ms([max(0.0, value) for value in to_cache]),
        "cache_missed": len(measured) * len(devices) - len(to_cache),
        "load_generator_cpu_share": round(cpu / wall, 3),
        "centre_cpu_share": round(centre_cpu / wall, 3),
        "cores": os.cpu_count(),
    }


def run_watch(
    devices: int = 1000,
    changes: int = 20,
    real_devices: int = 4,
    spacing: float = 1.0,
    customers: int = 200,
    client: str = "raw",
    progress=print,
) -> dict:
    limit = raise_open_files(2 * devices + 1000)
    if limit < devices + 200:
        raise RuntimeError(f"only {limit} files may be open; {devices} long polls need more (ulimit -n)")
    with tempfile.TemporaryDirectory(prefix="clienteling-bench-watch-") as tmp:
        folder = Path(tmp)
        progress(f"starting a demo centre ({customers} customers)")
        centre = LocalCentre(folder, customers)
        real: list[Device] = []
        try:
            skus = _stock_to_order(centre.url, changes + 40)
            writer = Changes(centre.url, skus)
            writer.pid = centre.process.pid
            with httpx.Client(base_url=centre.url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                info = http.get("/v1/centre").json()
            start = f"{info['centre']}.{info['epoch']}.{info['seq']}"
            for n in range(real_devices):
                settings = Settings.load(
                    folder / f"device-{n}", central_url=centre.url, device_token=TOKEN, store="AMS01"
                )
                device = Device(settings)
                real.append(device)
                if not device.sync_now().ok:
                    raise RuntimeError("a real device could not sync")
                device.start_background_sync(300.0)
            results = asyncio.run(
                _simulate(centre.url, start, devices, writer, changes, spacing, real, progress, client)
            )
            results["watching_real_devices"] = sum(bool(d.syncer and d.syncer.watching) for d in real)
        finally:
            for device in real:
                device.close()
            centre.stop()
    return results


def describe_watch(results: dict) -> str:
    c, r, k = results["commit_to_device_ms"], results["request_to_device_ms"], results["commit_to_cache_ms"]
    lines = [
        f"Long polling, {results['devices']} devices connected ({results['client']} client), {results['changes']} changes"
        + f" {results['spacing_s']} s apart (target: p99 < 1000 ms)",
        f"  commit → device's answer   p50 {c['p50']} ms   p99 {c['p99']} ms   max {c['max']} ms"
        + f"   ({c['n']} answers, {results['missed']} missed, {results['errors']} errors)",
        f"  request → device's answer  p50 {r['p50']} ms   p99 {r['p99']} ms   max {r['max']} ms",
        f"  commit → cache, {results['real_devices']} real devices (300 s loop, watcher on)"
        + f"   p50 {k['p50']} ms   p99 {k['p99']} ms   max {k['max']} ms   ({results['cache_missed']} missed)",
        f"  CPU: load generator {results['load_generator_cpu_share']:.0%} of a core,"
        + f" centre {results['centre_cpu_share']:.0%} of a core; {results['cores']} cores",
    ]
    return "\n".join(lines)


def main(as_json: bool, devices: int, changes: int, client: str = "raw") -> int:
    results = run_watch(devices, changes, client=client, progress=(lambda _: None) if as_json else print)
    print(json.dumps(results) if as_json else describe_watch(results))
    return 0
