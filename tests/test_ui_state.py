"""The screens' state objects, driven without a page: what a scanner's keys become, an order placed and followed."""

from __future__ import annotations

import asyncio

import pytest
from conftest import start_central

from clienteling.config import Settings
from clienteling.ui.state import ScanKeys, ShipToHomeOrder


def typed(keys: ScanKeys, text: str) -> None:
    for char in text:
        keys.key(char.upper() if char.isalpha() else char)


def test_keys_before_the_field_has_focus_complete_the_scan_the_field_missed():
    keys = ScanKeys()
    keys.expect()
    typed(keys, "2700")  # the field is not there yet
    keys.focused(True)
    typed(keys, "000000014")  # the page hears these too
    assert keys.take("000000014") == "2700000000014"
    assert keys.buffer == ""


def test_an_enter_before_the_field_has_focus_completes_the_scan_by_itself():
    keys = ScanKeys()
    keys.expect()
    typed(keys, "2700000000021")
    keys.key("Enter")
    assert keys.take_completed() == "2700000000021"
    assert keys.take_completed() is None  # taken once


def test_the_field_wins_where_it_was_edited_and_keys_are_kept_only_while_listening():
    keys = ScanKeys()
    typed(keys, "2700")  # no look-up screen on its way: nobody's keys
    assert keys.buffer == ""
    keys.expect()
    keys.focused(True)
    typed(keys, "sanne")
    keys.key("Backspace")
    assert keys.buffer == "sann"
    assert keys.take("sanne de v") == "sanne de v"  # a soft keyboard or a paste: the field's own text
    keys.key("Enter")
    assert keys.completed is None  # with the field focused, its own submit handles Enter
    keys.closed()
    typed(keys, "1")
    assert keys.buffer == ""


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    from clienteling.device import Device

    centre = start_central(tmp_path_factory.mktemp("state-centre") / "central.db", "--demo", "--customers", "60")
    settings = Settings.load(
        tmp_path_factory.mktemp("state-device"), central_url=centre.url, device_token="demo-AMS01", store="AMS01"
    )
    with Device(settings) as device:
        assert device.sync_now().ok
        yield device
    centre.stop()


def test_an_order_is_placed_without_waiting_for_the_centre_and_followed_until_it_has_a_number(device):
    sku = device.stock("CT01-NVY-M").sku
    order = ShipToHomeOrder(device, "C0000001", sku, staff_id=None)
    device.start_background_sync(interval=30)  # the app's sender: a new command only wakes it

    async def place_and_follow():
        placed = await order.place(1, "DC01", None)
        assert placed is not None and order.step == "done"
        await asyncio.wait_for(order.follow(every=0.05), 30)
        return placed

    placed = asyncio.run(place_and_follow())
    assert order.placed.command_id == placed.command_id
    assert order.placed.state == "sent" and order.placed.number.startswith("ORD-")


def test_a_refused_order_goes_back_to_the_form_with_the_reason(device):
    order = ShipToHomeOrder(device, "C0000001", "NO-SUCH-SKU")
    assert asyncio.run(order.place(1, "DC01", None)) is None
    assert order.step == "form" and "NO-SUCH-SKU" in str(order.error)


def test_initials_skip_dutch_surname_prefixes():
    from clienteling.ui.i18n import initials

    assert initials("Sanne", "de Vries") == "SV"
    assert initials("Jan", "van der Berg") == "JB"
    assert initials("zoë", "çelik") == "ZÇ"
    assert initials("Daan", "Jansen") == "DJ"
    assert initials("Mo", "") == "M"
