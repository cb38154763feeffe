"""The league table (红黑榜) of a snapshot, with the overdue 督办 cases the store holds,
and the table every exporter writes of it: shared by `dashboard export --view league`,
the units screen's league view (`l`) and the monthly report. No I/O: the caller reads
the cases (`dashboard.cases.all_cases(store)`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dashboard.core.aliases import UnitAliases
from dashboard.core.league import FORMULA, LeagueRow, league_table
from dashboard.views import Cell, Column, TableView

LEAGUE_COLUMNS = [
    Column("名次", "int", "rank"),
    Column("榜单", "text", "board"),
    Column("牵头单位", "text", "unit"),
    Column("得分", "number", "score"),
    Column("项目数", "int", "items"),
    Column("已完成", "int", "done"),
    Column("完成率", "percent", "done_share"),
    Column("达序时率", "percent", "on_schedule_share"),
    Column("平均落后点数", "number", "behind_points"),
    Column("逾期督办", "int", "overdue_cases"),
    Column("漏报月度动态", "int", "missing_updates"),
    Column("得分构成", "text", "parts"),
]


def overdue_by_unit(cases: Iterable[Any], aliases: UnitAliases | None = None) -> dict[str, int]:
    """Unit (canonical name) → its overdue 督办 cases (`Case.overdue`: 督办中 past the deadline)."""
    counts: dict[str, int] = {}
    for case in cases:
        if getattr(case, "overdue", False):
            unit = aliases.canonical(case.unit) if aliases else case.unit
            counts[unit] = counts.get(unit, 0) + 1
    return counts


def snapshot_league(snapshot: Any, config: Any = None, cases: Iterable[Any] = ()) -> list[LeagueRow]:
    """The league table of a `Snapshot`; `cases` are the store's 督办 cases (may be none).
    For the report: `snapshot_league(snap, config, all_cases(runtime.store))`, then
    `league_view(rows, "红黑榜")` for an annex."""
    aliases = getattr(config, "unit_aliases", None)
    return league_table(snapshot.evaluated, snapshot.as_of, overdue_by_unit(cases, aliases))


def league_view(rows: Sequence[LeagueRow], title: str, notes: Sequence[str] = ()) -> TableView:
    cells: list[list[Cell]] = [
        [
            r.rank,
            r.board,
            r.unit,
            r.score,
            r.items,
            r.done,
            r.done_share,
            r.on_schedule_share,
            r.behind_points,
            r.overdue_cases,
            r.missing_updates,
            r.parts_text(),
        ]
        for r in rows
    ]
    return TableView("league", title, list(LEAGUE_COLUMNS), cells, notes=[*notes, FORMULA])
