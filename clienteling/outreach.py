"""Reaching out, with consent (issue 14): the message templates in Dutch and English, how they are filled, the
product link rule, and which channels may be offered for a customer. No I/O: the device fills and offers, the centre
checks again with the same functions before it hands a message to the provider.

- Channels: WhatsApp, SMS and email. A channel is offered only when she consented to it (`Consent.email`, `.sms`,
  `.whatsapp`; on the device the consent as `Device.consent()` shows it, a change made at this counter included) and
  the centre knows where to send it: a phone number for SMS and WhatsApp, an email address for email.
  `channel_refusal` says why a channel is not offered (`no_consent`, `no_phone`, `no_email`); `channels_offered`
  lists those that are.
- Templates (`TEMPLATES`): "back in your size", "new in that goes with…", "thanks for your visit", "your follow-up".
  Each has a text per language (`nl`, `en`) with the fields `{first_name}`, `{product}`, `{colour}`, `{size}`,
  `{link}` and `{store}`; `fill` fills them (a field it is not given is left out cleanly: a template about a product
  needs one, the others do not). The associate may edit the filled text before sending: the text sent is the text as
  she saw it, and the centre sends it as it came.
- Links: `product_link(shop_url, style, sku)` is the one rule for a product's URL: `<shop>/p/<style>?sku=<sku>`. The
  shop's base URL is a device setting (`CLIENTELING_SHOP_URL`, default `DEFAULT_SHOP_URL`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlencode

from clienteling.contract import Consent, Customer

OutreachChannel = Literal["whatsapp", "sms", "email"]
OUTREACH_CHANNELS: tuple[OutreachChannel, ...] = ("whatsapp", "sms", "email")
"""The channels an associate can send a message on, in the order they are offered."""
LANGUAGES = ("nl", "en")
DEFAULT_SHOP_URL = "https://shop.example.nl"
"""The demo chain's web shop; a retailer sets its own with `CLIENTELING_SHOP_URL` on the devices."""
MAX_TEXT = 1600
"""The longest message text (ten SMS parts; WhatsApp and email take more, but a message from a store is short)."""


@dataclass(frozen=True)
class Template:
    id: str
    needs_product: bool
    title: dict[str, str]  # what the associate picks it by, and the conversation's subject
    text: dict[str, str]


TEMPLATES: dict[str, Template] = {
    t.id: t
    for t in (
        Template(
            "back_in_size",
            True,
            {"en": "Back in your size", "nl": "Weer in je maat"},
            {
                "en": "Hi {first_name}, good news: the {product} in {colour} is back in your size {size}. "
                "Shall I put it aside for you? {link}",
                "nl": "Hoi {first_name}, goed nieuws: de {product} in {colour} is weer binnen in jouw maat {size}. "
                "Zal ik hem voor je apart leggen? {link}",
            },
        ),
        Template(
            "goes_with",
            True,
            {"en": "New in that goes with your purchase", "nl": "Nieuw binnen dat past bij je aankoop"},
            {
                "en": "Hi {first_name}, we just got the {product} in {colour}, size {size}: it goes beautifully with "
                "what you bought last time. Have a look: {link}",
                "nl": "Hoi {first_name}, net binnen: de {product} in {colour}, maat {size}. Die past mooi bij wat je "
                "laatst kocht. Kijk maar: {link}",
            },
        ),
        Template(
            "thanks_visit",
            False,
            {"en": "Thanks for your visit", "nl": "Bedankt voor je bezoek"},
            {
                "en": "Hi {first_name}, thank you for visiting us{at_store}. It was lovely to help you. "
                "If you have any questions, just reply to this message.",
                "nl": "Hoi {first_name}, bedankt voor je bezoek{at_store}. Leuk dat we je mochten helpen. "
                "Heb je nog vragen? Stuur gerust een berichtje terug.",
            },
        ),
        Template(
            "follow_up",
            False,
            {"en": "Your follow-up", "nl": "Even bijpraten"},
            {
                "en": "Hi {first_name}, as promised I'm getting back to you{about}. {link}",
                "nl": "Hoi {first_name}, zoals beloofd kom ik even bij je terug{about}. {link}",
            },
        ),
    )
}


def product_link(shop_url: str | None, style: str, sku: str | None = None) -> str:
    """The one rule for a product's web address: `<shop>/p/<style>`, with `?sku=<sku>` for the exact variant."""
    base = (shop_url or DEFAULT_SHOP_URL).rstrip("/")
    link = f"{base}/p/{quote(style, safe='')}"
    return f"{link}?{urlencode({'sku': sku})}" if sku else link


def language_for(customer_lang: str | None, app_lang: str) -> str:
    """The language a message is written in: hers if known, else the app's."""
    if customer_lang in LANGUAGES:
        return customer_lang  # type: ignore[return-value]
    return app_lang if app_lang in LANGUAGES else "en"


def fill(
    template_id: str,
    lang: str,
    *,
    first_name: str,
    product: str | None = None,
    colour: str | None = None,
    size: str | None = None,
    link: str | None = None,
    store: str | None = None,
) -> str:
    """The template's text in `lang`, filled. Missing product fields leave no gaps ("in  ,"): a template that needs
    a product is refused without one (`ValueError`)."""
    template = TEMPLATES.get(template_id)
    if template is None:
        raise ValueError(f"there is no message template {template_id!r}; there are: {', '.join(TEMPLATES)}")
    if lang not in LANGUAGES:
        raise ValueError(f"templates are written in {', '.join(LANGUAGES)}, not {lang!r}")
    if template.needs_product and not product:
        raise ValueError(f"the template {template_id!r} is about a product: give one")
    words = {
        "en": {"at_store": f" at {store}" if store else "", "about": f" about the {product}" if product else ""},
        "nl": {"at_store": f" aan {store}" if store else "", "about": f" over de {product}" if product else ""},
    }[lang]
    text = template.text[lang].format(
        first_name=first_name.strip(),
        product=product or "",
        colour=colour or "",
        size=size or "",
        link=link or "",
        **words,
    )
    return " ".join(text.split()).strip()


def address_for(customer: Customer, channel: str) -> str | None:
    """Where a message on `channel` goes: her phone number (SMS, WhatsApp) or her email address."""
    if channel in ("sms", "whatsapp"):
        return customer.phone or None
    if channel == "email":
        return customer.email or None
    return None


def channel_refusal(customer: Customer, consent: Consent, channel: str) -> str | None:
    """Why a message cannot be sent to her on `channel`, or None when it can: `unknown_channel`, `no_consent` (she did
    not agree to this channel), `no_phone` or `no_email` (nowhere to send it)."""
    if channel not in OUTREACH_CHANNELS:
        return "unknown_channel"
    if not getattr(consent, channel, False):
        return "no_consent"
    if address_for(customer, channel) is None:
        return "no_phone" if channel in ("sms", "whatsapp") else "no_email"
    return None


def channels_offered(customer: Customer, consent: Consent | None = None) -> list[str]:
    """The channels to offer for a message to her: those she consented to, with an address (`consent`: the consent
    to go by, default her document's)."""
    held = consent or customer.consent
    return [c for c in OUTREACH_CHANNELS if channel_refusal(customer, held, c) is None]
