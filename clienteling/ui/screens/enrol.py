"""Enrol a customer at the counter (issue 14): the form (`/enrol`), then her digital card (`/card/<customer id>`).

The form checks each field as the device will (`rules.check_enrolment`) and says per field what is wrong; an email a
member here already has offers to open her instead. Enrolling works offline: the card screen opens at once under her
provisional id and says the card is issued when the centre answers; it reads her again every second until then, and
shows the QR code of her card (big enough for a phone's camera to add it to a wallet), its number in groups of
digits, and "Save as picture" (a PNG in `<data folder>/cards/<number>.png`, to print or send).
"""

from __future__ import annotations

import asyncio

import flet as ft

from clienteling import codes
from clienteling.contract import CONSENT_CHANNELS
from clienteling.ui import i18n
from clienteling.ui.session import go, use_session
from clienteling.ui.state import CardView, EnrolForm, enrolment_status
from clienteling.ui.widgets import big_button, card, heading, how_did_it_go, loading, message, tagged, use_task

CARD_SIZE = 320  # px on screen: a QR code of a 13-digit payload, readable by a phone held at arm's length


@ft.component
def EnrolScreen():
    session = use_session()
    form, _ = ft.use_state(
        lambda: EnrolForm(session.device, session.staff_id, email=session.extra.pop("enrol_email", "") or "")
    )

    def field(name: str, keyboard=None, **more) -> ft.Control:
        problem = form.problems.get(name)
        return tagged(
            f"enrol-{name.replace('_', '-')}",
            ft.TextField(
                label=session.t(f"enrol_{name}"),
                value=getattr(form, name),
                on_change=lambda e: form.set(name, e.control.value),
                error=session.t(f"enrol_problem_{problem}") if problem else None,
                keyboard_type=keyboard,
                **more,
            ),
        )

    async def submit(_=None):
        route = await form.submit()
        if route:
            session.extra["enrol_survey"] = (route, form.survey)  # her card screen asks how joining went
            go(route)

    known = []
    if form.known is not None:
        params = form.known
        if params.get("card_number"):
            said = session.t(
                "enrol_known",
                name=params.get("name", ""),
                card=codes.grouped(params["card_number"]),
                since=i18n.local(params["member_since"], lang=session.lang, with_time=False)
                if params.get("member_since")
                else "",
            )
        else:
            said = session.t("enrol_known_here", name=params.get("name", ""))
        known = [
            message(said, "enrol-known"),
            big_button(
                session.t("enrol_open_known"),
                lambda _, c=params["customer_id"]: go(f"/customer/{c}"),
                "enrol-open-known",
                icon=ft.Icons.PERSON_SEARCH,
            ),
        ]
    consent = ft.Row(
        [
            ft.Text(session.t("enrol_consent"), size=16),
            *(
                tagged(
                    f"enrol-consent-{c}",
                    ft.Switch(
                        label=session.t(f"channel_{c}"),
                        value=getattr(form, f"{c}_consent"),
                        on_change=lambda e, c=c: form.set(f"{c}_consent", e.control.value),
                    ),
                )
                for c in CONSENT_CHANNELS
            ),
        ],
        spacing=14,
        wrap=True,
    )
    return ft.Column(
        [
            heading(session.t("enrol_title"), "enrol-title"),
            ft.ResponsiveRow(
                [
                    ft.Container(field("first_name", autofocus=True), col={"xs": 12, "md": 6}),
                    ft.Container(field("last_name"), col={"xs": 12, "md": 6}),
                    ft.Container(field("email", ft.KeyboardType.EMAIL), col={"xs": 12, "md": 6}),
                    ft.Container(field("phone", ft.KeyboardType.PHONE), col={"xs": 12, "md": 6}),
                ]
            ),
            consent,
            ft.Text(session.t("enrol_home_store", store=session.device.store or ""), color=ft.Colors.GREY_700),
            *known,
            message(session.explain(form.error) if form.error else None, "enrol-error"),
            ft.Row(
                [
                    big_button(
                        session.t("enrol_submit"),
                        submit,
                        "enrol-submit",
                        icon=ft.Icons.CARD_MEMBERSHIP,
                        disabled=form.busy,
                    ),
                    big_button(session.t("back"), lambda _: go("/"), "enrol-back", primary=False),
                ],
                wrap=True,
            ),
        ],
        spacing=14,
        scroll=ft.ScrollMode.AUTO,
        expand=True,
    )


@ft.component
def CardScreen():
    session = use_session()
    customer_id = ft.use_route_params().get("customer_id", "")
    view, _ = ft.use_state(lambda: CardView(session.device))
    ft.use_effect(lambda: asyncio.create_task(view.open(customer_id)).cancel, [customer_id])
    use_task(view.follow)

    def opened():
        if view.customer is not None:
            session.served(customer_id)  # she is in "Last customers served", under any id she had here

    ft.use_effect(opened, [customer_id, view.customer is not None])
    if view.customer_id != customer_id or (view.customer is None and view.error is None):
        return loading("card-loading")
    if view.customer is None:
        return ft.Column(
            [
                message(session.explain(view.error), "card-error"),
                big_button(session.t("back"), lambda _: go("/"), "back"),
            ]
        )
    customer = view.customer
    asked_on, survey = session.extra.get("enrol_survey") or (None, None)
    survey = survey if asked_on == f"/card/{customer_id}" else None  # only on the card of the one just enrolled
    key, values = enrolment_status(view.enrolment)
    if "since" in values and values["since"] is not None:
        values["since"] = i18n.local(values["since"], lang=session.lang, with_time=False)
    said = session.t(key, **{k: v if v is not None else "" for k, v in values.items()})
    state = view.enrolment.state if view.enrolment is not None else "member"

    async def save(_):  # Flet awaits a coroutine function it is given, not a lambda's coroutine
        await view.save()

    if view.png is not None:
        code = tagged("card-qr", ft.Image(src=view.png, width=CARD_SIZE, height=CARD_SIZE, fit=ft.BoxFit.CONTAIN))
        number = tagged(
            "card-number",
            ft.Text(
                session.t("card_number", number=codes.grouped(customer.card_number)),
                size=22,
                weight=ft.FontWeight.W_600,
            ),  # not selectable: a selectable text gives screen readers (and the browser journeys) no label
        )
    else:
        code = tagged(
            "card-qr-waiting",
            ft.Container(
                ft.Icon(ft.Icons.HOURGLASS_TOP, size=64, color=ft.Colors.GREY_500),
                width=CARD_SIZE,
                height=CARD_SIZE,
                alignment=ft.Alignment.CENTER,
                bgcolor=ft.Colors.GREY_100,
                border_radius=12,
            ),
        )
        number = tagged("card-number-waiting", ft.Text(session.t("card_waiting_chip"), size=18))
    return ft.Column(
        [
            heading(session.t("card_title"), "card-title"),
            card(
                ft.Column(
                    [
                        tagged(
                            "card-name",
                            ft.Text(f"{customer.first_name} {customer.last_name}", size=24, weight=ft.FontWeight.BOLD),
                        ),
                        code,
                        number,
                    ],
                    horizontal_alignment=ft.CrossAxisAlignment.CENTER,
                    spacing=10,
                ),
                "card",
            ),
            message(said, f"card-status-{state}", error=state == "refused"),
            how_did_it_go(session, survey),
            message(session.t("card_saved", path=str(view.saved)) if view.saved else None, "card-saved", error=False),
            message(session.explain(view.error) if view.error else None, "card-error"),
            ft.Row(
                [
                    big_button(
                        session.t("card_save"),
                        save,
                        "card-save",
                        icon=ft.Icons.SAVE_ALT,
                        disabled=view.png is None,
                    ),
                    big_button(
                        session.t("card_open_profile"),
                        lambda _: go(f"/customer/{customer.id}"),
                        "card-open-profile",
                        icon=ft.Icons.PERSON,
                        primary=False,
                    ),
                ],
                wrap=True,
            ),
        ],
        spacing=14,
        scroll=ft.ScrollMode.AUTO,
        expand=True,
        horizontal_alignment=ft.CrossAxisAlignment.CENTER,
    )
