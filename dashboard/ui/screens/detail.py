"""Item detail: every field and where it came from, the ratio history against the
expected line, the monthly updates (✓ per month), acceptance, comments and alerts.
`Esc` goes back to the screen below, whose cursor never moved."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Header, Static

from dashboard.core.items import UPDATE_MONTHS, Evaluated, Item, Status
from dashboard.core.parse import format_percent
from dashboard.runtime import Snapshot
from dashboard.ui.screens.base import DataScreen
from dashboard.ui.widgets.footer import DashboardFooter
from dashboard.ui.widgets.item_table import STATUS_STYLE, ratio_bar
from dashboard.ui.widgets.status_bar import StatusBar
from dashboard.ui.widgets.trend import TrendPlot, TrendPoint
from dashboard.views import TableView

SPARK = "▁▂▃▄▅▆▇█"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, float) else str(value)


def item_fields(e: Evaluated, base_dir: Path | None = None) -> list[tuple[str, str, str]]:
    """(label, value, source) for every field of the item, empty ones left out.
    File origins are shown relative to `base_dir` (the config's folder) when inside it."""
    item = e.item
    origin = item.origin
    if base_dir is not None and origin.startswith(str(base_dir)):
        origin = origin[len(str(base_dir)) :].lstrip("/\\")

    def src(name: str) -> str:
        return item.field_sources.get(name) or item.source

    ratio = format_percent(item.ratio)
    if item.ratio_computed:
        ratio += "（由 完成值/任务数 计算 computed）"
    gap = "—" if e.gap is None else f"{e.gap * 100:+.1f} 个百分点 (序时 − 完成)"
    rows: list[tuple[str, str, str]] = [
        ("序号 id", item.id, item.source),
        ("实事类别 category", item.category, src("category")),
        ("项目名称 name", item.name, src("name")),
        ("牵头单位 lead unit", item.unit, src("unit")),
        (
            "任务数 target",
            item.target_text + (f" {item.measure}" if item.measure else ""),
            src("target_text"),
        ),
        ("进度情况 progress", item.progress_text, src("progress_text")),
        ("完成值 actual", _num(item.actual) if item.actual is not None else "", src("actual")),
        ("完成比例 ratio", ratio, src("ratio")),
        ("序时进度 expected", format_percent(e.expected, 0), "规则 rule"),
        ("差距 gap", gap, "规则 rule"),
        ("状态 status", e.status.label, "规则 rule"),
        ("项目编码 project", item.project_code, src("project_code")),
        ("项目名称(码上通) project name", item.project_name, src("project_name")),
        ("验收 acceptance", _acceptance(item), src("acceptance_status")),
        (
            "信息公开 disclosures",
            "、".join(f"{k} {v}" for k, v in item.disclosures.items()),
            src("disclosures"),
        ),
        ("群众评价 ratings", "" if item.ratings is None else str(item.ratings), src("ratings")),
        (
            "满意度 satisfaction",
            "" if item.satisfaction is None else format_percent(item.satisfaction),
            src("satisfaction"),
        ),
        ("意见建议 comments", _comments(item), src("comments_received")),
        ("更新时间 updated", item.updated_at, src("updated_at")),
        ("数据截止 as of", f"{item.as_of:%Y-%m-%d}" if item.as_of else "", src("as_of")),
        ("来源位置 origin", origin, item.source),
    ]
    rows += [(f"{k}", v, src("extra")) for k, v in item.extra.items()]
    return [r for r in rows if r[1]]


def _acceptance(item: Item) -> str:
    parts = [item.acceptance_status]
    if item.acceptance_ratio is not None:
        parts.append(f"验收率 {format_percent(item.acceptance_ratio)}")
    return " ".join(p for p in parts if p)


def _comments(item: Item) -> str:
    if item.comments_received is None and item.comments_answered is None:
        return ""
    received, answered = item.comments_received or 0, item.comments_answered or 0
    mark = "✓ 已全部回复" if answered >= received else f"✗ {received - answered} 条未回复"
    return f"收到 {received}，已回复 {answered}  {mark}"


def monthly_row(item: Item) -> Text:
    """3月 … 12月 with ✓ where the unit posted an update that month."""
    text = Text()
    if not item.monthly_updates:
        text.append("（没有每月动态数据 no monthly update data）", "dim")
        return text
    for month in UPDATE_MONTHS:
        count = item.monthly_updates.get(month, 0)
        text.append(f"{month}月 ")
        text.append("✓" if count else "·", "bold green" if count else "dim")
        text.append("   ")
    return text


class DetailPoint(NamedTuple):
    """One recorded change: when it was loaded, the data's as-of date then (None: recorded
    before the store kept it), the ratio, and the expected progress at that date."""

    at: datetime
    as_of: date | None
    ratio: float | None
    expected: float

    @property
    def day(self) -> date:
        return self.as_of or self.at.date()


NO_HISTORY = "（暂无历史记录 no history recorded yet）"


def history_plot(points: list[DetailPoint]) -> Text:
    """One line per recorded change: the data's date, bar with the expected marker, ratio,
    expected, and when it was loaded (a point without its data's date shows the load time)."""
    text = Text()
    if not points:
        text.append(NO_HISTORY, "dim")
        return text
    ratios = [p.ratio for p in points if p.ratio is not None]
    if ratios:
        top = max(max(ratios), 1.0)
        text.append("走势 trend  ")
        text.append("".join(SPARK[min(7, int(r / top * 7.999))] for r in ratios), "bold")
        text.append("\n")
    for p in points[-12:]:
        behind = p.ratio is not None and p.ratio < p.expected
        text.append(f"截至 {p.as_of:%Y-%m-%d}  " if p.as_of else f"载入 {p.at:%Y-%m-%d}  ")
        text.append(ratio_bar(p.ratio, p.expected, 20), "yellow" if behind else "")
        text.append(f"  {format_percent(p.ratio):>6}   序时 {format_percent(p.expected, 0)}")
        text.append(f"   载入 {p.at:%m-%d %H:%M}\n", "dim")  # when it was loaded
    return text


def behind_since(points: list[DetailPoint]) -> DetailPoint | None:
    """The first point of the current run of recorded points below the expected line."""
    since: DetailPoint | None = None
    for p in points:
        behind = p.ratio is not None and p.ratio < p.expected
        since = (since or p) if behind else None
    return since


def since_text(points: list[DetailPoint]) -> str:
    """`落后始于` in words, saying what is known: the data's date, whether the lag may be
    older than the history, or that there is no history to tell."""
    since = behind_since(points)
    if since is None and points:
        return "不详（历史中没有落后的记录 no lagging point recorded）"
    if since is None:
        return "不详（尚无历史 no history yet）"
    day = f"{since.day:%Y-%m-%d}"
    if since.as_of is None:
        day += "（载入日期，数据未注明截止日期 load date）"
    if since is points[0]:
        # Already behind in the first data seen: the lag may have begun before.
        return f"{day} 或更早 or earlier（首次载入即已落后）"
    return day


class ItemDetailScreen(DataScreen):
    """Every field of one item; updates in place on refresh."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "返回", id="detail.back"),
        Binding("c", "open_case", "立案督办", show=False, id="detail.open_case"),
    ]
    VIEW_TITLE = "项目详情 Item"

    def __init__(self, item_id: str) -> None:
        super().__init__()
        self.item_id = item_id
        self.evaluated: Evaluated | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="detail"):
            yield Static(id="detail-title")
            yield Static(id="detail-figures")
            yield DataTable(id="fields", cursor_type="row", show_cursor=False)
            yield Static("走势 trend：完成比例与序时进度，按月 ratio by month vs expected", classes="section")
            yield TrendPlot(id="trend")
            yield Static("进度历史 ratio history", classes="section")
            yield Static(id="history")
            yield Static("每月动态 monthly updates (3月–12月)", classes="section")
            yield Static(id="updates")
            yield Static("预警 alerts", classes="section")
            yield Static(id="item-alerts")
            yield Static("留痕 audit trail", classes="section")
            yield Static(id="item-trail")
        yield StatusBar(id="status-bar")
        yield DashboardFooter()

    def on_mount(self) -> None:
        table = self.query_one("#fields", DataTable)
        table.add_columns("字段 field", "值 value", "来源 source")
        super().on_mount()

    def action_back(self) -> None:
        self.dismiss()

    def action_open_case(self) -> None:
        from dashboard.ui.screens.case_dialog import start_case

        start_case(self, self.item_id)

    def show_snapshot(self, snap: Snapshot) -> None:
        e = next((x for x in snap.evaluated if x.item.id == self.item_id), None)
        self.evaluated = e
        title = self.query_one("#detail-title", Static)
        if e is None:
            title.update(
                Text(f"项目 {self.item_id} 已不在数据中 (item no longer in the data)", "bold yellow")
            )
            return
        item = e.item
        style = STATUS_STYLE[e.status]
        self.header_title = item.name
        self.show_title()
        title.update(
            Text.assemble((f"{item.name}", f"bold {style}"), "   ", (f"【{e.status.label}】", style))
        )
        points = self._history(e, snap)
        figures = Text.assemble(
            "牵头单位 ",
            (item.unit or "—", "bold"),
            "    完成比例 ",
            (format_percent(item.ratio), f"bold {style}"),
            "    序时进度 ",
            (format_percent(e.expected, 0), "bold"),
            "    进度/任务 ",
            (f"{item.progress_text or '—'} / {item.target_text or '—'}", "bold"),
        )
        if e.status in (Status.LAGGING, Status.SEVERE):
            figures.append(f"\n落后 behind {abs(e.gap or 0) * 100:.1f} 个百分点", f"bold {style}")
            figures.append(f"    落后始于 since {since_text(points)}")
        self.query_one("#detail-figures", Static).update(figures)
        table = self.query_one("#fields", DataTable)
        table.clear()
        for label, value, source in item_fields(e, self.dash.config.base_dir):
            table.add_row(Text(label), Text(value), Text(source, "dim"))  # data is never markup
        self.query_one("#trend", TrendPlot).show([TrendPoint(p.day, p.ratio, p.expected) for p in points])
        self.query_one("#history", Static).update(history_plot(points))
        self.query_one("#updates", Static).update(monthly_row(item))
        self.query_one("#item-alerts", Static).update(self._alerts_text())
        self.query_one("#item-trail", Static).update(self._trail_text())

    def _history(self, e: Evaluated, snap: Snapshot) -> list[DetailPoint]:
        """The item's recorded points from the store, each with the expected progress at
        its data's as-of date (or, for a point without one, its load day, capped at the
        current as-of: a 2024 bulletin first seen in 2026 is judged as of its own date)."""
        history = getattr(self.dash.runtime, "history", None)
        if history is None:
            return []
        points: list[Any] = history(e.item)
        out: list[DetailPoint] = []
        look_back = getattr(self.dash, "look_back", None)
        for p in points:
            as_of: date | None = getattr(p, "as_of", None)
            day = as_of or min(p.at.date(), snap.as_of)
            if look_back is not None and day > look_back:
                continue  # 历史回看: the history as it stood on that day
            out.append(DetailPoint(p.at, as_of, p.ratio, self.dash.runtime.expected(day)))
        return out

    def _alerts_text(self) -> Text:
        """One line per alert, open and critical first: its one state, the message
        (a resolution's own `已解除：` is not said twice), when it first fired."""
        from dashboard.ui.screens.alerts import STATES, alert_order, shown_state, silenced_until_text

        records = sorted(self.dash.alert_records(item_id=self.item_id), key=alert_order)
        text = Text()
        if not records:
            text.append("（没有预警 no alerts）", "dim")
        for r in records:
            state = STATES.get(shown_state(r), shown_state(r))
            message = str(r.message)
            for prefix in (f"{state}：", f"{state}:"):
                message = message.removeprefix(prefix)
            fired = getattr(r, "first_fired", None)
            text.append(f"[{state}] ", "bold")
            text.append(message)
            if shown_state(r) == "silenced":
                text.append(f"  静默至 {silenced_until_text(r)}", "dim")
            if fired:
                text.append(f"  首次 {fired:%Y-%m-%d %H:%M}", "dim")
            text.append("\n")
        return text

    def _trail_text(self) -> Text:
        """The trail of this item's alerts, their silences and its cases, oldest first:
        time, actor, what happened, before → after, and the comment."""
        import sqlite3

        from dashboard.item_trail import KIND_LABELS, change_text, item_trail

        text = Text()
        try:
            rows = item_trail(self.dash.runtime, self.item_id)
        except (sqlite3.Error, AttributeError) as exc:  # no store, or a damaged one: say so
            text.append(f"（留痕不可读 trail unavailable: {exc}）", "dim")
            return text
        if not rows:
            text.append("（没有留痕 no trail yet）", "dim")
        for r in rows:
            at = str(r["at"])[:16].replace("T", " ")
            change = change_text(r)
            comment = str(r["comment"] or "")
            text.append(f"{at}  ", "dim")
            text.append(f"{r['actor']}  ", "bold")
            text.append(f"{KIND_LABELS.get(str(r['kind']), str(r['kind']))}  ")
            text.append(f"{r['subject']}  ", "dim")
            text.append(change)
            if comment and comment != change:
                text.append(f"  「{comment}」", "italic")
            text.append("\n")
        return text

    def export_view(self) -> TableView | None:
        from dashboard.views import items_view

        if self.evaluated is None:
            return None
        return items_view([self.evaluated], self.evaluated.item.name, self.notes())
