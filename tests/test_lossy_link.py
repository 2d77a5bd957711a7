"""The outbox drains on a lossy link: with 30 % of connections reset (half before the centre sees the request, half
after it committed), a round goes on past each failed request, every command arrives exactly once, and the backoff
that grew while nothing got through is back to 0 as soon as something does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Central

from clienteling.config import Settings
from clienteling.device import Device
from clienteling.faultproxy import FaultProxy

pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL

MARK = "S0003"  # a staff member of AMS01 (the device's store) whom nothing else in this centre names
COMMANDS = 40


def test_a_queue_drains_exactly_once_through_a_link_that_resets_30_percent(
    fresh_central: Central, tmp_path: Path
) -> None:
    proxy = FaultProxy(int(fresh_central.url.rsplit(":", 1)[1]), seed=30).start()
    settings = Settings.load(tmp_path / "device", central_url=proxy.url, device_token="demo-AMS01", store="AMS01")
    device = Device(settings)
    try:
        assert device.sync_now().ok
        syncer = device.syncer
        customers = [r[0] for r in device.cache.query("SELECT id FROM customers ORDER BY id LIMIT 10")]
        skus = [r[0] for r in device.cache.query("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 2")]
        orders, notes = [], []
        for i in range(COMMANDS):
            customer = customers[i % len(customers)]
            if i % 2:
                note = device.add_note(customer, f"lossy {i}", staff=MARK, send_now=False)
                notes.append(note.command_id)
            else:
                order = device.place_ship_to_home(
                    customer, [(skus.pop(), 1)], fulfilling_store="DC01", staff=MARK, send_now=False
                )
                orders.append(order.command_id)

        # Nothing gets through: the background loop's backoff grows round after round.
        proxy.set_down(True)
        for failures in (1, 2, 3):
            report = syncer.sync_once(pull=False)
            assert report.error and report.sent == 0
            syncer.pause_after(report, interval=15.0)
            assert syncer.backoff.failures == failures

        # A lossy link: the first round goes on past the resets and sends (nearly) everything; progress resets the
        # backoff even if a round still ends on a failure.
        proxy.set_down(False)
        proxy.set_faults(reset=0.15, reset_after=0.15)
        first = syncer.sync_once(pull=False)
        assert first.sent >= COMMANDS // 2, first
        assert syncer.backoff.failures == 0
        assert proxy.stats["reset"] + proxy.stats["reset_after"] >= 5, proxy.stats
        rounds = 1
        while device.sync_state().waiting and rounds < 10:
            report = syncer.sync_once(pull=False)
            assert report.sent > 0 or report.ok, report  # every round gets something through
            rounds += 1
        state = device.sync_state()
        assert (state.waiting, state.attention) == (0, 0), state
        assert syncer.backoff.failures == 0
    finally:
        device.close()
        proxy.stop()

    with Device(settings) as again:
        sent = {c.command_id: c for c in again.commands() if c.staff == MARK}
    assert set(sent) == set(orders + notes) and all(c.state == "sent" for c in sent.values())
    keys = {row[0] for row in fresh_central.rows("SELECT key FROM idempotency")}
    made = {row[0] for row in fresh_central.rows("SELECT id FROM orders WHERE doc->>'placed_by' = ?", (MARK,))}
    noted = fresh_central.rows("SELECT count(*) FROM notes WHERE doc->>'author' = ?", (MARK,))[0]
    assert set(orders + notes) <= keys
    assert made == {sent[command_id].number for command_id in orders} and len(made) == len(orders)
    assert noted[0] == len(notes)


def test_the_drain_bench_reports_both_ratios_beside_the_loss_free_rate(fresh_central: Central, tmp_path: Path) -> None:
    from types import SimpleNamespace

    from clienteling.bench import bench_drain

    centre = SimpleNamespace(port=int(fresh_central.url.rsplit(":", 1)[1]))
    results = bench_drain(tmp_path, centre, commands=4, repeats=2)  # type: ignore[arg-type]
    assert results["drain_commands"] == 8
    for key in ("drain_loss_free_per_s", "drain_ratio_loss_5pct", "drain_ratio_loss_30pct"):
        assert results[key] > 0, results
