"""The TUI and cron together on one store and one alerts.jsonl: every event id in the
file exactly once, none missing. Plus the locks underneath: the delivery lock next to
the store (another process, another thread, a killed holder) and the alert file's own
lock (two writers with the same events). Real processes, real files, real SQLite."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from conftest import ROOT, sample_rows, write_csv
from dashboard_plugins.sink_jsonl import JsonlSink

from dashboard.alert_store import delivery_lock
from dashboard.core.alerts import AlertEvent
from dashboard.sinks import SinkSpec

# Runs in the TUI's place: one Runtime for the whole test, a cycle each time it reads a
# line (the refresh timer firing), as the TUI's worker runs them.
TUI = """
import asyncio, sys
from dashboard.config import load_config
from dashboard.runtime import Runtime

async def main() -> None:
    runtime = Runtime(load_config(sys.argv[1]))
    n = 0
    while await asyncio.to_thread(sys.stdin.readline):
        await runtime.cycle()
        n += 1
        print("cycled", n, flush=True)
    runtime.close()

asyncio.run(main())
"""

# The real JSONL sink; in a `check` run with HOLD_AFTER_WRITE set it stops after the
# append, before the outbox is updated, so the test can kill -9 it right in that window.
HOLD_PLUGIN = """
import os, time
from pathlib import Path
from dashboard import hookimpl
from dashboard.sinks import SinkType
from dashboard_plugins.sink_jsonl import OPTIONS, JsonlSink

class HeldJsonl(JsonlSink):
    def deliver_batch(self, events):
        super().deliver_batch(events)
        marker = os.environ.get("HOLD_AFTER_WRITE")
        if marker:
            Path(marker).write_text("written", encoding="utf-8")
            time.sleep(60)

@hookimpl
def dashboard_sink_types():
    return [SinkType("held_jsonl", HeldJsonl, "JSONL", OPTIONS)]
"""

SEVERE = ("40", "41", "42", "43", "44")


def versions(folder: Path) -> tuple[Path, Path]:
    """A: the bulletin (45 severe). B: 45 recovers, 40–44 fall to 10% (five severe)."""
    a = write_csv(folder / "a.csv", sample_rows())
    rows = sample_rows()
    for row in rows:
        if row and row[0] == "45":
            row[6] = "80.0%"
        elif row and row[0] in SEVERE:
            row[6] = "10.0%"
    return a, write_csv(folder / "b.csv", rows)


def swap(live: Path, version: Path) -> None:
    tmp = live.with_name(".next.csv")
    tmp.write_bytes(version.read_bytes())
    os.replace(tmp, live)  # a new file in one step, as an export tool saves it


def store_file(state: Path) -> Path:
    """The one config's default store: under `configs/<slug>/` unless it is the sample's."""
    found = [state / "dashboard.sqlite3", *state.glob("configs/*/dashboard.sqlite3")]
    return next((p for p in found if p.exists()), found[0])


def store_event_ids(state: Path) -> list[str]:
    with sqlite3.connect(store_file(state)) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM alert_events ORDER BY seq")]


def pending(state: Path) -> int:
    with sqlite3.connect(store_file(state)) as conn:
        return int(conn.execute("SELECT count(*) FROM alert_outbox").fetchone()[0])


def test_tui_and_killed_cron_checks_write_every_event_exactly_once(
    tmp_path: Path, isolated_state: Path
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    a, b = versions(tmp_path)
    live = tmp_path / "bulletin.csv"
    swap(live, a)
    out = tmp_path / "alerts.jsonl"
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "held.py").write_text(HOLD_PLUGIN, encoding="utf-8")
    cfg = tmp_path / "dashboard.toml"
    cfg.write_text(
        f'as_of = "2024-09-30"\nplugins_dir = "lp"\n\n[[sources]]\nname = "通报"\ntype = "csv"\n'
        f'path = {json.dumps(str(live))}\n\n[[sinks]]\nname = "file"\ntype = "held_jsonl"\n'
        f"path = {json.dumps(str(out))}\n",
        encoding="utf-8",
    )
    check = [sys.executable, "-m", "dashboard", "check", "--json", "--config", str(cfg)]
    tui = subprocess.Popen(
        [sys.executable, "-c", TUI, str(cfg)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert tui.stdin is not None and tui.stdout is not None

    def tui_cycle() -> None:
        tui.stdin.write("cycle\n")  # type: ignore[union-attr]
        tui.stdin.flush()  # type: ignore[union-attr]
        assert tui.stdout.readline().startswith("cycled"), f"seed {seed}"  # type: ignore[union-attr]

    def cron(mode: str) -> str:
        env = dict(os.environ)
        marker = tmp_path / "written"
        marker.unlink(missing_ok=True)
        if mode == "held":
            env["HOLD_AFTER_WRITE"] = str(marker)
        proc = subprocess.Popen(check, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if mode == "held":  # wrote the events, outbox not yet updated: kill -9 now
            deadline = time.monotonic() + 30
            while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert marker.exists(), f"seed {seed}: the held check never wrote"
            proc.send_signal(signal.SIGKILL)
        elif mode == "random":  # anywhere: importing, loading, deciding, writing
            time.sleep(rng.uniform(0.05, 0.9))
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        if mode == "full":
            assert proc.returncode == 0, err.decode()
        return mode

    modes: list[str] = []
    try:
        tui_cycle()  # the TUI starts first, fires severe:45 and writes it (and knows the file)
        for round_ in range(6):
            swap(live, b if round_ % 2 == 0 else a)
            if round_ in (0, 3):  # cron decides and writes, dies before marking delivered
                modes.append(cron("held"))
                tui_cycle()  # the TUI finds those events in the outbox
            elif round_ in (1, 4):  # both at once
                racer = threading.Thread(target=tui_cycle)
                racer.start()
                modes.append(cron(rng.choice(["random", "full"])))
                racer.join()
                tui_cycle()
            else:
                modes.append(cron("random"))
                tui_cycle()
        modes.append(cron("full"))
    finally:
        tui.stdin.close()
        tui.wait(timeout=30)
    assert tui.returncode == 0

    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    ids = [e["id"] for e in lines]
    duplicates = {i: n for i, n in Counter(ids).items() if n > 1}
    assert duplicates == {}, f"seed {seed}, modes {modes}: {duplicates}"
    assert sorted(ids) == sorted(store_event_ids(isolated_state)), f"seed {seed}"
    assert pending(isolated_state) == 0
    # Each round's change decided exactly once, by whichever process saw it first.
    kinds = Counter((e["kind"], e["key"]) for e in lines)
    assert kinds[("fired", "severe:45")] == 4 and kinds[("resolved", "severe:45")] == 3
    for item in SEVERE:
        assert kinds[("fired", f"severe:{item}")] == 3 and kinds[("resolved", f"severe:{item}")] == 3
    assert len(lines) == 37


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from dashboard.alert_store import delivery_lock
with delivery_lock(Path(sys.argv[1])) as held:
    print("held" if held else "refused", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def holder(store: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(store), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    proc.first_line = proc.stdout.readline().strip()  # type: ignore[attr-defined]
    return proc


def test_the_delivery_lock_refuses_a_second_thread_and_a_second_process(tmp_path: Path) -> None:
    store = tmp_path / "dashboard.sqlite3"
    seen: list[bool] = []
    with delivery_lock(store) as held:
        assert held
        other = threading.Thread(target=lambda: seen.append(delivery_lock(store).__enter__()))
        other.start()
        other.join()
        assert seen == [False]  # the TUI's second worker does not deliver at once
        proc = holder(store, 0)
        assert proc.first_line == "refused"  # type: ignore[attr-defined]
        proc.wait(timeout=30)
    with delivery_lock(store) as held:
        assert held  # released on exit


def test_a_killed_holder_never_blocks_the_next_delivery(tmp_path: Path) -> None:
    store = tmp_path / "dashboard.sqlite3"
    proc = holder(store, 60)
    assert proc.first_line == "held"  # type: ignore[attr-defined]
    with delivery_lock(store) as held:
        assert not held
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with delivery_lock(store) as held:
        assert held  # the OS dropped the dead holder's lock


WRITER = """
import sys
from datetime import datetime
from pathlib import Path
from dashboard.core.alerts import AlertEvent
from dashboard.sinks import SinkSpec
from dashboard_plugins.sink_jsonl import JsonlSink

path = Path(sys.argv[1])
sink = JsonlSink(SinkSpec("file", "jsonl", {"path": str(path), "fsync": False}, path.parent))
events = [
    AlertEvent(f"ev{n:04d}", f"severe:{n}", "severe", str(n), "critical", "fired", f"[{n}] 严重滞后", {}, datetime(2024, 9, 30))
    for n in range(400)
]
sys.stdin.readline()  # start together
for start in range(0, len(events), 5):
    sink.deliver_batch(events[start : start + 5])
"""


def test_two_dashboards_with_their_own_stores_share_one_file_without_doubling(tmp_path: Path) -> None:
    """Two writers that both hold the same 400 events (two stores, one alerts.jsonl)
    appending at once: the file's own lock serialises read-tail + append."""
    out = tmp_path / "alerts.jsonl"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), str(out)],
            stdin=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for _ in range(2)
    ]
    for w in writers:
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in writers:
        assert w.wait(timeout=60) == 0
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == 400 and len(set(ids)) == 400
    assert ids == [f"ev{n:04d}" for n in range(400)]


def test_a_sink_rereads_the_file_only_when_another_writer_changed_it(tmp_path: Path) -> None:
    """Two sinks on one file, as the TUI's and a cron check's: an event the other one
    wrote is never written again; a file as this sink left it costs one stat, no read."""

    def ev(n: int) -> AlertEvent:
        return AlertEvent(
            f"ev{n}", f"severe:{n}", "severe", str(n), "critical", "fired", "m", {}, datetime(2024, 9, 30)
        )

    out = tmp_path / "alerts.jsonl"
    tui, cron = (JsonlSink(SinkSpec("file", "jsonl", {"path": str(out)}, tmp_path)) for _ in range(2))
    tui.deliver_batch([ev(1)])
    cron.deliver_batch([ev(2)])  # cron wrote ev2, then died before its outbox said so
    tui.deliver_batch([ev(2), ev(3)])  # the TUI finds ev2 in that outbox
    tui.deliver_batch([ev(4)])
    tui.deliver_batch([ev(5)])
    written = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert written == ["ev1", "ev2", "ev3", "ev4", "ev5"]
    assert tui.file.rereads == 2  # at its start and after cron's write; not for ev4, ev5
