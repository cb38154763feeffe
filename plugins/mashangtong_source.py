"""The 民生实事码上通 export source: the provincial system's `.xlsx` (or `.csv`)
export, one row per indicator (design §4).

Layout (our working assumption, every header aliasable): an optional title row,
then 项目编码, 项目名称, 指标名称, 实事类别, 责任单位, 目标值, 计量单位, 完成值,
完成率, 验收状态, 验收率, 政策文件, 建设内容, 项目详情, 3月动态 … 12月动态, 群众评价,
满意度, 意见建议, 已回复, 更新时间. Unknown columns are kept in `item.extra`. The
rows go through the same parsing layer as the CSV source.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceError, SourceSpec, SourceType
from dashboard.core.as_of import latest_update
from dashboard.core.records import Cell
from dashboard.core.sanitize import clean_text
from dashboard.filesources import LIMIT_OPTIONS, TableFileSource, format_size, parse_size
from dashboard.textfiles import TableRows

OPTIONS = {
    "path": "码上通导出文件 .xlsx 或 .csv（相对配置文件所在文件夹）",
    "sheet": "xlsx 工作表名，默认第一个",
    "encoding": "CSV 编码，省略时自动识别",
    "delimiter": "CSV 分隔符，默认逗号",
    "aliases": '表头别名，如 { ratio = ["完成进度"] }',
    "header_scan": "在前几行中寻找表头，默认 10",
    "as_of": "数据截止日期 YYYY-MM-DD（可选；省略时取标题中的截止日期，否则取最新的更新时间）",
    **LIMIT_OPTIONS,
    "max_unzipped": "xlsx 解压后总大小上限，默认 512MB",
}
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DEFAULT_MAX_UNZIPPED = 512 * 1024**2
# A member this large that inflates this much is a zip bomb, not a spreadsheet (real
# sheets compress 5–20 times).
BOMB_MIN_SIZE = 10 * 1024**2
BOMB_RATIO = 200


class MashangtongSource(TableFileSource):
    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec, OPTIONS)
        suffix = self.path.suffix.lower()
        if suffix not in (*XLSX_SUFFIXES, ".csv"):
            raise spec.error("path", f"不支持的文件类型 {suffix or '（无扩展名）'}", ".xlsx 或 .csv")
        self.is_xlsx = suffix in XLSX_SUFFIXES
        sheet = spec.options.get("sheet")
        if sheet is not None and (not isinstance(sheet, str) or not sheet.strip()):
            raise spec.error("sheet", f"无效的工作表名 {sheet!r}", "工作表名称（字符串）")
        self.sheet = sheet
        self.max_unzipped = parse_size(
            spec.options.get("max_unzipped", DEFAULT_MAX_UNZIPPED), spec, "max_unzipped"
        )

    def is_text(self) -> bool:
        return not self.is_xlsx

    def _load_once(self, before: os.stat_result) -> FetchResult:
        result = super()._load_once(before)
        if result.as_of is None:
            # No `as_of` option and no date in the title: the export is as recent as its
            # latest 更新时间 (the 导出时间 in its title says when it was saved, not as of when).
            result.as_of = latest_update(i.updated_at for i in result.items)
        return result

    def rows(self) -> Iterable[Sequence[Cell]]:
        if not self.is_xlsx:
            return super().rows()
        return read_xlsx(self.path, self.sheet, max_unzipped=self.max_unzipped, max_cell=self.max_cell)


def check_zip(path: Path, max_unzipped: int = DEFAULT_MAX_UNZIPPED) -> None:
    """Refuse a zip bomb from its directory alone (declared sizes, bounded memory,
    milliseconds), before openpyxl inflates anything. Python's zipfile stops at the
    declared size, so a member that lies about it fails its CRC instead of growing."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except FileNotFoundError:
        raise SourceError(f"{path}: 文件不存在") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise SourceError(f"{path}: 不是有效的 xlsx 文件（{exc}）") from None
    total = 0
    for m in members:
        total += m.file_size
        if m.file_size > BOMB_MIN_SIZE and m.file_size > BOMB_RATIO * max(m.compress_size, 1):
            raise SourceError(
                f"{path}: xlsx 中的 {m.filename} 解压后 {format_size(m.file_size)}，"
                f"压缩比 {m.file_size / max(m.compress_size, 1):.0f} 倍，疑似压缩炸弹，未读取"
            )
    if total > max_unzipped:
        raise SourceError(
            f"{path}: xlsx 解压后共 {format_size(total)}，超过上限 {format_size(max_unzipped)}"
            "（max_unzipped），未读取"
        )


def read_xlsx(
    path: Path,
    sheet: str | None = None,
    *,
    max_unzipped: int = DEFAULT_MAX_UNZIPPED,
    max_cell: int = 32_768,
) -> TableRows:
    """The cells of one sheet, row by row, as the parsing layer wants them: a
    percent-formatted number becomes `87.4%` text (the cell holds 0.874), a date its ISO
    text. The zip is checked first (`check_zip`); an error names the file and the row."""
    check_zip(path, max_unzipped)
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise SourceError(f"{path}: 文件不存在") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceError(f"{path}: 不是有效的 xlsx 文件: {exc}") from None
    except Exception as exc:  # a corrupt workbook.xml: ParseError and the like
        raise SourceError(f"{path}: 无法读取 xlsx（{type(exc).__name__}: {exc}）") from None
    # Every text cell is cleaned in `_cell`: the row layer need not clean them again.
    return TableRows(_sheet_rows(wb, path, sheet, max_cell), printable=True)


def _sheet_rows(wb: Any, path: Path, sheet: str | None, max_cell: int) -> Iterator[list[Cell]]:
    row_no = 0
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in names:
            ws = wb[sheet]
        else:
            raise SourceError(f"{path}: 没有工作表「{sheet}」（有: {'、'.join(names)}）")
        for row in ws.iter_rows():
            row_no += 1
            cells = [_cell(c.value, getattr(c, "number_format", None)) for c in row]
            for value in cells:
                if isinstance(value, str) and len(value) > max_cell:
                    raise SourceError(f"{path}: 第{row_no}行有单元格超过 {max_cell} 个字符（max_cell）")
            yield cells
    except SourceError:
        raise
    except Exception as exc:  # a corrupt sheet XML (ParseError), a bad number: name where
        raise SourceError(
            f"{path}: 工作表第{row_no + 1}行附近无法读取（{type(exc).__name__}: {exc}）"
        ) from None
    finally:
        wb.close()  # read-only workbooks keep the file open until closed


def _cell(value: object, number_format: str | None) -> Cell:
    if value is None:
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        if number_format and "%" in number_format:
            text = format(round(value * 100, 9), "f").rstrip("0").rstrip(".")
            return f"{text}%"
        return value
    if isinstance(value, dt.datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M")
            if (value.hour, value.minute) != (0, 0)
            else value.date().isoformat()
        )
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


@hookimpl
def dashboard_source_types() -> list[SourceType]:
    return [SourceType("mashangtong", MashangtongSource, "民生实事码上通导出（.xlsx / .csv）", OPTIONS)]
