"""The JSON Lines alert sink, the default: one event per line, appended and fsynced
before the event counts as delivered. Event ids already in the file are skipped, so
a run that crashed after writing but before the outbox was updated never leaves a
duplicate line."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dashboard import hookimpl
from dashboard.core.alerts import AlertEvent
from dashboard.sinks import DeliveryError, RecentIds, SinkSpec, SinkType, default_alert_file, tail_lines

OPTIONS = {
    "path": "文件路径，默认数据目录下的 alerts.jsonl（相对路径相对配置文件所在文件夹）",
    "fsync": "写入后是否 fsync 到磁盘，默认 true",
}


def read_ids(path: Path, field: str = "id") -> RecentIds:
    """Ids of the events in the file's tail (a torn line is ignored)."""
    ids: list[str] = []
    for line in tail_lines(path):
        try:
            ids.append(str(json.loads(line)[field]))
        except (ValueError, KeyError, TypeError):
            continue
    return RecentIds(ids)


class JsonlSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.path = spec.path("path", default_alert_file("alerts.jsonl"))
        fsync = spec.options.get("fsync", True)
        if not isinstance(fsync, bool):
            raise spec.error("fsync", f"应为 true 或 false，实为 {fsync!r}", "true | false")
        self.fsync = fsync
        self._ids: RecentIds | None = None  # read lazily, once per process

    def deliver(self, event: AlertEvent) -> None:
        self.deliver_batch([event])

    def deliver_batch(self, events: list[AlertEvent]) -> None:
        """Append the events not yet in the file, then one flush and fsync for all."""
        try:
            if self._ids is None:
                self._ids = read_ids(self.path)
            ids = self._ids
            # Written by an earlier run that died before marking them delivered: skip.
            fresh = [e for e in events if e.id not in ids]
            if not fresh:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in fresh)
            with self.path.open("a", encoding="utf-8") as f:
                if f.tell() > 0 and not _ends_with_newline(self.path):
                    f.write("\n")  # a torn line from a crash must not swallow this event
                f.write(text)
                f.flush()
                if self.fsync:
                    os.fsync(f.fileno())
        except OSError as exc:
            raise DeliveryError(f"无法写入 {self.path}: {exc.strerror or exc}") from None
        ids.add(e.id for e in fresh)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


@hookimpl
def dashboard_sink_types() -> list[SinkType]:
    return [SinkType("jsonl", JsonlSink, "JSON Lines 文件（默认 alerts.jsonl）", OPTIONS)]
