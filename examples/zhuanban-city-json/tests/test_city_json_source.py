"""The city_json source on real files: the sample city export (湘乡市's 45 items of the
September 2024 bulletin and 3 of 韶山市), its options, bad files, and `dashboard check`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_JSON
from zhuanban_city_json.source import CityJsonSource

from dashboard.contracts import ConfigError, FetchResult, SourceError, SourceSpec


def make(options: dict[str, Any], base: Path = SAMPLE_JSON.parent) -> CityJsonSource:
    spec = SourceSpec("湘潭市平台", "city_json", 600.0, options, base, key_prefix="sources[0]")
    return CityJsonSource(spec)


def fetch(source: CityJsonSource) -> FetchResult:
    return asyncio.run(source.fetch())


def write_export(path: Path, records: list[Any], **top: Any) -> Path:
    path.write_text(json.dumps({"tjjzrq": "2024-09-30", "sjlb": records, **top}, ensure_ascii=False), "utf-8")
    return path


def test_one_county_of_the_city_export_is_the_bulletin() -> None:
    result = fetch(make({"path": SAMPLE_JSON.name, "county": "湘乡市"}))
    assert len(result.items) == 45
    assert result.as_of is not None and result.as_of.isoformat() == "2024-09-30"
    item = next(i for i in result.items if i.id == "45")
    assert item.unit == "公安局交警大队"
    assert item.ratio == pytest.approx(0.32)
    assert item.target == 22
    # Item 23 has no 完成比例 (null): the ratio comes from 535 of 455.
    assert next(i for i in result.items if i.id == "23").ratio == pytest.approx(535 / 455)
    assert result.warnings == []


def test_the_whole_city_keeps_each_county_apart() -> None:
    result = fetch(make({"path": SAMPLE_JSON.name}))
    assert len(result.items) == 48
    ids = {i.id for i in result.items}
    assert {"湘乡市:45", "韶山市:1", "韶山市:3"} <= ids and "45" not in ids


def test_renamed_keys_and_fractions(tmp_path: Path) -> None:
    record = {"sxbh": 7, "sxmc": "新建村级养老服务站(个)", "qtdw": "民政局", "rws": "10", "wcl": 0.32}
    write_export(tmp_path / "city.json", [record])
    result = fetch(make({"path": "city.json", "fields": {"ratio": "wcl"}, "ratio": "fraction"}, tmp_path))
    assert [(i.id, i.ratio) for i in result.items] == [("7", pytest.approx(0.32))]


@pytest.mark.parametrize(
    ("options", "key", "hint"),
    [
        ({"path": "a.json", "countey": "湘乡市"}, "sources[0].countey", "county"),
        ({"path": "a.json", "ratio": "percentage"}, "sources[0].ratio", "percent 或 fraction"),
        ({"path": "a.json", "fields": {"nmae": "mc"}}, "sources[0].fields.nmae", "name"),
        ({"path": "a.json", "fields": {"name": ""}}, "sources[0].fields.name", "非空字符串"),
        ({"path": "a.json", "fields": "sxmc"}, "sources[0].fields", "ratio"),
        ({"path": "a.json", "as_of": "2024-13-01"}, "sources[0].as_of", "YYYY-MM-DD"),
        ({"path": "a.json", "county": ""}, "sources[0].county", "湘乡市"),
        ({}, "sources[0].path", "非空字符串"),
    ],
)
def test_a_bad_option_names_its_key(options: dict[str, Any], key: str, hint: str) -> None:
    with pytest.raises(ConfigError) as raised:
        make(options)
    assert raised.value.key == key
    assert hint in str(raised.value)


def test_bad_files_are_source_errors_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"sjlb": [\n  {"sxmc": "x",}\n]}', encoding="utf-8")
    with pytest.raises(SourceError, match=r"broken\.json: JSON 格式错误，第 2 行"):
        fetch(make({"path": "broken.json"}, tmp_path))
    (tmp_path / "nolist.json").write_text('{"tjjzrq": "2024-09-30"}', encoding="utf-8")
    with pytest.raises(SourceError, match="缺少记录列表 `sjlb`"):
        fetch(make({"path": "nolist.json"}, tmp_path))
    with pytest.raises(SourceError, match="文件不存在"):
        fetch(make({"path": "missing.json"}, tmp_path))
    with pytest.raises(SourceError, match="没有县市区为「雨湖区」的记录（文件中有：湘乡市、韶山市）"):
        fetch(make({"path": SAMPLE_JSON.name, "county": "雨湖区"}))


def test_a_record_that_is_not_an_object_is_a_warning(tmp_path: Path) -> None:
    good = {"sxbh": 1, "sxmc": "城区老旧小区改造(个)", "qtdw": "住房和城乡建设局", "wcbl": 75.0}
    write_export(tmp_path / "city.json", [good, "第二条坏了", {**good, "sxbh": 2, "wcbl": "九成"}])
    result = fetch(make({"path": "city.json"}, tmp_path))
    assert [i.id for i in result.items] == ["1", "2"]
    assert next(i for i in result.items if i.id == "2").ratio is None  # unreadable, not guessed
    messages = [(w.row, w.message) for w in result.warnings]
    # Rows are the records' places in `sjlb`, from 1.
    assert messages == [(2, "不是 JSON 对象，已跳过"), (3, "无法识别的完成比例「九成」")]
    assert next(i for i in result.items if i.id == "2").origin.endswith("city.json#sjlb:3")


def installed() -> bool:
    return any(ep.name == "city_json" for ep in entry_points(group="dashboard.plugins"))


@pytest.mark.skipif(not installed(), reason="插件未安装 plugin not installed: pip install -e . first")
def test_dashboard_check_reads_the_county_through_the_plugin(tmp_path: Path) -> None:
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'[[sources]]\nname = "湘潭市平台"\ntype = "city_json"\npath = {json.dumps(str(SAMPLE_JSON))}\n'
        'county = "湘乡市"\n',
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard", "check", "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["as_of"] == "2024-09-30" and report["items"] == 45
    assert report["by_status"] == {"done": 25, "on_track": 19, "lagging": 0, "severe": 1, "unknown": 0}
    assert [(b["id"], b["unit"]) for b in report["behind"]] == [("45", "公安局交警大队")]
