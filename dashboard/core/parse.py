"""Tolerant parsing of the figures found in real bulletins and exports (design §1).

Pure functions: text in, numbers out. NFKC normalisation is applied to numeric
cells only, never to names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Cells that mean "no value", not zero.
NA_TOKENS = frozenset({"", "—", "——", "-", "--", "–", "无", "暂无", "/", "n/a", "na", "null", "none"})

# Total and subtotal rows are not items.
TOTAL_MARKERS = ("合计", "小计", "全省", "全市", "总计")

_SPACE_RE = re.compile(r"\s+")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_FIRST_NUMBER_RE = re.compile(r"[+-]?\d+(?:\.\d+)?")
# A rate target: 提升至90%以上, 达到95%, 90%以上, ≥95%.
_RATE_TARGET_RE = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def normalise_numeric(text: str) -> str:
    """NFKC (full-width digits and %), thousands separators and stray spaces removed."""
    s = unicodedata.normalize("NFKC", text)
    s = _SPACE_RE.sub("", s)
    return s.replace(",", "").replace("，", "")


def is_na(text: object) -> bool:
    if text is None:
        return True
    if isinstance(text, (int, float)):
        return False
    return normalise_numeric(str(text)).lower() in NA_TOKENS


def finite(value: int | float) -> float | None:
    """`value` as a finite float, or None: NaN, ±inf and ints beyond float range
    (`float(10**400)` raises OverflowError) are not numbers a bulletin can hold."""
    try:
        x = float(value)
    except OverflowError:
        return None
    return x if x - x == 0 else None


# Numeric-looking text that still is no usable number (NaN, Infinity, 1e999, 400
# digits): the row layer warns about these instead of reading them as plain text.
_NUMERIC_LIKE_RE = re.compile(r"^[+-]?(nan|inf(inity)?|(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?)%?$", re.IGNORECASE)


# How such a cell can begin (after spaces): text such as 已完成 is told apart in one
# set lookup, without the NFKC of normalise_numeric (the row layer asks on every row
# whose progress or target is text).
_NUMERIC_START = frozenset("+-.0123456789nNiI＋－．０１２３４５６７８９ｎＮｉＩ")


def looks_numeric(value: object) -> bool:
    """A cell that is meant as a number (finite or not); `已完成` is not."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if not isinstance(value, str):
        return False
    s = value.lstrip()
    return bool(s) and s[0] in _NUMERIC_START and _NUMERIC_LIKE_RE.match(normalise_numeric(s)) is not None


def _float(text: str) -> float | None:
    """float() as the fast path: it already accepts spaces around and full-width digits."""
    try:
        x = float(text)
    except ValueError:
        return None
    return x if x - x == 0 else None  # not nan or inf


def parse_number(value: object) -> float | None:
    """A plain number: `27. 904` → 27.904, `１２０` → 120. Text such as 已完成 → None."""
    if isinstance(value, str) and "_" not in value:
        x = _float(value)
        if x is not None:
            return x
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return finite(value)
    s = normalise_numeric(str(value))
    if s.lower() in NA_TOKENS:
        return None
    if _NUMBER_RE.match(s):
        return finite(float(s))  # 400 digits parse to inf
    return None


def parse_percent(value: object, *, bare_is_percent: bool = True) -> float | None:
    """A ratio as a fraction: `75. 1%` → 0.751, `７５％` → 0.75, `87.4` → 0.874.

    A number (int/float from a spreadsheet cell or JSON) is taken as a fraction
    when `bare_is_percent` is False (xlsx percent cells hold 0.874).
    """
    if isinstance(value, str) and "_" not in value:
        text = value
        x = _float(text[:-1]) if text.endswith("%") else (_float(text) if bare_is_percent else None)
        if x is not None:
            return x / 100.0
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        x = finite(value)
        return None if x is None else (x / 100.0 if bare_is_percent else x)
    s = normalise_numeric(str(value))
    if s.lower() in NA_TOKENS:
        return None
    if s.endswith("%"):
        s = s[:-1]
        number = parse_number(s)
        return None if number is None else number / 100.0
    number = parse_number(s)
    if number is None:
        return None
    return number / 100.0 if bare_is_percent else number


@dataclass(slots=True, frozen=True)
class Target:
    """A target (任务数) as written, with its number when it has one."""

    text: str
    value: float | None
    is_rate: bool = False  # `提升至90%以上`: measured in percentage points


def parse_target(value: object) -> Target:
    """`455` → 455; `提升至90%以上` → rate 90; `不低于700元/月` → text only."""
    if value is None:
        return Target("", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        x = finite(value)
        if x is None:
            return Target("", None)  # NaN / inf / 10**400: no target, the row layer warns
        return Target(_format_number(x), x)
    text = str(value).strip()
    number = _float(text) if "_" not in text else None
    if number is None:
        number = parse_number(text)
    if number is not None:
        return Target(text, number)
    normalised = normalise_numeric(text)
    if looks_numeric(normalised) and ((pct := parse_percent(normalised)) is None or pct < 0):
        return Target(text, None)  # `1e999%`, `NaN`, `-5%`: meant as a number, none usable
    rates = _RATE_TARGET_RE.findall(normalised)
    # Only a single rate is unambiguous: `全覆盖/30%` mixes two goals.
    if len(rates) == 1 and "/" not in normalised:
        rate = finite(float(rates[0]))
        return Target(text, rate, is_rate=rate is not None)
    return Target(text, None)


def compute_ratio(target: Target, actual: float | None) -> float | None:
    """actual / target when both are numbers (`455` → `535` is 1.176)."""
    if actual is None or target.value is None or target.value == 0:
        return None
    ratio = actual / target.value
    return ratio if ratio - ratio == 0 else None  # 1e300 / 1e-300 is inf


def is_total_row(*cells: str) -> bool:
    """A 合计 / 小计 / 全省 / 全市 row, recognised by a cell that is exactly such a label."""
    for cell in cells:
        s = _SPACE_RE.sub("", cell or "")
        if s and any(s == m or (s.startswith(m) and len(s) <= len(m) + 2) for m in TOTAL_MARKERS):
            return True
    return False


def parse_int(value: object) -> int | None:
    number = parse_number(value)
    return None if number is None else round(number)  # finite, so round() cannot raise


def _format_number(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def format_percent(ratio: float | None, digits: int = 1) -> str:
    return "—" if ratio is None else f"{ratio * 100:.{digits}f}%"
