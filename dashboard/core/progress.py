"""序时进度 (expected progress) and item statuses (design §2). Pure."""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dashboard.core.items import Evaluated, Item, Status, paused_gc
from dashboard.core.workcal import CalendarGap, WorkCalendar

Method = Literal["months", "days", "workdays"]
_EPS = 1e-9


@dataclass(slots=True, frozen=True)
class Period:
    """The reporting period; by default the calendar year of the as-of date."""

    start: date
    end: date

    @classmethod
    def for_year(cls, year: int, end_month_day: tuple[int, int] = (12, 31)) -> Period:
        month, day = end_month_day
        return cls(date(year, 1, 1), date(year, month, min(day, _month_len(year, month))))


def _month_len(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _whole_months(start: date, upto: date) -> int:
    """Months from `start` completed by the end of day `upto` (a month counts at its last day)."""
    if upto < start:
        return 0
    months = (upto.year - start.year) * 12 + (upto.month - start.month)
    if upto.day == _month_len(upto.year, upto.month):
        months += 1
    return months


def expected_progress(
    as_of: date,
    period: Period,
    method: Method = "months",
    is_workday: Callable[[date], bool] | None = None,
) -> float:
    """The elapsed fraction of the period at `as_of`, 0..1.

    months: whole months at month end (30 Sep of a calendar year → 0.75);
    days: calendar days; workdays: days for which `is_workday` is true
    (the official calendar with holidays and make-up days, supplied by the caller).
    """
    if as_of < period.start:
        return 0.0
    if as_of >= period.end:
        return 1.0
    if method == "months":
        total = _whole_months(period.start, period.end)
        return min(1.0, _whole_months(period.start, as_of) / total) if total else 1.0
    if method == "days":
        total_days = (period.end - period.start).days + 1
        return ((as_of - period.start).days + 1) / total_days
    if method == "workdays":
        check = is_workday or (lambda d: d.weekday() < 5)
        days = [period.start + timedelta(n) for n in range((period.end - period.start).days + 1)]
        total = sum(1 for d in days if check(d))
        done = sum(1 for d in days if d <= as_of and check(d))
        return done / total if total else 1.0
    raise ValueError(f"unknown method {method!r}")


@dataclass(slots=True, frozen=True)
class Thresholds:
    """When an item counts as lagging or severely lagging.

    mode "points": lagging below `expected - lagging`, severe below `expected - severe`
    (fractions: 0.25 is 25 points). mode "share": the same as shares of expected
    (severe = 0.3 means below 70% of expected).
    """

    mode: Literal["points", "share"] = "points"
    lagging: float = 0.0
    severe: float = 0.25
    done_at: float = 1.0

    def status(self, ratio: float | None, expected: float) -> Status:
        if ratio is None:
            return Status.UNKNOWN
        if ratio >= self.done_at - _EPS:
            return Status.DONE
        if self.mode == "points":
            lag_line, severe_line = expected - self.lagging, expected - self.severe
        else:
            lag_line, severe_line = expected * (1 - self.lagging), expected * (1 - self.severe)
        if ratio < severe_line - _EPS:
            return Status.SEVERE
        if ratio < lag_line - _EPS:
            return Status.LAGGING
        return Status.ON_TRACK


def evaluate_item(item: Item, expected: float, thresholds: Thresholds) -> Evaluated:
    status = thresholds.status(item.ratio, expected)
    gap = None if item.ratio is None else expected - item.ratio
    return Evaluated(item, status, expected, gap)


def evaluate(items: Iterable[Item], expected: float, thresholds: Thresholds) -> list[Evaluated]:
    """Every item's status. The lines are computed once: this runs over 100,000 items."""
    done_at = thresholds.done_at - _EPS
    if thresholds.mode == "points":
        lag_line, severe_line = expected - thresholds.lagging, expected - thresholds.severe
    else:
        lag_line, severe_line = expected * (1 - thresholds.lagging), expected * (1 - thresholds.severe)
    lag_line -= _EPS
    severe_line -= _EPS
    done, on_track, lagging, severe, unknown = (
        Status.DONE,
        Status.ON_TRACK,
        Status.LAGGING,
        Status.SEVERE,
        Status.UNKNOWN,
    )
    out: list[Evaluated] = []
    append = out.append
    with paused_gc():
        for item in items:
            ratio = item.ratio
            if ratio is None:
                append(Evaluated(item, unknown, expected, None))
                continue
            if ratio >= done_at:
                status = done
            elif ratio < severe_line:
                status = severe
            elif ratio < lag_line:
                status = lagging
            else:
                status = on_track
            append(Evaluated(item, status, expected, expected - ratio))
    return out


def reevaluate(
    items: Sequence[Item],
    expected: float,
    thresholds: Thresholds,
    previous: Sequence[Evaluated],
) -> tuple[list[Evaluated], set[str]]:
    """Like `evaluate`, but an item equal to the one the `previous` evaluation (in the
    previous items' order) made under the same id, at the same expected progress, keeps
    that `Evaluated` object: only what changed is evaluated again, and what did not
    change stays the same object, so the screen and the store can tell by identity.
    Returns the evaluated items (in `items` order) and the ids that are new or changed
    (gone ids are the caller's to find: they are in `previous` and not in the result)."""
    by_id: dict[str, Evaluated] | None = None  # built only when an item moved
    n_prev = len(previous)
    fresh: list[Item] = []
    out: list[Evaluated | None] = []
    for i, item in enumerate(items):
        prev = previous[i] if i < n_prev else None
        if prev is None or prev.item is not item:
            # Not at the same position (a row added or removed above it): look it up.
            if by_id is None:
                by_id = {e.item.id: e for e in previous}
            prev = by_id.get(item.id)
        # Identity first: an unchanged source row keeps its Item object (see carry_over).
        if prev is not None and prev.expected == expected and (prev.item is item or prev.item == item):
            out.append(prev)
        else:
            out.append(None)
            fresh.append(item)
    if not fresh:
        return out, set()  # type: ignore[return-value]  # no None left
    evaluated = iter(evaluate(fresh, expected, thresholds))
    result = [e if e is not None else next(evaluated) for e in out]
    return result, {i.id for i in fresh}


def count_by_status(evaluated: Iterable[Evaluated]) -> dict[str, int]:
    counts = Counter(e.status for e in evaluated)
    order = (Status.DONE, Status.ON_TRACK, Status.LAGGING, Status.SEVERE, Status.UNKNOWN)
    return {s.value: counts.get(s, 0) for s in order}


def default_order(evaluated: list[Evaluated]) -> list[Evaluated]:
    """Worst first: severe, lagging, unknown, on track, done; then by gap, largest
    first. Ties keep the source order (the sort is stable)."""
    # One float per item as the key (not a tuple): at 100,000 items the tuples were 10 MiB.
    # Gaps are fractions (a ratio of 1000% is a gap of -9.25), far inside the rank's step.
    rank = {s: s.rank * 1e9 for s in Status}
    return sorted(evaluated, key=lambda e: rank[e.status] - (e.gap or 0.0))


def workday_progress(as_of: date, period: Period, calendar: WorkCalendar) -> tuple[float, list[int]]:
    """(expected, years counted by calendar days): working days elapsed in the period
    over its working days, by the official calendar. A year the calendar does not know
    raises CalendarGap, unless its fallback is "calendar_days": then the period counts
    calendar days, and the years that made it so are returned for the caller to show."""
    missing = calendar.missing_years(period.start, period.end)
    if not missing:
        return expected_progress(as_of, period, "workdays", calendar.is_workday), []
    if calendar.fallback == "calendar_days":
        return expected_progress(as_of, period, "days"), missing
    raise CalendarGap(missing[0], calendar.known_years())
