"""Look up: one field for a scanner or typing; names give results as you type; today's follow-ups (and the way to
"My customers"); the customers served lately; "Enrol a customer", offered with the email filled in when a typed email
finds nobody."""

from __future__ import annotations

import flet as ft

from clienteling.device import DeviceError
from clienteling.ui.offloop import use_loaded
from clienteling.ui.screens.camera import camera_available, camera_button
from clienteling.ui.screens.follow_ups import TodaysFollowUps
from clienteling.ui.session import go, use_session
from clienteling.ui.state import CustomerLookup, enrol_offer
from clienteling.ui.widgets import big_button, card, code_field, heading, message, tagged, typed


def customer_row(session, summary, identifier: str, other_store: bool = False) -> ft.Control:
    tier = session.t(f"tier_{summary.tier}")
    mark = session.t("other_store", store=summary.home_store)
    return card(
        ft.Row(
            [
                ft.Icon(ft.Icons.PERSON, color=ft.Colors.TEAL_700),
                ft.Column(
                    [
                        ft.Text(f"{summary.first_name} {summary.last_name}", size=18, weight=ft.FontWeight.W_600),
                        ft.Text(f"{summary.email} · {tier} · {summary.home_store}", color=ft.Colors.GREY_700),
                        *(
                            [tagged(f"other-store-{summary.id}", ft.Text(mark, color=ft.Colors.ORANGE_900))]
                            if other_store
                            else []
                        ),
                    ],
                    spacing=2,
                    expand=True,
                ),
                ft.Icon(ft.Icons.CHEVRON_RIGHT),
            ]
        ),
        identifier,
        on_click=lambda _: go(f"/customer/{summary.id}"),
    )


def _customers(device, ids) -> list:
    """The customers served lately that this device still knows."""
    found = []
    for customer_id in ids:
        try:
            found.append(device.customer(customer_id))
        except DeviceError:
            continue
    return found


@ft.component
def LookupScreen():
    session = use_session()
    device = session.device
    lookup, _ = ft.use_state(lambda: CustomerLookup(device))
    field = ft.use_ref(None)
    keys = session.scan_keys
    ft.use_state(keys)  # re-render when a scan is completed before the field had focus
    served = tuple(session.recent)
    recent_loaded = use_loaded(lambda: _customers(device, served), [served])

    async def refocus():
        # Only after a wrong scan (the screen stays): a focus call made as the screen opens can come back after a
        # fast scanner has already moved on, and the answer for an unmounted field breaks the session.
        if lookup.error is not None and field.current is not None:
            await field.current.focus()

    ft.use_effect(refocus, [lookup.error])

    async def changed(e):
        await lookup.typed(e.control.value)

    async def submit(e=None):
        await look_up(keys.take(typed(e, lookup.text)).strip())

    async def look_up(value: str) -> None:
        route = await lookup.look_up(value)
        if route:  # the screen goes: no need to clear the field first
            go(route)

    def scanned_before_focus():
        if (early := keys.take_completed()) is not None:  # a task of its own: this effect re-runs at once
            ft.context.page.run_task(look_up, early.strip())

    ft.use_effect(scanned_before_focus, [keys.completed])
    ft.use_effect(lambda: keys.closed, [])  # the screen goes: its keys are nobody's
    recent = recent_loaded.value or []

    def enrol(email: str = "") -> None:
        session.extra["enrol_email"] = email
        go("/enrol")

    offer = enrol_offer(lookup.error, lookup.text)
    enrolling = (
        [
            tagged("enrol-offer", ft.Text(session.t("enrol_offer", email=offer), size=16)),
            big_button(
                session.t("enrol_offer_button"),
                lambda _: enrol(offer),
                "enrol-with-email",
                icon=ft.Icons.PERSON_ADD,
            ),
        ]
        if offer
        else []
    )

    results: list[ft.Control] = []
    if lookup.matches is not None:
        query, found, elsewhere, centre_searched = (
            lookup.matches.query,
            lookup.matches.found,
            lookup.matches.elsewhere,
            lookup.matches.centre_searched,
        )
        results.append(ft.Text(session.t("matches", text=query), size=16, weight=ft.FontWeight.W_600))
        if not centre_searched:
            results.append(
                tagged("search-local-only", ft.Text(session.t("search_local_only"), color=ft.Colors.ORANGE_900))
            )
        if not found:
            results.append(tagged("no-matches", ft.Text(session.t("no_matches", text=query))))
        results += [customer_row(session, m, f"match-{m.id}", m.id in elsewhere) for m in found]
    else:
        if session.staff_id:
            results.append(TodaysFollowUps())
        results.append(ft.Text(session.t("recent"), size=16, weight=ft.FontWeight.W_600))
        if recent_loaded.ready and not recent:
            results.append(ft.Text(session.t("no_recent"), color=ft.Colors.GREY_700))
        results += [customer_row(session, c, f"recent-{c.id}") for c in recent]

    return ft.Column(
        [
            ft.Row(
                [
                    ft.Container(heading(session.t("lookup_title")), expand=True),
                    big_button(session.t("enrol"), lambda _: enrol(), "enrol", icon=ft.Icons.PERSON_ADD, primary=False),
                ],  # not a wrapping row: a wrap cannot give the heading the room left (the screen would not draw)
            ),
            code_field(
                "scan-field",
                session.t("scan_label"),
                None,  # uncontrolled: an echo of an earlier keystroke must never overwrite a faster scanner
                changed,
                submit,
                ref=field,
                on_focus=lambda _: keys.focused(True),
                on_blur=lambda _: keys.focused(False),
                hint_text=session.t("scan_hint"),
                autofocus=True,
                text_size=20,
                expand=True,
            ),
            *([camera_button(session)] if camera_available(ft.context.page) else []),
            message(session.explain(lookup.error) if lookup.error else None, "scan-error"),
            *enrolling,
            ft.ListView(results, spacing=8, expand=True),
        ],
        spacing=14,
        expand=True,
    )
