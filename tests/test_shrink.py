"""The shrink guard (issue 12, "a half-read file is never the truth"): a fetch that drops
to zero, or by more than `max_shrink` of the last good set, keeps the last good items,
marks the source failed, fires `source_stale` at once and resolves nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SAMPLE_COUNTS, run_cli, sample_rows, toml_value, write_csv

from dashboard.config import load_config
from dashboard.contracts import ConfigError
from dashboard.runtime import Runtime

REFUSED_20 = "数据项由 45 骤减为 20（超过 max_shrink 50%），保留上次数据；如确属正常请设 allow_shrink = true"


def jsonl_sink(path: Path) -> str:
    return "[[sinks]]\n" + "\n".join(
        f"{k} = {toml_value(v)}" for k, v in {"type": "jsonl", "path": str(path)}.items()
    )


def test_a_header_only_file_after_a_good_load_keeps_the_items_and_resolves_nothing(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    alerts = tmp_path / "alerts.jsonl"
    cfg = config_writer([{"name": "通报", "type": "csv", "path": str(data)}], extra=jsonl_sink(alerts))
    first = run_cli("check", "--config", str(cfg), "--json")
    assert first.returncode == 0, first.stderr
    assert [a["key"] for a in json.loads(first.stdout)["alerts"]["fired"]] == ["severe:45"]

    write_csv(data, sample_rows()[:1])  # the header and nothing else: a half-written export
    second = run_cli("check", "--config", str(cfg), "--json")  # a new process: last good set from the store
    assert second.returncode == 3, second.stderr
    report = json.loads(second.stdout)
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS
    assert [b["id"] for b in report["behind"]] == ["45"]
    source = report["sources"][0]
    assert not source["ok"] and source["items"] == 45 and source["stale"]
    assert source["error"].startswith("数据项由 45 骤减为 0")
    assert report["alerts"]["resolved"] == []
    stale = [a for a in report["alerts"]["fired"] if a["rule"] == "source_stale"]
    assert len(stale) == 1 and "骤减为 0" in stale[0]["message"]  # at once, not after 3 periods
    lines = [json.loads(line) for line in alerts.read_text(encoding="utf-8").splitlines()]
    assert not [e for e in lines if e["kind"] == "resolved"]
    assert {e["key"] for e in lines} == {"severe:45", "source_stale:通报"}


async def test_a_drop_of_more_than_half_is_refused_a_smaller_one_taken(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    runtime = Runtime(load_config(config_writer([{"name": "通报", "type": "csv", "path": str(data)}])))
    try:
        snap = await runtime.cycle()
        assert len(snap.evaluated) == 45 and [e.key for e in snap.fired] == ["severe:45"]

        write_csv(data, sample_rows()[:21])  # 20 of 45 rows: a file cut short
        snap = await runtime.cycle()
        state = runtime.states["通报"]
        assert state.ok is False and state.refused and state.error == REFUSED_20
        assert len(snap.evaluated) == 45 and snap.by_status == SAMPLE_COUNTS
        assert [e.key for e in snap.fired] == ["source_stale:通报"]
        assert REFUSED_20 in snap.fired[0].message and snap.resolved == []

        write_csv(data, sample_rows()[:31])  # 30 of 45: a drop of a third is real data
        snap = await runtime.cycle()
        assert state.ok and not state.refused and len(state.items) == 30 and len(snap.evaluated) == 30
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("keys", "rows", "kept", "error"),
    [
        ({"max_shrink": 0.2}, 30, 45, "数据项由 45 骤减为 30（超过 max_shrink 20%）"),
        ({"allow_shrink": True}, 10, 10, ""),
        ({"max_shrink": 1}, 1, 1, ""),
    ],
)
async def test_max_shrink_and_allow_shrink_are_per_source(
    tmp_path: Path,
    config_writer: Callable[..., Path],
    keys: dict[str, object],
    rows: int,
    kept: int,
    error: str,
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    source = {"name": "通报", "type": "csv", "path": str(data), **keys}
    runtime = Runtime(load_config(config_writer([source])))
    try:
        await runtime.refresh_all()
        write_csv(data, sample_rows()[: rows + 1])
        [state] = await runtime.refresh_all()
        assert len(state.items) == kept and state.error.startswith(error)
        assert state.ok is (not error)
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("key", "value"), [("max_shrink", 2), ("max_shrink", "half"), ("allow_shrink", "yes")]
)
def test_bad_shrink_keys_are_configuration_errors(
    tmp_path: Path, config_writer: Callable[..., Path], key: str, value: object
) -> None:
    cfg = config_writer([{"name": "通报", "type": "csv", "path": "b.csv", key: value}])
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert err.value.key == f"sources[0].{key}"
