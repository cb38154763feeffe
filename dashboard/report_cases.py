"""The monthly report's 督办 annex (issue 14): the cases opened, rectified (已整改) and
closed (已销号) in the month, and those still 督办中 at its end, overdue marked.

Each case's state at the month's end is replayed from the audit trail (a case reopened
after the month was still closed at its end), so a report on a past month does not
take today's state for then. Pure: the caller reads the cases and the trail rows.
Months are counted by the time each step was taken (the trail's `at`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dashboard.cases import CLOSED, OPEN, RECTIFIED, Case
from dashboard.core.items import Status
from dashboard.views import Cell, Column, TableView

# The trail's case steps and the state each one leaves the case in (None: no change of state).
_STEP_STATE = {
    "case_opened": OPEN,
    "case_rectified": RECTIFIED,
    "case_closed": CLOSED,
    "case_reopened": OPEN,
    "case_overdue": None,
    "case_noted": None,
}
_STEP_LABEL = {
    "case_opened": "立案",
    "case_rectified": "已整改",
    "case_closed": "已销号",
    "case_reopened": "重新督办",
}

CASE_COLUMNS = [
    Column("序号", "int", "no"),
    Column("案件", "text", "case"),
    Column("项目名称", "text", "item"),
    Column("牵头单位", "text", "unit"),
    Column("立案日期", "date", "opened"),
    Column("整改期限", "date", "deadline"),
    Column("整改要求", "text", "action"),
    Column("本月情况", "text", "this_month"),
    Column("月末状态", "text", "state"),
    Column("是否逾期", "text", "overdue"),
]


@dataclass(slots=True)
class CaseLine:
    """One case as the annex shows it."""

    case: Case
    state: str  # at the month's end
    overdue: bool  # 督办中 at the month's end with its deadline passed by then
    steps: list[str] = field(default_factory=list)  # what happened to it in the month, in order


@dataclass(slots=True)
class CaseAnnex:
    year: int
    month: int
    lines: list[CaseLine]

    def _with(self, step: str) -> list[CaseLine]:
        return [line for line in self.lines if step in line.steps]

    @property
    def opened(self) -> list[CaseLine]:
        return self._with("立案")

    @property
    def rectified(self) -> list[CaseLine]:
        return self._with("已整改")

    @property
    def closed(self) -> list[CaseLine]:
        return self._with("已销号")

    @property
    def still_open(self) -> list[CaseLine]:
        return [line for line in self.lines if line.state == OPEN]

    @property
    def overdue(self) -> list[CaseLine]:
        return [line for line in self.still_open if line.overdue]

    def figures(self) -> dict[str, Any]:
        """The annex's counts and case ids, for `dashboard report --json`."""

        def ids(lines: Iterable[CaseLine]) -> list[int]:
            return [line.case.id for line in lines]

        return {
            "opened": ids(self.opened),
            "rectified": ids(self.rectified),
            "closed": ids(self.closed),
            "open_at_month_end": ids(self.still_open),
            "overdue_at_month_end": ids(self.overdue),
        }

    def summary(self) -> str:
        if not self.lines:
            return "本月无督办案件。"
        text = (
            f"本月新立督办案件{len(self.opened)}件，已整改{len(self.rectified)}件，"
            f"已销号{len(self.closed)}件；月末仍在督办{len(self.still_open)}件"
        )
        if self.overdue:
            names = "、".join(f"{line.case.unit}「{line.case.item_name}」" for line in self.overdue)
            text += f"，其中逾期未整改{len(self.overdue)}件（{names}）"
        return text + "。"

    def view(self) -> TableView:
        rows: list[list[Cell]] = []
        statuses: list[Status | None] = []
        for no, line in enumerate(self.lines, start=1):
            c = line.case
            rows.append(
                [
                    no,
                    f"#{c.id}",
                    c.item_name,
                    c.unit,
                    c.opened_at.date(),
                    c.deadline,
                    c.action,
                    "、".join(line.steps),
                    line.state,
                    "逾期" if line.overdue else "",
                ]
            )
            statuses.append(Status.SEVERE if line.overdue else None)
        return TableView(
            "annex5",
            f"附件5：督办事项（本月立案{len(self.opened)}件、整改{len(self.rectified)}件、"
            f"销号{len(self.closed)}件，月末督办中{len(self.still_open)}件）",
            list(CASE_COLUMNS),
            rows,
            statuses,
            [self.summary(), "月末状态按留痕回放；逾期：月末仍在督办中且已过整改期限"],
            sheet="附件5 督办事项",
        )


def _in(at: datetime, start: date, end: date) -> bool:
    return start <= at.date() <= end


def build_case_annex(
    cases: Sequence[Case], trail: Iterable[Mapping[str, Any]], start: date, end: date
) -> CaseAnnex:
    """The cases touched in [start, end] or still 督办中 at `end`, from the cases and
    their trail rows (oldest first). A case opened after `end` is left out."""
    steps: dict[str, list[tuple[datetime, str]]] = {}
    for row in trail:
        kind = str(row.get("kind", ""))
        subject = str(row.get("subject", ""))
        if kind in _STEP_STATE and subject.startswith("case:"):
            steps.setdefault(subject, []).append((datetime.fromisoformat(str(row["at"])), kind))
    lines: list[CaseLine] = []
    for case in cases:
        if case.opened_at.date() > end:
            continue
        state, flagged, month_steps = OPEN, False, []
        for at, kind in steps.get(case.subject, [(case.opened_at, "case_opened")]):
            if at.date() > end:
                break
            state = _STEP_STATE[kind] or state
            if kind == "case_overdue":
                flagged = True
            elif kind == "case_reopened":
                flagged = False
            if _in(at, start, end) and kind in _STEP_LABEL and _STEP_LABEL[kind] not in month_steps:
                month_steps.append(_STEP_LABEL[kind])
        if not month_steps and state != OPEN:
            continue  # settled before the month and untouched in it
        overdue = state == OPEN and (flagged or case.deadline < end)
        lines.append(CaseLine(case, state, overdue, month_steps))
    return CaseAnnex(start.year, start.month, lines)
