"""Nothing lost, nothing doubled: 500+ commands through an unreachable, then faulty, network, with the syncing
process killed (SIGKILL) at random moments and restarted.

A fault-injecting proxy on loopback sits between the device and a real centre: it drops responses after the
centre committed, resets connections, delays, answers 503 and 429, truncates and garbles. At the end every
command produced exactly one order, return or note at the centre, the outbox is empty, and the device's cache
equals the centre for its scope. Bounded by FAULT_TEST_SECONDS (default 90) for the faulty phase.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import Central, demo_centre
from test_device import assert_cache_equals_centre

from clienteling.config import Settings
from clienteling.contract import utc_now
from clienteling.device import Device
from clienteling.faultproxy import FaultProxy

pytestmark = pytest.mark.both_backends  # the centre runs on SQLite and on PostgreSQL

MARK = "S0003"  # a staff member of AMS01 (the device's store) whom nothing else in this centre names
TOTAL = 520


def sync_worker(settings: Settings) -> subprocess.Popen:
    env = {
        **os.environ,
        "CLIENTELING_DATA_DIR": str(settings.data_dir),
        "CLIENTELING_CENTRAL_URL": settings.central_url,
        "CLIENTELING_DEVICE_TOKEN": settings.device_token,
        "CLIENTELING_STORE": settings.store,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "clienteling", "sync", "--interval", "0.05", "--max-backoff", "0.3"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class CommandMaker:
    """Makes ship-to-home orders (one per SKU, so stock never runs out), notes and returns, as staff would."""

    def __init__(self, device: Device, rng: random.Random) -> None:
        self.device, self.rng = device, rng
        self.skus = [r[0] for r in device.cache.query("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 3")]
        rng.shuffle(self.skus)
        self.customers = [
            r[0] for r in device.cache.query("SELECT id FROM customers WHERE origin = 'sync' ORDER BY id")
        ]
        self.returnable = [
            (order.number, line.line_no)
            for customer in self.customers
            for order in device.customer_picture(customer).orders
            if order.status == "delivered" and utc_now() - order.delivered_at < timedelta(days=29)
            for line in order.lines
        ][:12]
        self.made = {"ship_to_home": 0, "note": 0, "return": 0}

    def make(self) -> None:
        roll = self.rng.random()
        if self.returnable and roll < 0.03:
            number, line_no = self.returnable.pop()
            line = {"line_no": line_no, "quantity": 1, "reason": "too_large", "condition": "resellable"}
            self.device.register_return(number, [line], staff=MARK, send_now=False)
            self.made["return"] += 1
        elif roll < 0.15:
            self.device.add_note(
                self.rng.choice(self.customers), f"note {sum(self.made.values())}", staff=MARK, send_now=False
            )
            self.made["note"] += 1
        else:
            sku = self.skus.pop()
            self.device.place_ship_to_home(
                self.rng.choice(self.customers), [(sku, 1)], fulfilling_store="DC01", staff=MARK, send_now=False
            )
            self.made["ship_to_home"] += 1

    @property
    def total(self) -> int:
        return sum(self.made.values())


def test_commands_reach_the_centre_exactly_once_through_faults_and_kills(tmp_path, backend):
    with demo_centre(backend, tmp_path, 300) as centre:
        commands_reach_the_centre_exactly_once(centre, tmp_path)


def commands_reach_the_centre_exactly_once(centre: Central, tmp_path: Path) -> None:
    rng = random.Random(20261123)
    proxy = FaultProxy(int(centre.url.rsplit(":", 1)[1]), seed=7).start()
    settings = Settings.load(tmp_path / "device", central_url=proxy.url, device_token="demo-AMS01", store="AMS01")
    device = Device(settings)
    worker = None
    try:
        assert device.sync_now().ok
        maker = CommandMaker(device, rng)

        # The centre is unreachable: half of the commands are made while nothing gets through.
        proxy.set_down(True)
        while maker.total < TOTAL // 2:
            maker.make()
        assert device.sync_now().error is not None and device.sync_state().waiting == TOTAL // 2

        # The network comes back, faulty; the syncing process is killed at random moments and restarted,
        # while staff go on making commands.
        proxy.set_down(False)
        proxy.set_faults(
            drop_response=0.1, reset=0.05, delay=0.05, status_503=0.05, status_429=0.04, truncate=0.04, garbage=0.04
        )
        kills = 0
        deadline = time.monotonic() + float(os.environ.get("FAULT_TEST_SECONDS", "90"))
        while time.monotonic() < deadline and (maker.total < TOTAL or device.sync_state().waiting):
            worker = sync_worker(settings)
            end = time.monotonic() + rng.uniform(0.4, 2.0)
            while time.monotonic() < end:
                if maker.total < TOTAL:
                    maker.make()
                time.sleep(0.01)
            if rng.random() < 0.2:
                proxy.set_down(True)  # a Wi-Fi drop while it runs
                time.sleep(0.2)
                proxy.set_down(False)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            worker = None
            kills += 1
        assert maker.total >= 500 and kills >= 10
        print(f"\n{maker.made} made, {kills} kills, {device.sync_state().waiting} still waiting; proxy: {proxy.stats}")

        # The network heals; one clean round must finish the job.
        proxy.set_faults()
        for _ in range(5):
            if device.sync_now().ok and device.sync_state().waiting == 0:
                break
        state = device.sync_state()
        assert (state.waiting, state.attention) == (0, 0), state

        commands = device.commands()
        ours = [c for c in commands if c.staff == MARK]
        assert len(ours) == maker.total and all(c.state == "sent" for c in ours)
        assert device.journal.waiting() == []

        answered = dict(centre.rows("SELECT key, status FROM idempotency WHERE store = 'AMS01'"))
        assert all(answered.get(c.command_id) == 201 for c in ours)
        made_orders = centre.rows("SELECT id FROM orders WHERE doc->>'placed_by' = ?", (MARK,))
        made_notes = centre.rows("SELECT id FROM notes WHERE doc->>'author' = ?", (MARK,))
        made_returns = centre.rows("SELECT id FROM returns WHERE doc->>'received_by' = ?", (MARK,))
        assert len(made_orders) == maker.made["ship_to_home"]
        assert len(made_notes) == maker.made["note"]
        assert len(made_returns) == maker.made["return"]
        assert {c.number for c in ours if c.kind == "ship_to_home"} == {row[0] for row in made_orders}
        assert {c.number for c in ours if c.kind == "return"} == {row[0] for row in made_returns}

        stats = proxy.stats
        for fault in ("drop_response", "reset", "status_503", "status_429", "truncate", "garbage"):
            assert stats[fault] > 0, (fault, stats)
        assert_cache_equals_centre(device, centre)
    finally:
        if worker is not None:
            worker.kill()
        device.close()
        proxy.stop()
