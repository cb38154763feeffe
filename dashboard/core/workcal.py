"""The official working-day calendar (工作日历): which days are worked, with the State
Council's holidays and the weekend make-up days (调休), for the years it knows. Pure:
built from the days a calendar library ships and the config's additions
(dashboard.workcal builds it); it answers only for years it knows, so a new year
without its 国务院办公厅 notice is a named error instead of a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


class CalendarGap(ValueError):
    """A day of a year the calendar does not know."""

    def __init__(self, year: int, known: str) -> None:
        self.year = year
        super().__init__(f"工作日历中没有 {year} 年（已知 {known}）")


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Working days: Monday to Friday, less `holidays`, plus `workdays` (调休 make-up
    days on a weekend), in the `years` known. `fallback` is what the caller does
    outside them ("calendar_days" or ""); `name` says where the days come from."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    years: frozenset[int]
    name: str = ""
    fallback: str = ""

    @classmethod
    def build(
        cls,
        library_holidays: Iterable[date],
        library_workdays: Iterable[date],
        library_years: Iterable[int],
        *,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        name: str = "",
        fallback: str = "",
    ) -> WorkCalendar:
        """The library's days with the config's on top: a day the config names wins
        (a holiday there is off even if the library says worked, and the reverse), and
        every year the config names a day of counts as known."""
        extra_off, extra_on = frozenset(holidays), frozenset(workdays)
        off = (frozenset(library_holidays) - extra_on) | extra_off
        on = (frozenset(library_workdays) - extra_off) | extra_on
        years = frozenset(library_years) | {d.year for d in extra_off | extra_on}
        return cls(off, on, years, name, fallback)

    def knows(self, year: int) -> bool:
        return year in self.years

    def known_years(self) -> str:
        """The known years as ranges: "2004–2026、2028"."""
        runs: list[list[int]] = []
        for year in sorted(self.years):
            if runs and year == runs[-1][-1] + 1:
                runs[-1].append(year)
            else:
                runs.append([year])
        return "、".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) or "无"

    def missing_years(self, start: date, end: date) -> list[int]:
        """The years from `start` to `end` (inclusive) the calendar does not know."""
        return [y for y in range(start.year, end.year + 1) if y not in self.years]

    def is_workday(self, day: date) -> bool:
        """Worked by the official calendar; CalendarGap for a year it does not know."""
        if day.year not in self.years:
            raise CalendarGap(day.year, self.known_years())
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def is_day_off(self, day: date) -> bool:
        """A weekend that is not a make-up workday, or an official holiday."""
        return not self.is_workday(day)

    def count_workdays(self, start: date, end: date) -> int:
        """Working days from `start` to `end`, both included."""
        return sum(1 for n in range((end - start).days + 1) if self.is_workday(start + timedelta(n)))
