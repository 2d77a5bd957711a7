"""Follow-ups and the client book on screen (issue 14): today's follow-ups on the look-up screen, her follow-ups and
the form to add one on the customer screen (from the profile, or "Tell her when it is back" on a wishlist item), and
"My customers" (`/clients`). The words of a task the centre made come from its reason and item, in the reader's
language (`follow_up_words`)."""

from __future__ import annotations

from datetime import date, datetime

import flet as ft

from clienteling import follow_ups
from clienteling.ui import i18n
from clienteling.ui.session import go, use_session
from clienteling.ui.state import DUE_CHOICES, ClientBook, FollowUpForm, FollowUpList
from clienteling.ui.widgets import TOUCH, big_button, card, heading, loading, message, tagged, use_task


def follow_up_words(session, shown) -> str:
    """What the task asks, in the reader's language: staff's own words, or the centre's reason worded."""
    task = shown.task
    if task.text:
        return task.text
    item = shown.product_name or task.sku or ""
    size = (task.sku or "").rsplit("-", 1)[-1] if task.sku else ""
    about = dict(task.about)
    if "touchpoint" in about:
        about["touchpoint"] = session.t(f"touchpoint_{about['touchpoint']}").lower()
    if "channel" in about:
        about["channel"] = i18n.chat_channel(session.lang, str(about["channel"]))
    return session.t(
        f"follow_up_reason_{task.reason}",
        **{"quote": "", "score": "", **about},
        item=item,
        size=size,
        name=shown.customer_name,
    )


def due_words(session, shown, today: date) -> str:
    """'Due today', 'Overdue since 28-11', 'Due 07-12', 'Snoozed until 07-12', 'Done'."""
    task = shown.task
    day = follow_ups.due_on(task)
    if day is None:
        return session.t("follow_up_done_state")
    when = i18n.local(datetime(day.year, day.month, day.day, 12), lang=session.lang, with_time=False)
    if task.state == "snoozed":
        return session.t("follow_up_snoozed_until", date=when)
    if day == today:
        return session.t("follow_up_due_today")
    if day < today:
        return session.t("follow_up_overdue", date=when)
    return session.t("follow_up_due_on", date=when)


def follow_up_row(session, shown, today: date, on_done, on_snooze, prefix: str, *, open_customer: bool):
    """One task: its words, whose and when, done and snooze (to tomorrow); a tap opens her profile (on the list).
    `on_done(id)` and `on_snooze(id, choice)` are coroutine functions."""
    task = shown.task

    async def done(_):
        await on_done(task.id)

    async def snooze(_):
        await on_snooze(task.id, "tomorrow")

    lines = [
        tagged(
            f"{prefix}-text-{task.id}", ft.Text(follow_up_words(session, shown), size=16, weight=ft.FontWeight.W_600)
        ),
        ft.Text(
            " · ".join(
                filter(
                    None,
                    [
                        shown.customer_name if open_customer else None,
                        due_words(session, shown, today),
                        session.t("follow_up_store_list") if task.assignee is None else None,
                        session.t("follow_up_waiting") if shown.waiting else None,
                    ],
                )
            ),
            color=ft.Colors.RED_800 if (follow_ups.due_on(task) or today) < today else ft.Colors.GREY_700,
        ),
    ]
    buttons = []
    if task.state != "done":
        buttons = [
            tagged(
                f"{prefix}-done-{task.id}",
                ft.FilledButton(
                    content=session.t("follow_up_mark_done"), icon=ft.Icons.CHECK, height=TOUCH, on_click=done
                ),
            ),
            tagged(
                f"{prefix}-snooze-{task.id}",
                ft.OutlinedButton(
                    content=session.t("follow_up_snooze"), icon=ft.Icons.SNOOZE, height=TOUCH, on_click=snooze
                ),
            ),
        ]
    icon = ft.Icon(ft.Icons.INVENTORY if task.origin == "centre" else ft.Icons.TASK_ALT, color=ft.Colors.TEAL_700)
    if open_customer:  # the look-up screen's full width: the buttons beside the words
        body = ft.Row([icon, ft.Column(lines, spacing=2, expand=True), *buttons], wrap=False)
    else:  # the profile's narrow side column: the buttons under the words
        body = ft.Row(
            [icon, ft.Column([*lines, ft.Row(buttons, spacing=8, wrap=True)], spacing=6, expand=True)],
            vertical_alignment=ft.CrossAxisAlignment.START,
        )
    return card(
        body,
        f"{prefix}-{task.id}",
        on_click=(lambda _: go(f"/customer/{task.customer_id}")) if open_customer else None,
    )


@ft.component
def TodaysFollowUps():
    """The look-up screen's "Today's follow-ups": due today or overdue, mine and the store's list."""
    session = use_session()
    listed, _ = ft.use_state(lambda: FollowUpList(session.device, session.staff_id))
    use_task(listed.follow_sync)
    today = session.device.today()
    rows: list[ft.Control] = [
        ft.Row(
            [
                ft.Text(session.t("follow_ups_today"), size=16, weight=ft.FontWeight.W_600, expand=True),
                tagged(
                    "my-customers",
                    ft.TextButton(
                        content=session.t("my_customers"), icon=ft.Icons.PEOPLE, on_click=lambda _: go("/clients")
                    ),
                ),
            ]
        )
    ]
    if listed.items is None:
        rows.append(loading("follow-ups-loading"))
    elif not listed.items:
        rows.append(tagged("no-follow-ups", ft.Text(session.t("follow_ups_none_today"), color=ft.Colors.GREY_700)))
    else:
        rows += [
            follow_up_row(session, s, today, listed.done, listed.snooze, "follow-up", open_customer=True)
            for s in listed.items
        ]
    if listed.error is not None:
        rows.append(message(session.explain(listed.error), "follow-up-error"))
    return tagged("todays-follow-ups", ft.Column(rows, spacing=8))


def follow_up_form(session, form: FollowUpForm, on_saved) -> ft.Control:
    """The words, the day (today, tomorrow, next week, or a day picked), mine or the store's list; Save."""
    today = session.device.today()

    async def save(_):
        if await form.save() is not None:
            await on_saved()

    def picked(e):
        value = e.control.value
        if isinstance(value, datetime):
            form.pick(value.date())

    def open_picker(_):
        ft.context.page.show_dialog(
            ft.DatePicker(
                value=datetime.combine(form.due(today), datetime.min.time()),
                first_date=datetime.combine(today, datetime.min.time()),
                on_change=picked,
            )
        )

    def changed(e):
        form.text = e.control.value or ""

    due = i18n.local(
        datetime.combine(form.due(today), datetime.min.time().replace(hour=12)), lang=session.lang, with_time=False
    )
    return card(
        ft.Column(
            [
                tagged(
                    "follow-up-text",
                    ft.TextField(
                        value=form.text,
                        label=session.t("follow_up_text_label"),
                        hint_text=session.t("follow_up_text_hint"),
                        on_change=changed,
                        multiline=True,
                        autofocus=True,
                    ),
                ),
                ft.Row(
                    [
                        *(
                            tagged(
                                f"follow-up-due-{choice}",
                                (ft.FilledButton if form.choice == choice else ft.OutlinedButton)(
                                    content=session.t(f"due_{choice}"),
                                    height=TOUCH,
                                    on_click=lambda _, c=choice: form.choose(c),
                                ),
                            )
                            for choice in DUE_CHOICES
                        ),
                        tagged(
                            "follow-up-pick-date",
                            ft.OutlinedButton(
                                content=session.t("due_pick"),
                                icon=ft.Icons.CALENDAR_MONTH,
                                height=TOUCH,
                                on_click=open_picker,
                            ),
                        ),
                        tagged("follow-up-due", ft.Text(session.t("follow_up_due_on", date=due))),
                    ],
                    wrap=True,
                    spacing=8,
                ),
                tagged(
                    "follow-up-for-store",
                    ft.Switch(
                        label=session.t("follow_up_for_store"),
                        value=form.for_store,
                        on_change=lambda e: setattr(form, "for_store", bool(e.control.value)),
                    ),
                ),
                message(session.explain(form.error) if form.error else None, "follow-up-form-error"),
                ft.Row(
                    [
                        big_button(session.t("follow_up_save"), save, "follow-up-save", icon=ft.Icons.CHECK),
                        ft.TextButton(content=session.t("back"), on_click=lambda _: form.cancel()),
                    ],
                    spacing=8,
                ),
            ],
            spacing=10,
        ),
        "follow-up-form",
    )


def follow_ups_card(session, picture, form: FollowUpForm, profile) -> ft.Control:
    """On her profile: Follow, her follow-ups not done (every store's), and Add follow-up (or the form)."""
    today = session.device.today()
    customer_id = picture.customer.id
    following = profile.following

    async def toggle(_):
        await profile.follow(not following)

    title = ft.Row(
        [
            ft.Text(session.t("follow_ups_title"), size=18, weight=ft.FontWeight.BOLD, expand=True),
            tagged(
                "follow-toggle",
                (ft.FilledButton if following else ft.OutlinedButton)(
                    content=session.t("following" if following else "follow"),
                    icon=ft.Icons.BOOKMARK if following else ft.Icons.BOOKMARK_BORDER,
                    height=TOUCH,
                    on_click=toggle,
                ),
            ),
        ]
    )
    rows: list[ft.Control] = [title]
    items = picture.follow_ups
    rows += [
        follow_up_row(
            session,
            s,
            today,
            profile.done_follow_up,
            profile.snooze_follow_up,
            "profile-follow-up",
            open_customer=False,
        )
        for s in items
    ]
    if not items:
        rows.append(tagged("no-profile-follow-ups", ft.Text(session.t("follow_ups_none"), color=ft.Colors.GREY_700)))
    if profile.follow_up_error is not None:
        rows.append(message(session.explain(profile.follow_up_error), "profile-follow-up-error"))
    if form.showing and form.customer_id == customer_id:
        rows.append(follow_up_form(session, form, profile.reload))
    else:
        rows.append(
            tagged(
                "add-follow-up",
                ft.OutlinedButton(
                    content=session.t("follow_up_add"),
                    icon=ft.Icons.ADD_TASK,
                    height=TOUCH,
                    on_click=lambda _: form.start(customer_id),
                ),
            )
        )
    return card(ft.Column(rows, spacing=8), "customer-follow-ups")


def tell_her_button(session, form: FollowUpForm, customer_id: str, sku: str, name: str, size: str) -> ft.Control:
    """On a wishlist item: a follow-up about it, worded "Tell her when … is back in …"."""
    return tagged(
        f"wish-follow-up-{sku}",
        ft.TextButton(
            content=session.t("tell_her_when_back"),
            icon=ft.Icons.NOTIFICATIONS_ACTIVE,
            height=TOUCH,
            on_click=lambda _: form.start(customer_id, sku, session.t("tell_her_text", item=name, size=size)),
        ),
    )


@ft.component
def ClientBookScreen():
    """My customers: whom I served on this device or follow, those with something due first."""
    session = use_session()
    book, _ = ft.use_state(lambda: ClientBook(session.device, session.staff_id))
    use_task(book.refresh)
    entries = book.entries
    rows: list[ft.Control] = []
    if entries is None:
        rows.append(loading("clients-loading"))
    elif not entries:
        rows.append(tagged("no-clients", ft.Text(session.t("my_customers_none"), color=ft.Colors.GREY_700)))
    for entry in entries or []:
        facts = [
            session.t("client_due", n=entry.due_follow_ups) if entry.due_follow_ups else None,
            session.t("client_open", n=entry.open_follow_ups) if entry.open_follow_ups else None,
            session.t("client_served", ago=i18n.ago(session.lang, entry.last_served)) if entry.last_served else None,
            session.t("following") if entry.following else None,
        ]
        rows.append(
            card(
                ft.Row(
                    [
                        ft.Icon(ft.Icons.BOOKMARK if entry.following else ft.Icons.PERSON, color=ft.Colors.TEAL_700),
                        ft.Column(
                            [
                                ft.Text(entry.name, size=18, weight=ft.FontWeight.W_600),
                                tagged(
                                    f"client-facts-{entry.customer_id}",
                                    ft.Text(
                                        " · ".join(f for f in facts if f),
                                        color=ft.Colors.RED_800 if entry.due_follow_ups else ft.Colors.GREY_700,
                                    ),
                                ),
                            ],
                            spacing=2,
                            expand=True,
                        ),
                        ft.Icon(ft.Icons.CHEVRON_RIGHT),
                    ]
                ),
                f"client-{entry.customer_id}",
                on_click=lambda _, c=entry.customer_id: go(f"/customer/{c}"),
            )
        )
    return ft.Column(
        [
            heading(session.t("my_customers"), "clients-title"),
            ft.ListView(rows, spacing=8, expand=True),
            big_button(session.t("back"), lambda _: go("/"), "clients-back", primary=False),
        ],
        spacing=14,
        expand=True,
    )
