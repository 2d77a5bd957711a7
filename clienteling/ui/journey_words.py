"""Her journey in words (issue 15): the last thing she did, in one line, and the stage with its reason, in the
screen's language (clienteling.journey decides; this only words it). Days are the store's days (Europe/Amsterdam):
"today", "yesterday", a weekday within the last week, else the date."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date

from clienteling.contract import ACTIVITY_CHANNELS
from clienteling.journey import LastAction, Stage
from clienteling.ui import i18n

_WITH_PRODUCT = ("product_view", "wishlist_add", "wishlist_remove", "cart_add", "cart_remove", "review",
                 "social_share", "email_click", "ordered", "returned")  # fmt: skip


def when(lang: str, moment: datetime, now: datetime) -> str:
    """ "today", "yesterday", "on Monday" (within the week), or "on 12 November", by the store's calendar."""
    day = moment.astimezone(i18n.LOCAL_TIME).date()
    today = now.astimezone(i18n.LOCAL_TIME).date()
    days = (today - day).days
    if days <= 0:
        return i18n.tr(lang, "journey_today")
    if days == 1:
        return i18n.tr(lang, "journey_yesterday")
    shown = format_date(day, "EEEE" if days < 7 else "d MMMM", locale=i18n.locale_of(lang))
    return i18n.tr(lang, "journey_on_day", day=shown)


def where(lang: str, channel: str | None) -> str:
    """Where she did it: "in the app", "on the webshop", "via WhatsApp"; empty when unknown."""
    if not channel:
        return ""
    if channel in ACTIVITY_CHANNELS or channel == "store":
        return i18n.tr(lang, f"journey_channel_{channel}")
    return i18n.tr(lang, "journey_channel_other", channel=i18n.chat_channel(lang, channel))


QUOTED = 120
"""The most of her own words (a question, a search, a chat's subject) the one line quotes; longer is cut with "…"."""


def _quoted(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= QUOTED else text[: QUOTED - 1].rstrip() + "…"


def _tidy(text: str) -> str:
    return " ".join(text.split()).replace(" :", ":")


def last_line(lang: str, last: LastAction, now: datetime, store_names: dict[str, str] | None = None) -> str:
    """The last thing she did, in one line: "Asked the chatbot yesterday: “Does the Harbour coat run small?”"."""
    product = last.product or i18n.tr(lang, "journey_a_product")
    values = {
        "when": when(lang, last.at, now),
        "where": where(lang, last.channel),
        "product": product,
        "text": _quoted(last.text),
    }
    kind = last.kind if last.known else "other"
    if kind == "ordered" and last.channel == "store":
        kind = "bought_in_store"
        values["store"] = (store_names or {}).get(last.store or "", last.store or "")
    if kind in ("search", "chatbot_question") and not last.text:
        kind += "_plain"
    return _tidy(i18n.tr(lang, f"journey_last_{kind}", **values))


def stage_label(lang: str, stage: Stage) -> str:
    return i18n.tr(lang, f"journey_stage_{stage.stage}")


def stage_reason(lang: str, stage: Stage, now: datetime) -> str:
    """Why she is at this stage: "viewed 4 coats this week, none bought"."""
    values = dict(stage.params)
    reason = stage.reason
    if isinstance(values.get("at"), datetime):
        values["when"] = when(lang, values.pop("at"), now)
    if "product" in values and values["product"] is None:  # an activity that named no product the catalogue knows
        reason = "asked_plain" if reason == "asked" else reason
        values["product"] = i18n.tr(lang, "journey_a_product")
    if "category" in values:
        key = f"journey_category_{values['category']}"
        values["category"] = i18n.tr(lang, key) if key in i18n.STRINGS["en"] else values["category"]
    return _tidy(i18n.tr(lang, f"journey_why_{reason}", **values))


def stage_line(lang: str, stage: Stage, now: datetime) -> str:
    """The stage chip's words: "Information · asked the chatbot about Harbour wool coat"."""
    return f"{stage_label(lang, stage)} · {stage_reason(lang, stage, now)}"


def service_first(lang: str, stage: Stage, now: datetime) -> str:
    """What the suggestions card says while selling yields to service: "Service first: open question: …"."""
    return i18n.tr(lang, "journey_service_first", reason=stage_reason(lang, stage, now))
