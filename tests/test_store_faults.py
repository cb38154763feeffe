"""The store is never poisoned and never stops the app (issue 12): a stored row that no
longer decodes is skipped with a warning; a damaged, unwritable, full or deleted store
leaves the dashboard running on the bundled sample (45 items, item 45 severe), with the
problem said, the alert decisions held (never sent unrecorded) and sent late, once,
when the store is back."""

from __future__ import annotations

import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import DEFAULT_CONFIG, ROOT, SAMPLE_CSV, run_cli, sample_rows, write_config, write_csv

from dashboard.alert_guard import LATE_SUFFIX
from dashboard.config import load_config
from dashboard.runtime import Runtime


def jsonl(state: Path) -> list[dict[str, object]]:
    # The sample's alert file is at the top of the data folder; another config's in its own folder.
    found = [state / "alerts.jsonl", *state.glob("configs/*/alerts.jsonl")]
    path = next((p for p in found if p.exists()), found[0])
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def check_json(*extra: str, config: Path = DEFAULT_CONFIG) -> tuple[int, dict[str, object]]:
    done = run_cli("check", "--json", "--config", str(config), *extra)
    assert done.returncode in (0, 3), done.stderr
    return done.returncode, json.loads(done.stdout)


def store_file(state: Path) -> Path:
    return state / "dashboard.sqlite3"


def csv_config(folder: Path, store: Path, csv_path: Path = SAMPLE_CSV) -> Path:
    return write_config(
        folder,
        [{"name": "通报", "type": "csv", "path": str(csv_path)}],
        extra=f"[store]\npath = {json.dumps(str(store))}",
    )


# -- rows that no longer decode --------------------------------------------------------------


def test_poisoned_rows_are_skipped_with_a_warning_and_the_next_check_loads_45(isolated_state: Path) -> None:
    code, first = check_json()
    assert code == 0 and first["items"] == 45
    with sqlite3.connect(store_file(isolated_state)) as conn:
        # What a plugin returning Item(None, None) and ratio = "fifty" left behind before validation.
        conn.execute("UPDATE source_items SET data = ? WHERE pos = 0", ('{"ratio":"fifty"}',))
        conn.execute("UPDATE source_items SET data = ? WHERE pos = 1", ("{}",))
        conn.execute("UPDATE source_items SET data = ? WHERE pos = 2", ("not json",))
        conn.execute("UPDATE alert_state SET first_fired = 'yesterday' WHERE key = 'severe:45'")
        conn.execute("UPDATE item_latest SET at = 'soon' WHERE rowid = 1")
    code, second = check_json()
    assert code == 0
    assert second["items"] == 45 and second["by_status"]["severe"] == 1
    store = second["store"]
    assert store["ok"] is True and store["error"] is None
    notes = "\n".join(store["notes"])
    assert "无法解码" in notes and "alert_state" in notes and "已跳过" in notes
    # Item 45's damaged alert row is rewritten, its alert (sent the first time) not sent again.
    assert second["alerts"]["fired"] == [] and len(jsonl(isolated_state)) == 1
    text = run_cli("check", "--config", str(DEFAULT_CONFIG))
    assert text.returncode == 0 and "项目总数 items 45" in text.stdout and "无法解码" not in text.stdout


def test_a_missing_table_is_recreated_and_nothing_is_sent_twice(isolated_state: Path) -> None:
    check_json()
    assert [e["key"] for e in jsonl(isolated_state)] == ["severe:45"]
    with sqlite3.connect(store_file(isolated_state)) as conn:
        conn.execute("DROP TABLE source_items")
        conn.execute("DROP TABLE alert_state")
    code, report = check_json()
    assert code == 0 and report["items"] == 45 and report["store"]["ok"] is True
    # The alert state went with its table: what holds now is adopted as sent, not sent again.
    assert report["alerts"]["fired"] == [] and [e["key"] for e in jsonl(isolated_state)] == ["severe:45"]
    health = run_cli("store", "check", "--json", "--config", str(DEFAULT_CONFIG))
    assert health.returncode == 0, health.stdout
    assert json.loads(health.stdout)["missing_tables"] == []


# -- a damaged file ------------------------------------------------------------------------


def test_garbage_store_is_backed_up_and_rebuilt_not_a_config_error(isolated_state: Path) -> None:
    check_json()
    path = store_file(isolated_state)
    for sidecar in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        sidecar.unlink(missing_ok=True)
    garbage = b"this is not a database\x00" * 400
    path.write_bytes(garbage)
    done = run_cli("check", "--config", str(DEFAULT_CONFIG))
    assert done.returncode == 0, done.stderr  # not 2: a damaged store is not a configuration error
    assert "项目总数 items 45" in done.stdout and "存储文件损坏" in done.stdout and "已备份为" in done.stdout
    backups = list(isolated_state.glob("dashboard.sqlite3.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == garbage
    # Its alert state was lost: item 45's alert (sent before) is adopted, not sent again.
    assert [e["key"] for e in jsonl(isolated_state)] == ["severe:45"]
    code, report = check_json()
    assert code == 0 and report["store"]["notes"] == [] and report["alerts"]["fired"] == []
    assert run_cli("store", "check", "--config", str(DEFAULT_CONFIG)).returncode == 0


def test_truncated_store_keeps_the_app_running(isolated_state: Path) -> None:
    check_json()
    path = store_file(isolated_state)
    run_cli("store", "vacuum", "--config", str(DEFAULT_CONFIG))  # everything in the main file
    data = path.read_bytes()
    assert len(data) > 8192
    path.write_bytes(data[:4096])  # the first 4 KiB kept
    code, report = check_json()
    assert code == 0 and report["items"] == 45 and report["by_status"]["severe"] == 1
    assert any("已备份为" in n for n in report["store"]["notes"])
    assert len(jsonl(isolated_state)) == 1  # nothing sent twice


# -- unavailable, then back ------------------------------------------------------------------


def test_unopenable_store_runs_in_memory_holds_alerts_and_sends_them_late(
    tmp_path: Path, isolated_state: Path
) -> None:
    blocker = tmp_path / "share"
    blocker.write_text("a file where the store's folder should be", encoding="utf-8")
    config = load_config(csv_config(tmp_path, blocker / "store.sqlite3"))
    runtime = Runtime(config)
    assert runtime.store_problem and "store.sqlite3" in runtime.store_problem
    snap = asyncio.run(runtime.cycle())
    assert len(snap.evaluated) == 45 and snap.by_status["severe"] == 1
    assert snap.fired == [] and jsonl(isolated_state) == []  # held: nothing sent unrecorded
    assert runtime.alert_error.startswith("预警暂缓：存储不可写") and set(runtime.alerts.held) == {
        "severe:45"
    }
    assert runtime.store_report()["held_alerts"] == 1

    blocker.unlink()
    blocker.mkdir()  # the folder is back
    snap = asyncio.run(runtime.cycle())
    assert runtime.store_problem == "" and runtime.alert_error == ""
    sent = jsonl(isolated_state)
    assert [(e["kind"], e["key"]) for e in sent] == [("fired", "severe:45")]
    assert str(sent[0]["message"]).endswith(LATE_SUFFIX) and sent[0]["figures"]["late"] is True
    asyncio.run(runtime.cycle())
    runtime.close()
    assert len(jsonl(isolated_state)) == 1  # once
    # The file holds what was shown: a new process restores the 45 items from it.
    again = Runtime(config)
    assert len(again.items()) == 45
    again.close()


def test_an_alert_that_fires_and_clears_during_an_outage_is_sent_late_both_ways(
    tmp_path: Path, isolated_state: Path
) -> None:
    blocker = tmp_path / "share"
    blocker.write_text("not a folder", encoding="utf-8")
    rows = sample_rows()
    csv_path = write_csv(tmp_path / "bulletin.csv", rows)
    runtime = Runtime(load_config(csv_config(tmp_path, blocker / "store.sqlite3", csv_path)))
    asyncio.run(runtime.cycle())  # item 45 severe: held
    for row in rows:
        if row and row[0] == "45":
            row[6] = "80.0%"
    write_csv(csv_path, rows)
    asyncio.run(runtime.cycle())  # cleared while the store is still away
    assert jsonl(isolated_state) == []
    blocker.unlink()
    blocker.mkdir()
    asyncio.run(runtime.cycle())
    runtime.close()
    sent = jsonl(isolated_state)
    assert [(e["kind"], e["key"]) for e in sent] == [("fired", "severe:45"), ("resolved", "severe:45")]
    assert all(str(e["message"]).endswith(LATE_SUFFIX) for e in sent)


def _limit_file_size() -> None:
    # A full disk: no file may grow past 1 byte (write() then fails with EFBIG).
    resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))


def test_full_disk_check_holds_alerts_says_so_and_the_next_run_sends_once(isolated_state: Path) -> None:
    path = store_file(isolated_state)
    check_json("--no-alerts")  # the store exists, no alert state yet
    assert jsonl(isolated_state) == [] and path.exists()
    full = subprocess.run(
        [sys.executable, "-m", "dashboard", "check", "--config", str(DEFAULT_CONFIG)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        preexec_fn=_limit_file_size,
    )
    assert full.returncode == 0, full.stderr
    assert "项目总数 items 45" in full.stdout
    assert "存储不可用" in full.stdout and "预警暂缓：存储不可写" in full.stdout
    assert jsonl(isolated_state) == []  # nothing sent that could not be recorded
    code, report = check_json()  # space is back
    assert code == 0 and report["store"]["ok"] is True
    assert [e["key"] for e in jsonl(isolated_state)] == ["severe:45"]
    check_json()
    assert len(jsonl(isolated_state)) == 1


# -- deleted under a running process ----------------------------------------------------------


def test_store_deleted_while_running_is_recreated_and_nothing_is_resent(isolated_state: Path) -> None:
    config = load_config(DEFAULT_CONFIG)
    runtime = Runtime(config)
    asyncio.run(runtime.cycle())
    assert [e["key"] for e in jsonl(isolated_state)] == ["severe:45"]
    path = store_file(isolated_state)
    path.unlink()  # the main file only, as a user deleting "the database" would
    snap = asyncio.run(runtime.cycle())
    assert len(snap.evaluated) == 45 and snap.fired == []
    assert path.exists() and any("已新建" in n for n in runtime.store_report()["notes"])
    runtime.close()
    with sqlite3.connect(path) as conn:
        state = conn.execute("SELECT state, last_sent FROM alert_state WHERE key = 'severe:45'").fetchone()
        stored = conn.execute("SELECT COUNT(*) FROM source_items").fetchone()[0]
    assert state[0] == "open" and state[1] is not None  # seeded from what the engine knew
    assert stored == 45 + 34  # both sources' items written again in full
    code, report = check_json()  # the next cron check
    assert code == 0 and report["alerts"]["fired"] == []
    assert len(jsonl(isolated_state)) == 1


# -- the per-cycle cap ----------------------------------------------------------------------


def test_300_severe_items_send_200_events_and_one_summary(tmp_path: Path, isolated_state: Path) -> None:
    header, *rows = sample_rows()
    template = next(r for r in rows if r and r[0] == "45")
    flood = [header] + [[str(i), template[1], f"项目{i}", f"单位{i}", *template[4:]] for i in range(1, 301)]
    csv_path = write_csv(tmp_path / "flood.csv", flood)
    config = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(csv_path)}])
    code, report = check_json(config=config)
    assert code == 0 and report["by_status"]["severe"] == 300
    lines = jsonl(isolated_state)
    assert len(lines) == 201
    assert lines[-1]["key"] == "summary:cycle" and "本轮另有 100 条预警未逐条推送" in str(
        lines[-1]["message"]
    )
    assert report["alerts"]["not_pushed"] == 100
    check_json(config=config)  # recorded: none of the 300 fires again
    assert len(jsonl(isolated_state)) == 201


def test_max_per_cycle_is_validated(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra="[alerts]\nmax_per_cycle = 0",
    )
    done = run_cli("check", "--config", str(config))
    assert done.returncode == 2 and "alerts.max_per_cycle" in done.stderr


async def test_tui_shows_the_store_problem_and_recovers_on_refresh(
    tmp_path: Path, isolated_state: Path
) -> None:
    from dashboard.ui.app import make_app
    from dashboard.ui.widgets.item_table import ItemTable

    blocker = tmp_path / "share"
    blocker.write_text("not a folder", encoding="utf-8")
    app = make_app(load_config(csv_config(tmp_path, blocker / "store.sqlite3")))
    async with app.run_test(size=(200, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one("#items", ItemTable).row_count == 45
        assert "存储不可用" in str(app.screen.query_one("#status-bar").render())
        await pilot.press("r")  # still away: the bar says what is held
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "预警暂缓 1 条" in str(app.screen.query_one("#status-bar").render())
        assert jsonl(isolated_state) == []  # held
        blocker.unlink()
        blocker.mkdir()
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "存储不可用" not in str(app.screen.query_one("#status-bar").render())
        assert [e["key"] for e in jsonl(isolated_state)] == ["severe:45"]
    assert (blocker / "store.sqlite3").exists()


POISON_PLUGIN = """
from datetime import date

from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceType
from dashboard.core.items import Item


class Poison:
    def __init__(self, spec):
        pass

    async def fetch(self):
        return FetchResult([Item(None, None), Item("p2", "坏数据", ratio="fifty")], date(2024, 9, 30))


@hookimpl
def dashboard_source_types():
    return [SourceType("poison", Poison)]
"""


def test_a_poisoning_plugin_then_a_clean_run_that_starts(tmp_path: Path) -> None:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "poison.py").write_text(POISON_PLUGIN, encoding="utf-8")
    sample = {"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}
    config = write_config(tmp_path, [sample, {"name": "毒", "type": "poison"}], extra='plugins_dir = "lp"')
    run_cli("check", "--config", str(config))  # whatever it makes of the plugin, it must not poison the store
    store = Path(load_config(config).store_path or "")
    with sqlite3.connect(store) as conn:  # as an older version without the boundary check wrote them
        conn.execute(
            "INSERT INTO source_state(name, spec_key, ok, last_success, item_count) VALUES ('毒2', '{}', 1, ?, 2)"
            " ON CONFLICT(name) DO NOTHING",
            ("2024-09-30T10:00:00",),
        )
        conn.executemany(
            "INSERT OR REPLACE INTO source_items(source, pos, data) VALUES ('毒2', ?, ?)",
            [(0, "{}"), (1, '{"id":"p2","name":"坏数据","ratio":"fifty"}')],
        )
    clean = write_config(tmp_path, [sample], extra="")  # the plugin removed
    for args in (("check", "--json"), ("alerts",), ("store", "check")):
        done = run_cli(*args, "--config", str(clean))
        assert "Traceback" not in done.stderr, done.stderr
    code, report = check_json(config=clean)
    assert code == 0 and report["items"] == 45 and report["by_status"]["severe"] == 1
    assert any("无法解码" in n for n in report["store"]["notes"])  # the damaged rows are said, not hidden


# -- a real small disk: full, then read-only, with the runtime running -----------------------------


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _with_ratio(rows: list[list[str]], item_id: str, ratio: str) -> list[list[str]]:
    return [[*r[:6], ratio] if r and r[0] == item_id else r for r in rows]


def test_tiny_tmpfs_full_then_read_only_holds_and_recovers(tmp_path: Path, isolated_state: Path) -> None:
    import pytest

    disk = tmp_path / "disk"
    disk.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        rows = sample_rows()
        csv_path = write_csv(tmp_path / "bulletin.csv", rows)
        runtime = Runtime(load_config(csv_config(tmp_path, disk / "store.sqlite3", csv_path)))
        asyncio.run(runtime.cycle())
        assert runtime.store_problem == "" and [e["key"] for e in jsonl(isolated_state)] == ["severe:45"]

        filler = disk / "filler"
        # Unbuffered: a close after the disk is full has nothing left to flush (and nothing to raise).
        with filler.open("wb", buffering=0) as f:  # the disk fills up
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        rows = _with_ratio(rows, "44", "10.0%")
        write_csv(csv_path, rows)
        snap = asyncio.run(runtime.cycle())
        assert snap.by_status["severe"] == 2 and "存储不可用" in runtime.store_status
        assert [e["key"] for e in jsonl(isolated_state)] == ["severe:45"]  # severe:44 held, not sent
        filler.unlink()  # space is back
        asyncio.run(runtime.cycle())
        assert runtime.store_problem == ""
        assert [e["key"] for e in jsonl(isolated_state)] == ["severe:45", "severe:44"]

        runtime.close()  # a read-only remount needs no file open for writing
        assert _mount("-o", "remount,ro", str(disk))
        write_csv(csv_path, _with_ratio(rows, "43", "10.0%"))
        runtime = Runtime(load_config(csv_config(tmp_path, disk / "store.sqlite3", csv_path)))
        snap = asyncio.run(runtime.cycle())
        assert snap.by_status["severe"] == 3 and "存储不可用" in runtime.store_status
        assert len(jsonl(isolated_state)) == 2
        assert _mount("-o", "remount,rw", str(disk))
        asyncio.run(runtime.cycle())
        asyncio.run(runtime.cycle())
        runtime.close()
        assert runtime.store_problem == ""
        assert [e["key"] for e in jsonl(isolated_state)] == ["severe:45", "severe:44", "severe:43"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
