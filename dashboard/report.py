"""The month's bulletin annexes, as the team files them (design §7).

附件1 items done, 附件2 at or above the expected progress, 附件3 below it (each
numbered and grouped by lead unit, with the bulletin's columns), 附件4 the monthly
update table of the provincial projects (√ per month with an update), and the
figures of the bulletin's summary paragraph. Building is pure; writing goes
through the exporter plugins (`write_many`: a workbook sheet or a document section
per annex). 附件5 lists the month's 督办 cases (dashboard/report_cases.py), when given;
附件6 变化 what changed since the month before (dashboard/digest_view.py) and 附件7 红黑榜
the league table (dashboard/unit_league.py), with the opening paragraph, when given.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from dashboard.core.items import UPDATE_MONTHS, Evaluated, Status
from dashboard.core.parse import format_percent
from dashboard.exporting import Exporter, ExportError, exporters, lookup, write_atomic
from dashboard.report_cases import CaseAnnex
from dashboard.views import BULLETIN_COLUMNS, Cell, Column, TableView, progress_cell, target_cell

TICK = "√"  # as the bulletin's annex 4 marks a month with an update
_EPS = 1e-9
_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")

ANNEX_COLUMNS = [Column("序号", "int", "no"), *BULLETIN_COLUMNS]


def parse_month(text: str) -> tuple[int, int]:
    """`2024-09` → (2024, 9). Raises ValueError with a Chinese message."""
    m = _MONTH_RE.match(text or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValueError(f"无法识别的月份 {text!r}，应为 YYYY-MM，例如 2024-09")
    return int(m.group(1)), int(m.group(2))


def month_end(year: int, month: int) -> date:
    """The as-of date of a month's bulletin: its last day."""
    return date(year, month, calendar.monthrange(year, month)[1])


def _natural(text: str) -> tuple[Any, ...]:
    """`HN2024-2` before `HN2024-10`, `2` before `10`."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


@dataclass(slots=True)
class ProjectUpdates:
    """One row of 附件4: a provincial project and the months it posted updates."""

    code: str
    name: str
    unit: str
    marks: dict[int, bool] = field(default_factory=dict)


@dataclass(slots=True)
class BulletinReport:
    year: int
    month: int
    as_of: date
    expected: float
    done: list[Evaluated]
    at_or_above: list[Evaluated]
    below: list[Evaluated]
    unknown: list[Evaluated]
    months: list[int]  # the update months shown in 附件4 (March .. the report month)
    projects: list[ProjectUpdates]
    cases: CaseAnnex | None = None  # 附件5 督办事项 (None: not asked for, no sheet)
    # Where the figures come from when not today's data (`历史回看 …`, items without a figure).
    notes: list[str] = field(default_factory=list)
    # The bulletin's opening sentence on what changed (`Digest.paragraph`; "" when not asked for).
    opening: str = ""
    changes: TableView | None = None  # 附件6 变化 (None: no sheet)
    league: TableView | None = None  # 附件7 红黑榜 (None: no sheet)
    # `--json` keys of the annexes 6 and 7 (`changes`: the digest, `league`: its rows).
    annex_figures: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.done) + len(self.at_or_above) + len(self.below) + len(self.unknown)

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def no_update(self) -> list[ProjectUpdates]:
        """Projects without an update in the report month (none before March)."""
        if self.month not in self.months:
            return []
        return [p for p in self.projects if not p.marks.get(self.month)]

    def figures(self) -> dict[str, Any]:
        """The summary paragraph's figures, for `dashboard report --json`."""
        return {
            "month": self.label,
            "as_of": self.as_of.isoformat(),
            "expected": round(self.expected, 6),
            "items": self.total,
            "done": len(self.done),
            "at_or_above": len(self.at_or_above),
            "below": len(self.below),
            "unknown": len(self.unknown),
            "projects": len(self.projects),
            "no_update": [{"code": p.code, "name": p.name, "unit": p.unit} for p in self.no_update],
            "below_items": [
                {"id": e.item.id, "name": e.item.name, "unit": e.item.unit, "ratio": e.item.ratio}
                for e in self.below
            ],
            **({"cases": self.cases.figures()} if self.cases is not None else {}),
            **({"opening": self.opening} if self.opening else {}),
            **self.annex_figures,
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """The bulletin's summary paragraph, in its words."""
        d = self.as_of
        text = (
            f"截至{d.year}年{d.month}月{d.day}日，{self.total}个重点民生实事项目中，"
            f"已完成{len(self.done)}个，达到或超过序时进度（{format_percent(self.expected, 0)}）"
            f"{len(self.at_or_above)}个，低于序时进度{len(self.below)}个"
        )
        if self.below:
            names = "；".join(
                f"{e.item.unit}「{e.item.name}」{format_percent(e.item.ratio)}" for e in self.below
            )
            text += f"（{names}）"
        if self.unknown:
            text += f"，无法判断进度{len(self.unknown)}个"
        text += "。"
        if not self.projects:
            text += "数据源中没有项目编码与每月动态（需接入码上通导出），附件4为空。"
        elif self.month not in self.months:
            text += f"{len(self.projects)}个省重点民生实事项目自3月起按月报送动态。"
        elif self.no_update:
            names = "、".join(f"{p.unit}「{p.name}」" for p in self.no_update)
            text += (
                f"{len(self.projects)}个省重点民生实事项目中，本月（{self.month}月）"
                f"{len(self.no_update)}个未更新动态：{names}。"
            )
        else:
            text += f"{len(self.projects)}个省重点民生实事项目本月（{self.month}月）均已更新动态。"
        if self.cases is not None and self.cases.lines:
            text += self.cases.summary()
        return text

    # -- as tables ------------------------------------------------------------------
    def views(self, title: str = "") -> list[TableView]:
        """说明, 附件1..4, as exported (a sheet or section each)."""
        when = f"截至{self.as_of.year}年{self.as_of.month}月{self.as_of.day}日，序时进度{format_percent(self.expected, 0)}"
        heading = f"{title + ' ' if title else ''}{self.year}年{self.month}月 重点民生实事通报附件"
        overview = TableView(
            "summary",
            heading,
            [
                Column("项目", "text", "label"),
                Column("数量", "int", "count"),
                Column("说明", "text", "detail"),
            ],
            [
                ["项目总数", self.total, ""],
                ["已完成", len(self.done), "附件1"],
                ["达到或超过序时进度", len(self.at_or_above), "附件2"],
                ["低于序时进度", len(self.below), "附件3：" + "、".join(e.item.unit for e in self.below)],
                ["无法判断进度", len(self.unknown), "缺少完成比例"],
                ["省重点民生实事项目", len(self.projects), "附件4"],
                ["本月未更新动态", len(self.no_update), "、".join(p.name for p in self.no_update)],
                *(
                    []
                    if self.cases is None
                    else [["月末督办中", len(self.cases.still_open), "附件5：" + self.cases.summary()]]
                ),
            ],
            notes=[*([self.opening] if self.opening else []), self.summary(), *self.notes],
            sheet="说明",
        )
        annexes = [] if self.cases is None else [self.cases.view()]
        annexes += [v for v in (self.changes, self.league) if v is not None]
        return [
            overview,
            annex_view(
                "annex1", f"附件1：已完成的项目（{len(self.done)}个）", "附件1 已完成", self.done, when
            ),
            annex_view(
                "annex2",
                f"附件2：达到或超过序时进度的项目（{len(self.at_or_above)}个）",
                "附件2 达到或超过序时进度",
                self.at_or_above,
                when,
            ),
            annex_view(
                "annex3",
                f"附件3：低于序时进度的项目（{len(self.below)}个）",
                "附件3 低于序时进度",
                self.below,
                when,
            ),
            self.monthly_view(),
            *annexes,
        ]

    def monthly_view(self) -> TableView:
        columns = [
            Column("序号", "int", "no"),
            Column("主要责任单位", "text", "unit"),
            Column("考核项目", "text", "project"),
        ]
        columns += [Column(f"{m}月份", "text", f"m{m}") for m in self.months]
        rows: list[list[Cell]] = []
        for no, p in enumerate(self.projects, start=1):
            rows.append([no, p.unit, p.name, *(TICK if p.marks.get(m) else "" for m in self.months)])
        statuses: list[Status | None] = [
            Status.LAGGING if self.month in self.months and not p.marks.get(self.month) else None
            for p in self.projects
        ]
        return TableView(
            "annex4",
            f"附件4：{self.year}年省重点民生实事项目每月动态更新情况",
            columns,
            rows,
            statuses,
            [f"{TICK} 表示当月在省平台发布了动态（新闻报道、工作总结、典型案例）"],
            sheet="附件4 每月动态更新",
        )


def _group_by_unit(evaluated: Iterable[Evaluated]) -> list[Evaluated]:
    """Bulletin order (by item number), then each lead unit's items together, units in
    the order they first appear."""
    ordered = sorted(evaluated, key=lambda e: _natural(e.item.id))
    first: dict[str, int] = {}
    for index, e in enumerate(ordered):
        first.setdefault(e.item.unit, index)
    return sorted(ordered, key=lambda e: first[e.item.unit])  # stable: keeps item order in a unit


def annex_view(name: str, title: str, sheet: str, evaluated: Sequence[Evaluated], note: str) -> TableView:
    rows: list[list[Cell]] = []
    for no, e in enumerate(evaluated, start=1):
        it = e.item
        rows.append([no, it.category, it.name, it.unit, target_cell(it), progress_cell(it), it.ratio])
    return TableView(name, title, list(ANNEX_COLUMNS), rows, [e.status for e in evaluated], [note], sheet)


def monthly_updates(
    evaluated: Iterable[Evaluated], upto_month: int
) -> tuple[list[int], list[ProjectUpdates]]:
    """附件4 from the items that carry a project code (the 码上通 export): one row per
    project, a month marked when any of its indicators posted an update."""
    months = [m for m in UPDATE_MONTHS if m <= upto_month]
    projects: dict[str, ProjectUpdates] = {}
    for e in sorted(evaluated, key=lambda e: _natural(e.item.id)):
        it = e.item
        if not it.project_code:
            continue
        p = projects.get(it.project_code)
        if p is None:
            p = projects[it.project_code] = ProjectUpdates(
                it.project_code, it.project_name or it.project_code, it.unit
            )
        for m in months:
            if it.monthly_updates.get(m, 0) > 0:
                p.marks[m] = True
    return months, sorted(projects.values(), key=lambda p: _natural(p.code))


def build_report(evaluated: Sequence[Evaluated], as_of: date, expected: float) -> BulletinReport:
    """Sort the evaluated items into the bulletin's three groups and build 附件4.

    Done follows the item status (the configured `done_at`); the other two compare the
    ratio with the expected progress itself, as the bulletin's headings say.
    """
    done: list[Evaluated] = []
    above: list[Evaluated] = []
    below: list[Evaluated] = []
    unknown: list[Evaluated] = []
    for e in evaluated:
        ratio = e.item.ratio
        if e.status is Status.DONE:
            done.append(e)
        elif ratio is None:
            unknown.append(e)
        elif ratio >= expected - _EPS:
            above.append(e)
        else:
            below.append(e)
    months, projects = monthly_updates(evaluated, as_of.month)
    return BulletinReport(
        as_of.year,
        as_of.month,
        as_of,
        expected,
        _group_by_unit(done),
        _group_by_unit(above),
        _group_by_unit(below),
        _group_by_unit(unknown),
        months,
        projects,
    )


def report_from_snapshot(snapshot: Any) -> BulletinReport:
    """From a `dashboard.runtime.Snapshot` taken at the month's last day."""
    return build_report(snapshot.evaluated, snapshot.as_of, snapshot.expected)


def write_report(
    report: BulletinReport,
    folder: Path,
    plugins: Any,
    *,
    title: str = "",
    formats: Sequence[str] = ("xlsx", "md"),
) -> dict[str, Path]:
    """Write the annexes into `folder` as `bulletin-YYYY-MM.<ext>`, one file per
    format (a sheet or section per annex). Returns format → path written."""
    table: Mapping[str, Exporter] = plugins if isinstance(plugins, Mapping) else exporters(plugins)
    views = report.views(title)
    written: dict[str, Path] = {}
    for fmt in formats:
        exporter = lookup(table, fmt)
        if exporter.write_many is None:
            raise ExportError(f"导出格式 {fmt} 不支持多表写入（write_many），无法写通报附件")
        write_many = exporter.write_many
        path = Path(folder) / f"bulletin-{report.label}.{exporter.extension}"
        written[fmt] = write_atomic(path, lambda p, w=write_many: w(views, p))  # type: ignore[misc]
    return written
