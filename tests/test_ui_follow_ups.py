"""Follow-ups and My customers on screen (issue 14), without a browser: the state objects the look-up and customer
screens hold, driven with a real device, and the words a task is shown with in both languages."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest
from conftest import free_port, start_central

from clienteling.config import Settings
from clienteling.device import Device
from clienteling.ui.i18n import tr
from clienteling.ui.screens.follow_ups import due_words, follow_up_words
from clienteling.ui.state import ClientBook, CustomerProfile, FollowUpForm, FollowUpList

LOTTE = "S0001"
SANNE = "C0000001"


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    server = start_central(tmp_path_factory.mktemp("ui-fu-centre") / "central.db", "--demo", "--customers", "60")
    yield server
    server.stop()


@pytest.fixture
def device(centre, tmp_path):
    settings = Settings.load(tmp_path, central_url=centre.url, device_token="demo-AMS01", store="AMS01")
    with Device(settings) as device:
        assert device.sync_now().ok
        yield device


def offline(device: Device) -> Device:
    settings = Settings.load(
        device.settings.data_dir,
        central_url=f"http://127.0.0.1:{free_port()}",
        device_token="demo-AMS01",
        store="AMS01",
    )
    return Device(settings)


def session(lang: str) -> SimpleNamespace:
    return SimpleNamespace(lang=lang, t=lambda key, **values: tr(lang, key, **values))


def test_todays_list_shows_the_demo_tasks_and_done_and_snooze_take_them_off_at_once(device) -> None:
    listed = FollowUpList(device, LOTTE)
    asyncio.run(listed.refresh())
    mine = [s for s in listed.items if s.task.customer_id == SANNE]
    assert {s.task.origin for s in mine} == {"centre", "staff"}  # the coat back in M, and the knitwear
    back = next(s for s in mine if s.task.origin == "centre")
    assert back.product_name and back.customer_name == "Sanne de Vries"
    assert any(s.task.assignee is None for s in listed.items)  # the store's list is everyone's
    asyncio.run(listed.done(back.id))
    asyncio.run(listed.snooze(next(s.id for s in mine if s.task.origin == "staff"), "next_week"))
    assert SANNE not in {s.task.customer_id for s in listed.items}
    assert listed.error is None


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_task_the_centre_made_is_worded_in_the_readers_language(device, lang) -> None:
    (back,) = [s for s in device.follow_ups(LOTTE) if s.task.reason == "back_in_stock"]
    words = follow_up_words(session(lang), back)
    assert back.product_name in words and back.task.sku.rsplit("-", 1)[-1] in words
    assert words != follow_up_words(session("nl" if lang == "en" else "en"), back)
    today = device.today()
    assert due_words(session(lang), back, today) == tr(lang, "follow_up_due_today")
    assert tr(lang, "follow_up_overdue", date="").split()[0] in due_words(
        session(lang), back, today + timedelta(days=2)
    )


def test_the_form_made_offline_is_on_her_profile_at_once_and_words_are_needed(device) -> None:
    with offline(device) as cut_off:
        form = FollowUpForm(cut_off, LOTTE)
        form.start(SANNE, sku=None)
        assert asyncio.run(form.save()) is None and form.error is not None  # no words: no task
        form.text = "Call her about the wedding outfit"
        form.choose("next_week")
        assert form.due(cut_off.today()) == cut_off.today() + timedelta(days=7)
        form.pick(cut_off.today() - timedelta(days=3))  # a day in the past is today
        assert form.due(cut_off.today()) == cut_off.today()
        form.choose("tomorrow")
        form.for_store = True
        made = asyncio.run(form.save())
        assert made is not None and made.state == "waiting" and not form.showing
        profile = CustomerProfile(cut_off, LOTTE)
        asyncio.run(profile.open(SANNE))
        (shown,) = [s for s in profile.picture.follow_ups if s.id == made.body["id"]]
        assert shown.waiting and shown.task.assignee is None
        asyncio.run(profile.done_follow_up(shown.id))
        assert shown.id not in {s.id for s in profile.picture.follow_ups}
        with pytest.raises(ValueError):
            form.choose("someday")


def test_tell_her_when_it_is_back_is_about_the_item_and_the_suggestions_say_it_is_due(device) -> None:
    picture = device.customer_picture(SANNE)
    entry = picture.wishlist[1]
    form = FollowUpForm(device, LOTTE)
    form.start(SANNE, sku=entry.item.sku, text=tr("en", "tell_her_text", item=entry.product.name, size="M"))
    form.choose("today")
    made = asyncio.run(form.save())
    assert made.body["sku"] == entry.item.sku
    suggestions = device.customer_picture(SANNE).suggestions
    assert (suggestions[0].reason, suggestions[0].sku) in {
        ("follow_up_due", entry.item.sku),
        ("follow_up_due", picture.wishlist[0].item.sku),  # the coat back in M, due today too
    }


def test_my_customers_are_those_i_served_or_follow(device) -> None:
    profile = CustomerProfile(device, LOTTE)
    asyncio.run(profile.open(SANNE))
    assert not profile.following
    asyncio.run(profile.follow(True))
    book = ClientBook(device, LOTTE)
    asyncio.run(book.refresh())
    (sanne,) = [e for e in book.entries if e.customer_id == SANNE]
    assert sanne.following and sanne.due_follow_ups >= 1
    asyncio.run(book.follow(SANNE, False))
    assert not device.following(SANNE, LOTTE)
    assert ClientBook(device, None).entries is None


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_customer_screen_carries_the_keys_a_browser_journey_uses(device, lang) -> None:
    from test_ui_logic import identifiers

    from clienteling.device.views import timeline
    from clienteling.ui.screens import customer
    from clienteling.ui.screens.follow_ups import follow_ups_card

    screen = SimpleNamespace(device=device, lang=lang, t=lambda key, **values: tr(lang, key, **values))
    profile = CustomerProfile(device, LOTTE)
    asyncio.run(profile.open(SANNE))
    form = FollowUpForm(device, LOTTE)
    picture = profile.picture
    shown = identifiers([follow_ups_card(screen, picture, form, profile)])
    assert {"customer-follow-ups", "follow-toggle", "add-follow-up"} <= set(shown)
    for task in picture.follow_ups:
        assert {f"profile-follow-up-{task.id}", f"profile-follow-up-done-{task.id}"} <= set(shown)
    wishes = identifiers(customer.wishlist_tab(screen, picture, form))
    here = {e.item.sku for e in picture.wishlist if e.stock.here and e.stock.here.available > 0}
    away = [e.item.sku for e in picture.wishlist if e.item.sku not in here]
    assert here and away  # Sanne's wishlist: the coat here, the knit only elsewhere
    assert all(f"wish-follow-up-{sku}" in wishes for sku in away)  # "tell her when it is back": what is not here
    assert not any(f"wish-follow-up-{sku}" in wishes for sku in here)
    form.start(SANNE, sku=away[0], text="x")
    with_form = identifiers([follow_ups_card(screen, picture, form, profile)])
    assert {"follow-up-form", "follow-up-text", "follow-up-due-today", "follow-up-pick-date", "follow-up-save"} <= set(
        with_form
    )
    assert "add-follow-up" not in with_form
    assert asyncio.run(form.save()) is not None
    made_here = [e.kind for e in timeline(device.customer_picture(SANNE)) if e.made_here]
    assert "follow_up" in made_here  # the timeline words it by its kind
    assert tr(lang, "kind_follow_up") != tr("nl" if lang == "en" else "en", "kind_follow_up")
