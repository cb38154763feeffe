"""The `city_json` source: the JSON file a city's 民生实事调度平台 exports for all its counties.

The file (see sample/xiangtan-city-2024-09.json) names its fields in pinyin initials:

    {"xtmc": "湘潭市重点民生实事调度平台", "tjjzrq": "2024-09-30",
     "sjlb": [{"xsq": "湘乡市", "sxbh": 45, "sxlb": "湘潭市实事", "sxmc": "…",
               "qtdw": "公安局交警大队", "rws": "22", "jzqk": "已完成隐患整改7处", "wcbl": 32.0}]}

The records become a table (the keys are its header) and go through the dashboard's
own parsing layer (`FetchResult.from_table`), so numbers, percents and bad rows are read
exactly as in a CSV bulletin. This module imports only the plugin contract:
`dashboard.hookimpl`, `dashboard.contracts`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dashboard import hookimpl
from dashboard.contracts import (
    DataWarning,
    FetchResult,
    Item,
    RowContext,
    SourceError,
    SourceSpec,
    SourceType,
)

TYPE = "city_json"

OPTIONS = {
    "path": "城市平台导出的 JSON 文件路径（相对配置文件所在文件夹）",
    "county": "只取这个县市区的记录（键 xsq），如 湘乡市；省略时取全部，编号前加县市区名",
    "fields": '键名对照 { 看板字段 = "平台的键" }，如 { ratio = "wcl" }，覆盖默认的 sxmc、qtdw、wcbl…',
    "ratio": '完成比例的写法："percent"（默认，32.0 即 32%）或 "fraction"（0.32）',
    "as_of": "数据截止日期 YYYY-MM-DD，省略时取文件的 tjjzrq",
    "aliases": '表头别名（同 csv 数据源），如 { unit = ["承办单位"] }',
}

# The platform's keys for the dashboard's fields (dashboard.core.records.FIELDS).
CITY_FIELDS = {
    "id": "sxbh",  # 实事编号
    "category": "sxlb",  # 实事类别
    "name": "sxmc",  # 实事名称
    "unit": "qtdw",  # 牵头单位
    "target": "rws",  # 任务数
    "progress": "jzqk",  # 进展情况
    "ratio": "wcbl",  # 完成比例
}
RECORDS_KEY = "sjlb"  # 数据列表
AS_OF_KEY = "tjjzrq"  # 统计截止日期
COUNTY_KEY = "xsq"  # 县市区
RATIO_FORMS = ("percent", "fraction")
MAX_BYTES = 100 * 1024**2  # a city's export is a few MB; more is not this file
# Items carry a county (县市区) where the dashboard has the roll-up; older versions have none.
_ITEMS_HAVE_COUNTY = any(f.name == "county" for f in fields(Item))


class CityJsonSource:
    """One configured `city_json` source; the factory validates every option."""

    def __init__(self, spec: SourceSpec) -> None:
        spec.check_options(OPTIONS)  # an unknown key names the nearest known one
        self.spec = spec
        self.path = spec.path("path")
        opts = spec.options
        # `county` may be a key every source has (a city's roll-up labels the items with it):
        # then the dashboard has taken it out of the options and into the spec.
        county = opts.get("county", getattr(spec, "county", None) or None)
        if county is not None and (not isinstance(county, str) or not county.strip()):
            raise spec.error("county", f"无效的县市区 {county!r}", "非空字符串，如 湘乡市")
        self.county = county.strip() if isinstance(county, str) else None
        ratio = opts.get("ratio", "percent")
        if ratio not in RATIO_FORMS:
            raise spec.error("ratio", f"无效的比例写法 {ratio!r}", " 或 ".join(RATIO_FORMS))
        self.ratio_is_fraction = ratio == "fraction"
        self.as_of = _option_date(spec, opts.get("as_of"))
        self.keys = _field_keys(spec, opts.get("fields", {}))
        # The platform's keys first, then the dashboard's own aliases (and the source's).
        aliases = spec.aliases()
        self.aliases = {
            f: (self.keys[f], *names) if f in self.keys else names for f, names in aliases.items()
        }

    def watch_paths(self) -> list[Path]:
        return [self.path]

    async def fetch(self) -> FetchResult:
        doc = self._read()
        records = doc.get(RECORDS_KEY)
        if not isinstance(records, list):
            raise SourceError(f"{self.path}: 缺少记录列表 `{RECORDS_KEY}`（应为数组）")
        location = f"{self.path}#{RECORDS_KEY}"
        warnings: list[DataWarning] = []
        kept: list[dict[str, Any]] = []
        numbers: list[int] = []  # each kept record's place in the list, for warnings and origins
        counties: set[str] = set()
        for number, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                warnings.append(DataWarning(self.spec.name, "不是 JSON 对象，已跳过", location, row=number))
                continue
            county = str(record.get(COUNTY_KEY) or "").strip()
            counties.add(county)
            if self.county is not None and county != self.county:
                continue
            record = {key: _cell(value) for key, value in record.items()}
            id_key = self.keys["id"]
            if self.county is None and county and record.get(id_key) not in (None, ""):
                record[id_key] = f"{county}:{record[id_key]}"  # ids repeat across counties
            kept.append(record)
            numbers.append(number)
        if self.county is not None and not kept:
            found = "、".join(sorted(c for c in counties if c)) or "无"
            raise SourceError(f"{self.path}: 没有县市区为「{self.county}」的记录（文件中有：{found}）")
        as_of = self.as_of or _file_date(doc.get(AS_OF_KEY), self.path)
        ctx = RowContext(
            self.spec.name, location, as_of=as_of, numeric_ratio_is_fraction=self.ratio_is_fraction
        )
        result = FetchResult.from_table(_table(kept), self.aliases, ctx) if kept else FetchResult([])
        # The table's row n (its header is row 1) is kept[n - 2]: say which record of the list it is.
        result.items = [_renumbered(item, location, numbers) for item in result.items]
        warnings += [
            replace(w, row=numbers[w.row - 2]) if w.row and 2 <= w.row < len(numbers) + 2 else w
            for w in result.warnings
        ]
        result.warnings = sorted(warnings, key=lambda w: w.row or 0)
        result.as_of = as_of
        return result

    def _read(self) -> dict[str, Any]:
        try:
            if not self.path.is_file():
                raise SourceError(f"文件不存在或不是普通文件: {self.path}")
            if self.path.stat().st_size > MAX_BYTES:
                raise SourceError(f"{self.path}: 文件超过 {MAX_BYTES // 1024**2}MB")
            text = self.path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise SourceError(f"无法读取 {self.path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise SourceError(f"{self.path}: 不是 UTF-8 编码的 JSON") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{self.path}: JSON 格式错误，第 {exc.lineno} 行第 {exc.colno} 列") from None
        if not isinstance(doc, dict):
            raise SourceError(f"{self.path}: 顶层应为 JSON 对象")
        return doc


def _renumbered(item: Item, location: str, numbers: list[int]) -> Item:
    """The item with its origin as `file#sjlb:<record number>`, under its own county."""
    row = item.origin.rpartition(":")[2]
    changes: dict[str, Any] = {}
    if row.isdigit() and 2 <= int(row) < len(numbers) + 2:
        changes["origin"] = f"{location}:{numbers[int(row) - 2]}"
    if _ITEMS_HAVE_COUNTY and not getattr(item, "county", ""):  # for a city's screens by county
        changes["county"] = str(item.extra.get(COUNTY_KEY) or "")
    return replace(item, **changes) if changes else item


def _field_keys(spec: SourceSpec, mapping: object) -> dict[str, str]:
    """The platform's key for each field: the defaults, overridden by `fields`."""
    if not isinstance(mapping, Mapping):
        raise spec.error("fields", "应为表：看板字段 = 平台的键", '{ ratio = "wcl" }')
    keys = dict(CITY_FIELDS)
    known = spec.aliases()  # every field the dashboard knows
    for name, key in mapping.items():
        if name not in known:
            raise spec.error(f"fields.{name}", "未知的看板字段", "、".join(known))
        if not isinstance(key, str) or not key.strip():
            raise spec.error(f"fields.{name}", f"无效的键 {key!r}", "非空字符串")
        keys[name] = key.strip()
    return keys


def _option_date(spec: SourceSpec, value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):  # TOML's `as_of = 2024-09-30`
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise spec.error("as_of", f"无效的日期 {value!r}", "YYYY-MM-DD")


def _file_date(value: object, path: Path) -> date | None:
    """The export's own 统计截止日期; a file without one leaves the as-of date to the dashboard."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise SourceError(f"{path}: `{AS_OF_KEY}` 不是日期: {value!r}") from None


def _cell(value: object) -> str | int | float | None:
    """A JSON value as a table cell: nested values and booleans become text."""
    if value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return json.dumps(value, ensure_ascii=False)


def _table(records: list[dict[str, Any]]) -> list[list[Any]]:
    """Records → a header (every key, in first-seen order) and one row per record."""
    header = list(dict.fromkeys(key for record in records for key in record))
    return [header, *([record.get(key) for key in header] for record in records)]


@hookimpl
def dashboard_source_types() -> list[SourceType]:
    return [SourceType(TYPE, CityJsonSource, "城市民生实事调度平台导出的 JSON（各县市区）", OPTIONS)]
