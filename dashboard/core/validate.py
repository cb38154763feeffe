"""The plugin boundary: what a source returns is checked before the runtime, the store
or the screen sees it (issue 12). Pure: no I/O.

A plugin may return anything: `Item(None, None)`, `ratio = "fifty"`, NaN, a 400-digit
int, a name holding an escape sequence. `clean_items` keeps every item that has an id
and a name, turns each bad field into "unknown" (None, "" or an empty mapping) with a
DataWarning naming the source, the row (from `item.origin`) and the field, drops what
is not an Item with a warning, and strips control characters from every string. A
well-typed item (every built-in loader's) costs one C-level check per field group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from dashboard.core.items import NOTHING, DataWarning, Item
from dashboard.core.sanitize import clean_text

# Ratios are fractions: 0..100 is 0%..10,000%. Targets and actuals beyond 1e15 are typos
# or overflow, not a county's figures; counts likewise.
MAX_RATIO = 100.0
MAX_FIGURE = 1e15
MAX_COUNT = 10**15

TEXT_FIELDS = (
    "category",
    "unit",
    "target_text",
    "progress_text",
    "source",
    "project_code",
    "project_name",
    "measure",
    "acceptance_status",
    "updated_at",
    "origin",
    "county",
)
RATIO_FIELDS = ("ratio", "acceptance_ratio", "satisfaction")
FIGURE_FIELDS = ("target", "actual")
COUNT_FIELDS = ("ratings", "comments_received", "comments_answered")
FLAG_FIELDS = ("target_is_rate", "ratio_computed")

_texts = attrgetter("id", "name", *TEXT_FIELDS)
_numbers = attrgetter(*RATIO_FIELDS, *FIGURE_FIELDS)
_counts = attrgetter(*COUNT_FIELDS)
_maps = attrgetter("monthly_updates", "disclosures", "extra", "field_sources")
_INT = {int}


def clean_result_parts(
    items: object, warnings: object, as_of: object, source: str, *, checked: bool = False
) -> tuple[list[Item], list[DataWarning], date | None]:
    """A FetchResult's parts, cleaned (see the module docstring). Raises TypeError when
    `items` is not a list or other iterable of entries at all. `checked`: the shared row
    layer built the items (FetchResult.from_table), so only the container is checked."""
    if checked and type(items) is list and type(warnings) is list and (as_of is None or type(as_of) is date):
        return items, warnings, as_of
    out_warnings = clean_warnings(warnings, source)
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise TypeError(f"items 应为 Item 的列表，插件返回了 {type(items).__name__}")
    out_items: list[Item] = []
    append = out_items.append
    for entry in items:
        if type(entry) is Item and _is_clean(entry):
            append(entry)
        elif isinstance(entry, Item):
            kept = _repair(entry, source, out_warnings)
            if kept is not None:
                append(kept)
        else:
            out_warnings.append(
                DataWarning(
                    source, f"插件返回的条目不是 Item（是 {type(entry).__name__}），已跳过", column=None
                )
            )
    return out_items, out_warnings, _clean_as_of(as_of, source, out_warnings)


def _is_clean(item: Item) -> bool:
    """The fast path: every field of the expected type, finite, in range, printable."""
    texts = _texts(item)
    try:
        joined = "".join(texts)
    except TypeError:
        return False
    if not joined.isprintable():
        return False
    item_id, name = texts[0], texts[1]
    if not item_id or not name or item_id.isspace() or name.isspace():
        return False
    ratio, acceptance, satisfaction, target, actual = _numbers(item)
    if not (
        (ratio is None or (ratio.__class__ is float and 0.0 <= ratio <= MAX_RATIO))
        and (acceptance is None or (acceptance.__class__ is float and 0.0 <= acceptance <= MAX_RATIO))
        and (satisfaction is None or (satisfaction.__class__ is float and 0.0 <= satisfaction <= MAX_RATIO))
        and (target is None or (target.__class__ is float and -MAX_FIGURE <= target <= MAX_FIGURE))
        and (actual is None or (actual.__class__ is float and -MAX_FIGURE <= actual <= MAX_FIGURE))
        and item.target_is_rate.__class__ is bool
        and item.ratio_computed.__class__ is bool
    ):
        return False
    for count in _counts(item):
        if count is not None and not (count.__class__ is int and 0 <= count <= MAX_COUNT):
            return False
    as_of = item.as_of
    if as_of is not None and as_of.__class__ is not date:
        return False
    monthly, disclosures, extra, sources = _maps(item)
    if monthly is not NOTHING and monthly and not _int_map_ok(monthly, months=True):
        return False
    if disclosures is not NOTHING and disclosures and not _int_map_ok(disclosures, months=False):
        return False
    for mapping in (extra, sources):
        if mapping is not NOTHING and mapping:
            if not isinstance(mapping, Mapping):
                return False
            try:
                if not ("".join(mapping) + "".join(mapping.values())).isprintable():
                    return False
            except TypeError:
                return False
    return True


def _int_map_ok(mapping: object, *, months: bool) -> bool:
    if not isinstance(mapping, Mapping):
        return False
    values = mapping.values()
    if not set(map(type, values)) <= _INT or min(values) < 0 or max(values) > MAX_COUNT:
        return False
    if months:
        return set(map(type, mapping)) <= _INT and min(mapping) >= 1 and max(mapping) <= 12
    try:
        return "".join(mapping).isprintable()
    except TypeError:
        return False


def where(item: Item, source: str) -> tuple[str, int | None]:
    """(location, row) from an item's origin `file:row`, for warnings."""
    origin = getattr(item, "origin", "")
    if isinstance(origin, str) and origin:
        head, sep, tail = origin.rpartition(":")
        if sep and tail.isdigit() and len(tail) < 12:
            return clean_text(head), int(tail)
        return clean_text(origin), None
    return "", None


def _repair(item: Item, source: str, warnings: list[DataWarning]) -> Item | None:
    """The slow path, field by field: a bad field becomes unknown with a warning; an
    item without a usable id or name is dropped with a warning."""
    location, row = where(item, source)

    def warn(column: str, message: str) -> None:
        warnings.append(DataWarning(source, message, location, row, column))

    for key in ("id", "name"):
        value = getattr(item, key)
        text = clean_text(value).strip() if isinstance(value, str) else ""
        if not text:
            shown = _shown(value)
            warn(key, f"缺少{'编号' if key == 'id' else '名称'}（插件给出 {shown}），该项目未载入")
            return None
        setattr(item, key, text)
    for key in TEXT_FIELDS:
        value = getattr(item, key)
        if isinstance(value, str):
            setattr(item, key, clean_text(value))
        else:
            if value is not None:
                warn(key, f"应为文本，插件给出 {_shown(value)}，已置空")
            setattr(item, key, "")
    for key in RATIO_FIELDS:
        setattr(item, key, _number(getattr(item, key), 0.0, MAX_RATIO, key, warn))
    for key in FIGURE_FIELDS:
        setattr(item, key, _number(getattr(item, key), -MAX_FIGURE, MAX_FIGURE, key, warn))
    for key in COUNT_FIELDS:
        value = getattr(item, key)
        if value is not None and not (type(value) is int and 0 <= value <= MAX_COUNT):
            warn(key, f"应为 0 到 {MAX_COUNT} 之间的整数，插件给出 {_shown(value)}，已视为未知")
            setattr(item, key, None)
    for key in FLAG_FIELDS:
        value = getattr(item, key)
        if type(value) is not bool:
            warn(key, f"应为 true/false，插件给出 {_shown(value)}，已视为 false")
            setattr(item, key, False)
    value = item.as_of
    if isinstance(value, datetime):
        item.as_of = value.date()
    elif value is not None and type(value) is not date:
        warn("as_of", f"应为日期，插件给出 {_shown(value)}，已视为未知")
        item.as_of = None
    item.monthly_updates = _clean_entries(item.monthly_updates, "monthly_updates", warn, _month_count)
    item.disclosures = _clean_entries(item.disclosures, "disclosures", warn, _named_count)
    item.extra = _clean_entries(item.extra, "extra", warn, _text_pair)
    item.field_sources = _clean_entries(item.field_sources, "field_sources", warn, _text_pair)
    return item


def _number(value: Any, low: float, high: float, key: str, warn: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if low <= x <= high:
            return x
        warn(key, f"数值 {_shown(value)} 不是有限数或超出合理范围（{low:g} 到 {high:g}），已视为未知")
        return None
    warn(key, f"应为数字，插件给出 {_shown(value)}，已视为未知")
    return None


def _month_count(k: Any, v: Any) -> bool:
    return type(k) is int and 1 <= k <= 12 and type(v) is int and 0 <= v <= MAX_COUNT


def _named_count(k: Any, v: Any) -> bool:
    return isinstance(k, str) and type(v) is int and 0 <= v <= MAX_COUNT


def _text_pair(k: Any, v: Any) -> bool:
    return isinstance(k, str) and isinstance(v, str)


def _clean_entries(
    value: Any, key: str, warn: Any, entry_ok: Callable[[Any, Any], bool]
) -> Mapping[Any, Any]:
    """A mapping field with every entry `entry_ok` accepts (texts cleaned); the others are
    warnings, and a value that is no mapping at all is an empty one."""
    if value is NOTHING or (isinstance(value, Mapping) and not value):
        return value if isinstance(value, Mapping) else NOTHING
    if not isinstance(value, Mapping):
        warn(key, f"应为映射，插件给出 {_shown(value)}，已置空")
        return NOTHING
    out: dict[Any, Any] = {}
    for k, v in value.items():
        if entry_ok(k, v):
            out[clean_text(k) if isinstance(k, str) else k] = clean_text(v) if isinstance(v, str) else v
        else:
            warn(key, f"条目 {_shown(k)} = {_shown(v)} 无效，已忽略")
    return out


def clean_warnings(warnings: object, source: str) -> list[DataWarning]:
    """A plugin's warnings as DataWarnings with printable text; a string is taken as a
    message, anything else is replaced by one warning saying so."""
    if warnings is None:
        return []
    if isinstance(warnings, (str, bytes, Mapping)) or not isinstance(warnings, Iterable):
        return [DataWarning(source, f"插件返回的 warnings 不是列表（是 {type(warnings).__name__}），已忽略")]
    out: list[DataWarning] = []
    dropped = 0
    for w in warnings:
        if type(w) is DataWarning and _warning_clean(w):
            out.append(w)
        elif isinstance(w, DataWarning):
            row = w.row if type(w.row) is int else None
            out.append(
                DataWarning(
                    clean_text(w.source) if isinstance(w.source, str) else source,
                    clean_text(w.message) if isinstance(w.message, str) else _shown(w.message),
                    clean_text(w.location) if isinstance(w.location, str) else "",
                    row,
                    clean_text(w.column) if isinstance(w.column, str) else None,
                )
            )
        elif isinstance(w, str):
            out.append(DataWarning(source, clean_text(w)))
        else:
            dropped += 1
    if dropped:
        out.append(DataWarning(source, f"插件返回的 {dropped} 条警告不是 DataWarning，已忽略"))
    return out


def _warning_clean(w: DataWarning) -> bool:
    try:
        text = w.source + w.message + w.location + (w.column or "")
    except TypeError:
        return False
    return text.isprintable() and (w.row is None or type(w.row) is int)


def _clean_as_of(value: object, source: str, warnings: list[DataWarning]) -> date | None:
    if value is None or type(value) is date:
        return value
    if isinstance(value, datetime):
        return value.date()
    warnings.append(
        DataWarning(source, f"插件返回的 as_of 应为日期，插件给出 {_shown(value)}，已忽略", column="as_of")
    )
    return None


def _shown(value: object) -> str:
    """A short, printable rendering of a bad value for a message."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"{len(str(abs(value))) if abs(value) < 10**4000 else '4000+'} 位的整数"
    try:
        text = repr(value)
    except Exception:  # a plugin's object whose repr fails is still only a bad value
        text = f"<{type(value).__name__}>"
    text = clean_text(text)
    return text if len(text) <= 60 else text[:57] + "…"
