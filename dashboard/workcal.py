"""The working-day calendar of a config: the `chinesecalendar` package's holidays and
make-up days (调休), plus `[calendar] holidays` and `workdays` for a year the package
does not have yet (a new 国务院办公厅 notice), as a pure `WorkCalendar`.

```toml
[calendar]
holidays = ["2027-01-01", "2027-02-05", ...]   # 法定节假日（含调休放假的工作日）
workdays = ["2027-02-07", ...]                 # 调休上班的周末
fallback = "calendar_days"                     # 日历未知的年份按自然日计算（并提示）；不写则为配置错误
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dashboard.contracts import ConfigError, difflib_close
from dashboard.core.progress import Period, workday_progress
from dashboard.core.workcal import CalendarGap, WorkCalendar

CALENDAR_KEYS = {
    "holidays": '法定节假日列表，如 ["2027-01-01"]（库中没有的年份在此补充）',
    "workdays": '调休上班日列表，如 ["2027-02-07"]',
    "fallback": '"calendar_days"：日历未知的年份按自然日计算并提示；不写则报错',
}
FALLBACKS = ("calendar_days",)
LIBRARY = "chinesecalendar"


@dataclass(frozen=True, slots=True)
class CalendarSettings:
    """The `[calendar]` table, validated."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    fallback: str = ""


def parse_calendar(table: dict[str, Any], file: Path | None) -> CalendarSettings:
    """`[calendar]`; ConfigError names `calendar.<key>` and the file."""

    def err(key: str, message: str, expected: str) -> ConfigError:
        return ConfigError(f"calendar.{key}", message, expected=expected, file=file)

    for key in table:
        if key not in CALENDAR_KEYS:
            raise err(key, f"未知的键{difflib_close(key, list(CALENDAR_KEYS))}", "、".join(CALENDAR_KEYS))
    days = {key: _dates(table.get(key, []), key, err) for key in ("holidays", "workdays")}
    both = sorted(days["holidays"] & days["workdays"])
    if both:
        raise err("workdays", f"{both[0]} 同时写在 holidays 与 workdays 中", "每天只写在其中一处")
    fallback = table.get("fallback", "")
    if fallback not in ("", *FALLBACKS):
        raise err("fallback", f"不支持 {fallback!r}", '"calendar_days"，或不写')
    return CalendarSettings(days["holidays"], days["workdays"], str(fallback))


def _dates(value: object, key: str, err: Any) -> frozenset[date]:
    if not isinstance(value, list):
        raise err(key, f"应为日期列表，实为 {value!r}", '["2027-01-01", ...]')
    out: set[date] = set()
    for entry in value:
        if isinstance(entry, datetime):
            entry = entry.date()
        if isinstance(entry, date):
            out.add(entry)
            continue
        try:
            if not isinstance(entry, str):
                raise ValueError(entry)
            out.add(date.fromisoformat(entry.strip()))
        except ValueError:
            raise err(key, f"不是日期 {entry!r}", "YYYY-MM-DD") from None
    return frozenset(out)


def load_calendar(settings: CalendarSettings, file: Path | None = None) -> WorkCalendar:
    """The library's calendar with the config's days on top. ConfigError (`calendar`)
    when the library is not installed."""
    try:
        import chinese_calendar
    except ImportError:
        raise ConfigError(
            "calendar", f"按工作日计算需要安装 {LIBRARY}", expected=f"pip install {LIBRARY}", file=file
        ) from None
    library_holidays = set(chinese_calendar.holidays)
    library_workdays = set(chinese_calendar.workdays)
    first, last = min(library_holidays).year, max(library_holidays).year
    version = getattr(chinese_calendar, "__version__", "")
    name = f"{LIBRARY} {version}（{first}–{last}）".replace("  ", " ")
    extra = sorted({d.year for d in settings.holidays | settings.workdays})
    if extra:
        name += "，配置补充 " + "、".join(str(y) for y in extra)
    return WorkCalendar.build(
        library_holidays,
        library_workdays,
        range(first, last + 1),
        holidays=settings.holidays,
        workdays=settings.workdays,
        name=name,
        fallback=settings.fallback,
    )


def gap_error(calendar: WorkCalendar, year: int, key: str, file: Path | None) -> ConfigError:
    """The named error for a year neither the library nor the config knows."""
    return ConfigError(
        key,
        f"工作日历中没有 {year} 年（{calendar.name or LIBRARY}）",
        expected=(
            f"在 [calendar] holidays 与 workdays 中写入 {year} 年的节假日与调休上班日"
            '（国务院办公厅通知），或设 [calendar] fallback = "calendar_days"'
        ),
        file=file,
    )


def workday_expected(
    as_of: date, period: Period, calendar: WorkCalendar, file: Path | None = None
) -> tuple[float, str]:
    """(expected progress by working days, a warning to show or ""). ConfigError
    (`calendar`) for a year neither the library nor the config knows, unless
    `[calendar] fallback = "calendar_days"`."""
    try:
        expected, by_days = workday_progress(as_of, period, calendar)
    except CalendarGap as gap:
        raise gap_error(calendar, gap.year, "calendar", file) from None
    if not by_days:
        return expected, ""
    years = "、".join(str(y) for y in by_days)
    return (
        expected,
        f"工作日历中没有 {years} 年：序时进度按自然日计算 (no working-day calendar for {years}: calendar days)",
    )


@dataclass(frozen=True, slots=True)
class DaysOff:
    """Whether a day is not worked, for `mute = ["holidays"]`: a weekend that is not a
    make-up workday, or an official holiday. A year the calendar does not know (begun
    since the process started, or under the fallback) mutes weekends only."""

    calendar: WorkCalendar

    def __call__(self, day: date) -> bool:
        if not self.calendar.knows(day.year):
            return day.weekday() >= 5
        return self.calendar.is_day_off(day)


def mute_days_off(
    routes: Sequence[Any], settings: CalendarSettings, file: Path | None, today: date
) -> DaysOff | None:
    """The days off for routes with `mute = ["holidays"]`; None when no route asks.
    ConfigError (`calendar`) when this year is in neither the library nor the config,
    unless `[calendar] fallback` is set."""
    if not any(getattr(r, "holidays", False) for r in routes):
        return None
    calendar = load_calendar(settings, file)
    if not calendar.knows(today.year) and calendar.fallback != "calendar_days":
        raise gap_error(calendar, today.year, "calendar", file)
    return DaysOff(calendar)


__all__ = [
    "CalendarGap",
    "CalendarSettings",
    "DaysOff",
    "WorkCalendar",
    "gap_error",
    "load_calendar",
    "mute_days_off",
    "parse_calendar",
    "workday_expected",
]
