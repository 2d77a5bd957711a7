"""The screens' logic below the browser: what a camera frame opens, when the camera is offered, words and money."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import get_args

import flet as ft
import pytest
from conftest import start_central

from clienteling import codes
from clienteling.config import Settings
from clienteling.contract import OrderStatus, utc_now
from clienteling.rules import RETURN_WINDOW
from clienteling.ui import i18n
from clienteling.ui.screens import camera, customer
from clienteling.ui.session import screen_for
from clienteling.ui.state import order_returns


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
        "colour_camel",
        "colour_ecru",
        "note_by",  # only the names, the store and the time
        "key_other",  # only the label and the date
        "channel_whatsapp",  # a product's name
        "system_commercetools",  # a product's name
        "chat_channel_whatsapp",
        "message_from",  # only the associate's name and the store
        "message_link",  # "link" is Dutch too
        "journey_stage_planning",  # Dutch says planning and service too
        "journey_stage_service",
        "journey_channel_other",  # "via" and the channel's name
    }
    assert set(untranslated) <= same_in_both
    assert i18n.tr("nl", "in_this_store", n=3) == "3 in deze winkel"


def test_every_order_status_has_a_word_in_both_languages():
    statuses = set(get_args(OrderStatus))
    assert set(i18n.STATUS["en"]) == statuses and set(i18n.STATUS["nl"]) == statuses
    assert i18n.status("nl", "completed") == "Afgerond"


@pytest.mark.parametrize(
    ("cents", "lang", "shown"),
    [
        (12995, "en", "€129.95"),
        (12995, "nl", "€\xa0129,95"),
        (123456, "nl", "€\xa01.234,56"),
        (123456, "en", "€1,234.56"),
        (-500, "en", "-€5.00"),
        (-500, "nl", "€\xa0-5,00"),
    ],
)
def test_money_reads_as_each_language_writes_it(cents, lang, shown):
    assert i18n.money(cents, lang) == shown


def identifiers(controls: list[ft.Control]) -> dict[str, ft.Control]:
    """Every tagged control below `controls` (what the browser tests find by identifier), by its identifier."""
    found: dict[str, ft.Control] = {}

    def walk(control: ft.Control) -> None:
        if isinstance(control, ft.Semantics) and control.identifier:
            found[control.identifier] = control.content
        for name in ("content", "controls"):
            child = getattr(control, name, None)
            for each in child if isinstance(child, list) else [child]:
                if isinstance(each, ft.Control):
                    walk(each)

    for control in controls:
        walk(control)
    return found


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_customer_screen_offers_no_return_outside_the_window_and_says_why(device, lang):
    session = SimpleNamespace(
        device=device, lang=lang, t=lambda key, **values: i18n.tr(lang, key, **values), may=lambda right: True
    )
    picture = device.customer_picture("C0000001")
    old = next(
        o
        for o in picture.orders
        if o.fulfilment == "delivery" and o.delivered_at and utc_now() - o.delivered_at > RETURN_WINDOW
    )
    recent = next(o for o in picture.orders if device.return_eligibility(o).returnable)
    in_store = next(o for o in picture.orders if o.fulfilment == "in_store")
    closed_on = i18n.local(old.delivered_at + RETURN_WINDOW, lang=lang, with_time=False)
    why = customer.return_offer(device.return_eligibility(old), lang)
    assert (
        why
        == {
            "en": f"The 30-day return window closed on {closed_on}.",
            "nl": f"De retourtermijn van 30 dagen is verlopen op {closed_on}.",
        }[lang]
    )
    shown = identifiers(customer.orders_tab(session, picture, order_returns(device, picture)))
    assert f"order-return-{old.number}" not in shown and shown[f"order-no-return-{old.number}"].value == why
    assert f"order-return-{in_store.number}" not in shown
    assert shown[f"order-no-return-{in_store.number}"].value == i18n.tr(lang, "error_bought_in_store")
    assert f"order-return-{recent.number}" in shown and f"order-no-return-{recent.number}" not in shown
    assert customer.return_offer(device.return_eligibility(recent), lang) is None
    closes = recent.delivered_at + RETURN_WINDOW
    later = device.return_eligibility(recent, now=closes + timedelta(seconds=1))
    assert i18n.local(closes, lang=lang, with_time=False) in customer.return_offer(later, lang)


def test_the_timeline_shows_each_order_and_return_made_here_once_and_chats_at_the_chats_time(device):
    """Sanne's timeline after an order and a return made on this device and synced: each once, not also as the
    command that made it; her chats at the time the Chats tab shows."""
    from datetime import timedelta

    from clienteling.contract import Address
    from clienteling.device.views import timeline

    sanne = "C0000001"
    sku = device.cache.scalar("SELECT sku FROM stock WHERE store = 'DC01' AND available >= 1 ORDER BY sku LIMIT 1")
    home = Address(street="Dam", house_number="1", postcode="1012NX", city="Amsterdam")
    placed = device.place_ship_to_home(sanne, [(sku, 1)], fulfilling_store="DC01", address=home, staff="S0001")
    recent = next(
        o
        for o in device.customer_picture(sanne).orders
        if o.fulfilment == "delivery" and o.status == "delivered" and utc_now() - o.delivered_at < timedelta(days=29)
    )
    returned = device.register_return(
        recent.number, [{"line_no": 1, "quantity": 1, "reason": "too_small", "condition": "resellable"}], staff="S0002"
    )
    assert device.sync_now().ok
    picture = device.customer_picture(sanne)
    assert {c.command_id: c.state for c in picture.commands}[placed.command_id] == "sent"
    assert {c.command_id: c.state for c in picture.commands}[returned.command_id] == "sent"
    events = timeline(picture)
    order_number = device.command(placed.command_id).number
    assert [e.kind for e in events if e.title == order_number] == ["ship_to_home"]  # once, as the centre's order
    assert not [e for e in events if e.made_here]  # nothing the centre already shows, twice
    assert [e.kind for e in events if e.title == recent.number].count("return") == 1
    chats = {c.subject: c.updated_at for c in picture.conversations}
    assert sorted((e.title, e.at) for e in events if e.kind == "chat") == sorted(chats.items())
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)


def test_a_command_the_centre_does_not_show_yet_stands_in_the_timeline(device):
    from clienteling.device.views import timeline

    note = device.add_note("C0000002", "Asked for the navy coat in M.", staff="S0001", send_now=False)
    events = timeline(device.customer_picture("C0000002"))
    mine = [e for e in events if e.made_here]
    assert [(e.kind, e.state) for e in mine] == [("note", "waiting")] and mine[0].at == note.created_at


def test_a_fact_says_which_system_it_came_from_and_how_old_it_is_in_both_languages():
    from datetime import UTC, datetime, timedelta

    from clienteling.ui.i18n import from_system, from_systems

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert from_system("en", "webshop", now - timedelta(minutes=3), now) == "from the webshop, 3 minutes ago"
    assert from_system("nl", "webshop", now - timedelta(minutes=3), now) == "uit de webshop, 3 minuten geleden"
    assert from_system("en", "pim", now - timedelta(hours=2), now) == "from pim, 2 hours ago"  # a name it does not know
    both = {"webshop": now - timedelta(days=3), "loyalty": now - timedelta(minutes=2)}
    assert from_systems("en", both, now) == "from the loyalty system, 2 minutes ago · from the webshop, 3 days ago"
    assert from_systems("nl", {}, now) == ""
