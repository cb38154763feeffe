"""A city's screens group by county (issue 16): two county bulletins (the sample as 湘乡市,
the sample less items 40–42 as 韶山市) in one TUI. The units screen's `g` shows one row
per county; Enter opens that county's items; the items table gains a 县市区 column that
`/` matches. Without counties nothing changes (tests/test_snapshots.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import SAMPLE_COUNTS, SAMPLE_CSV, run_cli, sample_rows, write_csv
from pytest_httpserver import HTTPServer

from dashboard.config import load_config
from dashboard.core.units import summarise_units
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.items import ItemListScreen
from dashboard.ui.screens.units import CountiesScreen, summarise_counties
from dashboard.ui.widgets.item_table import ItemTable
from dashboard.ui.widgets.table import VirtualTable
from dashboard.views import counties_view, items_view, units_view

REMOVED = ("40", "41", "42")


def shaoshan_csv(path: Path) -> tuple[Path, int]:
    """The sample less items 40–42, and how many of its items are done (computed here:
    the sample's 25 less the removed ones at 100%)."""
    header, *rows = sample_rows()
    removed_done = sum(1 for r in rows if r[0] in REMOVED and r[6].strip().startswith("100"))
    return write_csv(path, [header, *(r for r in rows if r[0] not in REMOVED)]), (
        SAMPLE_COUNTS["done"] - removed_done
    )


def two_county_config(folder: Path) -> tuple[Path, int]:
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, done = shaoshan_csv(folder / "shaoshan.csv")
    sources = "".join(
        f'[[sources]]\nname = "{county}通报"\ntype = "csv"\npath = {json.dumps(str(path))}\n'
        f'county = "{county}"\n'
        for county, path in (("湘乡市", SAMPLE_CSV), ("韶山市", csv_path))
    )
    config = folder / "dashboard.toml"
    config.write_text(f'as_of = "2024-09-30"\n{sources}', encoding="utf-8")
    return config, done


async def loaded(app: DashboardApp, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def rows(table: VirtualTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_the_county_view_counts_each_county_and_opens_its_items(tmp_path: Path) -> None:
    config, shaoshan_done = two_county_config(tmp_path)
    app = make_app(load_config(config))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("u", "g")
        await loaded(app, pilot)
        assert isinstance(app.screen, CountiesScreen)
        table = app.screen.query_one("#counties", VirtualTable)
        by_county = {r[0]: r for r in rows(table)}
        assert set(by_county) == {"湘乡市", "韶山市"}
        # 县市区, 项目数, 已完成, 正常, 滞后, 严重滞后, 完成率, worst, 预警
        assert by_county["湘乡市"][1:3] == ["45", str(SAMPLE_COUNTS["done"])]
        assert by_county["韶山市"][1:3] == ["42", str(shaoshan_done)]
        assert by_county["湘乡市"][5] == by_county["韶山市"][5] == "1"  # item 45 in each
        assert by_county["韶山市"][6] == f"{shaoshan_done / 42 * 100:.0f}%"
        assert "32.0%" in by_county["湘乡市"][7]  # the worst item, 公安局交警大队's
        assert by_county["湘乡市"][8] == by_county["韶山市"][8] == "1"  # severe:45's open alert in each
        first = rows(table)[0][0]
        await pilot.press("enter")
        await loaded(app, pilot)
        assert isinstance(app.screen, ItemListScreen)
        listed = app.screen.query_one("#items", ItemTable)
        assert listed.row_count == (45 if first == "湘乡市" else 42)
        assert {r[0] for r in rows(listed)} == {first}  # the 县市区 column, first


async def test_the_items_table_shows_and_filters_by_county(tmp_path: Path) -> None:
    config, _ = two_county_config(tmp_path)
    app = make_app(load_config(config))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        table = app.screen.query_one("#items", ItemTable)
        assert table.columns[0].label == "县市区"
        assert table.row_count == 87
        await pilot.press("slash", *"韶山")
        await pilot.pause()
        assert table.row_count == 42 and {r[0] for r in rows(table)} == {"韶山市"}
        snap = app.snapshot
        assert snap is not None
        view = items_view(snap.evaluated, "items")
        assert [c.name for c in view.columns][-1] == "县市区"
        assert sorted({str(r[-1]) for r in view.rows}) == ["湘乡市", "韶山市"]
        units = units_view(summarise_units(snap.evaluated), "units")
        assert units.columns[-1].name == "县市区"
        police = next(r for r in units.rows if r[0] == "公安局交警大队")
        assert police[1] == 2 and police[-1] == "湘乡市、韶山市"  # one unit of each county
        counties = counties_view(summarise_counties(snap.evaluated), "counties")
        assert [c.name for c in counties.columns] == ["县市区", *(c.name for c in units.columns[1:-1])]
        assert sorted((str(r[0]), r[1]) for r in counties.rows) == [("湘乡市", 45), ("韶山市", 42)]


async def test_without_counties_g_changes_nothing_and_the_items_table_has_no_county(
    tmp_path: Path,
) -> None:
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'as_of = "2024-09-30"\n[[sources]]\nname = "通报"\ntype = "csv"\npath = {json.dumps(str(SAMPLE_CSV))}\n',
        encoding="utf-8",
    )
    app = make_app(load_config(config))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert "县市区" not in [c.label for c in app.screen.query_one("#items", ItemTable).columns]
        await pilot.press("u", "g")
        await loaded(app, pilot)
        assert not isinstance(app.screen, CountiesScreen)
        assert app.screen.query_one("#units", VirtualTable).row_count > 0
        snap = app.snapshot
        assert snap is not None
        assert "县市区" not in [c.name for c in items_view(snap.evaluated, "items").columns]
        assert "县市区" not in [c.name for c in units_view(summarise_units(snap.evaluated), "u").columns]


def county_robot_config(folder: Path, url: str, group_by: str, match: str = "") -> Path:
    config, _ = two_county_config(folder)
    routes = f'[[routes]]\nsinks = ["robot"]\ngroup_by = {group_by}\n{match}'
    sink = f'[[sinks]]\nname = "robot"\ntype = "webhook"\nurl = "{url}"\nretries = 0\n'
    text = config.read_text(encoding="utf-8").replace("[[sources]]", routes + "[[sources]]", 1)
    config.write_text(text + sink, encoding="utf-8")
    return config


def sent(server: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def test_a_route_grouping_by_county_and_unit_sends_each_county_its_own_message(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Item 45 (公安局交警大队, 32%) is severe in both counties: by unit alone, one message of
    two events; by county and unit, one message per county."""
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    by_unit = county_robot_config(tmp_path / "unit", httpserver.url_for("/hook"), '["unit"]')
    done = run_cli("check", "--json", "--config", str(by_unit))
    assert done.returncode == 0, done.stderr
    (one,) = sent(httpserver)
    assert one["kind"] == "group" and len(one["ids"]) == 2
    httpserver.clear_log()

    apart = county_robot_config(tmp_path / "county", httpserver.url_for("/hook"), '["county", "unit"]')
    done = run_cli("check", "--json", "--config", str(apart))
    assert done.returncode == 0, done.stderr
    bodies = sent(httpserver)
    assert len(bodies) == 2 and all(b.get("kind") != "group" for b in bodies)
    assert sorted(str(b["key"]) for b in bodies) == ["severe:45", "severe:韶山市通报:45"]
    assert {str(b["unit"]) for b in bodies} == {"公安局交警大队"}


def test_a_route_may_match_a_county(tmp_path: Path, httpserver: HTTPServer) -> None:
    """`county = ["韶山市"]` takes 韶山市's event to the robot only; 湘乡市's, matched by no
    route, goes to every sink (the robot too): so a second route names 湘乡市 to a file."""
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    config = county_robot_config(tmp_path, httpserver.url_for("/hook"), "[]", 'county = ["韶山市"]\n')
    file_sink = f'[[sinks]]\nname = "file"\ntype = "jsonl"\npath = {json.dumps(str(tmp_path / "a.jsonl"))}\n'
    text = config.read_text(encoding="utf-8").replace(
        "[[sources]]", '[[routes]]\nsinks = ["file"]\ncounty = "湘乡市"\n[[sources]]', 1
    )
    config.write_text(text + file_sink, encoding="utf-8")
    done = run_cli("check", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert [str(b["key"]) for b in sent(httpserver)] == ["severe:韶山市通报:45"]
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["severe:45"]
