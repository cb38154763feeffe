"""A process killed between "decided to fire" and "delivered" loses nothing and
duplicates nothing: the decision and the outbox are committed together, an event
leaves the outbox only once delivered, and the JSONL file skips ids it holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import SAMPLE_CSV, run_cli

from dashboard.config import config_data_dir

# Sinks that kill the process (os._exit: no cleanup, no finally) the first time
# they run, as a power cut or `kill -9` would; the marker file makes it once only.
CRASH_PLUGIN = '''
import os
from pathlib import Path

from dashboard import hookimpl
from dashboard.sinks import SinkType
from dashboard_plugins.sink_jsonl import JsonlSink

OPTIONS = {"path": "JSONL file", "marker": "file that says we already crashed once"}


def _first_time(spec) -> bool:
    marker = Path(spec.options["marker"])
    if marker.exists():
        return False
    marker.write_text("crashed", encoding="utf-8")
    return True


class CrashAfterWrite:
    """Writes the event to the JSONL file, then dies before the outbox is updated."""

    def __init__(self, spec):
        spec.check_options(OPTIONS)
        self.spec = spec
        self.inner = JsonlSink(type(spec)(spec.name, "jsonl", {"path": spec.options["path"]}, spec.base_dir))

    def deliver(self, event):
        self.inner.deliver(event)
        if _first_time(self.spec):
            os._exit(17)


class CrashBeforeWrite:
    def __init__(self, spec):
        spec.check_options({"marker": ""})
        self.spec = spec

    def deliver(self, event):
        if _first_time(self.spec):
            os._exit(17)


@hookimpl
def dashboard_sink_types():
    return [SinkType("crash_after_write", CrashAfterWrite), SinkType("crash_before_write", CrashBeforeWrite)]
'''


def setup(tmp_path: Path, config_writer: Callable[..., Path], sinks: str) -> Path:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "crash.py").write_text(CRASH_PLUGIN, encoding="utf-8")
    return config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}], extra=f'plugins_dir = "lp"\n{sinks}'
    )


def lines(path: Path) -> list[dict[str, object]]:
    return (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )


def pending(cfg: Path) -> int:
    return int(json.loads(run_cli("alerts", "--json", "--config", str(cfg)).stdout)["pending_delivery"])


def test_killed_after_writing_but_before_marking_delivered_is_not_duplicated(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    out = tmp_path / "alerts.jsonl"
    cfg = setup(
        tmp_path,
        config_writer,
        f"""
[[sinks]]
type = "crash_after_write"
path = "{out}"
marker = "{tmp_path / "crashed"}"
""",
    )
    first = run_cli("check", "--json", "--config", str(cfg))
    assert first.returncode == 17 and first.stdout == ""  # died mid-delivery
    assert [e["key"] for e in lines(out)] == ["severe:45"]
    assert pending(cfg) == 1  # written, but not yet counted as delivered

    second = run_cli("check", "--json", "--config", str(cfg))
    assert second.returncode == 0, second.stderr
    alerts = json.loads(second.stdout)["alerts"]
    assert alerts["fired"] == [] and alerts["pending_delivery"] == 0  # decided once, delivered now
    assert [(e["kind"], e["key"]) for e in lines(out)] == [("fired", "severe:45")]  # and only once


def test_killed_before_delivering_loses_nothing(
    tmp_path: Path, config_writer: Callable[..., Path], isolated_state: Path
) -> None:
    # The crashing sink goes first, so the process dies before the JSONL sink runs.
    cfg = setup(
        tmp_path,
        config_writer,
        f"""
[[sinks]]
type = "crash_before_write"
marker = "{tmp_path / "crashed"}"

[[sinks]]
type = "jsonl"
""",
    )
    out = config_data_dir(cfg) / "alerts.jsonl"  # this config's own default alert file
    assert run_cli("check", "--config", str(cfg)).returncode == 17
    assert lines(out) == []
    assert pending(cfg) == 2  # one event, waiting in both sinks' outboxes

    second = run_cli("check", "--json", "--config", str(cfg))
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["alerts"]["fired"] == []
    assert [(e["kind"], e["key"]) for e in lines(out)] == [("fired", "severe:45")]
    assert pending(cfg) == 0
