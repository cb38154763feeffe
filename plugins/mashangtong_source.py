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
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from dashboard import hookimpl
from dashboard.contracts import SourceError, SourceSpec, SourceType
from dashboard.core.records import Cell
from dashboard.filesources import TableFileSource

OPTIONS = {
    "path": "码上通导出文件 .xlsx 或 .csv（相对配置文件所在文件夹）",
    "sheet": "xlsx 工作表名，默认第一个",
    "encoding": "CSV 编码，省略时自动识别",
    "delimiter": "CSV 分隔符，默认逗号",
    "aliases": '表头别名，如 { ratio = ["完成进度"] }',
    "header_scan": "在前几行中寻找表头，默认 10",
    "as_of": "数据截止日期 YYYY-MM-DD（可选）",
}
XLSX_SUFFIXES = (".xlsx", ".xlsm")


class MashangtongSource(TableFileSource):
    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec, OPTIONS)
        suffix = self.path.suffix.lower()
        if suffix not in (*XLSX_SUFFIXES, ".csv"):
            raise spec.error("path", f"不支持的文件类型 {suffix or '（无扩展名）'}", ".xlsx 或 .csv")
        self.is_xlsx = suffix in XLSX_SUFFIXES
        self.sheet = str(spec.options["sheet"]) if "sheet" in spec.options else None

    def rows(self) -> Iterable[Sequence[Cell]]:
        return read_xlsx(self.path, self.sheet) if self.is_xlsx else super().rows()


def read_xlsx(path: Path, sheet: str | None = None) -> list[list[Cell]]:
    """The cells of one sheet as the parsing layer wants them: a percent-formatted
    number becomes `87.4%` text (the cell holds 0.874), a date its ISO text."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise SourceError(f"{path}: 文件不存在") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise SourceError(f"{path}: 不是有效的 xlsx 文件: {exc}") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise SourceError(f"{path}: 没有工作表「{sheet}」（有: {'、'.join(wb.sheetnames)}）")
        return [[_cell(c.value, getattr(c, "number_format", None)) for c in row] for row in ws.iter_rows()]
    finally:
        wb.close()  # read-only workbooks keep the file open until closed


def _cell(value: object, number_format: str | None) -> Cell:
    if value is None or isinstance(value, str):
        return value
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
