"""Reaching out (issue 14), the rules without I/O: the templates in both languages, the product link, the channels
offered by consent and address, and the credit of an online order at the 14-day boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clienteling import outreach, rules
from clienteling.contract import Consent, Customer

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def customer(email=True, sms=False, whatsapp=True, phone: str | None = "+31612345678") -> Customer:
    return Customer.model_validate(
        {
            "id": "C0000001",
            "first_name": "Sanne",
            "last_name": "de Vries",
            "email": "sanne@example.nl",
            "phone": phone,
            "home_store": "AMS01",
            "card_number": "2700000000014",
            "tier": "gold",
            "points": 10,
            "consent": {
                "marketing": email or sms or whatsapp,
                "profiling": True,
                "updated_at": NOW.isoformat(),
                "email": email,
                "sms": sms,
                "whatsapp": whatsapp,
            },
            "addresses": [],
            "sizes": {},
            "created_at": NOW.isoformat(),
            "updated_at": NOW.isoformat(),
        }
    )


@pytest.mark.parametrize("template", list(outreach.TEMPLATES))
def test_every_template_is_written_in_both_languages_and_filled(template: str) -> None:
    link = outreach.product_link("https://shop.example.nl/", "CT01", "CT01-NVY-M")
    texts = {}
    for lang in ("nl", "en"):
        text = outreach.fill(
            template, lang, first_name="Sanne", product="Harbour coat", colour="navy", size="M", link=link
        )
        assert text.startswith("Hoi Sanne" if lang == "nl" else "Hi Sanne"), text
        assert "{" not in text and "  " not in text
        if outreach.TEMPLATES[template].needs_product:
            assert "Harbour coat" in text and link in text and " M" in text
        assert outreach.TEMPLATES[template].title[lang]
        texts[lang] = text
    assert texts["nl"] != texts["en"]


def test_a_product_template_needs_a_product_and_unknown_ones_are_refused() -> None:
    with pytest.raises(ValueError, match="about a product"):
        outreach.fill("back_in_size", "en", first_name="Sanne")
    with pytest.raises(ValueError, match="no message template"):
        outreach.fill("sale", "en", first_name="Sanne")
    with pytest.raises(ValueError, match="written in"):
        outreach.fill("thanks_visit", "de", first_name="Sanne")
    said = outreach.fill("thanks_visit", "nl", first_name="Sanne", store="Amsterdam Kalverstraat")
    assert said.startswith("Hoi Sanne, bedankt voor je bezoek aan Amsterdam Kalverstraat.")
    assert outreach.fill("follow_up", "en", first_name="Sanne").endswith("getting back to you.")


def test_the_product_link_is_made_in_one_place() -> None:
    assert outreach.product_link("https://shop.example.nl/", "CT01", "CT01-NVY-M") == (
        "https://shop.example.nl/p/CT01?sku=CT01-NVY-M"
    )
    assert outreach.product_link("", "KN02") == f"{outreach.DEFAULT_SHOP_URL}/p/KN02"


def test_only_consented_channels_with_an_address_are_offered() -> None:
    sanne = customer(email=True, sms=False, whatsapp=True)
    assert outreach.channels_offered(sanne) == ["whatsapp", "email"]
    assert outreach.channel_refusal(sanne, sanne.consent, "sms") == "no_consent"
    assert outreach.channel_refusal(sanne, sanne.consent, "pigeon") == "unknown_channel"
    no_phone = customer(sms=True, whatsapp=True, phone=None)
    assert outreach.channels_offered(no_phone) == ["email"]
    assert outreach.channel_refusal(no_phone, no_phone.consent, "whatsapp") == "no_phone"
    nothing = customer(email=False, sms=False, whatsapp=False)
    assert outreach.channels_offered(nothing) == []
    # a consent changed at this counter (Device.consent) is what counts, not the one in her document
    changed = Consent(marketing=True, profiling=True, updated_at=NOW, email=False, sms=True, whatsapp=False)
    assert outreach.channels_offered(sanne, changed) == ["sms"]


def test_her_language_if_known_else_the_apps() -> None:
    assert outreach.language_for("nl", "en") == "nl"
    assert outreach.language_for(None, "nl") == "nl"
    assert outreach.language_for("fr", "de") == "en"


ORDERED = NOW
LOTTE_MESSAGE = rules.Touch("S0001", "AMS01", "message", ORDERED - timedelta(days=3))
SEM_CONSULT = rules.Touch("S0004", "UTR01", "consult", ORDERED - timedelta(days=1))


def test_the_latest_touch_before_an_online_order_wins() -> None:
    assert rules.credit_for("web", ORDERED, [LOTTE_MESSAGE, SEM_CONSULT]) == SEM_CONSULT
    assert rules.credit_for("app", ORDERED, [LOTTE_MESSAGE]) == LOTTE_MESSAGE
    assert rules.credit_for("store", ORDERED, [LOTTE_MESSAGE]) is None  # a sale in store is not a credit
    after = rules.Touch("S0002", "AMS01", "message", ORDERED + timedelta(seconds=1))
    assert rules.credit_for("web", ORDERED, [LOTTE_MESSAGE, after]) == LOTTE_MESSAGE  # never a touch after it
    same_moment = rules.Touch("S0003", "AMS01", "message", SEM_CONSULT.at)
    assert rules.credit_for("web", ORDERED, [same_moment, SEM_CONSULT]) == same_moment  # a message beats a consult


def test_fourteen_days_to_the_second() -> None:
    on_the_edge = rules.Touch("S0001", "AMS01", "message", ORDERED - timedelta(days=14))
    assert rules.credit_for("web", ORDERED, [on_the_edge]) == on_the_edge
    just_over = rules.Touch("S0001", "AMS01", "message", ORDERED - timedelta(days=14, seconds=1))
    assert rules.credit_for("web", ORDERED, [just_over]) is None
    assert rules.credit_for("web", ORDERED, []) is None
