"""The CSV source: a bulletin table exported as CSV (design §1).

The worked example for writing a source plugin: declare a SourceType in
`dashboard_source_types`, validate the options in the factory, and return an
object whose `async fetch()` gives a FetchResult. What every table file source
shares (options, fetch, watching the file, parsing through `dashboard.core.records`)
is `dashboard.filesources.TableFileSource`.
"""

from __future__ import annotations

from dashboard import hookimpl
from dashboard.contracts import SourceSpec, SourceType
from dashboard.filesources import LIMIT_OPTIONS, TableFileSource

OPTIONS = {
    "path": "CSV 文件路径（相对配置文件所在文件夹）",
    "encoding": "文件编码，省略时自动识别（UTF-8 / BOM / GB18030）",
    "delimiter": "分隔符，默认逗号",
    "aliases": '表头别名，如 { unit = ["承办单位"] }',
    "header_scan": "在前几行中寻找表头，默认 10",
    "as_of": "数据截止日期 YYYY-MM-DD（可选）",
    **LIMIT_OPTIONS,
}


class CsvSource(TableFileSource):
    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec, OPTIONS)


@hookimpl
def dashboard_source_types() -> list[SourceType]:
    return [SourceType("csv", CsvSource, "CSV 表格（通报附件、台账）", OPTIONS)]
