"""The starter config `dashboard init` writes, and what `dashboard init --from FILE`
learns from a bulletin: which row is the header (title rows above it skipped), which
column is which field, by the same header aliases every source uses
(dashboard.core.records) plus keyword guesses for names they do not know.

The file is read by the source plugin that will read it later (`csv`, or `mashangtong`
for .xlsx, as `dashboard import` does): there is no second CSV reader here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from rich.cells import cell_len

from dashboard.contracts import FetchResult, SourceError, SourceSpec, SourceType
from dashboard.core.records import BUILTIN_ALIASES, FIELDS, Cell, header_key, resolve_header
from dashboard.textfiles import decode_bytes

DATA_DIR = "data"
STARTER_FILE = "通报.csv"  # the starter's source: data/通报.csv
SOURCE_NAME = "通报"
SCAN_ROWS = 30  # rows searched for the header (title rows above it)
DEFAULT_HEADER_SCAN = 10  # the sources' own `header_scan` default
ENCODING_PEEK = 20 * 1024**2  # bytes decoded to name the encoding (the source detects it anyway)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_DELIMITERS = (",", "\t", ";")
MAX_GUESS_HEADER = 16  # characters: a longer cell is data, not a header to guess from
_FIGURE_RE = re.compile(r"[\d.,%/()（）+-]+")

# What a user calls each field, Chinese first, for the report of `init --from`.
FIELD_LABELS: dict[str, str] = {
    "id": "序号",
    "name": "项目名称",
    "project_code": "项目编码",
    "project_name": "所属项目",
    "category": "实事类别",
    "unit": "牵头单位",
    "target": "任务数",
    "measure": "计量单位",
    "progress": "进度情况",
    "ratio": "完成比例",
    "acceptance_status": "验收状态",
    "acceptance_ratio": "验收率",
    "updated_at": "更新时间",
}
# The fields a bulletin needs: reported as "not found" when no column is theirs.
KEY_FIELDS = ("id", "name", "category", "unit", "target", "progress", "ratio")

# Keyword guesses for headers the aliases do not know, tried in this order on columns
# no alias claimed: (field, any of these in the header, none of these in it).
GUESSES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("unit", ("单位", "部门"), ("计量",)),
    ("ratio", ("比例", "率", "%", "百分比"), ("满意", "验收", "回复")),
    ("project_code", ("编码", "代码"), ()),
    ("name", ("名称", "事项", "实事", "项目", "任务名"), ()),
    ("category", ("类别", "类型", "分类"), ()),
    ("target", ("任务", "目标", "计划"), ()),
    ("progress", ("进度", "进展", "完成", "实际"), ("时限", "时间", "日期", "期限")),
    ("updated_at", ("更新", "填报时间", "日期"), ()),
    ("id", ("序号", "编号"), ()),
)


@dataclass(slots=True)
class Detected:
    """What `detect` found in a file."""

    path: Path
    type: str  # the source type that reads it: csv | mashangtong
    encoding: str  # "" for xlsx, or when the file was too large to name it
    delimiter: str
    header_row: int  # 1-based
    headers: list[str]
    columns: dict[str, int]  # field → column index (0-based)
    guessed: set[str] = field(default_factory=set)  # fields found by keyword, not by alias
    months: dict[int, int] = field(default_factory=dict)  # month → column (3月动态 …)
    unmapped: list[str] = field(default_factory=list)  # headers kept as extra columns

    @property
    def missing(self) -> list[str]:
        """Key fields no column was found for."""
        return [f for f in KEY_FIELDS if f not in self.columns]

    def aliases(self) -> dict[str, list[str]]:
        """field → [the header text of its column], in the order fields resolve."""
        return {f: [self.headers[self.columns[f]]] for f in FIELDS if f in self.columns}


def label(field_name: str) -> str:
    return FIELD_LABELS.get(field_name) or BUILTIN_ALIASES.get(field_name, (field_name,))[0]


def source_type_for(path: Path) -> str:
    """The source type that reads this file; ValueError for a kind we cannot read."""
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return "mashangtong"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise ValueError(
        f"不支持的文件类型 {suffix or '（无扩展名）'}（应为 .csv、.tsv、.txt 或 .xlsx；.xls 请先另存为 .xlsx）"
    )


def make_spec(path: Path, type_name: str, options: Mapping[str, Any] | None = None) -> SourceSpec:
    return SourceSpec(
        name=SOURCE_NAME,
        type=type_name,
        refresh=300.0,
        options={"path": str(path), **(options or {})},
        base_dir=path.parent,
        key_prefix="--from",
    )


def _head_rows(source: Any, limit: int) -> list[list[Cell]]:
    table = source.rows()
    rows = iter(table)
    try:
        return [list(r) for r in islice(rows, limit)]
    finally:
        close = getattr(table, "close", None) or getattr(rows, "close", None)
        if callable(close):
            close()


def header_like(text: str) -> bool:
    """Whether a cell may be a header a keyword is guessed from: short, and not a
    figure (a data row's `已完成119套` or `100.0%` must not become a header)."""
    key = header_key(text)
    return 0 < len(key) <= MAX_GUESS_HEADER and not _FIGURE_RE.fullmatch(key) and not key[0].isdigit()


def guess_columns(headers: Sequence[str], free: Sequence[int], found: set[str]) -> dict[str, int]:
    """Fields the aliases did not find, by keyword, among the `free` column indexes."""
    guessed: dict[str, int] = {}
    left = [i for i in free if header_like(headers[i])]
    for field_name, words, never in GUESSES:
        if field_name in found or field_name in guessed:
            continue
        for i in left:
            key = header_key(headers[i])
            if any(header_key(w) in key for w in words) and not any(header_key(n) in key for n in never):
                guessed[field_name] = i
                left.remove(i)
                break
    return guessed


@dataclass(slots=True)
class _Header:
    index: int
    columns: dict[str, int]
    guessed: set[str]
    hm: Any  # dashboard.core.records.HeaderMap

    @property
    def rank(self) -> tuple[int, int]:
        """More fields first, then more of them found by alias rather than guessed."""
        found = len(self.columns) + len(self.hm.months)
        return found, found - len(self.guessed)


def best_header(rows: Sequence[Sequence[Cell]]) -> _Header | None:
    """The row naming the most fields (at least two, the item's name among them); None
    when no row does."""
    best: _Header | None = None
    for index, row in enumerate(rows[:SCAN_ROWS]):
        hm = resolve_header(row, BUILTIN_ALIASES)
        free = [i for i in hm.extra.values() if hm.headers[i]]
        guessed = guess_columns(hm.headers, free, set(hm.columns))
        found = _Header(index, {**hm.columns, **guessed}, set(guessed), hm)
        if "name" in found.columns and found.rank[0] >= 2 and (best is None or found.rank > best.rank):
            best = found
    return best


def detect(path: Path, source_types: Mapping[str, SourceType]) -> Detected:
    """Find the header of a CSV / xlsx bulletin and map its columns. ValueError (in
    words for the user) when the file cannot be read or has no recognisable header."""
    type_name = source_type_for(path)
    source_type = source_types.get(type_name)
    if source_type is None:
        raise ValueError(f"没有插件能读取 {path.suffix} 文件（缺少数据源类型 {type_name}）")
    first_rows: list[list[Cell]] = []
    best: tuple[_Header, str] | None = None
    # Every delimiter is tried: a tab-separated file read by commas can still show a
    # "header" in a data row that happens to hold a comma.
    for delimiter in _DELIMITERS if type_name == "csv" else (",",):
        options = {"delimiter": delimiter} if delimiter != "," else {}
        try:
            rows = _head_rows(source_type.factory(make_spec(path, type_name, options)), SCAN_ROWS)
        except SourceError as exc:
            raise ValueError(str(exc)) from None
        first_rows = first_rows or rows
        found = best_header(rows)
        if found is not None and (best is None or found.rank > best[0].rank):
            best = (found, delimiter)
    if best is None:
        shown = " / ".join(
            "、".join(str(c) for c in row if c not in (None, ""))[:60] for row in first_rows[:3]
        )
        raise ValueError(
            f"前 {SCAN_ROWS} 行中没有找到表头（需要一列项目名称，如“项目名称”“实事名称”）"
            f"no header found; 前几行 first rows: {shown or '（空文件 empty）'}"
        )
    header, delimiter = best
    hm = header.hm
    claimed = set(header.columns.values()) | set(hm.months.values())
    return Detected(
        path=path,
        type=type_name,
        encoding=_encoding_name(path) if type_name == "csv" else "",
        delimiter=delimiter,
        header_row=header.index + 1,
        headers=hm.headers,
        columns=header.columns,
        guessed=header.guessed,
        months=dict(hm.months),
        unmapped=[h for i, h in enumerate(hm.headers) if h and i not in claimed],
    )


def _encoding_name(path: Path) -> str:
    try:
        if path.stat().st_size > ENCODING_PEEK:
            return ""
        return decode_bytes(path.read_bytes(), str(path))[1]
    except (OSError, SourceError):
        return ""


def try_load(
    detected: Detected, options: Mapping[str, Any], source_types: Mapping[str, SourceType]
) -> FetchResult:
    """The file read as the written source will read it (SourceError when it cannot be)."""
    spec = make_spec(detected.path, detected.type, options)
    source = source_types[detected.type].factory(spec)
    result = source.load()  # type: ignore[attr-defined]
    assert isinstance(result, FetchResult)
    return result


def source_options(detected: Detected) -> dict[str, Any]:
    """The options `--from` writes besides `path` (and a pinned `as_of`)."""
    options: dict[str, Any] = {"aliases": detected.aliases()}
    if detected.delimiter != ",":
        options["delimiter"] = detected.delimiter
    if detected.header_row > DEFAULT_HEADER_SCAN:
        options["header_scan"] = detected.header_row + 5
    return options


def toml_str(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


def relative_path(path: Path, folder: Path) -> str:
    """`path` as the config writes it: relative to the config's folder when inside it."""
    try:
        rel = path.resolve().relative_to(folder.resolve())
    except ValueError:
        return str(path.resolve())
    return rel.as_posix()


def _pad(line: str, comment: str, width: int = 34) -> str:
    """`line` and its comment, the comments in one column (a CJK character is two cells)."""
    gap = width - cell_len(line)
    return f"{line}{' ' * gap} # {comment}" if gap > 0 else f"{line}  # {comment}"


def starter_source() -> str:
    """The starter's source: a CSV bulletin the user saves into the data folder."""
    return f"""[[sources]]
name = {toml_str(SOURCE_NAME)}                      # 数据源名称，显示在数据源屏幕 d / the source's name
type = "csv"                       # csv：通报表另存为 CSV；.xlsx 用 type = "mashangtong"
path = {toml_str(f"{DATA_DIR}/{STARTER_FILE}")}             # 每期把通报表另存为这个文件 / save each bulletin here
refresh = "5m"                     # 多久重新读一次（文件变化时也会立即重读）/ how often to re-read
# encoding = "gb18030"             # 省略时自动识别 UTF-8 / BOM / GB18030 / omit to detect
# aliases = {{ unit = ["承办单位"], ratio = ["进度%"] }}   # 本表特有的表头名 / this table's own header names
# as_of = "2024-09-30"             # 表中没有“截至…”标题行时写明截止日期 / when the table states no date
"""


def detected_source(detected: Detected, folder: Path, as_of: date | None, as_of_from: str, items: int) -> str:
    """The `[[sources]]` table `init --from` writes, with a comment per detected column."""
    path_text = relative_path(detected.path, folder)
    encoding = detected.encoding.upper().replace("_", "-") if detected.encoding else ""
    lines = [
        f"# 由 dashboard init --from 检测 detected from {detected.path.name}：表头在第 {detected.header_row} 行，"
        f"试读 {items} 项 / header on row {detected.header_row}, {items} items read",
        "[[sources]]",
        _pad(f"name = {toml_str(SOURCE_NAME)}", "数据源名称 / the source's name"),
        _pad(
            f"type = {toml_str(detected.type)}",
            "xlsx 由码上通读取器按同样的表头读取 / xlsx: the same headers"
            if detected.type == "mashangtong"
            else "CSV 表格",
        ),
        _pad(
            f"path = {toml_str(path_text)}",
            "数据文件 / the data file"
            if Path(path_text).is_absolute()
            else "相对本文件所在文件夹 / relative to this file's folder",
        ),
        _pad('refresh = "5m"', "多久重新读一次 / how often to re-read"),
    ]
    if detected.type == "csv":
        found = f"检测到 {encoding}；" if encoding else ""
        lines.append(_pad('# encoding = "gb18030"', f"{found}省略时自动识别 / omit to detect"))
    options = source_options(detected)
    if "delimiter" in options:
        lines.append(_pad(f"delimiter = {toml_str(options['delimiter'])}", "分隔符 / delimiter"))
    if "header_scan" in options:
        lines.append(_pad(f"header_scan = {options['header_scan']}", "在前几行中寻找表头 / rows searched"))
    if as_of is not None:
        lines.append(
            _pad(
                f'as_of = "{as_of.isoformat()}"',
                f"截止日期{as_of_from}；换下一期数据时改这里或删去 / change with the next bulletin",
            )
        )
    lines.append("")
    lines.append(_pad("[sources.aliases]", "表头别名：字段 = [本表的列名] / field = [this table's header]"))
    for field_name, names in detected.aliases().items():
        col = detected.columns[field_name] + 1
        note = f"第 {col} 列 {label(field_name)}"
        if field_name in detected.guessed:
            note += "（按关键词推断，请核对 guessed: please check）"
        lines.append(_pad(f"{field_name} = [{toml_str(names[0])}]", note))
    return "\n".join(lines) + "\n"


def starter_config(source_block: str) -> str:
    """The whole commented starter `dashboard.toml` around one `[[sources]]` block.
    It passes the strict loader: every key written is one it knows."""
    return f"""# 专班看板配置 / zhuanban dashboard configuration (dashboard init)
# 改完后运行 `dashboard doctor` 检查数据源、推送、存储与日历；`dashboard check` 汇总一次。
# After editing, `dashboard doctor` checks sources, sinks, the store and the calendar.
# 完整示例见 README 与 docs/start.md / the README and docs/start.md show every table.

# 看板标题 / the title in the header
title = "重点民生实事 专班看板"

# 数据截止日期：auto = 取数据中的“截至…”标题行，没有时为今天；也可写 "2024-09-30"
# as-of date: auto = the date the data states (a title row), else today
as_of = "auto"

# 使用者 / who you are: 确认、静默、督办记入留痕的姓名（默认为登录名）
# [user]
# name = "张三"

[progress]
period_start = "01-01"             # 考核周期起止（月-日）/ the reporting period
period_end = "12-31"               # 许多地方要求 11-30 完成 / many teams require 100% by 11-30
method = "months"                  # 序时进度：months 按月 | days 按天 | workdays 按法定工作日
threshold_mode = "points"          # 阈值按低于序时进度的百分点 points，或按比例 share
lagging_below = 0                  # 滞后：低于序时进度超过此百分点 / lagging: more points below
severe_below = 25                  # 严重滞后：低于序时进度超过此百分点 / severely lagging
done_at = 100                      # 已完成：完成比例不低于此百分数 / done at this percent

# 工作日历（method = "workdays" 与路由的 mute = ["holidays"] 使用）：chinesecalendar 库中没有的年份在此补充
# [calendar]
# holidays = ["2027-01-01"]        # 法定节假日 / official holidays
# workdays = ["2027-02-07"]        # 调休上班的周末 / make-up working weekends
# fallback = "calendar_days"       # 日历未知的年份按自然日计算并提示 / calendar days, with a warning

# 数据源 / sources: 可写多个 [[sources]]，按书写顺序合并（同名同单位为同一项目）
{source_block}
# 预警 / alerts: 滞后与严重滞后逐级 提醒 → 预警 → 督办（docs/workflow.md）
[alerts]
enabled = true
# ladder = [0, 7, 14]              # 滞后第几天升为 提醒、预警、督办 / days to each level

[alerts.rules.severe]              # 严重滞后 / severely lagging
severity = "critical"
repeat = "1d"

[alerts.rules.lagging]             # 滞后 / lagging
severity = "warning"
repeat = "7d"

[alerts.rules.source_stale]        # 数据源连续载入失败 / a source keeps failing
failures = 2
repeat = "1d"

# 推送 / sinks: 不写 [[sinks]] 时预警写入数据文件夹中的 alerts.jsonl；密钥放在环境变量中，这里只写变量名。
# Without [[sinks]], alerts go to alerts.jsonl in the data folder; secrets stay in environment variables.
# [[sinks]]
# name = "专班群"
# type = "wecom"                   # 企业微信机器人；另有 dingtalk、feishu、webhook、jsonl、csv
# key_env = "WECOM_ROBOT_KEY"      # 保存机器人 key 的环境变量名 / the variable holding the key

[ui]
theme = "dark"                     # "dark" | "light"；按 t 切换
kiosk = false                      # 轮播 / rotate screens on an office TV
"""
