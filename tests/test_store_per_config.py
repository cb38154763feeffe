"""One store per config: the sample and a config of one's own, run in turn on one data
folder, never see each other's history or alerts (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import DEFAULT_CONFIG, SAMPLE_CSV, run_cli, sample_rows, write_config, write_csv

from dashboard.config import config_data_dir, config_slug, load_config


def own_config(folder: Path) -> Path:
    """The sample without item 45 (the severe one) and with item 44 made severe."""
    rows = [r for r in sample_rows() if r[:1] != ["45"]]
    for row in rows:
        if row[:1] == ["44"]:
            row[6] = "10.0%"  # 完成比例 10% against 75% expected: severe
    folder.mkdir()
    data = write_csv(folder / "my.csv", rows)
    path = write_config(folder, [{"name": "我的通报", "type": "csv", "path": str(data)}])
    return path.rename(folder / "my.toml")


def check(config: Path) -> dict[str, object]:
    done = run_cli("check", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def alert_keys(config: Path) -> set[str]:
    done = run_cli("alerts", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    return {a["key"] for a in json.loads(done.stdout)["alerts"]}


def test_the_sample_and_my_config_keep_their_own_store_and_alerts(
    tmp_path: Path, isolated_state: Path
) -> None:
    mine = own_config(tmp_path / "mine")
    sample = check(DEFAULT_CONFIG)
    assert [a["key"] for a in sample["alerts"]["fired"]] == ["severe:45"]
    # The bundled sample keeps the data folder's top level (its users keep their history).
    assert sample["store"]["path"] == str(isolated_state / "dashboard.sqlite3")

    report = check(mine)
    # Item 45 is merely absent from my data: nothing of the sample's resolves here.
    assert report["alerts"]["resolved"] == []
    assert [a["key"] for a in report["alerts"]["fired"]] == ["severe:44"]
    assert report["by_status"]["severe"] == 1 and report["items"] == 44
    folder = isolated_state / "configs" / config_slug(mine)
    assert report["store"]["path"] == str(folder / "dashboard.sqlite3")
    assert folder.name.startswith("my-") and len(folder.name) == len("my-") + 8

    again = check(DEFAULT_CONFIG)  # and back: the sample's alert is still open, not resolved
    assert again["alerts"]["resolved"] == [] and again["alerts"]["fired"] == []
    assert alert_keys(DEFAULT_CONFIG) == {"severe:45"}
    assert alert_keys(mine) == {"severe:44"}
    # Each config's default alert file holds its own events only.
    sample_lines = (isolated_state / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    mine_lines = (folder / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["key"] for x in sample_lines] == ["severe:45"]
    assert [json.loads(x)["key"] for x in mine_lines] == ["severe:44"]


def test_two_configs_of_the_same_name_in_two_folders_get_two_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = write_config(tmp_path / "a", []), write_config(tmp_path / "b", [])
    assert config_data_dir(a) != config_data_dir(b)
    assert config_data_dir(a).parent == config_data_dir(b).parent
    assert load_config(a).store_path == config_data_dir(a) / "dashboard.sqlite3"
    assert load_config(a).export_dir == config_data_dir(a) / "exports"


def test_store_path_in_the_config_still_wins(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [], extra='[store]\npath = "here.sqlite3"')
    assert load_config(cfg).store_path == tmp_path / "here.sqlite3"


def test_an_item_that_leaves_the_data_resolves_as_gone_not_caught_up(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "data.csv", sample_rows())
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}])
    assert [a["key"] for a in check(cfg)["alerts"]["fired"]] == ["severe:45"]
    write_csv(data, [r for r in sample_rows() if r[:1] != ["45"]])
    [event] = check(cfg)["alerts"]["resolved"]
    assert event["key"] == "severe:45"
    assert "项目不再出现在数据中" in event["message"] and event["message"].startswith("已解除：[45]")
    assert event["figures"]["gone"] is True
    assert SAMPLE_CSV.is_file()
