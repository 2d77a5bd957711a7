"""The figures: what an associate sold in the store, the online orders credited to them, the follow-ups they did
and the customers they served, week by week, as a chart with the numbers of the week tapped; a manager sees the
whole store and each colleague. From the centre (clienteling.central.reports), kept for when it cannot be reached."""

from __future__ import annotations

import flet as ft
import flet_charts as fch

from clienteling.contract import DashboardLine, DashboardWeek
from clienteling.ui.i18n import ago, money, number, week_label
from clienteling.ui.session import use_session
from clienteling.ui.state import Figures
from clienteling.ui.widgets import TOUCH, card, heading, loading, message, tagged, use_task

IN_STORE, CREDITED = ft.Colors.BLUE_700, ft.Colors.TEAL_300


@ft.component
def FiguresScreen():
    session = use_session()
    manager = session.staff is not None and session.staff.role == "manager"
    figures, _ = ft.use_state(lambda: Figures(session.device, whose=None if manager else session.staff_id))
    use_task(figures.refresh)
    view = figures.view
    if view is None:
        return ft.Column([heading(session.t("figures_title")), loading("figures-loading")])
    board = view.dashboard
    if board is None:
        return ft.Column(
            [heading(session.t("figures_title")), message(session.t("figures_never"), "figures-never")], spacing=12
        )
    line = figures.line()
    week = line.weeks[figures.week]
    made = ago(session.lang, board.made_at)
    status = (
        message(session.t("figures_offline", ago=made), "figures-offline")
        if view.offline
        else tagged("figures-made", ft.Text(session.t("figures_made", ago=made), color=ft.Colors.GREY_700))
    )
    shown = [board.store_total, *(s for s in board.staff if manager or s.staff_id == session.staff_id)]

    def pick(whose: str | None):
        async def picked(_event=None):
            figures.show(whose)

        return picked

    async def tapped(event: fch.BarChartEvent):
        if event.type == fch.ChartEventType.TAP_UP and event.group_index is not None and event.group_index >= 0:
            figures.pick_week(event.group_index)

    whose_chips = ft.Row(
        [
            tagged(
                f"figures-whose-{s.staff_id or 'store'}",
                ft.Chip(
                    label=ft.Text(s.name or session.t("figures_store")),
                    selected=s.staff_id == line.staff_id,
                    on_click=pick(s.staff_id),
                    height=TOUCH - 8,
                ),
            )
            for s in shown
        ],
        wrap=True,
    )
    day = week_label(session.lang, week.week)
    title = session.t("figures_this_week") if figures.week in (-1, len(line.weeks) - 1) else day
    parts: list[ft.Control] = [
        heading(session.t("figures_title")),
        status,
        whose_chips,
        tagged("figures-week", ft.Text(title, size=18, weight=ft.FontWeight.W_600)),
        tiles(session, week),
        card(chart(session, line, tapped), "figures-chart"),
    ]
    if manager and line.staff_id is None:
        parts.append(by_colleague(session, board.staff, figures.week, day))
    return ft.Column(parts, spacing=12, scroll=ft.ScrollMode.AUTO)


def tiles(session, week: DashboardWeek) -> ft.Control:
    figures = (
        ("in-store", "figures_in_store", money(week.in_store.cents, session.lang), IN_STORE),
        ("credited", "figures_credited", money(week.credited_online.cents, session.lang), CREDITED),
        ("follow-ups", "figures_follow_ups", number(week.follow_ups_done, session.lang), ft.Colors.AMBER_700),
        ("served", "figures_served", number(week.customers_served, session.lang), ft.Colors.PURPLE_400),
    )
    return ft.Row(
        [
            ft.Container(
                card(
                    ft.Column(
                        [
                            ft.Row([ft.Container(width=12, height=12, bgcolor=colour, border_radius=6)]),
                            ft.Text(session.t(key), color=ft.Colors.GREY_700),
                            tagged(f"figures-{name}", ft.Text(value, size=22, weight=ft.FontWeight.BOLD)),
                        ],
                        spacing=4,
                    )
                ),
                width=200,
            )
            for name, key, value, colour in figures
        ],
        wrap=True,
    )


def chart(session, line: DashboardLine, on_event) -> ft.Control:
    """Sales per week as stacked bars (in store, then credited online), each with its amounts on touch."""
    tops = [w.in_store.cents + w.credited_online.cents for w in line.weeks]
    highest = max(tops, default=0) or 100_00
    groups = []
    for index, week in enumerate(line.weeks):
        in_store, credited = week.in_store.cents / 100, week.credited_online.cents / 100
        tooltip = (
            f"{week_label(session.lang, week.week)}\n"
            f"{session.t('figures_in_store')}: {money(week.in_store.cents, session.lang)}\n"
            f"{session.t('figures_credited')}: {money(week.credited_online.cents, session.lang)}"
        )
        groups.append(
            fch.BarChartGroup(
                x=index,
                rods=[
                    fch.BarChartRod(
                        from_y=0,
                        to_y=in_store + credited,
                        width=22,
                        color=IN_STORE,
                        border_radius=4,
                        stack_items=[
                            fch.BarChartRodStackItem(from_y=0, to_y=in_store, color=IN_STORE),
                            fch.BarChartRodStackItem(from_y=in_store, to_y=in_store + credited, color=CREDITED),
                        ],
                        tooltip=fch.BarChartRodTooltip(tooltip),
                    )
                ],
            )
        )
    legend = ft.Row(
        [
            ft.Row([ft.Container(width=14, height=14, bgcolor=colour), ft.Text(session.t(key))], spacing=6)
            for colour, key in ((IN_STORE, "figures_in_store"), (CREDITED, "figures_credited"))
        ],
        spacing=20,
    )
    bars = fch.BarChart(
        groups=groups,
        max_y=highest / 100 * 1.15,
        interactive=True,
        height=260,
        left_axis=fch.ChartAxis(label_size=64, show_max=False),
        bottom_axis=fch.ChartAxis(
            label_size=28,
            labels=[
                fch.ChartAxisLabel(value=i, label=ft.Text(week_label(session.lang, w.week), size=12))
                for i, w in enumerate(line.weeks)
            ],
        ),
        horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.GREY_300, width=1, dash_pattern=[3, 3]),
        tooltip=fch.BarChartTooltip(bgcolor=ft.Colors.BLUE_GREY_50),
        on_event=on_event,
    )
    return ft.Column(
        [
            ft.Text(session.t("figures_chart"), weight=ft.FontWeight.W_600),
            bars,
            legend,
            ft.Text(session.t("figures_tap"), color=ft.Colors.GREY_700, size=13),
        ],
        spacing=8,
    )


def by_colleague(session, staff: list[DashboardLine], week: int, day: str) -> ft.Control:
    """The week's figures of each colleague, side by side (the manager's view of the whole store)."""
    columns = ("figures_name", "figures_in_store", "figures_credited", "figures_follow_ups", "figures_served")
    rows = [
        ft.DataRow(
            cells=[
                ft.DataCell(ft.Text(s.name or s.staff_id or "")),
                ft.DataCell(ft.Text(money(s.weeks[week].in_store.cents, session.lang))),
                ft.DataCell(ft.Text(money(s.weeks[week].credited_online.cents, session.lang))),
                ft.DataCell(ft.Text(number(s.weeks[week].follow_ups_done, session.lang))),
                ft.DataCell(ft.Text(number(s.weeks[week].customers_served, session.lang))),
            ]
        )
        for s in staff
    ]
    return card(
        ft.Column(
            [
                ft.Text(session.t("figures_by_staff", day=day), weight=ft.FontWeight.W_600),
                ft.Row(
                    [ft.DataTable(columns=[ft.DataColumn(ft.Text(session.t(c))) for c in columns], rows=rows)],
                    scroll=ft.ScrollMode.AUTO,
                ),
            ]
        ),
        "figures-by-colleague",
    )
