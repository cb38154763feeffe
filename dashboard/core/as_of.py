"""The as-of date a bulletin states about itself: its title rows (`（截至2024年10月31日）`,
`1-10月`, `2024年10月份`) and, for 码上通 exports, the latest 更新时间. Pure: no I/O."""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import date

# 截至 / 截止 / 截至到 + a full date, the strongest statement a title makes.
_FULL = r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?"
_CUTOFF_RE = re.compile(r"截[至止](?:到|于)?\s*" + _FULL)
_CN_DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
# `1-10月` / `1至10月` / `1—10月`: the period ends with the last day of the later month.
_RANGE_RE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*(?:-|~|至|到|—|–)\s*(\d{1,2})\s*月")
# `2024年10月份` / `2024年10月`: the month's last day (not followed by a day number).
_MONTH_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:份)?(?!\s*\d)")
_YEAR_RE = re.compile(r"(\d{4})\s*年")
_ISO_DAY_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def _day(y: str | int, m: str | int, d: str | int) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date | None:
    if not 1 <= month <= 12 or not 1900 <= year <= 9999:
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


def _text(rows: Iterable[Sequence[object]]) -> list[str]:
    # NFKC: full-width digits and dashes (１－１０月) read like ASCII ones.
    return [unicodedata.normalize("NFKC", str(c)) for row in rows for c in row if isinstance(c, str) and c]


def title_as_of(
    rows: Iterable[Sequence[object]], default_year: int | Callable[[], int | None] | None = None
) -> date | None:
    """The as-of date stated in title rows (the rows above the header), or None.

    In order: `截至YYYY年M月D日` (or 截止, with `-`/`/`/`.` too); a full `YYYY年M月D日`;
    `M-N月` (year from the same text, else from another year in the title rows, else
    `default_year`, called only then when a callable); `YYYY年M月份`. A month means its last day."""
    texts = _text(rows)
    for pattern in (_CUTOFF_RE, _CN_DATE_RE):
        for text in texts:
            for m in pattern.finditer(text):
                day = _day(*m.groups())
                if day is not None:
                    return day
    years = [int(y) for text in texts for y in _YEAR_RE.findall(text)]
    year: int | None = years[0] if years else None
    for text in texts:
        for m in _RANGE_RE.finditer(text):
            start, end = int(m.group(2)), int(m.group(3))
            if year is None and not m.group(1):
                year = default_year() if callable(default_year) else default_year
            y = int(m.group(1)) if m.group(1) else year
            if y is not None and 1 <= start <= end <= 12:
                found = _month_end(y, end)
                if found is not None:
                    return found
    for text in texts:
        for m in _MONTH_RE.finditer(text):
            found = _month_end(int(m.group(1)), int(m.group(2)))
            if found is not None:
                return found
    return None


def latest_update(values: Iterable[str]) -> date | None:
    """The latest day among 更新时间 values (`2024-09-22 14:57`, `2024/9/22`, `2024年9月22日`)."""
    latest: date | None = None
    # Most values start `YYYY-MM-DD`: only their distinct days are parsed (100,000 values
    # with a time each take milliseconds, not the half second of a regex apiece).
    days: set[str] = set()
    for value in values:
        if not value:
            continue
        if len(value) >= 10 and value[4] == "-" and value[7] == "-":
            days.add(value[:10])
            continue
        text = unicodedata.normalize("NFKC", value)
        m = _ISO_DAY_RE.search(text.replace("/", "-").replace(".", "-")) or _CN_DATE_RE.search(text)
        day = _day(*m.groups()) if m else None
        if day is not None and (latest is None or day > latest):
            latest = day
    for prefix in days:
        m = _ISO_DAY_RE.fullmatch(prefix)
        day = _day(*m.groups()) if m else None
        if day is not None and (latest is None or day > latest):
            latest = day
    return latest


def year_hint(values: Iterable[str]) -> int | None:
    """The year of the latest dated value (for `1-10月` in a title without a year)."""
    day = latest_update(values)
    return day.year if day else None
