"""Chinese text sorts by pinyin, as Excel and WPS sort it for these users: 安… before
北… before 公安局…, not by code point; and the table sorts its text columns so."""

from __future__ import annotations

from typing import Any

from conftest import DEFAULT_CONFIG

from dashboard.config import load_config
from dashboard.core.collate import collate_key, collate_keys
from dashboard.ui.app import make_app
from dashboard.ui.widgets.table import VirtualTable

# The sample's 15 lead units in pinyin order (can, fu, gong, jiao, jiao(yu), min, ...).
SAMPLE_UNITS_PINYIN = [
    "残联",
    "妇联",
    "公安局交警大队",
    "交通运输局",
    "教育局",
    "民政局",
    "农业农村局",
    "人社局",
    "数据局",
    "水利局",
    "司法局",
    "卫生健康局",
    "文旅广体局",
    "应急管理局",
    "住建局",
]


def test_pinyin_order_not_code_points() -> None:
    words = ["公安局", "北京", "安全", "住建局", "阿里", "昂扬", "人社局"]
    assert sorted(words) == ["人社局", "住建局", "公安局", "北京", "安全", "昂扬", "阿里"]  # code points
    assert sorted(words, key=collate_key) == ["阿里", "安全", "昂扬", "北京", "公安局", "人社局", "住建局"]


def test_tones_syllables_latin_and_case() -> None:
    # 妈 ma1 < 麻 ma2 < 马 ma3 < 骂 ma4; 安 an1 < 昂 ang2 (a syllable never runs into the next).
    assert sorted(["骂", "马", "麻", "妈"], key=collate_key) == ["妈", "麻", "马", "骂"]
    assert sorted(["昂", "安"], key=collate_key) == ["安", "昂"]
    assert sorted(["安徽", "安"], key=collate_key) == ["安", "安徽"]
    # Digits, then Latin letters (any case), then Chinese, as Excel puts them.
    assert sorted(["数据局", "b组", "A组", "12号", "a组"], key=collate_key) == [
        "12号",
        "A组",
        "a组",
        "b组",
        "数据局",
    ]


def test_collate_keys_once_per_distinct_string_and_leaves_numbers_alone() -> None:
    keys = ["民政局", "残联", "民政局", "妇联"] * 3
    collated = collate_keys(keys)
    assert sorted(range(len(keys)), key=collated.__getitem__)[:3] == [1, 5, 9]  # the 残联 rows
    assert collate_keys([3, 1, 2]) == [3, 1, 2]
    assert collate_keys([(1.0, "a")]) == [(1.0, "a")]


async def test_sorting_the_unit_column_puts_the_sample_units_in_pinyin_order() -> None:
    app = make_app(load_config(DEFAULT_CONFIG))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("u")
        await pilot.pause()
        table: VirtualTable[Any] = app.screen.query_one("#units", VirtualTable)
        await pilot.press("s")  # column 0, 牵头单位, ascending
        assert table.sort_column == 0 and not table.sort_reverse
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == SAMPLE_UNITS_PINYIN
        await pilot.press("S")
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == SAMPLE_UNITS_PINYIN[::-1]
        # And the items' 牵头单位 column: 45 items, 残联's first, 住建局's last.
        await pilot.press("o")
        await pilot.pause()
        items: VirtualTable[Any] = app.screen.query_one("#items", VirtualTable)
        await pilot.press("s", "s", "s")
        assert items.sort_column == 2 and items.row_count == 45
        units = [str(items.get_row_at(i)[2]) for i in range(45)]
        assert units[0] == "残联" and units[-1] == "住建局"
        assert list(dict.fromkeys(units)) == SAMPLE_UNITS_PINYIN
