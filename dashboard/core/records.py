"""One parsing layer for every tabular source: header detection, header aliases and
rows → items, with the quirks of design §1. CSV, xlsx and JSON sources all feed
rows of cells (str, int, float or None) through here. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, islice
from typing import TypeVar

from dashboard.core.as_of import title_as_of, year_hint
from dashboard.core.items import NOTHING, DataWarning, Item, paused_gc
from dashboard.core.parse import (
    Target,
    compute_ratio,
    finite,
    is_na,
    is_total_row,
    looks_numeric,
    parse_int,
    parse_number,
    parse_percent,
    parse_target,
)
from dashboard.core.sanitize import clean_text

Cell = str | int | float | None
_V = TypeVar("_V")

# Plausible figures (the same bounds as dashboard.core.validate): a ratio is a fraction
# in 0..100 (0%..10,000%), a target or actual within ±1e15, a count 0..1e15.
MAX_RATIO = 100.0
MAX_FIGURE = 1e15

# Canonical field → header names, most specific first. `name` is resolved before
# `project_name` so that in a 码上通 export (指标名称 + 项目名称) the indicator is the
# item and 项目名称 the project, while in a bulletin 项目名称 is the item's name.
BUILTIN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("序号", "编号", "指标编码", "指标编号", "id"),
    "name": ("指标名称", "项目名称", "实事名称", "任务名称", "名称", "name"),
    "project_code": ("项目编码", "项目代码", "项目编号", "project_code"),
    "project_name": ("项目名称", "考核项目", "所属项目", "project_name"),
    "category": ("实事类别", "类别", "项目类别", "实事类型", "category"),
    "unit": ("牵头单位", "责任单位", "主要责任单位", "主责单位", "牵头部门", "责任部门", "lead_unit", "unit"),
    "target": ("任务数", "目标值", "目标任务", "任务目标", "年度目标", "目标", "target"),
    "measure": ("计量单位", "单位名称", "measure"),
    "progress": ("进度情况", "完成值", "完成情况", "进展情况", "实际完成", "完成数", "progress", "actual"),
    "ratio": ("完成比例", "完成率", "完成率(%)", "完成比例(%)", "完成进度", "ratio"),
    "acceptance_status": ("验收状态", "验收情况"),
    "acceptance_ratio": ("验收率", "验收比例"),
    "disclosure_policy": ("政策文件",),
    "disclosure_content": ("建设内容",),
    "disclosure_detail": ("项目详情",),
    "ratings": ("群众评价", "评价数"),
    "satisfaction": ("满意度",),
    "comments_received": ("意见建议", "收到意见", "意见数"),
    "comments_answered": ("已回复", "回复数", "已处理"),
    "updated_at": ("更新时间", "最后更新", "updated_at"),
}
FIELDS = tuple(BUILTIN_ALIASES)
_MONTH_RE = re.compile(r"^(\d{1,2})月(?:份)?(?:动态|更新)?$")
_TICKS = frozenset({"√", "✓", "✔", "是", "有", "y", "yes", "true"})
_DISCLOSURE_KEYS = {
    "disclosure_policy": "政策文件",
    "disclosure_content": "建设内容",
    "disclosure_detail": "项目详情",
}


def header_key(text: object) -> str:
    """Header text compared loosely: NFKC, no spaces, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or ""))).lower()


def merge_aliases(extra: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """Built-in aliases plus a source's own (its names are tried first)."""
    merged = dict(BUILTIN_ALIASES)
    for field_name, names in (extra or {}).items():
        if field_name not in merged:
            raise KeyError(field_name)
        merged[field_name] = (*names, *merged[field_name])
    return merged


@dataclass(slots=True)
class HeaderMap:
    headers: list[str]
    columns: dict[str, int] = field(default_factory=dict)
    months: dict[int, int] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def score(self) -> int:
        return len(self.columns) + len(self.months)


def resolve_header(headers: Sequence[object], aliases: Mapping[str, Sequence[str]]) -> HeaderMap:
    """Map canonical fields to column indexes; unknown columns are kept as extras."""
    keys = [header_key(h) for h in headers]
    hm = HeaderMap([clean_text(str(h or "")).strip() for h in headers])
    claimed: set[int] = set()
    for field_name in FIELDS:
        for alias in aliases.get(field_name, ()):
            ak = header_key(alias)
            idx = next((i for i, k in enumerate(keys) if k == ak and i not in claimed), None)
            if idx is not None:
                hm.columns[field_name] = idx
                claimed.add(idx)
                break
    for i, k in enumerate(keys):
        if i in claimed or not k:
            continue
        m = _MONTH_RE.match(k)
        if m and 1 <= int(m.group(1)) <= 12:
            hm.months[int(m.group(1))] = i
        else:
            hm.extra[hm.headers[i]] = i
    return hm


def find_header(
    rows: Sequence[Sequence[Cell]], aliases: Mapping[str, Sequence[str]], scan: int = 10
) -> tuple[int, HeaderMap] | None:
    """The header among the first `scan` rows: the row naming the most known fields,
    which must include the item's name (title rows above it are skipped)."""
    best: tuple[int, HeaderMap] | None = None
    for index, row in enumerate(rows[:scan]):
        hm = resolve_header(row, aliases)
        if "name" not in hm.columns or hm.score < 2:
            continue
        if best is None or hm.score > best[1].score:
            best = (index, hm)
    return best


def _text(cell: Cell) -> str:
    if isinstance(cell, str):
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, int) and not -(10**30) < cell < 10**30:
        return f"{'-' if cell < 0 else ''}{len(str(abs(cell))) if abs(cell) < 10**4000 else '4000+'} 位整数"
    return str(cell).strip()


def _tick(cell: Cell) -> int:
    if cell is None:
        return 0
    if isinstance(cell, (int, float)):
        x = finite(cell)
        return int(x) if x is not None and 0 <= x <= MAX_FIGURE else 0
    s = header_key(cell)
    if s in _TICKS:
        return 1
    number = parse_int(s)
    return number if number is not None and 0 <= number <= MAX_FIGURE else 0


@dataclass(slots=True)
class RowContext:
    """What a loader knows about where its rows came from, for warnings."""

    source: str
    location: str  # file path or URL
    as_of: date | None = None
    fill_down: tuple[str, ...] = ("category", "unit")
    # JSON numbers in the ratio column: fractions (0.32) or percents (32)?
    numeric_ratio_is_fraction: bool = False
    # True when the reader found no control characters in the file: the cells need no
    # cleaning (dashboard.core.sanitize); otherwise every text cell is cleaned.
    cells_printable: bool = False
    # False when the file does not end in a line break: a last row shorter than the
    # header is then a half-written export, not a row with empty cells.
    ends_with_newline: bool = True


def rows_to_items(
    rows: Iterable[Sequence[Cell]],
    hm: HeaderMap,
    ctx: RowContext,
    first_row_number: int,
) -> tuple[list[Item], list[DataWarning]]:
    """Turn data rows (after the header) into items (see `_rows_to_items`).

    The cyclic garbage collector is paused meanwhile: items hold no cycles, and at
    100,000 rows its repeated scans of the growing heap cost a third of the load."""
    if not ctx.cells_printable:
        rows = map(_clean_row, rows)
    with paused_gc():
        return _rows_to_items(rows, hm, ctx, first_row_number)


def _clean_row(row: Sequence[Cell]) -> list[Cell]:
    return [clean_text(c) if c.__class__ is str else c for c in row]


def _rows_to_items(
    rows: Iterable[Sequence[Cell]],
    hm: HeaderMap,
    ctx: RowContext,
    first_row_number: int,
) -> tuple[list[Item], list[DataWarning]]:
    """Turn data rows (after the header) into items.

    `first_row_number` is the 1-based row number of the first data row in the file,
    so every warning names the row a person sees in a spreadsheet. This is the hot
    path at 100,000 rows: only the columns the header has are looked at.
    """
    items: list[Item] = []
    warnings: list[DataWarning] = []
    cols = hm.columns
    headers = hm.headers
    width = len(headers)
    seen_ids: dict[str, int] = {}
    carry_category = carry_unit = ""
    fill_category = "category" in ctx.fill_down and "category" in cols
    fill_unit = "unit" in ctx.fill_down and "unit" in cols
    # The optional columns, looked up once: (field, index) for those present.
    optional_text = [
        (f, cols[f])
        for f in ("project_code", "project_name", "measure", "acceptance_status", "updated_at")
        if f in cols
    ]
    optional_int = [(f, cols[f]) for f in ("ratings", "comments_received", "comments_answered") if f in cols]
    optional_pct = [(f, cols[f]) for f in ("acceptance_ratio", "satisfaction") if f in cols]
    disclosure_cols = [(label, cols[key]) for key, label in _DISCLOSURE_KEYS.items() if key in cols]
    fill_optional = {f for f, _ in optional_text if f in ctx.fill_down}
    carry_optional: dict[str, str] = {}
    month_cols = list(hm.months.items())
    extra_cols = list(hm.extra.items())
    i_name, i_id, i_cat, i_unit = (cols.get(f, -1) for f in ("name", "id", "category", "unit"))
    i_target, i_progress, i_ratio = (cols.get(f, -1) for f in ("target", "progress", "ratio"))
    ratio_header = headers[i_ratio] if i_ratio >= 0 else ""
    numeric_fraction = ctx.numeric_ratio_is_fraction
    source, location, as_of = ctx.source, ctx.location, ctx.as_of

    share = {"": ""}.setdefault
    # The parsers are pure, and bulletins repeat their cells (targets, notes, ratios to
    # one decimal): each distinct cell is parsed once per load.
    targets = _Parsed(_target_of)
    actuals = (_Parsed(lambda c: _actual_of(c, False)), _Parsed(lambda c: _actual_of(c, True)))  # by is_rate
    percents = _Parsed(_ratio_of)

    def warn(row_no: int, column: str | None, message: str) -> None:
        warnings.append(DataWarning(source, message, location, row_no, column))

    row_no = first_row_number - 1
    n = width
    for row in rows:
        row_no += 1
        n = len(row)
        if n < width:
            row = [*row, *([None] * (width - n))]
        elif n > width and any(_text(c) for c in row[width:]):
            warn(row_no, None, f"该行有 {n} 列，表头只有 {width} 列，多出的列已忽略")
        # `str.strip` inline for text cells (every CSV cell): a call of `_text` per cell
        # was a fifth of the load at 100,000 rows.
        cell = row[i_name] if i_name >= 0 else ""
        name = cell.strip() if cell.__class__ is str else _text(cell)
        cell = row[i_id] if i_id >= 0 else ""
        id_text = cell.strip() if cell.__class__ is str else _text(cell)
        cell = row[i_cat] if i_cat >= 0 else ""
        category = cell.strip() if cell.__class__ is str else _text(cell)
        if not name and not id_text and not any(_text(c) for c in row):
            continue
        if ("计" in name or "全" in name or "计" in id_text or "计" in category or "全" in category) and (
            is_total_row(id_text, name, category)
        ):
            warn(row_no, None, "合计/小计行不是实事项目，已跳过")
            continue
        cell = row[i_unit] if i_unit >= 0 else ""
        unit = cell.strip() if cell.__class__ is str else _text(cell)
        # One string object per distinct value: lead units and categories repeat on
        # every row (17 MiB of copies at 100,000 rows).
        category, unit = share(category, category), share(unit, unit)
        if fill_category:
            if category:
                carry_category = category
            else:
                category = carry_category
        if fill_unit:
            if unit:
                carry_unit = unit
            else:
                unit = carry_unit
        if not name:
            warn(row_no, headers[i_name] if i_name >= 0 else "名称", "缺少名称，该行未载入")
            continue

        # Each memo gives (value, why it is unusable or ""): the checks run once per
        # distinct cell, and a row pays one test of the message.
        if i_target >= 0:
            target, bad = targets[row[i_target]]
            if bad:
                warn(row_no, headers[i_target], bad)
        else:
            target = _NO_TARGET
        progress_cell = row[i_progress] if i_progress >= 0 else None
        if progress_cell is not None:
            actual, bad = actuals[target.is_rate][progress_cell]
            if bad:
                warn(row_no, headers[i_progress], bad)
        else:
            actual = None
        ratio: float | None = None
        computed = False
        if i_ratio >= 0:
            ratio_cell = row[i_ratio]
            if numeric_fraction and isinstance(ratio_cell, (int, float)) and not isinstance(ratio_cell, bool):
                ratio, bad = _ratio_of(ratio_cell, fraction=True)
            else:
                ratio, bad = percents[ratio_cell]
            if bad:
                warn(row_no, ratio_header, bad)
        if ratio is None:
            ratio = compute_ratio(target, actual)
            if ratio is not None and not 0.0 <= ratio <= MAX_RATIO:
                column = headers[i_progress] if i_progress >= 0 else None
                warn(row_no, column, f"完成值/任务数 = {ratio * 100:g}%，不在 0%–10000% 之间，比例视为未知")
                ratio = None
            computed = ratio is not None

        item_id = id_text or _fallback_id(row, cols, row_no - first_row_number)
        if item_id in seen_ids:
            warn(
                row_no,
                headers[i_id] if i_id >= 0 else None,
                f"编号 {item_id} 与第 {seen_ids[item_id]} 行重复，已改为 {item_id}#{row_no}",
            )
            item_id = f"{item_id}#{row_no}"
        seen_ids[item_id] = row_no

        cell = progress_cell
        progress_text = cell.strip() if cell.__class__ is str else _text(cell)
        item = Item(
            item_id,
            name,
            category,
            unit,
            share(target.text, target.text),
            target.value,
            target.is_rate,
            share(progress_text, progress_text),
            actual,
            ratio,
            computed,
            source,
            as_of,
            "",
            "",
            "",
            "",
            None,
            NOTHING,  # the shared empty mapping, replaced below when the row has some
            NOTHING,
            None,
            None,
            None,
            None,
            "",
            NOTHING,
            NOTHING,
            f"{location}:{row_no}",
        )
        for f, idx in optional_text:
            value = _text(row[idx])
            if f in fill_optional:  # merged cells of project code / name in an export
                value = carry_optional[f] = value or carry_optional.get(f, "")
            setattr(item, f, value)
        for g, idx in optional_int:
            count = parse_int(cell := row[idx])
            if (count is None and not is_na(cell)) or (count is not None and not 0 <= count <= MAX_FIGURE):
                warn(
                    row_no,
                    headers[idx],
                    f"无法识别的数字「{_clip(_text(cell))}」（应为非负整数），已视为未知",
                )
                count = None
            setattr(item, g, count)
        for h, idx in optional_pct:
            pct = parse_percent(cell := row[idx])
            if (pct is None and not is_na(cell)) or (pct is not None and not 0.0 <= pct <= MAX_RATIO):
                warn(
                    row_no,
                    headers[idx],
                    f"无法识别的比例「{_clip(_text(cell))}」（应在 0%–10000% 之间），已视为未知",
                )
                pct = None
            setattr(item, h, pct)
        if disclosure_cols:
            counts = {label: parse_int(row[idx]) for label, idx in disclosure_cols}
            item.disclosures = {
                label: n for label, n in counts.items() if n is not None and 0 <= n <= MAX_FIGURE
            }
        if month_cols:
            item.monthly_updates = {month: _tick(row[idx]) for month, idx in month_cols}
        if extra_cols:
            texts = ((header, _text(row[idx])) for header, idx in extra_cols)
            item.extra = {header: value for header, value in texts if value} or NOTHING
        items.append(item)
    if n < width and not ctx.ends_with_newline:
        raise ValueError(
            f"第{row_no}行不完整（只有 {n} 列，表头有 {width} 列，且文件不以换行结尾）：文件可能仍在写入或被截断"
        )
    return items, warnings


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_NO_TARGET = Target("", None)
_MEMO_SIZE = 4096  # distinct cells remembered per column and load


class _Parsed(dict[Cell, _V]):
    """cell → `parse(cell)`, parsed on the first lookup of each distinct cell. A hit costs
    a dict lookup in C (no Python call on the hot path). Bounded: a column of distinct
    numbers gains nothing from it and would hold every cell at the load's peak."""

    def __init__(self, parse: Callable[[Cell], _V]) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, cell: Cell) -> _V:
        value = self.parse(cell)
        if len(self) < _MEMO_SIZE:
            self[cell] = value
        return value


def _target_of(cell: Cell) -> tuple[Target, str]:
    """The target, and why it cannot be used (NaN, 1e999, beyond ±1e15) or ""."""
    target = parse_target(cell)
    value = target.value
    if value is None:
        if looks_numeric(cell):
            return target, f"任务数「{_clip(_text(cell))}」不是有限的数字，已视为未知"
    elif not -MAX_FIGURE <= value <= MAX_FIGURE:
        return Target(target.text, None), f"任务数 {value:g} 超出合理范围（±{MAX_FIGURE:g}），已视为未知"
    return target, ""


def _actual_of(cell: Cell, rate: bool) -> tuple[float | None, str]:
    value = _actual(cell, rate)
    if value is None:
        if looks_numeric(cell):
            return None, f"完成值「{_clip(_text(cell))}」不是有限的数字，已视为未知"
    elif not -MAX_FIGURE <= value <= MAX_FIGURE:
        return None, f"完成值 {value:g} 超出合理范围（±{MAX_FIGURE:g}），已视为未知"
    return value, ""


def _ratio_of(cell: Cell, fraction: bool = False) -> tuple[float | None, str]:
    """A 完成比例 cell as a fraction in 0..100 (0%..10,000%), or None and why."""
    ratio = finite(cell) if fraction else parse_percent(cell)  # type: ignore[arg-type]
    if ratio is None:
        return None, "" if is_na(cell) else f"无法识别的完成比例「{_clip(_text(cell))}」"
    if not 0.0 <= ratio <= MAX_RATIO:
        return None, f"完成比例 {ratio * 100:g}% 不在 0%–10000% 之间，已视为未知"
    return ratio, ""


def _actual(cell: Cell, rate: bool) -> float | None:
    if rate:
        pct = parse_percent(cell) if isinstance(cell, str) and "%" in cell else None
        return pct * 100 if pct is not None else parse_number(cell)
    return parse_number(cell)


def _fallback_id(row: Sequence[Cell], cols: Mapping[str, int], offset: int) -> str:
    code = _text(row[cols["project_code"]]) if "project_code" in cols else ""
    return f"{code}-{offset + 1}" if code else str(offset + 1)


def table_to_items(
    rows: Iterable[Sequence[Cell]],
    aliases: Mapping[str, Sequence[str]],
    ctx: RowContext,
    scan: int = 10,
) -> tuple[list[Item], list[DataWarning]]:
    """A whole table (title rows, header, data) → items. Raises ValueError when no
    header row can be found among the first `scan` rows. `rows` may be an iterator:
    only the first `scan` rows are held, so a reader's rows become items one by one.
    Without `ctx.as_of`, the date stated in the title rows (core.as_of) is set in it."""
    it = iter(rows)
    head = list(islice(it, scan))
    found = find_header(head, aliases, scan)
    if found is None:
        raise ValueError(f"前 {scan} 行中找不到表头（需要包含「项目名称」或其别名，以及至少一个其他已知列）")
    index, hm = found
    items, warnings = rows_to_items(chain(head[index + 1 :], it), hm, ctx, first_row_number=index + 2)
    if ctx.as_of is None and index:
        # The bulletin's own date (`（截至2024年10月31日）`, `1-10月`) goes out in ctx.as_of; a
        # title without a year takes the latest 更新时间's, else the current year's.
        def year() -> int:
            return year_hint(i.updated_at for i in items) or date.today().year

        ctx.as_of = title_as_of(head[:index], year)
    return items, warnings


def records_to_items(
    records: Sequence[Mapping[str, Cell]],
    aliases: Mapping[str, Sequence[str]],
    ctx: RowContext,
) -> tuple[list[Item], list[DataWarning]]:
    """JSON objects → items through the same aliases: keys play the header's part."""
    headers: list[str] = []
    seen: set[str] = set()
    for record in records:
        for key in record:
            if key not in seen:
                seen.add(key)
                headers.append(key)
    hm = resolve_header(headers, aliases)
    if "name" not in hm.columns:
        raise ValueError("JSON 记录中没有项目名称字段（或其别名）")
    rows = [[record.get(h) for h in headers] for record in records]
    return rows_to_items(rows, hm, ctx, first_row_number=1)
