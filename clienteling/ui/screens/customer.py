"""The customer's whole picture: header with tier, points, home store and consent; wishlist, orders, chats, timeline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import flet as ft

from clienteling import outreach
from clienteling.device.views import timeline
from clienteling.rules import ReturnEligibility
from clienteling.ui import i18n, journey_words
from clienteling.ui.i18n import error_text, local, money, refusal_text, status
from clienteling.ui.screens.follow_ups import follow_ups_card, tell_her_button
from clienteling.ui.session import go, use_session
from clienteling.ui.state import PROFILE_TABS, CustomerProfile, FollowUpForm
from clienteling.ui.widgets import (
    TOUCH,
    big_button,
    card,
    how_did_it_go,
    loading,
    message,
    product_picture,
    tagged,
    use_task,
)

TIER_COLOURS = {
    "basic": ft.Colors.BLUE_GREY_400,
    "silver": ft.Colors.GREY_500,
    "gold": ft.Colors.AMBER_700,
    "platinum": ft.Colors.DEEP_PURPLE_400,
}


def chip(text: str, colour, identifier: str | None = None, icon=None) -> ft.Control:
    body = ft.Container(
        ft.Row(
            ([ft.Icon(icon, size=16, color=ft.Colors.WHITE)] if icon else [])
            + [ft.Text(text, color=ft.Colors.WHITE, weight=ft.FontWeight.W_600)],
            spacing=4,
            tight=True,
        ),
        bgcolor=colour,
        padding=ft.Padding.symmetric(horizontal=10, vertical=4),
        border_radius=14,
    )
    return tagged(identifier, body) if identifier else body


def stock_line(session, entry) -> tuple[str, str]:
    """'3 in this store' or '2 in Utrecht, 38 km', and the tag the tests read."""
    view = entry.stock
    if view.here and view.here.available > 0:
        return session.t("in_this_store", n=view.here.available), "here"
    for place in view.elsewhere:
        if place.available > 0:
            km = i18n.number(round(place.distance_km), session.lang)
            city = session.t("dc") if place.kind == "dc" else place.city
            return session.t("elsewhere", n=place.available, city=city, km=km), "elsewhere"
    return session.t("nowhere"), "nowhere"


def stock_button(session, sku: str, identifier: str) -> ft.Control:
    """ "Stock": every location's stock of the SKU."""
    return tagged(
        identifier,
        ft.OutlinedButton(content=session.t("check_stock"), height=TOUCH, on_click=lambda _: go(f"/stock/{sku}")),
    )


def wishlist_tab(session, picture, form: FollowUpForm | None = None) -> list[ft.Control]:
    if not picture.wishlist:
        return [ft.Text(session.t("empty_wishlist"))]
    rows = []
    for entry in picture.wishlist:
        text, where = stock_line(session, entry)
        name = entry.product.name if entry.product else entry.item.sku
        variant = entry.variant
        detail = (
            f"{i18n.colour(session.lang, variant.colour)} · {variant.size} · {money(variant.price.cents, session.lang)}"
            if variant
            else ""
        )
        colour = {"here": ft.Colors.GREEN_800, "elsewhere": ft.Colors.ORANGE_900, "nowhere": ft.Colors.RED_800}[where]
        sku = entry.item.sku
        rows.append(
            card(
                ft.Row(
                    [
                        product_picture(entry.product.image if entry.product else None, 64, f"wish-picture-{sku}"),
                        ft.Column(
                            [
                                ft.Text(name, size=17, weight=ft.FontWeight.W_600),
                                ft.Text(detail, color=ft.Colors.GREY_700),
                                tagged(f"wish-stock-{sku}", ft.Text(text, color=colour, weight=ft.FontWeight.W_600)),
                            ],
                            spacing=2,
                            expand=True,
                        ),
                        stock_button(session, sku, f"wish-stock-btn-{sku}"),
                        tagged(
                            f"wish-ship-{sku}",
                            ft.FilledButton(
                                content=session.t("ship_to_home"),
                                icon=ft.Icons.LOCAL_SHIPPING,
                                height=TOUCH,
                                disabled=where == "nowhere",
                                on_click=lambda _, s=sku: go(f"/ship/{picture.customer.id}/{s}"),
                            ),
                        ),
                    ],
                    wrap=False,
                ),
                f"wish-{sku}",
            )
        )
        if form is not None and where != "here":  # not here: a follow-up, "tell her when it is back"
            rows.append(tell_her_button(session, form, picture.customer.id, sku, name, variant.size if variant else ""))
    return rows


def command_state(session, command) -> str:
    return session.t(command.state)


def return_offer(eligibility: ReturnEligibility, lang: str) -> str | None:
    """None when something on the order can be returned now (the Return button shows); otherwise why not, in words."""
    why = eligibility.why_not
    return None if why is None else error_text(lang, why.code, why.params)


def orders_tab(session, picture, returns: dict) -> list[ft.Control]:
    rows: list[ft.Control] = []
    for command in picture.commands:
        if command.kind != "ship_to_home" or command.state == "sent":
            continue
        lines = ", ".join(f"{line['quantity']}× {line['sku']}" for line in command.body["lines"])
        rows.append(
            card(
                ft.Column(
                    [
                        ft.Text(
                            f"{session.t('placed_here')} · {local(command.created_at, lang=session.lang)}",
                            weight=ft.FontWeight.W_600,
                        ),
                        ft.Text(lines),
                        tagged(
                            f"local-state-{command.command_id}",
                            ft.Text(command_state(session, command), color=ft.Colors.ORANGE_900),
                        ),
                        ft.Text(
                            i18n.refusal_text(session.lang, command.answer) if command.state == "attention" else "",
                            color=ft.Colors.RED_800,
                        ),
                    ],
                    spacing=2,
                ),
                f"local-order-{command.command_id}",
            )
        )
    for order in picture.orders:
        why_not = return_offer(returns[order.number], session.lang)
        lines = [
            ft.Row(
                [
                    product_picture(picture.pictures.get(line.sku), 40),
                    ft.Text(
                        f"{line.quantity}× {line.name} · {i18n.colour(session.lang, line.colour)} · {line.size}"
                        f" · {money(line.unit_price.cents, session.lang)}",
                        expand=True,
                    ),
                ],
                spacing=8,
            )
            for line in order.lines
        ]
        rows.append(
            card(
                ft.Column(
                    [
                        ft.Row(
                            [
                                ft.Text(order.number, size=17, weight=ft.FontWeight.W_600),
                                ft.Text(session.t(f"channel_{order.channel}"), color=ft.Colors.GREY_700),
                                ft.Container(expand=True),
                                tagged(
                                    f"order-status-{order.number}",
                                    ft.Text(status(session.lang, order.status), weight=ft.FontWeight.W_600),
                                ),
                            ]
                        ),
                        ft.Text(local(order.created_at, lang=session.lang), color=ft.Colors.GREY_700),
                        *(
                            [
                                tagged(
                                    f"order-sources-{order.number}",
                                    ft.Text(i18n.from_systems(session.lang, order.sources), color=ft.Colors.GREY_700),
                                )
                            ]
                            if order.sources
                            else []
                        ),
                        *lines,
                        ft.Row(
                            [
                                ft.Text(session.t("total", money=money(order.totals.total.cents, session.lang))),
                                *(
                                    [
                                        tagged(
                                            f"order-return-{order.number}",
                                            ft.OutlinedButton(
                                                content=session.t("nav_returns"),
                                                icon=ft.Icons.ASSIGNMENT_RETURN,
                                                height=TOUCH,
                                                on_click=lambda _, n=order.number: go(f"/returns/{n}"),
                                            ),
                                        )
                                    ]
                                    if why_not is None and session.may("returns")
                                    else []
                                ),
                                *(
                                    [
                                        tagged(
                                            f"order-no-return-{order.number}",
                                            ft.Text(why_not, color=ft.Colors.GREY_700),
                                        )
                                    ]
                                    if why_not is not None
                                    else []
                                ),
                            ],
                            alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                        ),
                    ],
                    spacing=2,
                ),
                f"order-{order.number}",
            )
        )
    return rows or [ft.Text(session.t("empty_orders"))]


def chats_tab(session, picture) -> list[ft.Control]:
    """Her conversations, the latest messages of each; a message from a store is signed with the associate's name and
    store, and a message written here that has not reached the centre yet is shown first, marked waiting."""
    lang = session.lang
    rows = []
    for command in picture.commands:
        if command.kind != "message" or command.state not in ("waiting", "attention"):
            continue
        body = command.body
        rows.append(
            card(
                ft.Column(
                    [
                        ft.Row(
                            [
                                ft.Icon(ft.Icons.SCHEDULE_SEND, color=ft.Colors.AMBER_800),
                                ft.Text(
                                    f"{i18n.chat_channel(lang, body.get('channel', ''))} · "
                                    + (
                                        session.t("message_waiting_in_chat")
                                        if command.state == "waiting"
                                        else refusal_text(lang, command.answer)
                                    ),
                                    color=ft.Colors.AMBER_900 if command.state == "waiting" else ft.Colors.RED_800,
                                ),
                            ],
                            spacing=6,
                        ),
                        ft.Text(body.get("text", ""), color=ft.Colors.TEAL_900),
                    ],
                    spacing=3,
                ),
                f"chat-waiting-{command.command_id}",
            )
        )
    for chat in picture.conversations:
        latest = chat.messages[-3:]
        rows.append(
            card(
                ft.Column(
                    [
                        ft.Row(
                            [
                                ft.Text(chat.subject, size=17, weight=ft.FontWeight.W_600, expand=True),
                                ft.Text(
                                    f"{i18n.chat_channel(lang, chat.channel)} · {local(chat.updated_at, lang=lang)}",
                                    color=ft.Colors.GREY_700,
                                ),
                            ]
                        ),
                        *[
                            tagged(
                                f"chat-{chat.id}-{len(chat.messages) - len(latest) + n}",
                                ft.Text(
                                    f"{said_by(session, picture, m)}: {m.text}",
                                    color=ft.Colors.GREY_800 if m.author == "customer" else ft.Colors.TEAL_900,
                                ),
                            )
                            for n, m in enumerate(latest)
                        ],
                    ],
                    spacing=3,
                ),
                f"chat-{chat.id}",
            )
        )
    return rows or [ft.Text(session.t("empty_chats"))]


def said_by(session, picture, message) -> str:
    """Who wrote a chat message: the associate and their store for a message sent from a store, else who it was."""
    if message.staff_name:
        store = picture.store_names.get(message.store or "", message.store or "")
        return session.t("message_from", name=message.staff_name, store=store) if store else message.staff_name
    return i18n.author(session.lang, message.author)


def timeline_tab(session, picture) -> list[ft.Control]:
    def detail(event) -> str:
        if event.made_here:
            return session.t(event.state)
        if event.kind == "chat":
            return f"{event.title} ({i18n.chat_channel(session.lang, event.channel)})"
        if event.kind == "return":
            return f"{event.title} · {status(session.lang, event.state)}"
        return f"{event.title} · {money(event.total_cents, session.lang)}"

    return [
        ft.Row(
            [
                ft.Text(local(event.at, lang=session.lang), width=140, color=ft.Colors.GREY_700),
                ft.Text(session.t(f"kind_{event.kind}"), width=150, weight=ft.FontWeight.W_600),
                ft.Text(detail(event), expand=True),
            ]
        )
        for event in timeline(picture)
    ]


def notes_tab(session, picture, profile, text: str, set_text) -> list[ft.Control]:
    """Write a note or a tag (kept at once, offline too); the notes of every store, with who wrote them, where, when."""
    lang = session.lang

    field = ft.TextField(
        label=session.t("note_field"),
        value=text,
        multiline=True,
        min_lines=1,
        max_lines=4,
        max_length=2000,
        on_change=lambda e: set_text(e.control.value),
    )

    async def add(kind: str) -> None:
        written = field.value or text  # the field's own value: a tap may come before its last change came back
        if not written.strip():
            return
        set_text("")
        await profile.add_note(written, kind)

    async def add_note(_) -> None:  # Flet awaits a coroutine function it is given, not a lambda's coroutine
        await add("note")

    async def add_tag(_) -> None:
        await add("tag")

    rows: list[ft.Control] = [
        tagged("note-field", field),
        ft.Row(
            [
                big_button(
                    session.t("add_note"),
                    add_note,
                    "add-note",
                    icon=ft.Icons.NOTE_ADD,
                    disabled=not text.strip(),
                ),
                big_button(
                    session.t("add_tag"),
                    add_tag,
                    "add-tag",
                    icon=ft.Icons.LABEL,
                    primary=False,
                    disabled=not text.strip() or len(text.strip()) > 40,
                ),
            ],
            spacing=8,
            wrap=True,
        ),
    ]
    if profile.note_error is not None:
        rows.append(message(session.explain(profile.note_error), "note-error"))
    for command in picture.notes_waiting:
        said = session.t("note_waiting") if command.state == "waiting" else refusal_text(lang, command.answer)
        said_tag = "note-waiting-text" if command.state == "waiting" else "note-refused-text"
        rows.append(
            card(
                ft.Column(
                    [
                        ft.Text(command.body.get("text", ""), size=16),
                        tagged(said_tag, ft.Text(said, color=ft.Colors.ORANGE_900)),
                    ],
                    spacing=2,
                ),
                f"note-waiting-{command.command_id}",
            )
        )
    notes = [n for n in picture.notes if n.kind == "note"]
    for note in notes:
        who = note.author_name or note.author or "—"
        where = picture.store_names.get(note.store, note.store)
        rows.append(
            card(
                ft.Column(
                    [
                        ft.Text(note.text, size=16),
                        ft.Text(
                            session.t("note_by", name=who, store=where, when=local(note.created_at, lang=lang)),
                            color=ft.Colors.GREY_700,
                        ),
                    ],
                    spacing=2,
                ),
                f"note-{note.id}",
            )
        )
    if not notes and not picture.notes_waiting:
        rows.append(ft.Text(session.t("no_notes"), color=ft.Colors.GREY_700))
    return rows


CONSENT_CHANNELS = ("email", "sms", "whatsapp")
SIDE_BY_SIDE = 1100  # logical pixels: wider than a portrait tablet, the glance and the suggestions go beside the tabs
SIDE_WIDTH = 440


def consent_row(session, picture, profile, editing: dict | None, set_editing) -> ft.Control:
    """Which channels she agreed to, and a way to change them at the counter, with her agreement."""
    consent = picture.consent or picture.customer.consent
    given = [session.t(f"channel_{c}") for c in CONSENT_CHANNELS if getattr(consent, c)]
    said = f"{session.t('consent_title')}: {', '.join(given) or session.t('consent_none')}" + (
        f" ({session.t('consent_waiting')})" if picture.consent_waiting else ""
    )
    if editing is None:
        return tagged(
            "consent",
            ft.Row(
                [
                    ft.Icon(ft.Icons.VERIFIED_USER, color=ft.Colors.TEAL_700),
                    tagged(  # named by what she agreed to: a new name is a new node for the browser tests
                        "consent-" + ("-".join(c for c in CONSENT_CHANNELS if getattr(consent, c)) or "none"),
                        ft.Text(said, size=15),
                    ),
                    tagged(
                        "consent-change",
                        ft.TextButton(
                            content=session.t("consent_change"),
                            on_click=lambda _: set_editing({c: getattr(consent, c) for c in CONSENT_CHANNELS}),
                        ),
                    ),
                ],
                spacing=6,
                wrap=True,
            ),
        )

    async def agree(_):
        chosen = dict(editing)
        set_editing(None)
        await profile.change_consent(**chosen)

    return tagged(
        "consent-edit",
        ft.Row(
            [
                *(
                    tagged(
                        f"consent-{c}",
                        ft.Switch(
                            label=session.t(f"channel_{c}"),
                            value=editing[c],
                            on_change=lambda e, c=c: set_editing({**editing, c: e.control.value}),
                        ),
                    )
                    for c in CONSENT_CHANNELS
                ),
                big_button(session.t("consent_agrees"), agree, "consent-agree", icon=ft.Icons.CHECK),
                ft.TextButton(content=session.t("back"), on_click=lambda _: set_editing(None)),
            ],
            spacing=12,
            wrap=True,
        ),
    )


STAGE_COLOURS = {
    "inspiration": ft.Colors.PURPLE_400,
    "information": ft.Colors.BLUE_600,
    "planning": ft.Colors.CYAN_700,
    "buying": ft.Colors.GREEN_700,
    "service": ft.Colors.DEEP_ORANGE_700,
    "sharing": ft.Colors.PINK_400,
}


def journey_row(session, picture) -> ft.Control | None:
    """Under her name: the last thing she did in any channel, and her journey's stage with its reason (issue 15)."""
    her = picture.journey
    if her is None:
        return None
    now = datetime.now(UTC)
    parts = []
    if her.last is not None:
        parts.append(
            tagged(
                "journey-last",
                ft.Text(journey_words.last_line(session.lang, her.last, now, picture.store_names), size=15),
            )
        )
    parts.append(
        chip(
            journey_words.stage_line(session.lang, her.stage, now),
            STAGE_COLOURS.get(her.stage.stage, ft.Colors.BLUE_GREY_400),
            "journey-stage",
            ft.Icons.ROUTE,
        )
    )
    return ft.Row(parts, wrap=True, spacing=10, vertical_alignment=ft.CrossAxisAlignment.CENTER)


def suggestions_card(session, picture, profile) -> ft.Control | None:
    """Up to three things to show her now, each with its reason in words; "Not interested" puts one away for good.
    While her journey is at the service stage, one line says that service comes first instead (issue 15)."""
    if picture.journey is not None and picture.journey.service_first:
        return card(
            ft.Column(
                [
                    ft.Text(session.t("suggestions_title"), size=18, weight=ft.FontWeight.BOLD),
                    tagged(
                        "suggestions-service-first",
                        ft.Text(
                            journey_words.service_first(session.lang, picture.journey.stage, datetime.now(UTC)),
                            color=ft.Colors.DEEP_ORANGE_900,
                        ),
                    ),
                ],
                spacing=8,
            ),
            "customer-suggestions",
        )
    if not picture.suggestions:
        return None
    lang = session.lang
    rows = []
    for suggestion in picture.suggestions:
        params = dict(suggestion.params)
        if suggestion.reason == "goes_with":
            params["month"] = i18n.month(lang, params.pop("bought_at"))
        product, sku = suggestion.product, suggestion.sku
        variant = next((v for v in product.variants if v.sku == sku), None)
        detail = (
            f"{i18n.colour(lang, variant.colour)} · {variant.size} · {money(variant.price.cents, lang)}"
            if variant
            else sku
        )

        async def decline(_, sku=sku):
            await profile.decline(sku)

        async def write(_, sku=sku, reason=suggestion.reason):
            await profile.open_composer(sku, lang, "goes_with" if reason == "goes_with" else "back_in_size")

        rows.append(
            tagged(
                f"suggestion-{sku}",
                ft.Row(
                    [
                        product_picture(product.image, 56),
                        ft.Column(
                            [
                                ft.Text(f"{product.name} · {detail}", size=16, weight=ft.FontWeight.W_600),
                                tagged(
                                    f"suggestion-why-{sku}",
                                    ft.Text(session.t(f"why_{suggestion.reason}", **params), color=ft.Colors.TEAL_900),
                                ),
                                ft.Row(
                                    [
                                        stock_button(session, sku, f"suggestion-stock-{sku}"),
                                        tagged(
                                            f"suggestion-message-{sku}",
                                            ft.TextButton(
                                                content=session.t("message_action"),
                                                icon=ft.Icons.SEND,
                                                height=TOUCH,
                                                on_click=write,
                                            ),
                                        ),
                                        tagged(
                                            f"suggestion-decline-{sku}",
                                            ft.TextButton(content=session.t("decline"), height=TOUCH, on_click=decline),
                                        ),
                                    ],
                                    spacing=4,
                                    wrap=True,
                                ),
                            ],
                            spacing=2,
                            expand=True,
                        ),
                    ],
                    spacing=10,
                    vertical_alignment=ft.CrossAxisAlignment.START,
                ),
            )
        )
    return card(
        ft.Column(
            [ft.Text(session.t("suggestions_title"), size=18, weight=ft.FontWeight.BOLD), *rows],
            spacing=8,
        ),
        "customer-suggestions",
    )


def unhappy(picture) -> bool:
    """Whether a service-recovery follow-up about her is open (a low rating that said why, a message of hers read as
    negative): the next associate who opens her knows before she speaks."""
    return any((shown.task.reason or "").startswith("service_recovery") for shown in picture.follow_ups)


def ask_button(session, profile) -> ft.Control:
    """ "How did it go?": this consult as a touchpoint she may rate from her phone (its QR code under her name)."""

    async def ask(_):
        await profile.ask_how_it_went()

    return tagged(
        "survey-ask",
        ft.OutlinedButton(content=session.t("survey_button"), icon=ft.Icons.QR_CODE_2, height=TOUCH, on_click=ask),
    )


def asking(session, profile) -> ft.Control:
    """The QR code of this consult, with a way to put it away once she has scanned it."""

    async def done(_):
        profile.done_asking()

    return ft.Column(
        [
            how_did_it_go(session, profile.survey),
            tagged("survey-done", ft.TextButton(content=session.t("survey_done"), height=TOUCH, on_click=done)),
        ],
        spacing=4,
    )


def composer_card(session, picture, profile) -> ft.Control | None:
    """A message to her (issue 14): the channels she consented to (the others shown, disabled, with why), a template,
    the language, the text filled with her name and the product's link (which the associate may change), Send."""
    composer = profile.composer
    if composer is None:
        return None
    channel_buttons = []
    for channel in outreach.OUTREACH_CHANNELS:
        why = composer.channels.get(channel, "unknown_channel")
        name = session.t(f"channel_{channel}")

        async def pick(_, channel=channel):
            profile.compose(channel=channel)

        kind = ft.FilledButton if channel == composer.channel else ft.OutlinedButton
        button = tagged(
            f"message-channel-{channel}", kind(content=name, height=TOUCH, disabled=why is not None, on_click=pick)
        )
        if why is None:
            channel_buttons.append(button)
        else:
            channel_buttons.append(
                ft.Column(
                    [
                        button,
                        tagged(
                            f"message-channel-why-{channel}",
                            ft.Text(session.t(f"message_why_{why}", channel=name), size=13, color=ft.Colors.GREY_700),
                        ),
                    ],
                    spacing=2,
                )
            )
    template_buttons = []
    for template_id, template in outreach.TEMPLATES.items():

        async def choose(_, template_id=template_id):
            profile.compose(template=template_id)

        kind = ft.FilledButton if template_id == composer.template else ft.OutlinedButton
        template_buttons.append(
            tagged(
                f"message-template-{template_id}",
                kind(
                    content=session.t(f"template_{template_id}"),
                    height=TOUCH,
                    disabled=template.needs_product and not composer.product,
                    on_click=choose,
                ),
            )
        )
    language_buttons = []
    for language in outreach.LANGUAGES:

        async def speak(_, language=language):
            profile.compose(lang=language)

        kind = ft.FilledButton if language == composer.lang else ft.OutlinedButton
        language_buttons.append(
            tagged(
                f"message-lang-{language}",
                kind(content=session.t(f"message_lang_{language}"), height=TOUCH, on_click=speak),
            )
        )

    async def send(_):
        await profile.send_message()

    async def close(_):
        profile.close_composer()

    rows: list[ft.Control] = [
        ft.Row(
            [
                ft.Icon(ft.Icons.SEND, color=ft.Colors.TEAL_700),
                tagged(
                    "message-title",
                    ft.Text(
                        session.t("message_title", name=picture.customer.first_name),
                        size=18,
                        weight=ft.FontWeight.BOLD,
                    ),
                ),
            ],
            spacing=8,
        ),
        ft.Text(session.t("message_channel"), weight=ft.FontWeight.W_600),
        ft.Row(channel_buttons, spacing=8, wrap=True, vertical_alignment=ft.CrossAxisAlignment.START),
    ]
    if composer.channel is None:
        rows.append(message(session.t("message_none_offered"), "message-none"))
    rows += [
        ft.Text(session.t("message_template"), weight=ft.FontWeight.W_600),
        ft.Row(template_buttons, spacing=8, wrap=True),
        ft.Text(session.t("message_language"), weight=ft.FontWeight.W_600),
        ft.Row(language_buttons, spacing=8),
        tagged(
            "message-text",
            ft.TextField(
                label=session.t("message_text"),
                value=composer.text,
                multiline=True,
                min_lines=3,
                max_lines=8,
                max_length=outreach.MAX_TEXT,
                on_change=lambda e: profile.compose(text=e.control.value),
            ),
        ),
    ]
    if composer.link:
        rows.append(
            tagged("message-link", ft.Text(session.t("message_link", link=composer.link), color=ft.Colors.GREY_700))
        )
    if composer.error is not None:
        rows.append(message(session.explain(composer.error), "message-error"))
    if composer.sent is not None:
        waiting = composer.sent.state == "waiting"
        rows.append(
            message(
                session.t("message_waiting" if waiting else "message_sent"),
                "message-waiting" if waiting else "message-sent",
                error=False,
            )
        )
    rows.append(
        ft.Row(
            [
                big_button(
                    session.t("message_send"),
                    send,
                    "message-send",
                    icon=ft.Icons.SEND,
                    disabled=composer.channel is None or composer.sent is not None or not composer.text.strip(),
                ),
                tagged("message-close", ft.TextButton(content=session.t("message_close"), on_click=close)),
            ],
            spacing=12,
            wrap=True,
        )
    )
    return card(ft.Column(rows, spacing=8), "message-composer")


def at_a_glance(session, customer, glance, extra: list[ft.Control]) -> ft.Control:
    """Sizes, likes and shared dates; what they spent and when they last came; who and where they buy with."""
    lang = session.lang
    sizes = [
        session.t(f"size_{kind}", size=value)
        for kind, value in (
            ("tops", customer.sizes.tops),
            ("trousers", customer.sizes.trousers),
            ("shoes", customer.sizes.shoes),
        )
        if value
    ]
    dates = []
    for key_date in customer.key_dates:
        when = i18n.month_day(lang, key_date.month_day)
        text = session.t(f"key_{key_date.kind}", date=when, label=key_date.label or "")
        if key_date is glance.next_key_date and glance.days_to_key_date is not None and glance.days_to_key_date <= 30:
            soon = (
                session.t("key_today")
                if glance.days_to_key_date == 0
                else session.t("key_in_days", n=glance.days_to_key_date)
            )
            text = f"{text} ({soon})"
        dates.append(
            chip(text, ft.Colors.PINK_400, None, ft.Icons.CAKE if key_date.kind == "birthday" else ft.Icons.EVENT)
        )
    facts = [
        session.t("lifetime_spend", money=money(glance.lifetime_spend.cents, lang), n=glance.orders),
        session.t("last_purchase", ago=i18n.ago(lang, glance.last_purchase)) if glance.last_purchase else None,
        session.t("last_visit", ago=i18n.ago(lang, glance.last_visit))
        if glance.last_visit
        else session.t("never_in_store"),
        session.t("favourite_store", store=glance.favourite_store_name) if glance.favourite_store_name else None,
        session.t("preferred_associate", name=glance.preferred_associate_name)
        if glance.preferred_associate_name
        else None,
    ]
    rows = []
    if sizes:
        rows.append(
            tagged(
                "glance-sizes",
                ft.Row(
                    [ft.Icon(ft.Icons.STRAIGHTEN, color=ft.Colors.TEAL_700),
                     ft.Text(f"{session.t('glance_sizes')}: {' · '.join(sizes)}", size=16, weight=ft.FontWeight.W_600)],
                    spacing=6,
                ),
            )
        )  # fmt: skip
    if customer.preferences or dates:
        rows.append(
            tagged(
                "glance-likes",
                ft.Row(
                    [chip(p, ft.Colors.TEAL_600, None, ft.Icons.FAVORITE) for p in customer.preferences] + dates,
                    wrap=True,
                    spacing=8,
                ),
            )
        )
    rows.append(tagged("glance-facts", ft.Text("  ·  ".join(f for f in facts if f), color=ft.Colors.GREY_800)))
    return card(ft.Column(rows + extra, spacing=8), "customer-glance")


@ft.component
def CustomerScreen():
    session = use_session()
    customer_id = ft.use_route_params().get("customer_id", "")
    profile, _ = ft.use_state(lambda: CustomerProfile(session.device, session.staff_id))
    note_text, set_note_text = ft.use_state("")
    consent_editing, set_consent_editing = ft.use_state(None)
    follow_up_form, _ = ft.use_state(lambda: FollowUpForm(session.device, session.staff_id))
    use_task(profile.follow_sync)
    # Read once per customer opened, not on every tab switch (see CustomerProfile.open).
    ft.use_effect(lambda: asyncio.create_task(profile.open(customer_id)).cancel, [customer_id])
    picture, returns, tab = profile.picture, profile.returns, profile.tab

    def opened():
        if picture is not None:
            session.served(customer_id)

    ft.use_effect(opened, [customer_id, picture is not None])
    if profile.customer_id != customer_id or profile.loading:
        return loading("customer-loading")
    if picture is None:
        return ft.Column(
            [
                message(session.explain(profile.error), "customer-error"),
                big_button(session.t("back"), lambda _: go("/"), "back"),
            ]
        )
    customer = picture.customer
    consent = customer.consent.marketing

    async def write_to_her(_):
        await profile.open_composer(None, session.lang)

    journey = journey_row(session, picture)
    header = card(
        ft.Row(
            [
                ft.CircleAvatar(
                    content=ft.Text(i18n.initials(customer.first_name, customer.last_name), weight=ft.FontWeight.W_600),
                    radius=30,
                    bgcolor=ft.Colors.TEAL_100,
                ),
                ft.Column(
                    [
                        ft.Row(
                            [
                                tagged(
                                    "customer-name",
                                    ft.Text(
                                        f"{customer.first_name} {customer.last_name}",
                                        size=26,
                                        weight=ft.FontWeight.BOLD,
                                    ),
                                ),
                                ask_button(session, profile),
                            ],
                            alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                            wrap=True,
                        ),
                        *([journey] if journey is not None else []),
                        tagged(
                            "customer-contact",
                            ft.Text(
                                " · ".join(filter(None, [customer.email, i18n.phone(customer.phone)])),
                                color=ft.Colors.GREY_700,
                            ),
                        ),
                        *(
                            [
                                tagged(
                                    "customer-tags",
                                    ft.Row(
                                        [chip(t, ft.Colors.INDIGO_400, None, ft.Icons.LABEL) for t in picture.tags],
                                        wrap=True,
                                        spacing=6,
                                    ),
                                )
                            ]
                            if picture.tags
                            else []
                        ),
                        *(
                            [
                                tagged(
                                    "customer-sources",
                                    ft.Text(
                                        i18n.from_systems(session.lang, customer.sources), color=ft.Colors.GREY_700
                                    ),
                                )
                            ]
                            if customer.sources
                            else []
                        ),
                        *(
                            [
                                chip(
                                    session.t("service_recovery"),
                                    ft.Colors.DEEP_ORANGE_700,
                                    "service-recovery",
                                    ft.Icons.SUPPORT_AGENT,
                                )
                            ]
                            if unhappy(picture)
                            else []
                        ),
                        ft.Row(
                            [
                                chip(
                                    session.t(f"tier_{customer.tier}"),
                                    TIER_COLOURS[customer.tier],
                                    "customer-tier",
                                    ft.Icons.STAR,
                                ),
                                tagged(
                                    "customer-points",
                                    ft.Text(
                                        session.t("points", points=i18n.number(customer.points, session.lang)), size=16
                                    ),
                                ),
                                tagged(
                                    "customer-home-store",
                                    ft.Text(
                                        session.t(
                                            "home_store",
                                            store=picture.glance.home_store_name
                                            if picture.glance
                                            else customer.home_store,
                                        ),
                                        size=16,
                                    ),
                                ),
                                chip(session.t("no_marketing"), ft.Colors.RED_700, "no-marketing", ft.Icons.BLOCK)
                                if not consent
                                else ft.Text(session.t("marketing_ok"), color=ft.Colors.GREEN_800),
                                *(  # enrolled here, the centre has not answered: no card yet (issue 14)
                                    [
                                        chip(
                                            session.t("card_waiting_chip"),
                                            ft.Colors.ORANGE_800,
                                            "card-waiting",
                                            ft.Icons.HOURGLASS_TOP,
                                        )
                                    ]
                                    if not customer.card_number
                                    else []
                                ),
                                tagged(
                                    "show-card",
                                    ft.TextButton(
                                        content=session.t("card_show"),
                                        icon=ft.Icons.QR_CODE_2,
                                        on_click=lambda _, c=customer.id: go(f"/card/{c}"),
                                    ),
                                ),
                                tagged(
                                    "customer-message",
                                    ft.OutlinedButton(
                                        content=session.t("message_action"),
                                        icon=ft.Icons.SEND,
                                        height=TOUCH,
                                        on_click=write_to_her,
                                    ),
                                ),
                            ],
                            wrap=True,
                            spacing=14,
                        ),
                    ],
                    spacing=4,
                    expand=True,
                ),
            ],
            vertical_alignment=ft.CrossAxisAlignment.START,
        ),
        "customer-header",
    )
    header = ft.Column([header, asking(session, profile)], spacing=8) if profile.survey else header
    consent = [consent_row(session, picture, profile, consent_editing, set_consent_editing)]
    if profile.consent_error is not None:
        consent.append(message(session.explain(profile.consent_error), "consent-error"))
    glance = at_a_glance(session, customer, picture.glance, consent) if picture.glance else None
    suggestions = suggestions_card(session, picture, profile)
    composer = composer_card(session, picture, profile)
    tasks = follow_ups_card(session, picture, follow_up_form, profile)
    tabs = ft.Row(
        [
            tagged(
                f"tab-{name}",
                (ft.FilledButton if name == tab else ft.OutlinedButton)(
                    content=session.t(f"tab_{name}"), height=TOUCH, on_click=lambda _, n=name: profile.show(n)
                ),
            )
            for name in PROFILE_TABS
        ],
        spacing=8,
        wrap=True,
    )
    if tab == "orders":
        body = orders_tab(session, picture, returns)
    elif tab == "notes":
        body = notes_tab(session, picture, profile, note_text, set_note_text)
    elif tab == "wishlist":
        body = wishlist_tab(session, picture, follow_up_form)
    else:
        body = {"chats": chats_tab, "timeline": timeline_tab}[tab](session, picture)
    side = [c for c in (composer, glance, suggestions, tasks) if c is not None]
    main = [tabs, tagged("customer-body", ft.ListView(body, spacing=8, expand=True))]
    if (ft.context.page.width or 1280) >= SIDE_BY_SIDE:  # a landscape tablet or a desk: what to know beside the tabs
        return ft.Column(
            [
                header,
                ft.Row(
                    [
                        ft.Column(main, spacing=12, expand=True),
                        ft.Container(ft.Column(side, spacing=12, scroll=ft.ScrollMode.AUTO), width=SIDE_WIDTH),
                    ],
                    spacing=12,
                    expand=True,
                    vertical_alignment=ft.CrossAxisAlignment.START,
                ),
            ],
            spacing=12,
            expand=True,
        )
    return ft.Column([header, *side, *main], spacing=12, expand=True)  # portrait: one above the other
