"""`clienteling bench --centre`: how much load one centre takes, in one run over several targets.

N simulated store devices (default 200) each loop without pause: poll the change feed of a few collections from
their cursor (at the head, as a device that has synced), look up a customer by card or email, and ask the stock of a
SKU. Beside them a few order writers place ship-to-home orders (each with its own Idempotency-Key, one item of a SKU
in stock at DC01). The load runs against centres this command starts in processes of their own, one per target,
each on a copy of one demo database (`clienteling central make-demo`); the targets take turns in short rounds
(default 4), so that a shared machine's changing load falls on each alike. It reports requests/s, p50/p99 per kind
and overall, errors, and the CPU the load generator and the centre used, as a share of the machine: on a small
machine the generator competes with the centre, and the figures are read with that in mind.

Targets are data (`TARGETS`): SQLite with one process and with 2 workers today; `--pg URL` adds PostgreSQL with 2
workers (the centre is started with `--db URL --demo --fresh`). A target whose centre does not start is skipped with
a line saying why. The devices use the demo tokens (`demo-<STORE>`), several devices to a token, so the centre is
started with the profile read limit lifted: the bench measures capacity, not the limiter.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Self
from urllib.parse import urlencode

import httpx

from clienteling.bench import free_port, percentile

STORES = ("AMS01", "UTR01", "RTD01", "DHG01", "EIN01")
POLLED = ("stock", "customers", "orders")  # the feeds each device polls in every round
KINDS = ("sync", "lookup", "stock", "order")
WRITER_STORE, WRITER_STAFF, SHIP_FROM = "AMS01", "S0001", "DC01"
ADDRESS = {"street": "Kalverstraat", "house_number": "1", "postcode": "1012NX", "city": "Amsterdam"}
NO_LIMIT = "1000000,1000000"  # --profile-reads for the centre under test: see the module's docstring
WARM_UP_SECONDS = 1.0  # each round's, on fresh connections; not recorded


@dataclass(frozen=True)
class Target:
    """A centre to measure: `db` None is a fresh copy of the demo SQLite file; a URL is passed to `--db` as it is,
    with the demo made in it anew."""

    name: str
    workers: int = 1
    db: str | None = None


TARGETS = [Target("sqlite, 1 process"), Target("sqlite, 2 workers", workers=2)]


def targets_for(pg: str | None) -> list[Target]:
    return TARGETS + ([Target("postgresql, 2 workers", workers=2, db=pg)] if pg else [])


class CentreFailed(RuntimeError):
    pass


@dataclass
class Centre:
    process: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_centre(target: Target, folder: Path, template: Path, customers: int) -> Centre:
    """Start the target's centre on a free loopback port; CentreFailed (with the end of its log) if it does not
    answer /health within a minute."""
    slug = target.name.replace(", ", "-").replace(" ", "-")
    if target.db is None:
        db = folder / f"{slug}.db"
        shutil.copyfile(template, db)
        made = ["--db", str(db), "--demo"]
    else:
        made = ["--db", target.db, "--demo", "--fresh", "--customers", str(customers)]
    port = free_port()
    log = folder / f"{slug}.log"
    # In a folder of its own, so that a centre without the PostgreSQL backend, which takes the URL for a relative
    # SQLite file name, is caught (below) instead of measured as PostgreSQL.
    workdir = folder / f"{slug}-cwd"
    workdir.mkdir()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "clienteling", "central", *made, "--port", str(port)]
            + ["--workers", str(target.workers), "--profile-reads", NO_LIMIT],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                centre = Centre(process, url, log)
                if target.db is not None and any(workdir.iterdir()):
                    centre.stop()
                    raise CentreFailed(f"this centre took {target.db} for a SQLite file: it has no PostgreSQL backend")
                return centre
        except httpx.TransportError:
            time.sleep(0.2)
    if process.poll() is None:
        process.kill()
        process.wait()
    tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
    raise CentreFailed(f"the centre did not start (exit {process.returncode}): {tail}")


# ------------------------------------------------------------------ what the devices know before the clock starts


@dataclass
class Chain:
    """What the simulated devices start from: each store's feed cursors at the head, cards and emails to look up,
    SKUs to ask the stock of, and SKUs with stock at the DC for the order writers."""

    cursors: dict[str, dict[str, str]]
    customers: list[str]
    cards: list[str]
    emails: list[str]
    skus: list[str]
    orderable: list[str]


def read_chain(url: str) -> Chain:
    cursors: dict[str, dict[str, str]] = {}
    customers: list[str] = []
    cards: list[str] = []
    emails: list[str] = []
    skus: set[str] = set()
    orderable: list[str] = []
    for store in STORES:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer demo-{store}"}, timeout=120) as client:
            cursors[store] = {}
            for collection in POLLED:
                after = "0"
                while True:
                    page = client.get(f"/v1/sync/{collection}", params={"after": after, "limit": 5000})
                    page.raise_for_status()
                    body = page.json()
                    for item in body["items"]:
                        if collection == "customers":
                            customers.append(item["id"])
                            cards.append(item["card_number"])
                            emails.append(item["email"])
                        elif collection == "stock":
                            skus.add(item["sku"])
                            if store == STORES[0] and item["store"] == SHIP_FROM and item["available"] > 0:
                                orderable.extend([item["sku"]] * item["available"])
                    after = body["next_cursor"]
                    if not body["has_more"]:
                        break
                cursors[store][collection] = after
    rng = random.Random(12)
    rng.shuffle(orderable)
    return Chain(cursors, customers, [c for c in cards if c], [e for e in emails if e], sorted(skus), orderable)


# ------------------------------------------------------------------ the load


@dataclass
class Tally:
    recording: bool = False
    stop: bool = False
    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in KINDS})
    errors: dict[str, int] = field(default_factory=dict)
    refused_orders: int = 0

    def record(self, kind: str, seconds: float, status: int | None, *, began_recording: bool) -> None:
        """Count a request that began and ended inside the recorded window (not one of the warm-up's)."""
        if not (began_recording and self.recording):
            return
        if kind == "order" and status == 409:  # out of stock: an answer, not an error
            self.refused_orders += 1
        elif status is None or status >= 400:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            return
        self.latencies[kind].append(seconds)


class Answer(NamedTuple):
    status_code: int
    content: bytes

    def json(self):
        return json.loads(self.content)


class LeanClient:
    """A minimal HTTP/1.1 client over one keep-alive loopback connection, for the load generator: httpx costs ~2 ms
    of CPU a request, more than the centre spends answering it, and on a 2-core machine that CPU is the centre's.
    It speaks only what the centre answers (Content-Length or chunked bodies); `--httpx` measures with httpx."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        host_port = url.removeprefix("http://")
        self.host, _, port = host_port.partition(":")
        self.port = int(port or 80)
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in {"Host": host_port, **headers}.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None

    def get(self, path: str, params: dict[str, str] | None = None):
        return self._send("GET", path + ("?" + urlencode(params) if params else ""), b"", {})

    def post(self, path: str, json: dict, headers: dict[str, str]):
        return self._send("POST", path, _json_bytes(json), {**headers, "Content-Type": "application/json"})

    async def _send(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> Answer:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        head = f"{method} {target} HTTP/1.1\r\n{self.fixed}{extra}Content-Length: {len(body)}\r\n\r\n"
        try:
            writer.write(head.encode("latin-1") + body)
            status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
            if "content-length" in fields:
                content = await reader.readexactly(int(fields["content-length"]))
            else:  # chunked
                chunks = []
                while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                    chunks.append(await reader.readexactly(size))
                    await reader.readexactly(2)
                await reader.readexactly(2)
                content = b"".join(chunks)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            await self.__aexit__()
            raise httpx.TransportError(str(error)) from error
        if fields.get("connection") == "close":
            await self.__aexit__()
        return Answer(int(status_line.split(" ", 2)[1]), content)


def _json_bytes(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


async def _timed(tally: Tally, kind: str, request) -> httpx.Response | Answer | None:
    began, started = tally.recording, time.perf_counter()
    try:
        response = await request
    except httpx.HTTPError:
        tally.record(kind, time.perf_counter() - started, None, began_recording=began)
        return None
    tally.record(kind, time.perf_counter() - started, response.status_code, began_recording=began)
    return response


def _client(url: str, store: str, tls: ssl.SSLContext | None) -> httpx.AsyncClient | LeanClient:
    """A device's own client (its own connection): a `LeanClient`, or with `tls` an httpx client. One TLS context for
    all: httpx would load the CA bundle for each client otherwise, which for 200 clients stalls the event loop for
    seconds (the centre is plain HTTP anyway)."""
    headers = {"Authorization": f"Bearer demo-{store}"}
    if tls is None:
        return LeanClient(url, headers)
    return httpx.AsyncClient(base_url=url, headers=headers, timeout=60, verify=tls, trust_env=False)


async def device(
    client: httpx.AsyncClient | LeanClient, cursors: dict[str, str], rng: random.Random, chain: Chain, tally: Tally
) -> None:
    async with client:
        while not tally.stop:
            for collection in POLLED:
                answer = await _timed(
                    tally, "sync", client.get(f"/v1/sync/{collection}", params={"after": cursors[collection]})
                )
                if answer is not None and answer.status_code == 200:
                    cursors[collection] = answer.json()["next_cursor"]
            if rng.random() < 0.5:
                params = {"card": rng.choice(chain.cards)}
            else:
                params = {"email": rng.choice(chain.emails)}
            await _timed(tally, "lookup", client.get("/v1/customers/lookup", params=params))
            await _timed(tally, "stock", client.get(f"/v1/stock/{rng.choice(chain.skus)}"))


async def writer(client: httpx.AsyncClient | LeanClient, customer: str, skus: list[str], tally: Tally) -> None:
    async with client:
        while not tally.stop and skus:
            body = {
                "customer_id": customer,
                "fulfilling_store": SHIP_FROM,
                "lines": [{"sku": skus.pop(), "quantity": 1}],
                "shipping_address": ADDRESS,
                "placed_by": WRITER_STAFF,
            }
            headers = {"Idempotency-Key": str(uuid.uuid4())}
            await _timed(tally, "order", client.post("/v1/orders/ship-to-home", json=body, headers=headers))


class Load:
    """The simulated devices and writers of one target. Their state (each device's cursors and random choices, each
    writer's SKUs left, what was measured) lasts over the rounds: `round` runs them all once for a warm-up and
    `seconds` recorded, with fresh connections."""

    def __init__(self, centre: Centre, chain: Chain, devices: int, writers: int, *, use_httpx: bool = False) -> None:
        self.centre, self.chain, self.use_httpx = centre, chain, use_httpx
        self.stores = [STORES[n % len(STORES)] for n in range(devices)]
        self.cursors = [dict(chain.cursors[store]) for store in self.stores]
        self.rngs = [random.Random(n) for n in range(devices)]
        self.shares = [chain.orderable[n::writers] for n in range(writers)]
        self.customers = [chain.customers[n % len(chain.customers)] for n in range(writers)]
        self.tally = Tally()
        self.recorded = self.wall = self.own_cpu = self.centre_cpu = 0.0

    def round(self, seconds: float) -> None:
        own, served, wall = _own_cpu(), _process_tree_cpu(self.centre.process.pid), time.perf_counter()
        self.recorded += asyncio.run(self._round(seconds))
        self.wall += time.perf_counter() - wall
        self.own_cpu += _own_cpu() - own
        self.centre_cpu += _process_tree_cpu(self.centre.process.pid) - served

    async def _round(self, seconds: float) -> float:
        tally, url = self.tally, self.centre.url
        tls = ssl.create_default_context() if self.use_httpx else None
        tally.stop = False
        tasks = [
            asyncio.create_task(device(_client(url, store, tls), cursors, rng, self.chain, tally))
            for store, cursors, rng in zip(self.stores, self.cursors, self.rngs, strict=True)
        ]
        tasks += [
            asyncio.create_task(writer(_client(url, WRITER_STORE, tls), customer, skus, tally))
            for customer, skus in zip(self.customers, self.shares, strict=True)
        ]
        await asyncio.sleep(WARM_UP_SECONDS)
        tally.recording = True
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        tally.recording = False
        recorded = time.perf_counter() - started
        tally.stop = True
        await asyncio.gather(*tasks, return_exceptions=True)
        return recorded

    def figures(self) -> dict:
        tally, elapsed, cores = self.tally, self.recorded, os.cpu_count() or 1
        every = [s for samples in tally.latencies.values() for s in samples]
        return {
            "requests": len(every),
            "requests_per_s": round(len(every) / elapsed, 1),
            **_ms(every),
            "errors": sum(tally.errors.values()),
            "orders_refused_out_of_stock": tally.refused_orders,
            "kinds": {
                kind: {"requests": len(samples), "requests_per_s": round(len(samples) / elapsed, 1), **_ms(samples)}
                for kind, samples in tally.latencies.items()
            },
            "errors_by_kind": tally.errors,
            # over the whole rounds, warm-ups included: shares of the machine, so that is fair enough
            "generator_cpu_share": round(self.own_cpu / (self.wall * cores), 3),
            "centre_cpu_share": round(self.centre_cpu / (self.wall * cores), 3),
            "cores": cores,
        }


# ------------------------------------------------------------------ CPU


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _process_tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of `root` and its living descendants, from /proc (0 where there is none)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        spent[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew, tree = bool(more), tree | more
    return sum(spent.get(pid, 0.0) for pid in tree)


# ------------------------------------------------------------------ one target, all targets


def _ms(samples: list[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50_ms": None, "p99_ms": None}
    return {"p50_ms": round(percentile(samples, 0.5) * 1000, 1), "p99_ms": round(percentile(samples, 0.99) * 1000, 1)}


def run(
    devices: int = 200,
    seconds: float = 20.0,
    writers: int = 10,
    customers: int = 5000,
    pg: str | None = None,
    *,
    rounds: int = 4,
    use_httpx: bool = False,
    targets: list[Target] | None = None,
    progress=print,
) -> dict:
    """Measure the targets (`targets_for(pg)` unless `targets` says otherwise), each `seconds` in all, in `rounds`
    rounds that take turns between them; the figures as a dict."""
    results: dict = {
        "devices": devices,
        "writers": writers,
        "seconds": seconds,
        "rounds": rounds,
        "client": "httpx" if use_httpx else "lean",
        "demo_customers": customers,
    }
    measured: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="clienteling-bench-centre-") as tmp:
        folder = Path(tmp)
        template = folder / "demo.db"
        progress(f"making a {customers:,}-customer demo chain …")
        made = subprocess.run(
            [sys.executable, "-m", "clienteling", "central", "make-demo", "--customers", str(customers)]
            + ["--db", str(template)],
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            raise RuntimeError(f"could not make the demo chain: {made.stderr.strip()}")
        centres: dict[str, tuple[Target, Centre]] = {}
        try:
            for target in targets or targets_for(pg):
                progress(f"{target.name}: starting the centre …")
                try:
                    centres[target.name] = (target, start_centre(target, folder, template, customers))
                except CentreFailed as failure:
                    progress(f"{target.name}: skipped: {failure}")
                    skipped[target.name] = str(failure)
            loads = {
                name: Load(centre, read_chain(centre.url), devices, writers, use_httpx=use_httpx)
                for name, (_, centre) in centres.items()
            }
            names = list(loads)
            progress(
                f"{devices} devices and {writers} order writers, {seconds:g} s a target in {rounds} rounds, the targets"
                " taking turns …"
            )
            for turn in range(rounds if names else 0):  # taking turns, so a shared machine's load falls on each alike
                for name in names[turn % len(names) :] + names[: turn % len(names)]:
                    loads[name].round(seconds / rounds)
            for name, load in loads.items():
                measured[name] = {"workers": centres[name][0].workers, **load.figures()}
                progress("  " + describe_target(name, measured[name]))
        finally:
            for _, centre in centres.values():
                centre.stop()
    results["targets"] = measured
    results["skipped"] = skipped
    first = TARGETS[0].name
    base = measured.get(first)
    if base:
        for name, figures in measured.items():
            if name != first:
                results.setdefault("ratios_to_" + _key(first), {})[name] = {
                    "requests_per_s": round(figures["requests_per_s"] / base["requests_per_s"], 3),
                    "p99": round(figures["p99_ms"] / base["p99_ms"], 3) if base["p99_ms"] else None,
                }
    return results


def _key(name: str) -> str:
    return name.replace(", ", "_").replace(" ", "_")


def describe_target(name: str, figures: dict) -> str:
    kinds = ", ".join(
        f"{kind} {k['requests_per_s']:g}/s {k['p50_ms']}/{k['p99_ms']} ms"
        for kind, k in figures["kinds"].items()
        if k["requests"]
    )
    return (
        f"{name}: {figures['requests_per_s']:g} requests/s, p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"{figures['errors']} errors ({kinds}); CPU: generator {figures['generator_cpu_share']:.0%}, centre "
        f"{figures['centre_cpu_share']:.0%} of {figures['cores']} cores"
    )


def describe(results: dict) -> str:
    lines = [
        f"{results['devices']} devices (poll {', '.join(POLLED)}; look up; stock) and {results['writers']} order"
        + f" writers, {results['seconds']:g} s each (p50/p99):"
    ]
    lines += ["  " + describe_target(name, figures) for name, figures in results["targets"].items()]
    lines += [f"  {name}: skipped: {why}" for name, why in results["skipped"].items()]
    for base, ratios in ((k, v) for k, v in results.items() if k.startswith("ratios_to_")):
        for name, ratio in ratios.items():
            lines.append(
                f"  {name} / {base.removeprefix('ratios_to_')}: throughput × {ratio['requests_per_s']}, p99 × {ratio['p99']}"
            )
    return "\n".join(lines)


def main(
    as_json: bool, devices: int, seconds: float, writers: int, customers: int, pg: str | None, use_httpx: bool = False
) -> int:
    progress = (lambda _: None) if as_json else print
    results = run(devices, seconds, writers, customers, pg, use_httpx=use_httpx, progress=progress)
    print(json.dumps(results) if as_json else describe(results))
    return 0 if results["targets"] else 1
