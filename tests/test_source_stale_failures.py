"""source_stale fires on a failing source after `failures` consecutive failed fetches
(default 2), not only once `periods` refresh periods have passed (issue 13)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

from conftest import run_cli, sample_rows, write_config, write_csv

from dashboard.config import load_config
from dashboard.core.alert_rules import BUILTIN_RULES, check_source_stale
from dashboard.core.alerts import AlertContext, RuleConfig, SourceInfo
from dashboard.runtime import Runtime

NOW = datetime(2024, 10, 1, 9, 0).astimezone()
RULE = next(r for r in BUILTIN_RULES if r.name == "source_stale")


def stale(*sources: SourceInfo, **params: object) -> list[str]:
    ctx = AlertContext(now=NOW, as_of=date(2024, 9, 30), expected=0.75, sources=sources)
    cfg = RuleConfig(params={**RULE.params, **params})
    return [c.subject for c in check_source_stale(ctx, cfg)]


def failing(name: str, failures: int, *, ago: timedelta = timedelta(minutes=5)) -> SourceInfo:
    return SourceInfo(
        name, ok=False, error="文件不存在", last_success=NOW - ago, refresh=300, failures=failures
    )


def test_the_rule_counts_failures_and_still_fires_on_age() -> None:
    assert RULE.params == {"periods": 3, "failures": 2}
    assert stale(failing("一次", 1)) == []  # one passing failure waits
    assert stale(failing("两次", 2)) == ["两次"]  # the second in a row fires
    assert stale(failing("两次", 2), failures=3) == [] and stale(failing("三次", 3), failures=3) == ["三次"]
    assert stale(failing("久未成功", 1, ago=timedelta(minutes=16))) == ["久未成功"]  # 3 × 5m passed
    never = SourceInfo("从未成功", ok=False, error="文件不存在", refresh=300, failures=1)
    assert stale(never) == ["从未成功"]  # never loaded: at once, as before
    refused = SourceInfo(
        "骤减", ok=False, error="数据项由 45 骤减为 1", last_success=NOW, refused=True, failures=1
    )
    assert stale(refused) == ["骤减"]  # a refused shrink still fires at once


async def test_a_deleted_csv_fires_on_the_second_failed_refresh(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "data.csv", sample_rows())
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data), "refresh": "5m"}])
    runtime = Runtime(load_config(cfg))
    try:
        snap = await runtime.cycle()
        assert [e.key for e in snap.fired] == ["severe:45"]
        state = runtime.states["通报"]
        assert state.ok and state.failures == 0
        data.unlink()
        snap = await runtime.cycle()
        assert state.failures == 1 and snap.fired == [] and snap.resolved == []
        snap = await runtime.cycle()
        assert state.failures == 2
        [event] = snap.fired
        assert event.key == "source_stale:通报" and "连续 2 次载入失败" in event.message
        assert "文件不存在" in event.message
        write_csv(data, sample_rows())  # back: the alert resolves, the count starts again
        snap = await runtime.cycle()
        assert state.failures == 0 and [e.key for e in snap.resolved] == ["source_stale:通报"]
    finally:
        runtime.close()


def test_cron_checks_count_a_failure_recorded_by_the_run_before(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "data.csv", sample_rows())
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}])

    def check() -> tuple[int, list[str]]:
        done = run_cli("check", "--json", "--config", str(cfg))
        return done.returncode, [a["key"] for a in json.loads(done.stdout)["alerts"]["fired"]]

    assert check() == (0, ["severe:45"])
    data.unlink()
    assert check() == (3, [])  # the first failure: not yet
    assert check() == (3, ["source_stale:通报"])  # the second run in a row
    done = run_cli("check", "--json", "--config", str(cfg))
    [source] = json.loads(done.stdout)["sources"]
    assert source["failures"] == 2 and source["ok"] is False  # one recorded before, one now
