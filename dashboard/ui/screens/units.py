"""Lead units (牵头单位) and 码上通 projects: one row per group, worst first;
`Enter` drills into the group's items. On the units screen `l` shows the league table
(红黑榜, dashboard.core.league) instead: rank, score and the score's parts; `h` shows each
unit by month from history (share done / points behind, dashboard.unit_trend)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Input, Static

from dashboard.core.items import Evaluated, Status
from dashboard.core.league import BLACK, FORMULA, RED, LeagueRow
from dashboard.core.parse import format_percent
from dashboard.core.rollup import NO_COUNTY

# _summarise: the units' own grouping, by another field (the county).
from dashboard.core.units import UnitSummary, _summarise, summarise_projects, summarise_units
from dashboard.runtime import Snapshot
from dashboard.ui.screens.base import DataScreen, describe_filter
from dashboard.ui.screens.items import ItemListScreen
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import StatusTable
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.ui.widgets.table import Column, VirtualTable
from dashboard.unit_trend import UnitTrend
from dashboard.views import TableView

UNKNOWN_UNIT = "（未填写）"  # what summarise_units calls a blank unit


def group_status(u: UnitSummary) -> Status:
    return u.worst.status if u.worst is not None else Status.DONE


def worst_text(u: UnitSummary) -> str:
    if u.worst is None:
        return "—"
    return f"{u.worst.item.name}（{format_percent(u.worst.item.ratio)}）"


def _count(name: str, label: str) -> Column[UnitSummary]:
    return Column(
        label,
        lambda u: str(getattr(u, name)),
        sort_key=lambda u: getattr(u, name),
        min_width=4,
        max_width=8,
        align="right",
    )


def _worst(label: str, max_width: int) -> Column[UnitSummary]:
    return Column(
        label, worst_text, sort_key=lambda u: u.sort_key()[2], min_width=16, max_width=max_width, flex=True
    )


# The counts by status, as the lead-unit and county tables both show them.
_TALLIES: list[Column[UnitSummary]] = [
    _count("items", "项目数"),
    _count("done", "已完成"),
    _count("on_track", "正常"),
    _count("lagging", "滞后"),
    _count("severe", "严重滞后"),
]

UNIT_COLUMNS: list[Column[UnitSummary]] = [
    Column("牵头单位", lambda u: u.unit, min_width=8, max_width=20),
    *_TALLIES,
    _worst("最落后项目 worst", 70),
    _count("open_alerts", "预警"),
]


def _project_name(u: UnitSummary) -> str:
    return next((m.item.project_name for m in u.members if m.item.project_name), "")


def _project_units(u: UnitSummary) -> str:
    return "、".join(dict.fromkeys(m.item.unit for m in u.members if m.item.unit))


PROJECT_COLUMNS: list[Column[UnitSummary]] = [
    Column("项目编码", lambda u: u.unit, min_width=8, max_width=12),
    Column("项目名称", _project_name, min_width=10, max_width=60),  # room for whole names on a wide screen
    Column("责任单位", _project_units, min_width=8, max_width=16, priority=2),
    _count("items", "指标数"),
    _count("done", "已完成"),
    _count("lagging", "滞后"),
    _count("severe", "严重滞后"),
    _worst("最落后指标 worst", 60),
]


def _share_done(u: UnitSummary) -> float:
    return u.done / u.items if u.items else 0.0


COUNTY_COLUMNS: list[Column[UnitSummary]] = [
    Column("县市区", lambda u: u.unit, min_width=6, max_width=12),
    *_TALLIES,
    Column(
        "完成率", lambda u: f"{_share_done(u) * 100:.0f}%", sort_key=_share_done, min_width=6, align="right"
    ),
    _worst("最落后项目 worst", 70),
    _count("open_alerts", "预警"),
]


def summarise_counties(
    evaluated: Sequence[Evaluated], open_alerts: Mapping[str, int] | None = None
) -> list[UnitSummary]:
    """One row per county (县市区) of a city's roll-up, worst first, as the units are;
    `open_alerts` is county → open alert count."""
    rows = _summarise("county", evaluated, open_alerts or {})
    for u in rows:
        if u.unit == UNKNOWN_UNIT:
            u.unit = NO_COUNTY  # a source without `county`: named as `check --json` names it
    return rows


class GroupScreen(DataScreen):
    """A table of groups of items; `Enter` opens the group's items."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "start_filter", "筛选", key_display="/", id="groups.filter"),
        Binding("escape", "clear_filter", "清除筛选", show=False, id="groups.clear"),
    ]
    TABLE_ID = "units"
    COLUMNS: ClassVar[list[Column[UnitSummary]]] = UNIT_COLUMNS
    EMPTY = "（没有数据 no data）"

    @property
    def table(self) -> StatusTable[UnitSummary]:
        return self.query_one(f"#{self.TABLE_ID}", StatusTable)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="view-note", classes="view-note")
        yield Input(placeholder="筛选 filter (Enter 确定，Esc 清除)", id="filter")
        yield StatusTable(
            self.COLUMNS,
            key_of=lambda u: u.unit,
            row_class=lambda u: f"status--{group_status(u).value}",
            haystack=lambda u: " ".join(c.text(u) for c in self.COLUMNS),
            empty_text=self.EMPTY,
            id=self.TABLE_ID,
        )
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        super().on_mount()
        self.table.focus()

    def groups(self, snap: Snapshot) -> list[UnitSummary]:
        raise NotImplementedError

    def show_snapshot(self, snap: Snapshot) -> None:
        self.table.set_rows(self.groups(snap))
        self._update_note()

    def _update_note(self) -> None:
        note = describe_filter(self.table.filter_text, [])
        self.query_one("#view-note", Static).update(
            Text(f"{self.VIEW_TITLE}  共 {self.table.row_count} 个  {note}")  # user text: not markup
        )

    def action_start_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._update_note()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.set_filter("")
        self.table.focus()

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        event.stop()
        self.app.push_screen(self.drill(event.row))

    def drill(self, group: UnitSummary) -> ItemListScreen:
        raise NotImplementedError


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def _number(name: str, label: str, text: Any, width: int = 6) -> Column[LeagueRow]:
    return Column(
        label, text, sort_key=lambda r: getattr(r, name), min_width=width, max_width=10, align="right"
    )


LEAGUE_COLUMNS: list[Column[LeagueRow]] = [
    _number("rank", "名次", lambda r: str(r.rank), 4),
    Column("榜单", lambda r: r.board, min_width=4, max_width=4),
    Column("牵头单位", lambda r: r.unit, min_width=12, max_width=20),
    _number("score", "得分", lambda r: f"{r.score:.1f}"),
    _number("items", "项目数", lambda r: str(r.items), 4),
    _number("done_share", "完成率", lambda r: _pct(r.done_share)),
    _number("on_schedule_share", "达序时率", lambda r: _pct(r.on_schedule_share)),
    _number("behind_points", "落后点数", lambda r: f"{r.behind_points:.1f}"),
    _number("overdue_cases", "逾期督办", lambda r: str(r.overdue_cases)),
    _number("missing_updates", "漏报动态", lambda r: str(r.missing_updates)),
    Column("得分构成 parts", lambda r: r.parts_text(), min_width=16, max_width=60, flex=True, priority=1),
]
BOARD_CLASS = {RED: "status--done", BLACK: "status--severe"}
MONTHS_TITLE = "各单位按月 Units by month"
MONTHS_NOTE = "每格 完成率 / 平均落后点数 share done / points behind the line"
MONTHS_EMPTY = "（进度历史中没有记录：导入往期通报 dashboard import 后可见 no history yet）"


def _month_cell(t: UnitTrend, day: date) -> str:
    m = t.months.get(day)
    return "—" if m is None else f"{m.done_share * 100:.0f}% / {m.behind_points:.1f}"


def _month_class(t: UnitTrend) -> str:
    last = t.latest()
    if last is None:
        return "status--unknown"
    if last.behind_points > 0:
        return "status--lagging"
    return "status--done" if last.done_share >= 1 else "status--on_track"


def month_columns(days: list[date]) -> list[Column[UnitTrend]]:
    """The unit, then one column per month (older months give way first on a narrow screen)."""
    years = len({d.year for d in days})
    columns: list[Column[UnitTrend]] = [Column("牵头单位", lambda t: t.unit, min_width=8, max_width=20)]
    for i, day in enumerate(days):
        label = f"{day.month}月" if years == 1 else f"{day:%y}-{day.month:02d}"
        columns.append(_month_column(f"{label} 完成/落后", day, priority=len(days) - 1 - i))
    return columns


def _month_column(label: str, day: date, priority: int) -> Column[UnitTrend]:
    def behind(t: UnitTrend) -> float:
        m = t.months.get(day)
        return m.behind_points if m is not None else -1.0

    return Column(
        label,
        lambda t: _month_cell(t, day),
        sort_key=behind,
        min_width=13,
        max_width=16,
        align="right",
        priority=priority,
    )


class UnitsScreen(GroupScreen):
    """牵头单位: items, done, on track, lagging, severe, worst item, open alerts;
    `l` toggles the league table (红黑榜)."""

    VIEW_TITLE = "牵头单位 Lead units"
    LEAGUE_TITLE = "红黑榜 League table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "toggle_league", "红黑榜", show=False, id="units.league"),  # in ? and the palette
        Binding("h", "toggle_months", "按月", show=False, id="units.months"),
        Binding("g", "counties", "县市区", show=False, id="units.counties"),
    ]
    league_shown = False
    months_shown = False
    month_days: tuple[date, ...] = ()  # the months the by-month table has columns for

    @property
    def league(self) -> StatusTable[LeagueRow]:
        return self.query_one("#league", StatusTable)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            yield widget
            if widget.id == self.TABLE_ID:
                yield StatusTable(
                    LEAGUE_COLUMNS,
                    key_of=lambda r: r.unit,
                    row_class=lambda r: BOARD_CLASS.get(r.board, "status--on_track"),
                    haystack=lambda r: r.unit,
                    empty_text=self.EMPTY,
                    id="league",
                )

    def on_mount(self) -> None:
        self.league.display = False
        super().on_mount()

    @property
    def months(self) -> StatusTable[UnitTrend] | None:
        found = self.query("#unit-months")
        return found.first(StatusTable) if found else None

    def _current(self) -> StatusTable[Any]:
        if self.months_shown and self.months is not None:
            return self.months
        return self.league if self.league_shown else self.table

    def action_toggle_months(self) -> None:
        self.months_shown = not self.months_shown
        if self.months_shown:
            self.league_shown = False
            self.league.display = False
            self.table.display = False
            self._load_months()
        else:
            self.table.display = True
            self.table.focus()
        if self.months is not None:
            self.months.display = self.months_shown
        self._update_note()

    @work(exclusive=True, group="unit-months")
    async def _load_months(self) -> None:
        from dashboard.unit_trend import unit_trends

        look_back = getattr(self.dash, "look_back", None)  # 历史回看: the months up to that day
        days, rows = await asyncio.to_thread(unit_trends, self.dash.runtime, look_back)
        if not self.months_shown:
            return
        old = self.months
        if old is None or tuple(days) != self.month_days:
            # The months are the columns: a new month is a new table.
            if old is not None:
                await old.remove()
            self.month_days = tuple(days)
            table: StatusTable[UnitTrend] = StatusTable(
                month_columns(days),
                key_of=lambda t: t.unit,
                row_class=_month_class,
                haystack=lambda t: t.unit,
                empty_text=MONTHS_EMPTY,
                id="unit-months",
            )
            await self.mount(table, after=self.league)
            table.show_cursor = not self.dash.kiosk
        table = self.months  # type: ignore[assignment]
        table.set_rows(rows)
        table.set_filter(self.query_one("#filter", Input).value)
        table.display = True
        table.focus()
        self._update_note()

    def action_toggle_league(self) -> None:
        if self.months_shown:
            self.action_toggle_months()  # back to the units table, then the league
        self.league_shown = not self.league_shown
        self.table.display = not self.league_shown
        self.league.display = self.league_shown
        (self.league if self.league_shown else self.table).focus()
        if self.league_shown and self.dash.snapshot is not None:
            self._show_league(self.dash.snapshot)
        self._update_note()

    def action_counties(self) -> None:
        snap = self.dash.snapshot
        if snap is None or not any(e.item.county for e in snap.evaluated):
            self.notify("数据源未注明县市区（数据源的 county 键）no counties in the data")
            return
        self.app.push_screen(CountiesScreen())

    def show_snapshot(self, snap: Snapshot) -> None:
        super().show_snapshot(snap)
        if self.league_shown:
            self._show_league(snap)
        if self.months_shown:
            self._load_months()  # a refresh may have recorded this month's point

    def _show_league(self, snap: Snapshot) -> None:
        from dashboard.unit_league import snapshot_league

        self.league.set_rows(snapshot_league(snap, self.dash.config, self._cases()))
        self._update_note()

    def _cases(self) -> list[Any]:
        """The store's 督办 cases (overdue ones count against their unit); none without a store."""
        from dashboard.cases import all_cases

        store = getattr(self.dash.runtime, "store", None)
        if store is None:
            return []
        try:
            return all_cases(store)
        except sqlite3.Error:  # no case table yet, or the store is down: no overdue cases to count
            return []

    def _update_note(self) -> None:
        if self.months_shown:
            months = self.months
            count = f"共 {months.row_count} 个  " if months is not None else "载入中… "
            note = describe_filter(months.filter_text if months is not None else "", [])
            self.query_one("#view-note", Static).update(Text(f"{MONTHS_TITLE}  {count}{MONTHS_NOTE}  {note}"))
            return
        if not self.league_shown:
            super()._update_note()
            return
        note = describe_filter(self.league.filter_text, [])
        self.query_one("#view-note", Static).update(
            Text(f"{self.LEAGUE_TITLE}  共 {self.league.row_count} 个  {FORMULA}  {note}")
        )

    def on_input_changed(self, event: Input.Changed) -> None:
        self.league.set_filter(event.value)
        if self.months is not None:
            self.months.set_filter(event.value)
        super().on_input_changed(event)

    def action_clear_filter(self) -> None:
        self.league.set_filter("")
        if self.months is not None:
            self.months.set_filter("")
        super().action_clear_filter()
        self._current().focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._current().focus()

    def groups(self, snap: Snapshot) -> list[UnitSummary]:
        from dashboard.views import open_alerts_by_unit

        # Open alerts only: the count `dashboard alerts --state open` gives for the unit.
        return summarise_units(snap.evaluated, open_alerts_by_unit(self.dash.alert_records(["open"])))

    def show_counts(self, snap: Snapshot) -> None:
        # An alert acknowledged elsewhere (`w`, `a`) changes the 预警 column on return.
        self.show_snapshot(snap)

    def drill(self, group: UnitSummary | LeagueRow | UnitTrend) -> ItemListScreen:
        unit = group.unit

        def member(e: Evaluated) -> bool:
            return (e.item.unit or UNKNOWN_UNIT) == unit

        return ItemListScreen(f"{unit} 的项目", member)

    def export_view(self) -> TableView:
        from dashboard.views import units_view

        if self.months_shown and self.months is not None:
            from dashboard.unit_trend import unit_trend_view

            notes = self.notes(describe_filter(self.months.filter_text, []))
            return unit_trend_view(
                list(self.month_days), self.months.view_rows, MONTHS_TITLE, [*notes, MONTHS_NOTE]
            )
        if self.league_shown:
            from dashboard.unit_league import league_view

            filtered = describe_filter(self.league.filter_text, [])
            return league_view(self.league.view_rows, self.LEAGUE_TITLE, self.notes(filtered))
        return units_view(
            self.table.view_rows, self.VIEW_TITLE, self.notes(describe_filter(self.table.filter_text, []))
        )


class ProjectsScreen(GroupScreen):
    """码上通 projects → their indicators."""

    VIEW_TITLE = "码上通项目 Projects"
    TABLE_ID = "projects"
    COLUMNS = PROJECT_COLUMNS
    EMPTY = "（数据源没有提供项目编码：码上通导出才有项目 no 码上通 project codes in the data）"

    def groups(self, snap: Snapshot) -> list[UnitSummary]:
        return summarise_projects(snap.evaluated)

    def drill(self, group: UnitSummary) -> ItemListScreen:
        code = group.unit
        name = _project_name(group)
        return ItemListScreen(f"{code} {name} 的指标", lambda e: e.item.project_code == code)

    def export_view(self) -> TableView:
        from dashboard.views import units_view

        view = units_view(self.table.view_rows, self.VIEW_TITLE, self.notes())
        view.name = "projects"
        return view


class CountiesScreen(GroupScreen):
    """A city's roll-up (县市区): one row per county, worst first → the county's items."""

    VIEW_TITLE = "县市区 Counties"
    TABLE_ID = "counties"
    COLUMNS = COUNTY_COLUMNS

    def groups(self, snap: Snapshot) -> list[UnitSummary]:
        from dashboard.views import open_alerts_by_county

        county_of = {e.item.id: e.item.county or UNKNOWN_UNIT for e in snap.evaluated}
        open_alerts = open_alerts_by_county(self.dash.alert_records(["open"]), county_of)
        return summarise_counties(snap.evaluated, open_alerts)

    def show_counts(self, snap: Snapshot) -> None:
        self.show_snapshot(snap)  # an alert acknowledged elsewhere changes the 预警 column

    def drill(self, group: UnitSummary) -> ItemListScreen:
        county = "" if group.unit == NO_COUNTY else group.unit
        return ItemListScreen(f"{group.unit} 的项目", lambda e: e.item.county == county)

    def export_view(self) -> TableView:
        from dashboard.views import counties_view

        notes = self.notes(describe_filter(self.table.filter_text, []))
        return counties_view(self.table.view_rows, self.VIEW_TITLE, notes)
