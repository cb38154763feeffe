"""Each lead unit over the months (issue 15, "Trends"): its share of items done and the
points it is behind the 序时进度 line, per month from history, as `dashboard.history`
reads a past day (each item's last point on or before the month's last recorded day, no
later figure borrowed). Shown by the units screen's by-month view (`h`)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date

from dashboard.core.league import league_table
from dashboard.core.progress import evaluate
from dashboard.history import items_at
from dashboard.runtime import Runtime
from dashboard.store import _POINT_DAY, Store
from dashboard.views import Cell, Column, TableView

MAX_MONTHS = 12


@dataclass(frozen=True, slots=True)
class UnitMonth:
    done_share: float  # items done / the unit's items that month
    behind_points: float  # mean points below the line of its items with a figure (the league's)
    items: int


@dataclass(slots=True)
class UnitTrend:
    unit: str
    months: dict[date, UnitMonth] = field(default_factory=dict)

    def latest(self) -> UnitMonth | None:
        return self.months[max(self.months)] if self.months else None


def month_days(store: Store, limit: int = MAX_MONTHS) -> list[date]:
    """The last day history holds a point for in each month, oldest first (at most `limit`,
    the newest kept)."""
    with store.lock:
        rows = store.conn.execute(f"SELECT DISTINCT {_POINT_DAY} AS day FROM item_history").fetchall()
    last: dict[tuple[int, int], date] = {}
    for (text,) in rows:
        try:
            day = date.fromisoformat(str(text))
        except ValueError:
            continue  # a damaged row: the store notes those where it reads points
        key = (day.year, day.month)
        last[key] = max(day, last.get(key, day))
    return [last[k] for k in sorted(last)][-limit:]


def unit_trends(runtime: Runtime, until: date | None = None) -> tuple[list[date], list[UnitTrend]]:
    """(the months' days, one row per unit, the worst behind in the latest month first);
    with `until` (a look back), the months up to that day only. Blocking (reads history
    once per month): the screen calls it in a worker thread."""
    try:
        days = month_days(runtime.store)
    except sqlite3.Error:
        return [], []
    if until is not None:
        days = [d for d in days if d <= until]
    current = runtime.items()
    units: dict[str, UnitTrend] = {}
    for day in days:
        past = items_at(runtime.store, current, day)
        if past is None:
            continue
        evaluated = evaluate(past.items, runtime.expected(day), runtime.config.thresholds)
        for row in league_table(evaluated, day):
            trend = units.setdefault(row.unit, UnitTrend(row.unit))
            trend.months[day] = UnitMonth(row.done_share, row.behind_points, row.items)

    def worst_first(t: UnitTrend) -> tuple[float, float, str]:
        last = t.latest()
        return (-(last.behind_points if last else 0.0), last.done_share if last else 0.0, t.unit)

    return days, sorted(units.values(), key=worst_first)


def unit_trend_view(days: list[date], rows: list[UnitTrend], title: str, notes: list[str]) -> TableView:
    """The by-month table to export: per month, the share done and the points behind."""
    columns = [Column("牵头单位", "text", "unit")]
    for day in days:
        columns.append(Column(f"{day:%Y-%m} 完成率", "percent", f"done_share_{day:%Y_%m}"))
        columns.append(Column(f"{day:%Y-%m} 平均落后点数", "number", f"behind_points_{day:%Y_%m}"))
    cells: list[list[Cell]] = []
    for t in rows:
        line: list[Cell] = [t.unit]
        for day in days:
            m = t.months.get(day)
            line += [m.done_share, m.behind_points] if m else [None, None]
        cells.append(line)
    return TableView("unit_months", title, columns, cells, [], notes)
