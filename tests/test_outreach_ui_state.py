"""Reaching out from the customer screen (issue 14), driven without a page: the composer offers only her consented
channels (the others with why), fills the template in the language chosen with the product's link, keeps the
associate's own words, sends offline (kept, marked waiting) and shows the message in her Chats with the associate's
name; the screen's controls carry the identifiers a browser test drives."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import flet as ft
import pytest
from conftest import free_port, start_central

from clienteling.config import Settings
from clienteling.device import Device
from clienteling.ui import i18n
from clienteling.ui.screens.customer import chats_tab, composer_card, suggestions_card
from clienteling.ui.state import CustomerProfile

SANNE, LOTTE = "C0000001", "S0001"


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    server = start_central(tmp_path_factory.mktemp("outreach-ui") / "central.db", "--demo", "--customers", "40")
    yield server
    server.stop()


@dataclass
class Session:
    """What the screen's functions ask of the session."""

    lang: str = "en"

    def t(self, key: str, **values) -> str:
        return i18n.tr(self.lang, key, **values)

    def explain(self, error) -> str:
        return i18n.explain(self.lang, error)


def identifiers(control) -> set[str]:
    """Every `Semantics` identifier in a tree of controls."""
    found: set[str] = set()
    stack = [control]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if isinstance(item, ft.Semantics) and item.identifier:
            found.add(item.identifier)
        for name in ("content", "controls"):
            inner = getattr(item, name, None)
            if isinstance(inner, ft.Control | list):
                stack.append(inner)
    return found


def test_a_message_from_a_suggestion_offline_waits_and_then_shows_in_her_chats(centre, tmp_path) -> None:
    settings = Settings.load(tmp_path, central_url=centre.url, device_token="demo-AMS01", store="AMS01")
    with Device(settings) as device:
        assert device.sync_now().ok
    offline = settings.with_changes(central_url=f"http://127.0.0.1:{free_port()}")
    with Device(offline) as device:
        profile = CustomerProfile(device, LOTTE)
        asyncio.run(profile.open(SANNE))
        picture = profile.picture
        sku = picture.suggestions[0].sku  # Sanne's navy coat in M, on her wishlist and in this store
        assert f"suggestion-message-{sku}" in identifiers(suggestions_card(Session(), picture, profile))

        asyncio.run(profile.open_composer(sku, "nl"))
        composer = profile.composer
        assert composer.channels == {"whatsapp": None, "sms": "no_consent", "email": None}
        assert composer.channel == "whatsapp" and composer.lang == "nl" and composer.template == "back_in_size"
        assert composer.text.startswith("Hoi Sanne") and composer.link in composer.text
        assert composer.link.endswith(f"?sku={sku}")
        profile.compose(channel="sms")  # she did not agree to SMS: never chosen
        assert profile.composer.channel == "whatsapp"
        profile.compose(lang="en")
        assert profile.composer.text.startswith("Hi Sanne")
        profile.compose(template="thanks_visit")
        assert "thank you for visiting us at" in profile.composer.text
        profile.compose(text="Hi Sanne, your coat is here in M!")
        profile.compose(lang="nl")  # her own words are kept
        assert profile.composer.text == "Hi Sanne, your coat is here in M!" and profile.composer.lang == "nl"

        for lang in ("en", "nl"):
            card = composer_card(Session(lang), picture, profile)
            keys = identifiers(card)
            assert {
                "message-composer",
                "message-channel-whatsapp",
                "message-channel-email",
                "message-channel-sms",
                "message-channel-why-sms",
                "message-template-back_in_size",
                "message-lang-nl",
                "message-lang-en",
                "message-text",
                "message-link",
                "message-send",
                "message-close",
            } <= keys
            assert "message-channel-why-whatsapp" not in keys

        asyncio.run(profile.send_message())
        made = profile.composer.sent
        assert made is not None and made.state == "waiting" and profile.composer.error is None
        assert "message-waiting" in identifiers(composer_card(Session(), profile.picture, profile))
        assert f"chat-waiting-{made.command_id}" in identifiers(chats_tab(Session(), profile.picture))

    with Device(settings) as device:
        assert device.sync_now().ok
        assert device.command(made.command_id).state == "sent"
        assert device.sync_now().ok
        picture = device.customer_picture(SANNE)
        rows = chats_tab(Session("nl"), picture)
        texts = [
            control.content.value
            for row in rows
            for column in [row.content.content]
            for control in column.controls
            if isinstance(control, ft.Semantics)
        ]
        store = picture.store_names["AMS01"]
        assert f"Lotte Visser ({store}): Hi Sanne, your coat is here in M!" in texts, texts
        assert not any(k.startswith("chat-waiting-") for k in identifiers(rows))
