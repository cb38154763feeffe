"""The lead-unit league table (红黑榜, issue 15): units ranked by one score whose parts
are shown, so a unit can see why it ranks where it does. Pure: no I/O.

    score = 50 × 完成率 + 50 × 达序时率 − 平均落后点数 − 10 × 逾期督办 − 2 × 项均漏报

- 完成率 done share: done items / items (0..1);
- 达序时率 on-schedule share: items done or on track / items (0..1), so a unit whose
  items are all at the 序时进度 line is not ranked with one that is behind;
- 平均落后点数 points behind: the mean, over the unit's items with a ratio, of how many
  percentage points each is below the expected progress (items at or above it count 0);
- 逾期督办 overdue cases: the unit's 督办 cases still 督办中 past their deadline;
- 项均漏报 missing updates per item: months (March up to the last full month of the
  as-of date) in which a provincial item that reports monthly updates published none,
  summed over the unit's items and divided by its item count (a large unit is not
  penalised for its size).

Ranked by score (higher first), then done share, then name; equal scores share a rank.
红榜 (red list): the first RED_SIZE units with no points behind and no overdue case;
黑榜 (black list): the last BLACK_SIZE other units with something against them (points
behind, an overdue case or a missing update); units tied with a list's last place are on
it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from dashboard.core.alerts import last_full_month
from dashboard.core.items import UPDATE_MONTHS, Evaluated, Item, Status

DONE_WEIGHT = 50.0
ON_SCHEDULE_WEIGHT = 50.0
BEHIND_WEIGHT = 1.0  # per percentage point behind, on average over the unit's items
OVERDUE_WEIGHT = 10.0  # per overdue 督办 case
MISSING_WEIGHT = 2.0  # per missing monthly update, on average over the unit's items
RED_SIZE = 3
BLACK_SIZE = 3
RED, BLACK = "红榜", "黑榜"
UNKNOWN_UNIT = "（未填写）"  # as dashboard.core.units names a blank unit


@dataclass(frozen=True, slots=True)
class LeagueRow:
    """One unit's place and the parts of its score."""

    rank: int
    unit: str
    score: float
    items: int
    done: int
    done_share: float
    on_schedule_share: float
    behind_points: float
    overdue_cases: int
    missing_updates: int
    board: str = ""  # 红榜 / 黑榜 / ""

    @property
    def penalised(self) -> bool:
        return self.behind_points > 0 or self.overdue_cases > 0 or self.missing_updates > 0

    @property
    def missing_per_item(self) -> float:
        return self.missing_updates / self.items if self.items else 0.0

    def parts_text(self) -> str:
        """`50×71% + 50×100% − 0.0 − 10×0 − 2×1.0`: how the score was reached."""
        return (
            f"{DONE_WEIGHT:g}×{self.done_share:.0%} + {ON_SCHEDULE_WEIGHT:g}×{self.on_schedule_share:.0%}"
            f" − {self.behind_points:.1f} − {OVERDUE_WEIGHT:g}×{self.overdue_cases}"
            f" − {MISSING_WEIGHT:g}×{self.missing_per_item:.1f}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "unit": self.unit,
            "score": self.score,
            "items": self.items,
            "done": self.done,
            "done_share": round(self.done_share, 6),
            "on_schedule_share": round(self.on_schedule_share, 6),
            "behind_points": self.behind_points,
            "overdue_cases": self.overdue_cases,
            "missing_updates": self.missing_updates,
            "board": self.board,
        }


def missing_updates(item: Item, as_of: date) -> int:
    """Months (March .. the last full month of `as_of`, that year) with no update, for a
    provincial item whose source reports monthly updates; 0 for any other item."""
    if not item.is_provincial or not item.monthly_updates:
        return 0
    year, last = last_full_month(as_of)
    if year != as_of.year:
        return 0
    return sum(1 for m in UPDATE_MONTHS if m <= last and item.monthly_updates.get(m, 0) <= 0)


def score_of(
    done_share: float, on_schedule: float, behind: float, overdue: int, missing_per_item: float
) -> float:
    value = DONE_WEIGHT * done_share + ON_SCHEDULE_WEIGHT * on_schedule - BEHIND_WEIGHT * behind
    return round(value - OVERDUE_WEIGHT * overdue - MISSING_WEIGHT * missing_per_item, 1)


def league_table(
    evaluated: Iterable[Evaluated], as_of: date, overdue_cases: Mapping[str, int] | None = None
) -> list[LeagueRow]:
    """Every unit of `evaluated`, best first. `overdue_cases` is unit → overdue 督办 cases."""
    overdue_cases = overdue_cases or {}
    groups: dict[str, list[Evaluated]] = {}
    for e in evaluated:
        groups.setdefault(e.item.unit or UNKNOWN_UNIT, []).append(e)
    scored: list[tuple[float, float, str, LeagueRow]] = []
    for unit, members in groups.items():
        done = sum(1 for e in members if e.status is Status.DONE)
        gaps = [max(0.0, e.gap) * 100 for e in members if e.gap is not None and e.item.ratio is not None]
        behind = round(sum(gaps) / len(gaps), 1) if gaps else 0.0
        if behind == 0.0:
            behind = 0.0  # never -0.0
        missing = sum(missing_updates(e.item, as_of) for e in members)
        overdue = int(overdue_cases.get(unit, 0))
        share = done / len(members)
        on_schedule = sum(1 for e in members if e.status in (Status.DONE, Status.ON_TRACK)) / len(members)
        score = score_of(share, on_schedule, behind, overdue, missing / len(members))
        row = LeagueRow(0, unit, score, len(members), done, share, on_schedule, behind, overdue, missing)
        scored.append((-score, -share, unit, row))
    scored.sort(key=lambda t: t[:3])
    rows: list[LeagueRow] = []
    for i, (_, _, _, row) in enumerate(scored):
        rank = rows[-1].rank if rows and rows[-1].score == row.score else i + 1
        rows.append(_with(row, rank=rank))
    # Units tied with the last place of a list are on it too.
    clean = [i for i, r in enumerate(rows) if r.behind_points == 0 and r.overdue_cases == 0]
    if len(clean) > RED_SIZE:
        cut = rows[clean[RED_SIZE - 1]].rank
        clean = [i for i in clean if rows[i].rank <= cut]
    black = [i for i, r in enumerate(rows) if r.penalised and i not in clean]
    if len(black) > BLACK_SIZE:
        cut = rows[black[-BLACK_SIZE]].rank
        black = [i for i in black if rows[i].rank >= cut]
    for i in clean:
        rows[i] = _with(rows[i], board=RED)
    for i in black:
        rows[i] = _with(rows[i], board=BLACK)
    return rows


def _with(row: LeagueRow, **changes: object) -> LeagueRow:
    return replace(row, **changes)  # type: ignore[arg-type]


FORMULA = (
    f"得分 = {DONE_WEIGHT:g}×完成率 + {ON_SCHEDULE_WEIGHT:g}×达序时率 − {BEHIND_WEIGHT:g}×平均落后点数"
    f" − {OVERDUE_WEIGHT:g}×逾期督办 − {MISSING_WEIGHT:g}×项均漏报月度动态"
)
