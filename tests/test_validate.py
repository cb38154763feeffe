"""The FetchResult boundary (issue 12): whatever a plugin returns, the store is never
poisoned: bad fields become unknown with a warning naming source, row and field, items
without id or name and entries that are not Items are dropped with a warning."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from conftest import SAMPLE_CSV, run_cli

from dashboard.core.items import NOTHING, DataWarning, Item
from dashboard.core.validate import clean_result_parts

POISON_PLUGIN = """
from datetime import date
from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceType
from dashboard.core.items import Item

class Poison:
    def __init__(self, spec):
        self.spec = spec

    async def fetch(self):
        return FetchResult(
            [
                Item(None, None),
                Item("p1", "比例是文字", ratio="fifty", origin="poison.csv:7"),
                Item("p2", "比例是NaN", ratio=float("nan"), target=float("inf"), actual=10**400),
                Item("p3", "映射是乱的", monthly_updates=[1, 2], disclosures={"政策文件": "多"},
                     extra={1: object()}, ratings=-3, as_of="2024-09-30"),
                Item("p4", "\\x1b]0;pwned\\x07正常项目\\x1b[2J", ratio=0.8, target=10.0, actual=8.0),
                "not an item",
            ],
            ["a plain string warning", 42],
            date(2024, 9, 30),
        )

@hookimpl
def dashboard_source_types():
    return [SourceType("poison", Poison)]
"""


def poison_config(tmp_path: Path, config_writer: Callable[..., Path], with_poison: bool = True) -> Path:
    (tmp_path / "lp").mkdir(exist_ok=True)
    (tmp_path / "lp" / "poison.py").write_text(POISON_PLUGIN, encoding="utf-8")
    sources: list[dict[str, object]] = [{"name": "sample", "type": "csv", "path": str(SAMPLE_CSV)}]
    if with_poison:
        sources.append({"name": "poison", "type": "poison"})
    return config_writer(sources, extra='plugins_dir = "lp"')


def test_poisoning_plugin_is_cleaned_and_the_next_run_starts(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    cfg = poison_config(tmp_path, config_writer)
    first = run_cli("check", "--json", "--config", str(cfg))
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    poison = next(s for s in report["sources"] if s["name"] == "poison")
    assert poison["ok"] is True and poison["items"] == 4  # p1..p4; Item(None, None) and the str dropped
    assert report["items"] == 45 + 4
    text = "\n".join(poison["warnings"])
    assert "缺少编号" in text and "不是 Item" in text
    assert "poison.csv 第7行 列「ratio」" in text  # row and field from item.origin
    assert "列「monthly_updates」" in text and "列「ratings」" in text and "列「as_of」" in text
    assert "a plain string warning" in text and "1 条警告不是 DataWarning" in text
    assert "\x1b" not in first.stdout and "\x07" not in first.stdout
    # The store holds only clean rows: a second run (with and without the plugin) starts.
    again = run_cli("check", "--json", "--config", str(cfg))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["items"] == 49
    without = poison_config(tmp_path, config_writer, with_poison=False)
    third = run_cli("check", "--json", "--config", str(without))
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["by_status"]["severe"] == 1


def test_bad_fields_become_unknown_with_warnings() -> None:
    items = [
        Item("1", "文字比例", ratio="fifty", origin="f.csv:3"),  # type: ignore[arg-type]
        Item("2", "NaN", ratio=math.nan, target=math.inf, actual=10**400),  # type: ignore[arg-type]
        Item("3", "负比例", ratio=-0.05, acceptance_ratio=101.0, satisfaction=True),  # type: ignore[arg-type]
        Item("4", "类型", category=5, target_is_rate="yes", as_of=datetime(2024, 9, 30, 8)),  # type: ignore[arg-type]
        Item("  ", "空编号"),
        Item("5", "   "),
    ]
    out, warnings, as_of = clean_result_parts(items, [], "2024-09-30", "src")
    assert [i.id for i in out] == ["1", "2", "3", "4"]
    assert [i.ratio for i in out] == [None, None, None, None]
    assert out[1].target is None and out[1].actual is None
    assert out[2].acceptance_ratio is None and out[2].satisfaction is None
    assert out[3].category == "" and out[3].target_is_rate is False and out[3].as_of == date(2024, 9, 30)
    assert as_of is None  # a string is not a date
    fields = {(w.row, w.column) for w in warnings}
    assert (3, "ratio") in fields and (None, "target") in fields and (None, "actual") in fields
    assert (None, "id") in fields and (None, "name") in fields and (None, "as_of") in fields
    assert all(w.source == "src" for w in warnings)


def test_well_typed_items_pass_unchanged() -> None:
    item = Item("45", "重点治理", "省级", "公安局交警大队", "22", 22.0, False, "7", 7.0, 0.32, False, "s")
    item.monthly_updates = {3: 1, 9: 0}
    item.extra = {"备注": "无"}
    out, warnings, _ = clean_result_parts([item], [DataWarning("s", "ok")], None, "s")
    assert out == [item] and out[0] is item and warnings == [DataWarning("s", "ok")]
    assert out[0].disclosures == {} and out[0].field_sources == {}
    assert NOTHING == {}


def test_control_characters_are_stripped_from_every_string() -> None:
    item = Item("\x1b[31m7", "名称\x1b]0;pwned\x07\u202e", unit="单位\x85", extra={"\x1b": "值\x9b2J"})
    warning = DataWarning("s", "消息\x1b[2J", "路径\x07")
    out, warnings, _ = clean_result_parts([item], [warning], None, "s")
    assert out[0].id == "[31m7" and out[0].name == "名称]0;pwned" and out[0].unit == "单位"
    assert out[0].extra == {"": "值2J"}
    assert warnings[0].message == "消息[2J" and warnings[0].location == "路径"
