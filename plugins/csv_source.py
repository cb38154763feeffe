"""The CSV source: a bulletin table exported as CSV (design §1).

The worked example for writing a source plugin: declare a SourceType in
`dashboard_source_types`, validate the options in the factory, and return an
object whose `async fetch()` gives a FetchResult. Parsing is shared with every
other tabular source through `dashboard.core.records`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceSpec, SourceType
from dashboard.core.records import RowContext
from dashboard.textfiles import iter_csv_rows

OPTIONS = {
    "path": "CSV 文件路径（相对配置文件所在文件夹）",
    "encoding": "文件编码，省略时自动识别（UTF-8 / BOM / GB18030）",
    "delimiter": "分隔符，默认逗号",
    "aliases": '表头别名，如 { unit = ["承办单位"] }',
    "header_scan": "在前几行中寻找表头，默认 10",
    "as_of": "数据截止日期 YYYY-MM-DD（可选）",
}


class CsvSource:
    def __init__(self, spec: SourceSpec) -> None:
        spec.check_options(OPTIONS)
        self.name = spec.name
        self.path = spec.path("path")
        self.encoding = spec.options.get("encoding") or None
        self.delimiter = str(spec.options.get("delimiter", ","))
        self.aliases = spec.aliases()
        self.scan = int(spec.options.get("header_scan", 10))
        from dashboard.config import parse_as_of

        self.as_of = parse_as_of(spec.options.get("as_of"), f"{spec.key_prefix}.as_of", spec.config_file)

    def watch_paths(self) -> list[Path]:
        return [self.path]

    async def fetch(self) -> FetchResult:
        return await asyncio.to_thread(self.load)

    def load(self) -> FetchResult:
        rows = iter_csv_rows(self.path, self.encoding, self.delimiter)
        ctx = RowContext(source=self.name, location=str(self.path), as_of=self.as_of)
        return FetchResult.from_table(rows, self.aliases, ctx, self.scan)


@hookimpl
def dashboard_source_types() -> list[SourceType]:
    return [SourceType("csv", CsvSource, "CSV 表格（通报附件、台账）", OPTIONS)]
