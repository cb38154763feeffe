"""When the change digest is sent (`[digest] schedule = "MON 09:00"`, issue 15). Pure:
parse the schedule, and find the slot due at a given local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

DAYS = {
    "MON": 0,
    "TUE": 1,
    "WED": 2,
    "THU": 3,
    "FRI": 4,
    "SAT": 5,
    "SUN": 6,
    "周一": 0,
    "周二": 1,
    "周三": 2,
    "周四": 3,
    "周五": 4,
    "周六": 5,
    "周日": 6,
}
EVERY_DAY = ("DAILY", "每天")
# A slot missed for longer than this (nothing ran that day) is skipped, not sent late.
DUE_FOR = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Schedule:
    weekdays: frozenset[int]  # Monday = 0; all seven for every day
    at: time

    def latest_slot(self, now: datetime) -> datetime:
        """The latest scheduled time at or before `now` (naive local times)."""
        day = now.date()
        for back in range(8):
            candidate = datetime.combine(day - timedelta(days=back), self.at)
            if candidate.weekday() in self.weekdays and candidate <= now:
                return candidate
        raise AssertionError("a weekly schedule has a slot in every eight days")  # pragma: no cover

    def due(self, now: datetime) -> datetime | None:
        """The slot to send at `now`: the latest one, unless it is a day or more past."""
        slot = self.latest_slot(now)
        return slot if now - slot < DUE_FOR else None


def parse_schedule(text: str) -> Schedule:
    """`MON 09:00`, `MON,THU 09:00`, `周一 09:00`, `DAILY 08:30`. ValueError in Chinese."""
    parts = text.replace("，", ",").split()
    if len(parts) != 2:
        raise ValueError(f"无法识别的时间表 {text!r}")
    days_text, clock = parts
    if days_text.upper() in EVERY_DAY or days_text in EVERY_DAY:
        days = frozenset(range(7))
    else:
        names = [d.strip() for d in days_text.split(",") if d.strip()]
        unknown = [d for d in names if d.upper() not in DAYS and d not in DAYS]
        if not names or unknown:
            raise ValueError(f"无法识别的星期 {', '.join(unknown) or days_text!r}")
        days = frozenset(DAYS.get(d.upper(), DAYS.get(d, 0)) for d in names)
    try:
        hour, minute = (int(p) for p in clock.split(":"))
        at = time(hour, minute)
    except ValueError:
        raise ValueError(f"无法识别的时刻 {clock!r}") from None
    return Schedule(days, at)
