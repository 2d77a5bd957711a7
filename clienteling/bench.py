"""`clienteling bench`: the performance targets, measured in one run so that ratios are fair.

- lookups by card, email and name prefix over a cache of N customers (default 1,000,000), through `Device`;
- the initial sync of a demo chain over HTTP from a local centre, and its ratio to a raw `executemany` of
  the same rows into an empty SQLite file, measured in the same run;
- one changed customer applied on top of the N;
- the outbox drained to a local centre;
- the outbox drained through a lossy link (a `FaultProxy` resetting 5 % and 30 % of connections), as a ratio to the
  loss-free rate through the same proxy, measured in the same run (`clienteling bench --drain` runs only this);
- what one PIN guess costs on the form a device keeps (a staff row sealed to its token, `clienteling.pins`), and
  the years the whole 6-digit space takes on one core, for someone who has the device's token as well as its
  cache file; without the token a guess cannot be tested at all (`clienteling bench --pins` runs only this).
"""

from __future__ import annotations

import json
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

from clienteling import pins
from clienteling.central.demo import ChainBuilder, dumps
from clienteling.config import Settings
from clienteling.device import Device
from clienteling.device.cache import Cache
from clienteling.faultproxy import FaultProxy

PAGE = 5000


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answers(url: str, process: subprocess.Popen, seconds: float, what: str) -> None:
    """Wait until `url` answers 200; stop `process` and raise if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it answered")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{what} did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(samples: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(samples, 0.5) * 1000, 3), "p99": round(percentile(samples, 0.99) * 1000, 3)}


def fill_cache(cache: Cache, customers: int, seed: int = 7) -> tuple[list[dict], float]:
    """Put `customers` demo customers into the cache through the sync path; returns a sample of them and the seconds."""
    builder = ChainBuilder(None, customers, seed, date.today())  # type: ignore[arg-type]
    sample: list[dict] = []
    started = time.perf_counter()
    for start in range(1, customers + 1, PAGE):
        docs = [builder.make_customer(n) for n in range(start, min(start + PAGE, customers + 1))]
        sample.extend(docs[:: max(1, customers // 2000)])
        page = (
            '{"items":['
            + ",".join(dumps(d) for d in docs)
            + '],"deleted":[],"next_cursor":"'
            + str(start)
            + '","has_more":true}'
        )
        cache.apply_page("customers", page)
    return sample, time.perf_counter() - started


def bench_lookups(device: Device, sample: list[dict], rounds: int = 1000) -> dict[str, dict[str, float]]:
    rng = random.Random(1)
    picks = [rng.choice(sample) for _ in range(rounds)]
    results: dict[str, list[float]] = {"card": [], "email": [], "name_prefix": []}
    for customer in picks:
        prefix = customer["first_name"][:3] + " " + customer["last_name"].split()[-1][:2]
        for kind, call in (
            ("card", lambda c=customer: device.customer_by_card(c["card_number"])),
            ("email", lambda c=customer: device.customer_by_email(c["email"])),
            ("name_prefix", lambda p=prefix: device.search_customers(p)),
        ):
            started = time.perf_counter()
            found = call()
            results[kind].append(time.perf_counter() - started)
            if not found:
                raise AssertionError(f"{kind} lookup found nothing for {customer['id']}")
    return {kind: _ms(samples) for kind, samples in results.items()}


def bench_delta(cache: Cache, sample: list[dict], rounds: int = 50) -> float:
    """Median ms to apply a page with one changed customer (name changed, so the search index changes too)."""
    times = []
    for i in range(rounds):
        changed = {**sample[i], "last_name": f"{sample[i]['last_name']} {i}", "points": i}
        page = '{"items":[' + dumps(changed) + '],"deleted":[],"next_cursor":"' + str(10**9 + i) + '","has_more":false}'
        started = time.perf_counter()
        cache.apply_page("customers", page)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)


class LocalCentre:
    """A demo centre in its own process on a free loopback port."""

    def __init__(self, folder: Path, customers: int, db: str | Path | None = None) -> None:
        """The demo is made in `db` (a PostgreSQL URL is made anew: `--fresh`), by default a file in `folder`."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = db or folder / "central.db"
        fresh = ["--fresh"] if isinstance(db, str) else []
        with open(folder / "centre.log", "wb") as log:  # what it says, for the message if it does not start
            self.process = self._start(customers, fresh, log)
        try:
            wait_until_answers(f"{self.url}/health", self.process, 600, "the local centre")
        except RuntimeError as error:
            said = (folder / "centre.log").read_text(errors="replace").strip()[-2000:]
            raise RuntimeError(f"{error}: {said}" if said else str(error)) from None

    def _start(self, customers: int, fresh: list[str], log) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "clienteling",
                "central",
                "--demo",
                *fresh,
                "--customers",
                str(customers),
                "--db",
                str(self.db),
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


SECONDS_A_YEAR = 365.25 * 24 * 3600


def bench_pins(stored: str | None = None, token: str = "a device token", guesses: int = 7) -> dict:
    """Seconds one wrong guess costs against `stored`, a staff row as a device keeps it (sealed to `token`; one is
    made as the centre makes it if None), and what the whole 6-digit space costs on one core. For comparison, the
    same for the PBKDF2 hashes of 4-digit PINs that devices held before."""
    key = pins.device_key(token)
    stored = stored or pins.seal(pins.hash_pin("112233"), key)
    timed = []
    for n in range(guesses):
        started = time.perf_counter()
        if pins.verify_sealed(f"{n:06d}", stored, key):
            raise RuntimeError("a wrong guess matched")
        timed.append(time.perf_counter() - started)
    cost = statistics.median(timed)
    legacy = "pbkdf2_sha256$100000$" + "00" * 16 + "$" + "00" * 32
    legacy_timed = []
    for n in range(guesses):
        started = time.perf_counter()
        pins.verify_pin(f"{n:04d}", legacy)
        legacy_timed.append(time.perf_counter() - started)
    legacy_cost = statistics.median(legacy_timed)
    return {
        "pin_stored_form": " ".join(stored.split("$")[i] for i in (0, 2, 4)),  # sealed argon2id m=65536,t=3,p=1
        "pin_guess_seconds": round(cost, 4),
        "pin_6_digit_space_years_one_core": round(10**6 * cost / SECONDS_A_YEAR, 4),
        "pin_6_digit_space_days_one_core": round(10**6 * cost / 86400, 2),
        "pin_guess_testable_without_device_token": False,
        "pin_legacy_pbkdf2_guess_seconds": round(legacy_cost, 4),
        "pin_legacy_4_digit_space_seconds": round(10**4 * legacy_cost, 1),
    }


def describe_pins(results: dict) -> str:
    return (
        f"one PIN guess on a device's stored staff row ({results['pin_stored_form']}): "
        f"{results['pin_guess_seconds']} s; every 6-digit PIN on one core: "
        f"{results['pin_6_digit_space_years_one_core']} years ({results['pin_6_digit_space_days_one_core']} days), "
        "and only with the device's token: without it, a copied cache file cannot test a single guess "
        f"(before: pbkdf2, {results['pin_legacy_pbkdf2_guess_seconds']} s a guess, every 4-digit PIN in "
        f"{results['pin_legacy_4_digit_space_seconds']} s, from the cache file alone)"
    )


def bench_sync(folder: Path, centre: LocalCentre) -> dict[str, float]:
    """Initial sync over HTTP, then a raw executemany of the same rows into an empty file, in the same run."""
    settings = Settings.load(folder / "sync-device", central_url=centre.url, device_token="demo-AMS01", store="AMS01")
    with Device(settings) as device:
        started = time.perf_counter()
        report = device.sync_now()
        seconds = time.perf_counter() - started
        if not report.ok:
            raise RuntimeError(report.error)
        rows = sum(report.pulled.values())
        tables = {}
        for table in ("stores", "products", "variants", "stock", "customers", "wishlists", "orders", "conversations"):
            columns = [r[1] for r in device.cache.query(f"PRAGMA table_info({table})")]
            tables[table] = (columns, device.cache.query(f"SELECT * FROM {table}"))
    raw_path = folder / "raw.db"
    raw = sqlite3.connect(raw_path, isolation_level=None)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA synchronous = FULL")
    for table, (columns, _) in tables.items():
        raw.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
    started = time.perf_counter()
    raw.execute("BEGIN")
    for table, (columns, values) in tables.items():
        raw.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", values)
    raw.execute("COMMIT")
    raw_seconds = time.perf_counter() - started
    raw.close()
    raw_rows = sum(len(values) for _, values in tables.values())
    sync_rate, raw_rate = rows / seconds, raw_rows / raw_seconds
    return {
        "sync_rows": rows,
        "sync_seconds": round(seconds, 3),
        "sync_rows_per_s": round(sync_rate),
        "executemany_rows_per_s": round(raw_rate),
        "sync_ratio_to_executemany": round(sync_rate / raw_rate, 3),
    }


def bench_outbox(folder: Path, centre: LocalCentre, commands: int) -> dict[str, float]:
    settings = Settings.load(folder / "outbox-device", central_url=centre.url, device_token="demo-AMS01", store="AMS01")
    with Device(settings) as device:
        if not device.sync_now().ok:
            raise RuntimeError("could not sync the outbox bench device")
        customers = [r[0] for r in device.cache.query("SELECT id FROM customers ORDER BY id LIMIT 50")]
        skus = [r[0] for r in device.cache.query("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 2")]
        for i in range(commands):
            if i % 2 and skus:
                device.place_ship_to_home(
                    customers[i % len(customers)], [(skus.pop(), 1)], fulfilling_store="DC01", send_now=False
                )
            else:
                device.add_note(customers[i % len(customers)], f"bench note {i}", send_now=False)
        started = time.perf_counter()
        report = device.syncer.push()
        seconds = time.perf_counter() - started
        if report.sent != commands:
            raise RuntimeError(f"only {report.sent} of {commands} commands were sent")
    return {
        "outbox_commands": commands,
        "outbox_seconds": round(seconds, 3),
        "outbox_per_s": round(commands / seconds, 1),
    }


DRAIN_LOSSES = (0, 5, 30)  # % of connections reset: half before the centre sees the request, half after it committed


def bench_drain(folder: Path, centre: LocalCentre, commands: int = 20, repeats: int = 40) -> dict[str, float]:
    """Commands/s drained by the sync rounds (as the background loop runs them, backoff included) through a proxy that
    resets 0 %, 5 % and 30 % of connections, half before the centre sees the request and half after it committed.
    After an uncounted warm-up batch (the first writes after a sync pay for its checkpoint), short batches of the
    three are interleaved `repeats` times in turning order, so that the load of a shared machine falls on each alike;
    the lossy rates are given as ratios to the loss-free one."""
    proxy = FaultProxy(centre.port, seed=5).start()
    settings = Settings.load(folder / "drain-device", central_url=proxy.url, device_token="demo-AMS01", store="AMS01")
    seconds = dict.fromkeys(DRAIN_LOSSES, 0.0)
    try:
        with Device(settings) as device:
            if not device.sync_now().ok:
                raise RuntimeError("could not sync the drain bench device")
            syncer = device.syncer
            customers = [r[0] for r in device.cache.query("SELECT id FROM customers ORDER BY id LIMIT 50")]
            skus = [r[0] for r in device.cache.query("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 2")]
            made = 0

            def drain(batch: int, loss: int) -> float:
                nonlocal made
                for _ in range(batch):
                    customer = customers[made % len(customers)]
                    if made % 2 and skus:
                        device.place_ship_to_home(customer, [(skus.pop(), 1)], fulfilling_store="DC01", send_now=False)
                    else:
                        device.add_note(customer, f"drain bench note {made}", send_now=False)
                    made += 1
                proxy.set_faults(reset=loss / 200, reset_after=loss / 200)
                started = time.perf_counter()
                while (report := syncer.sync_once(pull=False)).waiting:
                    time.sleep(syncer.pause_after(report, 0.0))
                if report.attention:
                    raise RuntimeError(f"{report.attention} commands need attention after a lossy drain")
                return time.perf_counter() - started

            drain(30, 0)
            for turn in range(repeats):
                for loss in DRAIN_LOSSES[turn % 3 :] + DRAIN_LOSSES[: turn % 3]:
                    seconds[loss] += drain(commands, loss)
    finally:
        proxy.stop()
    rates = {loss: commands * repeats / spent for loss, spent in seconds.items()}
    return {
        "drain_commands": commands * repeats,
        "drain_loss_free_per_s": round(rates[0], 1),
        **{f"drain_loss_{loss}pct_per_s": round(rates[loss], 1) for loss in DRAIN_LOSSES[1:]},
        **{f"drain_ratio_loss_{loss}pct": round(rates[loss] / rates[0], 3) for loss in DRAIN_LOSSES[1:]},
    }


def run_drain(centre_customers: int = 2000, commands: int = 20, progress=print) -> dict:
    """Only the lossy-link drain, against a small demo chain: quick to run."""
    with tempfile.TemporaryDirectory(prefix="clienteling-bench-") as tmp:
        progress(f"starting a local centre with a {centre_customers:,}-customer demo chain …")
        centre = LocalCentre(Path(tmp), centre_customers)
        try:
            progress(f"draining {commands} commands at a time, 40 times, through links losing {DRAIN_LOSSES} % …")
            return {"drain_demo_customers": centre_customers, **bench_drain(Path(tmp), centre, commands)}
        finally:
            centre.stop()


def run(customers: int = 1_000_000, sync_customers: int = 50_000, commands: int = 500, progress=print) -> dict:
    results: dict = {"customers": customers, "sync_demo_customers": sync_customers}
    with tempfile.TemporaryDirectory(prefix="clienteling-bench-") as tmp:
        folder = Path(tmp)
        progress(f"starting a local centre with a {sync_customers:,}-customer demo chain …")
        centre = LocalCentre(folder, sync_customers)
        try:
            progress("initial sync over HTTP, and raw executemany of the same rows …")
            results.update(bench_sync(folder, centre))
            progress(f"draining an outbox of {commands} commands …")
            results.update(bench_outbox(folder, centre, commands))
            progress("draining through a lossy link …")
            results.update(bench_drain(folder, centre))
        finally:
            centre.stop()
        progress("one PIN guess on the synced device's staff row …")
        synced = Settings.load(folder / "sync-device", device_token="demo-AMS01", store="AMS01")
        with Device(synced) as device:
            row = json.loads(device.cache.staff_doc("S0001") or "{}").get("pin_hash")
        results.update(bench_pins(row, "demo-AMS01"))
        progress(f"filling a cache with {customers:,} customers …")
        with Device(Settings.load(folder / "lookup-device", store="AMS01")) as device:
            sample, fill_seconds = fill_cache(device.cache, customers)
            results["fill_seconds"] = round(fill_seconds, 1)
            progress("lookups by card, email and name prefix …")
            lookups = bench_lookups(device, sample)
            for kind, figures in lookups.items():
                results[f"lookup_{kind}_p50_ms"] = figures["p50"]
                results[f"lookup_{kind}_p99_ms"] = figures["p99"]
            results["lookup_p99_ms"] = max(figures["p99"] for figures in lookups.values())
            progress("one changed customer on top …")
            results["delta_apply_ms"] = bench_delta(device.cache, sample)
    from clienteling import bench_ingest  # it starts a centre of its own, with LocalCentre

    for name, value in bench_ingest.run(progress=progress)["sqlite"].items():
        results[f"ingest_{name}" if not name.startswith("ingest_") else name] = value
    return results


def describe_drain(results: dict) -> str:
    return (
        f"outbox drained through a proxy ({results['drain_commands']} commands each): loss-free "
        f"{results['drain_loss_free_per_s']} commands/s; 5 % of connections reset "
        f"{results['drain_loss_5pct_per_s']}/s (ratio {results['drain_ratio_loss_5pct']}); 30 % reset "
        f"{results['drain_loss_30pct_per_s']}/s (ratio {results['drain_ratio_loss_30pct']})"
    )


def describe(results: dict) -> str:
    return "\n".join(
        [
            f"lookups over {results['customers']:,} cached customers (p50 / p99 ms):",
            *(
                f"  {kind:<12} {results[f'lookup_{kind}_p50_ms']:>8.3f} / {results[f'lookup_{kind}_p99_ms']:.3f}"
                for kind in ("card", "email", "name_prefix")
            ),
            (
                f"initial sync of a {results['sync_demo_customers']:,}-customer demo chain: {results['sync_rows']:,} rows "
                f"in {results['sync_seconds']} s = {results['sync_rows_per_s']:,} rows/s; raw executemany "
                f"{results['executemany_rows_per_s']:,} rows/s; ratio {results['sync_ratio_to_executemany']}"
            ),
            f"one changed customer applied on top: {results['delta_apply_ms']} ms",
            f"outbox drained to a local centre: {results['outbox_per_s']} commands/s ({results['outbox_commands']} commands)",
            describe_drain(results),
            describe_pins(results),
            (
                f"ingest: {results['ingest_records']:,} customers as NDJSON over HTTP: "
                f"{results['ingest_records_per_s']:,} records/s; raw executemany "
                f"{results['ingest_raw_insert_records_per_s']:,} rows/s; ratio {results['ingest_ratio_to_raw_insert']}"
            ),
        ]
    )


def main(
    as_json: bool,
    customers: int,
    sync_customers: int,
    commands: int,
    *,
    drain_only: bool = False,
    pins_only: bool = False,
) -> int:
    progress = (lambda _: None) if as_json else print
    if pins_only:
        results = bench_pins()
        print(json.dumps(results) if as_json else describe_pins(results))
        return 0
    if drain_only:
        results = run_drain(commands=commands, progress=progress)
        print(json.dumps(results) if as_json else describe_drain(results))
        return 0
    results = run(customers, sync_customers, commands, progress=progress)
    print(json.dumps(results) if as_json else describe(results))
    return 0
