"""The CSV alert sink: one row per event, UTF-8 with BOM so Excel opens it, cells
that start with = + - @ neutralised. Like the JSONL sink it skips event ids the
file already holds (re-read whenever another process changed the file), so a crash
or a second writer never leaves a duplicate row; a torn last row (a full disk) is cut
before the next append and written whole again."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dashboard import hookimpl
from dashboard.core.alerts import KIND_LABELS, SEVERITY_LABELS, AlertEvent
from dashboard.exporting import neutralise
from dashboard.sinks import (
    DeliveryError,
    RecentIds,
    SharedLineFile,
    SinkSpec,
    SinkType,
    default_alert_file,
    tail_lines,
)

OPTIONS = {
    "path": "文件路径，默认数据目录下的 alerts.csv（相对路径相对配置文件所在文件夹）",
    "fsync": "写入后是否 fsync 到磁盘，默认 true",
}
HEADER = [
    "事件ID id",
    "时间 at",
    "类型 kind",
    "级别 severity",
    "规则 rule",
    "键 key",
    "项目ID item_id",
    "项目名称 item_name",
    "牵头单位 unit",
    "完成比例 ratio",
    "序时进度 expected",
    "差距 gap",
    "内容 message",
]


def _cell(text: str) -> str:
    # One event, one line: the tail reader and the torn-row repair cut at newlines.
    return neutralise(" ".join(text.splitlines()) if "\n" in text or "\r" in text else text)


def _row(event: AlertEvent) -> list[str]:
    f = event.figures

    def pct(key: str) -> str:
        value = f.get(key)
        return "" if not isinstance(value, (int, float)) else f"{value * 100:.1f}%"

    # Text from the data is neutralised; the figures we format ourselves stay numbers.
    text = [_cell(t) for t in (event.key, event.item_id, event.item_name, event.unit)]
    return [
        event.id,
        event.at.isoformat(timespec="seconds"),
        KIND_LABELS.get(event.kind, event.kind),
        SEVERITY_LABELS.get(event.severity, event.severity),
        event.rule,
        *text,
        pct("ratio"),
        pct("expected"),
        pct("gap"),
        _cell(event.message),
    ]


def read_ids(path: Path) -> RecentIds:
    """Ids in the file's tail (its first column); a torn row never reaches here (cut first)."""
    return RecentIds(row[0] for row in csv.reader(tail_lines(path)) if row)


def render(events: list[AlertEvent], new_file: bool) -> bytes:
    """The rows; a new file starts with the BOM (so Excel reads UTF-8) and the header."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if new_file:
        writer.writerow(HEADER)
    writer.writerows(_row(e) for e in events)
    return ("\ufeff" if new_file else "").encode() + buf.getvalue().encode("utf-8")


class CsvSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.path = spec.path("path", default_alert_file("alerts.csv", spec))
        fsync = spec.options.get("fsync", True)
        if not isinstance(fsync, bool):  # "no" must not mean yes
            raise spec.error("fsync", f"应为 true 或 false，实为 {fsync!r}", "true | false")
        self.fsync = fsync
        # A row cut short cannot be told from a whole one by its cells: always cut it.
        self.file = SharedLineFile(self.path, read_ids, fsync=self.fsync)

    def deliver(self, event: AlertEvent) -> None:
        self.deliver_batch([event])

    def deliver_batch(self, events: list[AlertEvent]) -> None:
        try:
            self.file.append(events, render)
        except OSError as exc:
            raise DeliveryError(f"无法写入 {self.path}: {exc.strerror or exc}") from None


@hookimpl
def dashboard_sink_types() -> list[SinkType]:
    return [SinkType("csv", CsvSink, "CSV 文件（Excel 可直接打开）", OPTIONS)]
