"""Lead-unit names written several ways (issue 15): which names look like one unit,
the `[units]` alias table, and that with it the variants are one unit everywhere."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from conftest import SAMPLE_CSV, sample_rows, write_config, write_csv

from dashboard.config import load_config
from dashboard.contracts import ConfigError
from dashboard.core.aliases import ORIGINAL_UNIT, find_variants, likely_same, unit_key
from dashboard.core.units import summarise_units
from dashboard.runtime import Runtime

RENSHE_FULL = "人力资源和社会保障局"
RENSHE_COUNTY = "湘乡市人力资源和社会保障局"


def sample_units() -> list[str]:
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as f:
        return [row["牵头单位"] for row in csv.DictReader(f)]


def three_renshe_rows() -> list[list[str]]:
    """The sample with item 8 under 人力资源和社会保障局 and item 26 under
    湘乡市人力资源和社会保障局: 人社局 keeps 5 of its 7 items."""
    rows = sample_rows()
    for row in rows[1:]:
        if row[0] == "8":
            row[3] = RENSHE_FULL
        if row[0] == "26":
            row[3] = RENSHE_COUNTY
    return rows


def test_the_sample_units_are_fifteen_and_none_is_proposed_as_a_variant() -> None:
    units = sample_units()
    assert len(set(units)) == 15
    assert find_variants(units) == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("人社局", RENSHE_FULL),
        ("人社局", RENSHE_COUNTY),
        (RENSHE_FULL, RENSHE_COUNTY),
        ("交警大队", "公安局交警大队"),
        ("卫健局", "卫生健康局"),
        ("住建局", "住房和城乡建设局"),
        ("民政", "民政局"),
        ("人社局", "人 社 局"),
        ("ＡＢ局", "AB局"),  # full-width letters
    ],
)
def test_variants_of_one_unit_are_recognised(a: str, b: str) -> None:
    assert likely_same(a, b) and likely_same(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("城市管理局", "管理局"),  # 城市 is not a place prefix when 管理局 is no unit here
        ("公安局", "公安局交警大队"),  # a unit and its brigade are two units
        ("民政局", "数据局"),
        ("交通运输局", "公安局交警大队"),
        ("应急管理局", "农业农村局"),
        ("第一中学", "第十一中学"),  # numbers are never abbreviated
    ],
)
def test_different_units_are_not_proposed(a: str, b: str) -> None:
    assert not likely_same(a, b)


def test_no_pair_of_sample_units_looks_alike() -> None:
    units = sorted(set(sample_units()))
    pairs = [(a, b) for i, a in enumerate(units) for b in units[i + 1 :] if likely_same(a, b)]
    assert pairs == []


def test_three_ways_of_writing_renshe_are_one_proposal_with_alias_lines() -> None:
    rows = three_renshe_rows()
    groups = find_variants(r[3] for r in rows[1:])
    assert len(groups) == 1
    group = groups[0]
    assert group.canonical == "人社局"  # the name most items use (5 of 7)
    assert group.names == {"人社局": 5, RENSHE_FULL: 1, RENSHE_COUNTY: 1}
    assert group.items == 7
    assert group.alias_lines() == [f'"{RENSHE_FULL}" = "人社局"', f'"{RENSHE_COUNTY}" = "人社局"']


def test_unit_key_ignores_width_and_spaces() -> None:
    assert unit_key(" 人社局\u3000") == unit_key("人社局") == "人社局"


def _alias_config(tmp_path: Path, extra: str) -> Path:
    data = write_csv(tmp_path / "data.csv", three_renshe_rows())
    return write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(data)}], extra)


ALIAS_TABLE = f"""[units.aliases]
"{RENSHE_FULL}" = "人社局"
"{RENSHE_COUNTY}" = "人社局"
"""


def _units(config: Path) -> dict[str, int]:
    runtime = Runtime(load_config(config))
    try:
        snap = asyncio.run(runtime.cycle(alerts=False))
    finally:
        runtime.close()
    return {u.unit: u.items for u in summarise_units(snap.evaluated)}


def test_without_aliases_the_variants_are_three_units(tmp_path: Path) -> None:
    units = _units(_alias_config(tmp_path, ""))
    assert len(units) == 17
    assert (units["人社局"], units[RENSHE_FULL], units[RENSHE_COUNTY]) == (5, 1, 1)


def test_with_the_alias_table_the_variants_are_one_unit_of_seven_items(tmp_path: Path) -> None:
    units = _units(_alias_config(tmp_path, ALIAS_TABLE))
    assert len(units) == 15
    assert units["人社局"] == 7
    assert RENSHE_FULL not in units and RENSHE_COUNTY not in units
    assert sum(units.values()) == 45


def test_groups_form_and_the_written_name_kept_for_drill_down(tmp_path: Path) -> None:
    config = _alias_config(tmp_path, f'[units]\ngroups = [["人社局", "{RENSHE_FULL}", "{RENSHE_COUNTY}"]]\n')
    runtime = Runtime(load_config(config))
    try:
        snap = asyncio.run(runtime.cycle(alerts=False))
    finally:
        runtime.close()
    item8 = next(e.item for e in snap.evaluated if e.item.id == "8")
    assert item8.unit == "人社局" and item8.extra[ORIGINAL_UNIT] == RENSHE_FULL
    assert sum(1 for e in snap.evaluated if e.item.unit == "人社局") == 7


def test_one_name_mapped_to_two_units_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    table = '[units]\ngroups = [["人社局", "人力资源和社会保障局"], ["民政局", "人力资源和社会保障局 "]]\n'
    with pytest.raises(ConfigError) as exc:
        load_config(_alias_config(tmp_path, table))
    assert exc.value.key == "units.groups[1]"
    assert "人社局" in str(exc.value) and "民政局" in str(exc.value)


def test_alias_and_group_disagreeing_is_a_config_error(tmp_path: Path) -> None:
    table = f'[units]\ngroups = [["民政局", "{RENSHE_FULL}"]]\n[units.aliases]\n"{RENSHE_FULL}" = "人社局"\n'
    with pytest.raises(ConfigError) as exc:
        load_config(_alias_config(tmp_path, table))
    assert exc.value.key == "units.groups[0]"  # the aliases are read first


def test_a_canonical_name_that_is_itself_an_alias_is_refused(tmp_path: Path) -> None:
    table = '[units.aliases]\n"人社" = "人社局"\n"人社局" = "人力资源和社会保障局"\n'
    with pytest.raises(ConfigError) as exc:
        load_config(_alias_config(tmp_path, table))
    assert exc.value.key == 'units.aliases."人社"'


def test_unknown_units_key_suggests_the_nearest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(_alias_config(tmp_path, "[units]\nalias = {}\n"))
    assert exc.value.key == "units.alias" and "aliases" in str(exc.value)
