"""The screens' logic below the browser: what a camera frame opens, when the camera is offered, words and money."""

from __future__ import annotations

from types import SimpleNamespace
from typing import get_args

import flet as ft
import pytest
from conftest import start_central

from clienteling import codes
from clienteling.config import Settings
from clienteling.contract import OrderStatus
from clienteling.ui import i18n
from clienteling.ui.screens import camera
from clienteling.ui.screens.ship_to_home import dutch_postcode
from clienteling.ui.session import screen_for


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    from clienteling.device import Device

    centre = start_central(tmp_path_factory.mktemp("ui-centre") / "central.db", "--demo", "--customers", "100")
    settings = Settings.load(
        tmp_path_factory.mktemp("ui-device"), central_url=centre.url, device_token="demo-AMS01", store="AMS01"
    )
    with Device(settings) as device:
        assert device.sync_now().ok
        yield device
    centre.stop()


def test_a_camera_frame_of_a_card_opens_that_customer(device):
    frame = codes.card_png("2700000000014", name="Sanne de Vries")
    found = [screen_for(device.lookup(code.text)) for code in codes.decode_image(frame)]
    assert found == ["/customer/C0000001"]


def test_a_camera_frame_of_a_product_label_opens_its_stock(device):
    sku = "CT01-NVY-M"
    gtin = device.product(sku).variant.gtin
    import io

    import qrcode

    buffer = io.BytesIO()
    qrcode.make(f"https://id.example.com/01/{gtin.zfill(14)}").save(buffer, format="PNG")
    assert [screen_for(device.lookup(c.text)) for c in codes.decode_image(buffer.getvalue())] == [f"/stock/{sku}"]


def test_the_camera_is_offered_only_where_it_can_work(monkeypatch):
    monkeypatch.delenv("CLIENTELING_CAMERA", raising=False)
    assert camera.camera_available(SimpleNamespace(platform=ft.PagePlatform.ANDROID))
    assert camera.camera_available(SimpleNamespace(platform=ft.PagePlatform.IOS))
    assert not camera.camera_available(SimpleNamespace(platform=ft.PagePlatform.LINUX))
    monkeypatch.setenv("CLIENTELING_CAMERA", "1")  # a web app built with the camera extension
    assert camera.camera_available(SimpleNamespace(platform=ft.PagePlatform.LINUX))


def test_every_word_is_there_in_dutch_and_english():
    assert set(i18n.STRINGS["nl"]) == set(i18n.STRINGS["en"])
    untranslated = [k for k in i18n.STRINGS["en"] if i18n.STRINGS["nl"][k] == i18n.STRINGS["en"][k]]
    same_in_both = {
        "app_title",
        "tab_chats",
        "kind_chat",
        "online",
        "offline",
        "elsewhere",
        "order_status",
        "postcode",
        "channel_app",
    }
    assert set(untranslated) <= same_in_both
    assert i18n.tr("nl", "in_this_store", n=3) == "3 in deze winkel"


def test_every_order_status_has_a_word_in_both_languages():
    statuses = set(get_args(OrderStatus))
    assert set(i18n.STATUS["en"]) == statuses and set(i18n.STATUS["nl"]) == statuses
    assert i18n.status("nl", "completed") == "Afgerond"


@pytest.mark.parametrize(
    ("cents", "lang", "shown"),
    [(12995, "en", "€ 129.95"), (12995, "nl", "€ 129,95"), (123456, "nl", "€ 1.234,56"), (-500, "en", "€ -5.00")],
)
def test_money_reads_as_each_language_writes_it(cents, lang, shown):
    assert i18n.money(cents, lang) == shown


@pytest.mark.parametrize(
    ("typed", "postcode"),
    [("1012ab", "1012 AB"), (" 3511 LX ", "3511 LX"), ("0123 AB", None), ("1012 SA", None), ("1012", None), ("", None)],
)
def test_dutch_postcodes_are_checked_and_written_the_dutch_way(typed, postcode):
    assert dutch_postcode(typed) == postcode
