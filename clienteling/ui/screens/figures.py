"""The figures: what an associate sold in the store, the online orders credited to them, the follow-ups they did
and the customers they served, week by week, as a chart with the numbers of the week tapped; a manager sees the
whole store and each colleague. From the centre (clienteling.central.reports), kept for when it cannot be reached."""

from __future__ import annotations

import flet as ft
import flet_charts as fch

from clienteling.contract import DashboardLine, DashboardWeek
from clienteling.ui.i18n import ago, decimal, local, money, number, week_label
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
    tabs = (
        ft.Row(
            [
                tagged(
                    f"figures-tab-{name}",
                    (ft.FilledButton if figures.tab == name else ft.OutlinedButton)(
                        content=session.t(f"figures_tab_{name}"), height=TOUCH, on_click=show_tab(figures, name)
                    ),
                )
                for name in ("sales", "experience")
            ],
            spacing=8,
        )
        if manager
        else None
    )
    if manager and figures.tab == "experience":
        return ft.Column(
            [heading(session.t("figures_title")), tabs, *experience_section(session, figures)],
            spacing=12,
            scroll=ft.ScrollMode.AUTO,
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
        *([tabs] if tabs else []),
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
        [tile(f"figures-{name}", session.t(key), value, colour) for name, key, value, colour in figures], wrap=True
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


def show_tab(figures: Figures, name: str):
    async def shown(_event=None):
        await figures.show_tab(name)

    return shown


TYPE_COLOURS = (ft.Colors.BLUE_700, ft.Colors.TEAL_400, ft.Colors.AMBER_700, ft.Colors.PURPLE_400, ft.Colors.RED_400)
PULSE_COLOUR = ft.Colors.BLUE_GREY_400


def average(session, cell) -> str:
    return decimal(cell.average, session.lang) if cell.average is not None else "—"


def experience_section(session, figures: Figures) -> list[ft.Control]:
    """How the store's customers rated its touchpoints and how the team's shifts went: this week's figures, a line
    per touchpoint type (or colleague) over the weeks with the pulse beside them, the numbers per line, the worst
    answers with what the customer said."""
    view = figures.experience
    if view is None:
        return [loading("experience-loading")]
    report = view.dashboard
    if report is None:
        return [message(session.t("figures_never"), "experience-never")]
    made = ago(session.lang, report.made_at)
    status = (
        message(session.t("figures_offline", ago=made), "experience-offline")
        if view.offline
        else tagged("experience-made", ft.Text(session.t("figures_made", ago=made), color=ft.Colors.GREY_700))
    )
    now, pulse = report.overall.weeks[-1], report.pulse.weeks[-1]
    tiles = ft.Row(
        [
            tile(
                "experience-score",
                session.t("experience_score"),
                average(session, now),
                ft.Colors.TEAL_700,
                session.t("experience_answers", n=now.answers),
            ),
            tile("experience-low", session.t("experience_low"), number(now.low, session.lang), ft.Colors.RED_400),
            tile(
                "experience-pulse",
                session.t("experience_pulse"),
                average(session, pulse),
                PULSE_COLOUR,
                session.t("experience_pulse_few")
                if pulse.average is None
                else session.t("experience_answers", n=pulse.answers),
            ),
        ],
        wrap=True,
    )
    lines = report.by_type if figures.by == "type" else report.by_staff
    named = [
        (line, session.t(f"touchpoint_{line.key}") if figures.by == "type" else (line.name or line.key))
        for line in lines[: len(TYPE_COLOURS)]
    ]
    by_chips = ft.Row(
        [
            tagged(
                f"experience-by-{by}",
                ft.Chip(
                    label=ft.Text(session.t(f"experience_by_{by}")),
                    selected=figures.by == by,
                    on_click=lambda _, b=by: figures.show_by(b),
                ),
            )
            for by in ("type", "staff")
        ]
    )
    series = [
        fch.LineChartData(
            points=[
                fch.LineChartDataPoint(
                    x=i,
                    y=cell.average,
                    tooltip=f"{name}: {average(session, cell)} ({cell.answers})",
                )
                for i, cell in enumerate(line.weeks)
                if cell.average is not None
            ],
            color=TYPE_COLOURS[n],
            stroke_width=3,
            point=True,
        )
        for n, (line, name) in enumerate(named)
    ]
    series.append(
        fch.LineChartData(
            points=[
                fch.LineChartDataPoint(
                    x=i, y=cell.average, tooltip=f"{session.t('experience_pulse')}: {average(session, cell)}"
                )
                for i, cell in enumerate(report.pulse.weeks)
                if cell.average is not None
            ],
            color=PULSE_COLOUR,
            stroke_width=2,
            dash_pattern=[6, 4],
            point=True,
        )
    )
    chart = fch.LineChart(
        data_series=series,
        min_y=1,
        max_y=5,
        min_x=0,
        max_x=max(len(report.weeks) - 1, 1) + 0.3,  # room for the last week's label
        height=240,
        interactive=True,
        left_axis=fch.ChartAxis(
            label_size=28, labels=[fch.ChartAxisLabel(value=v, label=ft.Text(str(v))) for v in range(1, 6)]
        ),
        bottom_axis=fch.ChartAxis(
            label_size=28,
            labels=[
                fch.ChartAxisLabel(value=i, label=ft.Text(week_label(session.lang, w), size=12))
                for i, w in enumerate(report.weeks)
            ],
        ),
        horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.GREY_300, width=1, dash_pattern=[3, 3]),
    )
    legend = ft.Row(
        [
            ft.Row([ft.Container(width=14, height=4, bgcolor=TYPE_COLOURS[n]), ft.Text(name)], spacing=6)
            for n, (_, name) in enumerate(named)
        ]
        + [
            ft.Row(
                [ft.Container(width=14, height=4, bgcolor=PULSE_COLOUR), ft.Text(session.t("experience_pulse"))],
                spacing=6,
            )
        ],
        wrap=True,
        spacing=16,
    )
    table = ft.DataTable(
        columns=[
            ft.DataColumn(ft.Text(session.t(c)))
            for c in ("figures_name", "experience_answers_head", "experience_average", "experience_low")
        ],
        rows=[
            ft.DataRow(
                cells=[
                    ft.DataCell(ft.Text(name)),
                    ft.DataCell(ft.Text(number(line.total.answers, session.lang))),
                    ft.DataCell(ft.Text(average(session, line.total))),
                    ft.DataCell(ft.Text(number(line.total.low, session.lang))),
                ]
            )
            for line, name in ((line, n) for line, n in named)
        ],
    )
    worst = [
        card(
            ft.Column(
                [
                    ft.Row(
                        [
                            ft.Text("★" * a.score + "☆" * (5 - a.score), color=ft.Colors.AMBER_800, size=18),
                            tagged(
                                f"experience-about-{a.token}",
                                ft.Text(
                                    " · ".join(
                                        filter(
                                            None,
                                            [
                                                session.t(f"touchpoint_{a.type}"),
                                                a.staff_name,
                                                local(a.touchpoint_at, lang=session.lang, with_time=False),
                                            ],
                                        )
                                    ),
                                    color=ft.Colors.GREY_700,
                                ),
                            ),
                        ],
                        wrap=True,
                    ),
                    tagged(f"experience-comment-{a.token}", ft.Text(f"“{a.comment}”", size=16)),
                ],
                spacing=4,
            ),
            f"experience-worst-{a.token}",
        )
        for a in report.lowest
    ]
    return [
        status,
        tiles,
        by_chips,
        card(
            ft.Column([ft.Text(session.t("experience_chart"), weight=ft.FontWeight.W_600), chart, legend], spacing=8),
            "experience-chart",
        ),
        card(
            ft.Column(
                [
                    ft.Text(session.t("experience_table"), weight=ft.FontWeight.W_600),
                    ft.Row([table], scroll=ft.ScrollMode.AUTO),
                ]
            ),
            "experience-table",
        ),
        ft.Text(session.t("experience_worst"), size=18, weight=ft.FontWeight.W_600),
        *(worst or [ft.Text(session.t("experience_no_worst"), color=ft.Colors.GREY_700)]),
    ]


def tile(identifier: str, label: str, value: str, colour, note: str = "") -> ft.Control:
    """One figure in a card: its colour (as in the chart), what it is, the value, and a note under it if any."""
    return ft.Container(
        card(
            ft.Column(
                [
                    ft.Row([ft.Container(width=12, height=12, bgcolor=colour, border_radius=6)]),
                    ft.Text(label, color=ft.Colors.GREY_700),
                    tagged(identifier, ft.Text(value, size=22, weight=ft.FontWeight.BOLD)),
                    *([ft.Text(note, color=ft.Colors.GREY_700, size=13)] if note else []),
                ],
                spacing=4,
            )
        ),
        width=200,
    )
