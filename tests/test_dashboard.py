"""The store's figures by week (issue 14, "Credit where it is due"): worked out by the centre from what the store did,
kept on the device for when the centre cannot be asked. Real centre, real device, on both backends."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from conftest import Central, demo_centre, free_port

from clienteling import rules
from clienteling.config import Settings
from clienteling.contract import Dashboard
from clienteling.device import Device

pytestmark = pytest.mark.both_backends


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, backend: str) -> Iterator[Central]:
    with demo_centre(backend, tmp_path_factory.mktemp("dashboard"), 150) as server:
        yield server


def open_device(folder, url: str, store: str = "AMS01") -> Device:
    return Device(Settings.load(folder, central_url=url, device_token=f"demo-{store}", store=store))


def dashboard(centre: Central, store: str = "AMS01", **params) -> Dashboard:
    with centre.client(f"demo-{store}") as client:
        answer = client.get("/v1/dashboard", params=params)
    assert answer.status_code == 200, answer.text
    return Dashboard.model_validate(answer.json())


def line_of(board: Dashboard, staff_id: str | None):
    return board.store_total if staff_id is None else next(s for s in board.staff if s.staff_id == staff_id)


def test_the_store_line_adds_up_its_staff_and_weeks_are_the_store_s_mondays(centre) -> None:
    board = dashboard(centre, weeks=12)
    assert board.store == "AMS01" and [s.name for s in board.staff] == sorted(s.name for s in board.staff)
    assert {s.staff_id for s in board.staff} == {"S0001", "S0002", "S0003"}  # Amsterdam's, no one else's
    weeks = [w.week for w in board.store_total.weeks]
    assert len(weeks) == 12 and all(w.weekday() == 0 for w in weeks)
    assert weeks[-1] == rules.week_of(rules.store_day(datetime.now(UTC)))
    assert all((b - a).days == 7 for a, b in itertools.pairwise(weeks))
    # every in-store sale of the demo was rung up by someone on the floor: the store's sales are theirs, week by week
    for index, week in enumerate(board.store_total.weeks):
        assert week.in_store.cents == sum(s.weeks[index].in_store.cents for s in board.staff)
    assert sum(w.in_store.cents for w in board.store_total.weeks) > 0  # the demo sells in Amsterdam
    assert all(w.in_store.cents == 0 for w in line_of(board, "S0003").weeks)  # the manager is not on the floor


def test_an_order_lotte_places_and_a_profile_she_opens_count_for_her_this_week(centre, tmp_path) -> None:
    before = dashboard(centre)
    with open_device(tmp_path / "ams", centre.url) as device:
        assert device.sync_now().ok
        customer = centre.rows(
            "SELECT customer_id FROM customer_scope WHERE store = 'AMS01' ORDER BY customer_id DESC LIMIT 1"
        )[0][0]
        sku = device.cache.scalar("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 2 ORDER BY sku LIMIT 1")
        placed = device.place_ship_to_home(customer, [(sku, 2)], fulfilling_store="DC01", staff="S0001")
        device.record_profile_view(customer, "S0001")
        assert device.sync_now().ok and device.command(placed.command_id).state == "sent"
        order = device.order(device.command(placed.command_id).number)
    after = dashboard(centre)
    lotte_before, lotte_after = line_of(before, "S0001").weeks[-1], line_of(after, "S0001").weeks[-1]
    assert lotte_after.in_store.cents - lotte_before.in_store.cents == rules.net_sales_cents(order) > 0
    assert lotte_after.customers_served == lotte_before.customers_served + 1  # one customer, served twice
    total_before, total_after = before.store_total.weeks[-1], after.store_total.weeks[-1]
    assert total_after.in_store.cents - total_before.in_store.cents == rules.net_sales_cents(order)
    ruben_before, ruben_after = line_of(before, "S0002").weeks[-1], line_of(after, "S0002").weeks[-1]
    assert ruben_after == ruben_before  # nothing of Lotte's is Ruben's


def test_a_device_shows_the_figures_it_kept_when_the_centre_is_away(centre, tmp_path) -> None:
    folder = tmp_path / "ams"
    with open_device(folder, f"http://127.0.0.1:{free_port()}") as never_online:
        view = never_online.dashboard()
        assert view.dashboard is None and view.offline == "centre_unreachable"
    with open_device(folder, centre.url) as device:
        fetched = device.dashboard(weeks=4)
        assert fetched.offline is None and len(fetched.dashboard.store_total.weeks) == 4
    with open_device(folder, f"http://127.0.0.1:{free_port()}") as cut_off:
        kept = cut_off.dashboard()
    assert kept.offline == "centre_unreachable" and kept.dashboard == fetched.dashboard


def test_a_device_sees_only_its_own_store_and_bad_weeks_are_refused(centre) -> None:
    assert {s.staff_id for s in dashboard(centre, "UTR01").staff} == {"S0004", "S0005", "S0006"}
    with centre.client() as client:
        for weeks in ("0", "27", "x"):
            answer = client.get("/v1/dashboard", params={"weeks": weeks})
            assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")
    with centre.client(None) as client:
        assert client.get("/v1/dashboard").status_code == 401


def test_weeks_are_the_store_s_calendar_weeks_across_summer_time() -> None:
    assert rules.week_of(date(2026, 11, 30)) == date(2026, 11, 30)  # a Monday is its own week
    assert rules.week_of(date(2026, 12, 6)) == date(2026, 11, 30)  # Sunday ends it
    # Sunday 23:30 in Amsterdam is still that week, though it is Sunday 22:30 UTC in winter, 21:30 in summer
    assert rules.week_start(date(2026, 11, 30)) == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert rules.week_start(date(2026, 6, 29)) == datetime(2026, 6, 28, 22, 0, tzinfo=UTC)
    assert rules.store_day(datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) == date(2026, 11, 30)


def test_sales_are_what_was_kept_without_shipping() -> None:
    from clienteling.contract import Order

    order = Order.model_validate(
        {
            "number": "ORD-00000001",
            "customer_id": "C0000001",
            "channel": "store",
            "fulfilment": "delivery",
            "store": "AMS01",
            "status": "partially_returned",
            "status_history": [{"status": "placed", "at": "2026-11-01T10:00:00+00:00"}],
            "lines": [
                {
                    "line_no": 1,
                    "sku": "CT01-NVY-M",
                    "name": "Coat",
                    "colour": "navy",
                    "size": "M",
                    "quantity": 2,
                    "unit_price": {"cents": 100_00},
                    "returned_quantity": 1,
                },
                {
                    "line_no": 2,
                    "sku": "KN01-GRY-M",
                    "name": "Jumper",
                    "colour": "grey",
                    "size": "M",
                    "quantity": 1,
                    "unit_price": {"cents": 49_95},
                },
            ],
            "totals": {"subtotal": {"cents": 249_95}, "shipping": {"cents": 4_95}, "total": {"cents": 254_90}},
            "created_at": "2026-11-01T10:00:00+00:00",
            "updated_at": "2026-11-01T10:00:00+00:00",
        }
    )
    assert rules.net_sales_cents(order) == 149_95
    assert rules.net_sales_cents(order.model_copy(update={"status": "cancelled"})) == 0


def test_a_follow_up_lotte_does_counts_for_her(centre, tmp_path) -> None:
    board = dashboard(centre)
    before, ruben_before = line_of(board, "S0001").weeks[-1], line_of(board, "S0002").weeks[-1]
    with open_device(tmp_path / "ams", centre.url) as device:
        assert device.sync_now().ok
        customer = centre.rows(
            "SELECT customer_id FROM customer_scope WHERE store = 'AMS01' ORDER BY customer_id DESC LIMIT 1 OFFSET 3"
        )[0][0]
        made = device.add_follow_up(customer, "Call her about the alterations", device.today(), staff="S0001")
        assert device.sync_now().ok
        done = device.follow_up_done(made.body["id"], staff="S0001")
        assert device.sync_now().ok and device.command(done.command_id).state == "sent"
    board = dashboard(centre)
    assert line_of(board, "S0001").weeks[-1].follow_ups_done == before.follow_ups_done + 1
    assert line_of(board, "S0002").weeks[-1].follow_ups_done == ruben_before.follow_ups_done  # only the one who did it
    assert board.store_total.weeks[-1].follow_ups_done >= 1
