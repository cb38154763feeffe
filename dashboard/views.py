"""What the screens show, as plain tables: the one shape every exporter writes.

A `TableView` is a title, typed columns and rows of typed cells, with an optional
status per row for colouring. Built here from evaluated items, unit summaries and
alert records, so the TUI's `e` key, `dashboard export` and `dashboard report`
export exactly what the user sees. Pure: no I/O, no Textual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from dashboard.core.alerts import SEVERITY_LABELS, STATE_LABELS
from dashboard.core.items import Evaluated, Item, Status
from dashboard.core.parse import parse_number
from dashboard.core.units import UnitSummary

ColumnKind = Literal["text", "int", "number", "percent", "status", "date"]
# A cell: text, a number (a percent is a fraction, 0.32 for 32%), a date, or empty.
Cell = str | int | float | date | datetime | None


@dataclass(frozen=True, slots=True)
class Column:
    """`name` is the header a person reads; `key` the field name in JSON output."""

    name: str
    kind: ColumnKind = "text"
    key: str = ""

    @property
    def field(self) -> str:
        return self.key or self.name


@dataclass(slots=True)
class TableView:
    """A table ready to export.

    `name` goes into file names (`items`, `units`, `alerts`); `title` heads the
    page or sheet; `notes` are lines shown under the title (as-of date, filter...);
    `statuses`, when given, has one entry per row and colours it.
    """

    name: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    statuses: list[Status | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sheet: str = ""  # short label for a workbook sheet; the title when empty

    def status_of(self, index: int) -> Status | None:
        return self.statuses[index] if index < len(self.statuses) else None

    def records(self) -> list[dict[str, Cell]]:
        """Rows as {column key: cell}."""
        return [{c.field: row[i] for i, c in enumerate(self.columns)} for row in self.rows]

    def where(self, keep: Sequence[bool]) -> TableView:
        """A copy holding only the rows whose flag is true."""
        rows = [r for r, k in zip(self.rows, keep, strict=True) if k]
        statuses = [self.status_of(i) for i, k in enumerate(keep) if k]
        return TableView(
            self.name, self.title, list(self.columns), rows, statuses, list(self.notes), self.sheet
        )


# -- filtering ------------------------------------------------------------------


def _terms(text: str | None) -> list[str]:
    return [t.casefold() for t in (text or "").split()]


def item_matches(item: Item, text: str | None) -> bool:
    """Every whitespace-separated term occurs in the name, lead unit, category or project."""
    haystack = " ".join(
        (item.name, item.unit, item.category, item.project_name, item.project_code)
    ).casefold()
    return all(term in haystack for term in _terms(text))


def filter_evaluated(evaluated: Iterable[Evaluated], text: str | None) -> list[Evaluated]:
    """The items the `/` filter (and `--filter`) keeps, order unchanged; empty text keeps all."""
    return [e for e in evaluated if item_matches(e.item, text)]


def filter_view(view: TableView, text: str | None) -> TableView:
    """Rows where every term occurs in some text cell (for units and alerts)."""
    terms = _terms(text)
    if not terms:
        return view
    keep = []
    for row in view.rows:
        haystack = " ".join(str(c) for c in row if isinstance(c, str)).casefold()
        keep.append(all(t in haystack for t in terms))
    return view.where(keep)


# -- the three views --------------------------------------------------------------

# The bulletin's own columns after 序号, shared by the items view and the report's annexes.
BULLETIN_COLUMNS = [
    Column("实事类别", "text", "category"),
    Column("项目名称", "text", "name"),
    Column("牵头单位", "text", "unit"),
    Column("任务数", "number", "target"),
    Column("进度情况", "text", "progress"),
    Column("完成比例", "percent", "ratio"),
]

ITEM_COLUMNS = [
    Column("序号", "text", "id"),
    *BULLETIN_COLUMNS,
    Column("序时进度", "percent", "expected"),
    Column("状态", "status", "status"),
]


def _figure(text: str, value: float | None) -> Cell:
    """The figure as a number when the text says just that number (`22`, `２２`), else the text."""
    if value is None:
        return text
    number = float(value)
    if not text.strip() or parse_number(text) == number:
        return int(number) if number.is_integer() else number
    return text


def target_cell(item: Item) -> Cell:
    """任务数: a plain number as a number; `不低于700元/月` or a rate target as written."""
    return item.target_text if item.target_is_rate else _figure(item.target_text, item.target)


def progress_cell(item: Item) -> Cell:
    """进度情况: a plain figure as a number, a sentence as text."""
    return _figure(item.progress_text, item.actual)


def items_view(evaluated: Sequence[Evaluated], title: str, notes: Sequence[str] = ()) -> TableView:
    rows: list[list[Cell]] = []
    for e in evaluated:
        it = e.item
        rows.append(
            [
                it.id,
                it.category,
                it.name,
                it.unit,
                target_cell(it),
                progress_cell(it),
                it.ratio,
                e.expected,
                e.status.label,
            ]
        )
    columns = list(ITEM_COLUMNS)
    if any(e.item.county for e in evaluated):  # a city's roll-up: the county last (columns only added)
        columns.append(Column("县市区", "text", "county"))
        for row, e in zip(rows, evaluated, strict=True):
            row.append(e.item.county)
    return TableView("items", title, columns, rows, [e.status for e in evaluated], list(notes))


UNIT_COLUMNS = [
    Column("牵头单位", "text", "unit"),
    Column("项目数", "int", "items"),
    Column("已完成", "int", "done"),
    Column("正常", "int", "on_track"),
    Column("滞后", "int", "lagging"),
    Column("严重滞后", "int", "severe"),
    Column("未知", "int", "unknown"),
    Column("未处理预警", "int", "open_alerts"),
    Column("最滞后项目", "text", "worst"),
    Column("其完成比例", "percent", "worst_ratio"),
    Column("状态", "status", "status"),
]


def unit_status(summary: UnitSummary) -> Status:
    """A unit is as bad as its worst unfinished item; all done is done."""
    return summary.worst.status if summary.worst is not None else Status.DONE


def units_view(units: Sequence[UnitSummary], title: str, notes: Sequence[str] = ()) -> TableView:
    rows: list[list[Cell]] = []
    for u in units:
        worst = u.worst.item if u.worst is not None else None
        rows.append(
            [
                u.unit,
                u.items,
                u.done,
                u.on_track,
                u.lagging,
                u.severe,
                u.unknown,
                u.open_alerts,
                worst.name if worst else "",
                worst.ratio if worst else None,
                unit_status(u).label,
            ]
        )
    columns = list(UNIT_COLUMNS)
    if any(m.item.county for u in units for m in u.members):  # a city's roll-up: the unit's counties last
        columns.append(Column("县市区", "text", "county"))
        for row, u in zip(rows, units, strict=True):
            row.append("、".join(dict.fromkeys(m.item.county for m in u.members if m.item.county)))
    return TableView("units", title, columns, rows, [unit_status(u) for u in units], list(notes))


def counties_view(counties: Sequence[UnitSummary], title: str, notes: Sequence[str] = ()) -> TableView:
    """The 县市区 table of a city's roll-up: the units table's columns, grouped by county."""
    view = units_view(counties, title, notes)
    view.name = "counties"
    if view.columns[-1].key == "county":  # not the county again, after the first column
        view.columns.pop()
        for row in view.rows:
            row.pop()
    view.columns[0] = Column("县市区", "text", "county")
    return view


ALERT_COLUMNS = [
    Column("规则", "text", "rule"),
    Column("项目编号", "text", "item_id"),
    Column("项目名称", "text", "item_name"),
    Column("牵头单位", "text", "unit"),
    Column("级别", "text", "severity"),  # 严重 / 警告 / 提示
    Column("状态", "text", "state"),  # 未处理 / 已确认 / 已静默 / 已解除
    Column("内容", "text", "message"),
    Column("首次触发", "date", "first_fired"),
    Column("最近发送", "date", "last_sent"),
    Column("解除时间", "date", "resolved_at"),
    Column("静默至", "date", "silenced_until"),
    Column("键", "text", "key"),
]


def _state(record: Any) -> str:
    """The state a person should see: a silence that ran out reads as open."""
    effective = getattr(record, "effective_state", None)
    if callable(effective):
        return str(effective(date.today()))
    return _text_of(getattr(record, "state", ""))


def alert_status(record: Any) -> Status | None:
    """Colour an alert by severity (critical red, warning yellow); resolved is green."""
    if getattr(record, "resolved_at", None) or _state(record) == "resolved":
        return Status.DONE
    severity = _text_of(getattr(record, "severity", "")).lower()
    return {"critical": Status.SEVERE, "warning": Status.LAGGING}.get(severity)


def _when(value: Any) -> Cell:
    if value is None or value == "":
        return None
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, (int, float)):  # epoch seconds
        return datetime.fromtimestamp(value)
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)


def _text_of(value: Any) -> str:
    value = getattr(value, "value", value)  # enums
    return "" if value is None else str(value)


def alerts_view(records: Iterable[Any], title: str, notes: Sequence[str] = ()) -> TableView:
    """Alert records (see `Runtime.alert_records()`), read by attribute name so any
    object with those fields will do."""
    records = list(records)
    rows: list[list[Cell]] = []
    for r in records:
        severity, state = _text_of(getattr(r, "severity", "")), _state(r)
        rows.append(
            [
                _text_of(getattr(r, "rule", "")),
                _text_of(getattr(r, "item_id", "")),
                _text_of(getattr(r, "item_name", "")),
                _text_of(getattr(r, "unit", "")),
                SEVERITY_LABELS.get(severity, severity),
                STATE_LABELS.get(state, state),
                _text_of(getattr(r, "message", "")),
                _when(getattr(r, "first_fired", None)),
                _when(getattr(r, "last_sent", None)),
                _when(getattr(r, "resolved_at", None)),
                _when(getattr(r, "silenced_until", None)),
                _text_of(getattr(r, "key", "")),
            ]
        )
    return TableView(
        "alerts", title, list(ALERT_COLUMNS), rows, [alert_status(r) for r in records], list(notes)
    )


def open_alerts_by_unit(records: Iterable[Any]) -> dict[str, int]:
    """Unit → open alerts (未处理预警: not acknowledged, silenced or resolved), for the
    units view; the counts `dashboard alerts --state open` gives."""
    counts: dict[str, int] = {}
    for r in records:
        if getattr(r, "resolved_at", None) or _state(r) != "open":
            continue
        unit = _text_of(getattr(r, "unit", ""))
        counts[unit] = counts.get(unit, 0) + 1
    return counts


def open_alerts_by_county(records: Iterable[Any], county_of: Mapping[str, str]) -> dict[str, int]:
    """County → open alerts of its items (`county_of`: item id → county), for the 县市区
    view of a city's roll-up; an alert without an item (a source's) counts for none."""
    counts: dict[str, int] = {}
    for r in records:
        if getattr(r, "resolved_at", None) or _state(r) != "open":
            continue
        county = county_of.get(_text_of(getattr(r, "item_id", "")))
        if county is not None:
            counts[county] = counts.get(county, 0) + 1
    return counts


# -- silences and the audit trail (留痕) ---------------------------------------------

SILENCE_COLUMNS = [
    Column("编号", "int", "id"),
    Column("条件", "text", "matchers"),
    Column("开始", "date", "from"),
    Column("静默至", "date", "until"),
    Column("静默人", "text", "author"),
    Column("原因", "text", "comment"),
    Column("提前结束", "date", "expired_at"),
]


def silences_view(silences: Iterable[Any], title: str, notes: Sequence[str] = ()) -> TableView:
    """Silences by matcher (`AlertEngine.silences()`), expired ones too."""
    rows: list[list[Cell]] = []
    for x in silences:
        matchers = getattr(x, "matchers", {}) or {}
        rows.append(
            [
                int(getattr(x, "id", 0)),
                " ".join(f"{k}={v}" for k, v in matchers.items()),
                _when(getattr(x, "starts_at", None)),
                _when(getattr(x, "until", None)),
                _text_of(getattr(x, "author", "")),
                _text_of(getattr(x, "comment", "")),
                _when(getattr(x, "expired_at", None)),
            ]
        )
    return TableView("silences", title, list(SILENCE_COLUMNS), rows, [], list(notes))


TRAIL_COLUMNS = [
    Column("序号", "int", "seq"),
    Column("时间", "date", "at"),
    Column("操作人", "text", "actor"),
    Column("操作", "text", "kind"),
    Column("对象", "text", "subject"),
    Column("之前", "text", "before"),
    Column("之后", "text", "after"),
    Column("说明", "text", "comment"),
]


def trail_view(rows: Iterable[Mapping[str, Any]], title: str, notes: Sequence[str] = ()) -> TableView:
    """The audit trail (`AlertEngine.trail()`), oldest first; before / after as JSON text."""

    def js(value: Any) -> str:
        return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    cells: list[list[Cell]] = [
        [
            int(r["seq"]),
            _when(r["at"]),
            str(r["actor"]),
            str(r["kind"]),
            str(r["subject"]),
            js(r["before"]),
            js(r["after"]),
            str(r["comment"] or ""),
        ]
        for r in rows
    ]
    return TableView("trail", title, list(TRAIL_COLUMNS), cells, [], list(notes))


# -- 督办 cases ---------------------------------------------------------------------------

CASE_COLUMNS = [
    Column("编号", "int", "id"),
    Column("状态", "text", "state"),
    Column("逾期", "text", "overdue"),
    Column("限期", "date", "deadline"),
    Column("项目编号", "text", "item_id"),
    Column("项目名称", "text", "item_name"),
    Column("牵头单位", "text", "unit"),
    Column("整改要求", "text", "action"),
    Column("立案人", "text", "author"),
    Column("立案时间", "date", "opened_at"),
    Column("来自预警", "text", "alert_key"),
]


def cases_view(cases: Iterable[Any], title: str, notes: Sequence[str] = ()) -> TableView:
    """督办 cases (`dashboard.cases.Case`), oldest first."""
    rows: list[list[Cell]] = [
        [
            int(c.id),
            str(c.state),
            "逾期" if c.overdue else "",
            _when(c.deadline),
            str(c.item_id),
            str(c.item_name),
            str(c.unit),
            str(c.action),
            str(c.author),
            _when(c.opened_at),
            str(c.alert_key or ""),
        ]
        for c in cases
    ]
    return TableView("cases", title, list(CASE_COLUMNS), rows, [], list(notes))


# -- a named view of a snapshot, as `dashboard export --view` names them ------------

VIEW_NAMES = ("items", "units", "alerts", "silences", "trail", "cases", "quality", "league", "digest")
VIEW_TITLES = {
    "items": "项目清单",
    "units": "牵头单位",
    "alerts": "预警",
    "silences": "静默",
    "trail": "留痕",
    "cases": "督办案件",
    "quality": "数据质量",
    "league": "红黑榜",
    "digest": "变化",
}


def snapshot_notes(snapshot: Any, filter_text: str | None = None) -> list[str]:
    """The lines under an export's title: as-of date, expected progress, the filter."""
    from dashboard.core.parse import format_percent

    notes = [f"截止 {snapshot.as_of:%Y-%m-%d}  序时进度 {format_percent(snapshot.expected, 0)}"]
    if filter_text and filter_text.strip():
        notes.append(f"筛选：{filter_text.strip()}")
    return notes


def build_view(
    name: str,
    snapshot: Any,
    *,
    title: str = "",
    filter_text: str | None = None,
    alert_records: Iterable[Any] = (),
    silences: Iterable[Any] = (),
    trail: Iterable[Mapping[str, Any]] = (),
    cases: Iterable[Any] = (),
    config: Any = None,
    digest: Any = None,
) -> TableView:
    """`items`, `units` or `alerts` of a `Snapshot` (worst first), filtered as the
    `/` filter does: items by name, lead unit, category or project; units and alerts
    by any text cell."""
    from dashboard.core.units import summarise_units

    heading = f"{title} · {VIEW_TITLES[name]}" if title else VIEW_TITLES[name]
    notes = snapshot_notes(snapshot, filter_text)
    records = list(alert_records)
    if name == "items":
        return items_view(filter_evaluated(snapshot.evaluated, filter_text), heading, notes)
    if name == "units":
        units = summarise_units(snapshot.evaluated, open_alerts_by_unit(records))
        return filter_view(units_view(units, heading, notes), filter_text)
    if name == "alerts":
        return filter_view(alerts_view(records, heading, notes), filter_text)
    if name == "silences":
        return filter_view(silences_view(silences, heading, notes), filter_text)
    if name == "trail":
        return filter_view(trail_view(trail, heading, notes), filter_text)
    if name == "cases":
        return filter_view(cases_view(cases, heading, notes), filter_text)
    if name == "quality":  # `config`: its [units] aliases and [quality] stale_days
        from dashboard.data_quality import quality_view, snapshot_quality

        findings = snapshot_quality(snapshot, config).findings
        return filter_view(quality_view(findings, heading, notes), filter_text)
    if name == "league":  # `cases`: the overdue 督办 cases count against their unit
        from dashboard.unit_league import league_view, snapshot_league

        return filter_view(league_view(snapshot_league(snapshot, config, cases), heading, notes), filter_text)
    if name == "digest":  # `digest`: dashboard.digest_view.runtime_digest's, since the previous bulletin
        from dashboard.digest_view import digest_view

        return filter_view(digest_view(digest, title), filter_text)
    raise KeyError(name)


# -- one source: its state and every row warning (the `d` screen's Enter) -------------

SOURCE_WARNING_COLUMNS = [
    Column("文件", "text", "file"),
    Column("行", "int", "row"),
    Column("列", "text", "column"),
    Column("内容", "text", "message"),
]


def _stamp(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "—"


def source_notes(source: Any, state_label: str = "") -> list[str]:
    """The facts above a source's warnings: state, error, last attempt, last success, items."""
    spec = getattr(source, "spec", None)
    notes = [
        f"数据源 {getattr(source, 'name', '')}（{getattr(spec, 'type', '')}）"
        + (f"  状态 {state_label}" if state_label else ""),
        f"上次尝试 last attempt {_stamp(getattr(source, 'last_attempt', None))}",
        f"上次成功 last success {_stamp(getattr(source, 'last_success', None))}",
        f"项目数 items {len(getattr(source, 'items', []) or [])}"
        f"  数据警告 warnings {len(getattr(source, 'warnings', []) or [])} 行",
    ]
    error = getattr(source, "error", "")
    if error:
        notes.append(f"错误 error: {error}")
    return notes


def source_detail_view(source: Any, title: str, notes: Sequence[str] = ()) -> TableView:
    """A source's row warnings (file, row, column, message) under its facts; `source` is
    a `SourceState`, read by attribute name."""
    rows: list[list[Cell]] = [
        [w.location or w.source, w.row, w.column or "", w.message]
        for w in getattr(source, "warnings", []) or []
    ]
    return TableView("source", title, list(SOURCE_WARNING_COLUMNS), rows, notes=list(notes))
