"""The CSV alert sink: one row per event, UTF-8 with BOM so Excel opens it, cells
that start with = + - @ neutralised. Like the JSONL sink it skips event ids the
file already holds, so a crash never leaves a duplicate row."""

from __future__ import annotations

import csv
import io
import os

from dashboard import hookimpl
from dashboard.core.alerts import KIND_LABELS, SEVERITY_LABELS, AlertEvent
from dashboard.exporting import neutralise
from dashboard.sinks import DeliveryError, RecentIds, SinkSpec, SinkType, default_alert_file, tail_lines

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


def _row(event: AlertEvent) -> list[str]:
    f = event.figures

    def pct(key: str) -> str:
        value = f.get(key)
        return "" if not isinstance(value, (int, float)) else f"{value * 100:.1f}%"

    # Text from the data is neutralised; the figures we format ourselves stay numbers.
    text = [neutralise(t) for t in (event.key, event.item_id, event.item_name, event.unit)]
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
        neutralise(event.message),
    ]


class CsvSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.path = spec.path("path", default_alert_file("alerts.csv"))
        self.fsync = bool(spec.options.get("fsync", True))
        self._ids: RecentIds | None = None

    def _read_ids(self) -> RecentIds:
        """Ids in the file's tail (its first column)."""
        return RecentIds(row[0] for row in csv.reader(tail_lines(self.path)) if row)

    def deliver(self, event: AlertEvent) -> None:
        self.deliver_batch([event])

    def deliver_batch(self, events: list[AlertEvent]) -> None:
        try:
            ids = self._ids = self._ids if self._ids is not None else self._read_ids()
            fresh = [e for e in events if e.id not in ids]
            if not fresh:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            new = not self.path.exists() or self.path.stat().st_size == 0
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\r\n")
            if new:
                writer.writerow(HEADER)
            writer.writerows(_row(e) for e in fresh)
            with self.path.open("a", encoding="utf-8-sig" if new else "utf-8", newline="") as f:
                f.write(buf.getvalue())
                f.flush()
                if self.fsync:
                    os.fsync(f.fileno())
        except OSError as exc:
            raise DeliveryError(f"无法写入 {self.path}: {exc.strerror or exc}") from None
        ids.add(e.id for e in fresh)


@hookimpl
def dashboard_sink_types() -> list[SinkType]:
    return [SinkType("csv", CsvSink, "CSV 文件（Excel 可直接打开）", OPTIONS)]
