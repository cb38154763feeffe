"""The JSON Lines alert sink, the default: one event per line, appended and fsynced
before the event counts as delivered. Strict JSON (RFC 8259, no NaN or Infinity), so
`jq` and any other reader take every line. The file may be shared with other
processes (the TUI and a cron `check`, or two dashboards): see `SharedLineFile` for
how each event id ends up in it exactly once and how a torn last line is repaired."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dashboard import hookimpl, strict_json
from dashboard.core.alerts import AlertEvent
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
    "path": "文件路径，默认数据目录下的 alerts.jsonl（相对路径相对配置文件所在文件夹）",
    "fsync": "写入后是否 fsync 到磁盘，默认 true",
}


def read_events(path: Path, tail_bytes: int | None = None) -> list[dict[str, Any]]:
    """The events in the file (or its last `tail_bytes`), skipping a torn or foreign
    line: a reader never fails on a file a full disk once cut short."""
    events: list[dict[str, Any]] = []
    for line in tail_lines(path, tail_bytes or sys.maxsize):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and "id" in event:
            events.append(event)
    return events


def read_ids(path: Path, field: str = "id") -> RecentIds:
    """Ids of the events in the file's tail (a torn line is ignored)."""
    ids: list[str] = []
    for line in tail_lines(path):
        try:
            ids.append(str(json.loads(line)[field]))
        except (ValueError, KeyError, TypeError, IndexError):
            continue
    return RecentIds(ids)


def _is_event(line: bytes) -> bool:
    try:
        event = json.loads(line)
    except ValueError:
        return False
    return isinstance(event, dict) and "id" in event


def event_line(event: AlertEvent) -> str:
    # A non-finite figure that slipped through is null, not an unreadable line.
    return strict_json.dumps(event.to_dict()) + "\n"


class JsonlSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.path = spec.path("path", default_alert_file("alerts.jsonl", spec))
        fsync = spec.options.get("fsync", True)
        if not isinstance(fsync, bool):
            raise spec.error("fsync", f"应为 true 或 false，实为 {fsync!r}", "true | false")
        self.fsync = fsync
        self.file = SharedLineFile(self.path, read_ids, fsync=fsync, whole=_is_event)

    def deliver(self, event: AlertEvent) -> None:
        self.deliver_batch([event])

    def deliver_batch(self, events: list[AlertEvent]) -> None:
        """Append the events not yet in the file, then one flush and fsync for all."""
        try:
            self.file.append(events, lambda fresh, _new: "".join(map(event_line, fresh)).encode("utf-8"))
        except OSError as exc:
            raise DeliveryError(f"无法写入 {self.path}: {exc.strerror or exc}") from None


@hookimpl
def dashboard_sink_types() -> list[SinkType]:
    return [SinkType("jsonl", JsonlSink, "JSON Lines 文件（默认 alerts.jsonl）", OPTIONS)]
