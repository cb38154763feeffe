"""The lead-unit league table (红黑榜, issue 15): the documented score and its parts,
the export, and the units screen's league view."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from conftest import DEFAULT_CONFIG, run_cli

from dashboard.config import load_config
from dashboard.core.items import Evaluated, Item, Status
from dashboard.core.league import BLACK, RED, league_table, missing_updates
from dashboard.ui.app import make_app
from dashboard.ui.widgets.table import VirtualTable

SEPT = date(2024, 9, 30)  # expected progress 75%


def ev(unit: str, ratio: float, status: Status, monthly: dict[int, int] | None = None) -> Evaluated:
    item = Item(
        id=f"{unit}-{ratio}",
        name=f"{unit}的项目",
        unit=unit,
        category="省实事" if monthly else "市实事",
        ratio=ratio,
        monthly_updates=monthly or {},
    )
    return Evaluated(item, status, 0.75, 0.75 - ratio)


def test_the_score_is_made_of_its_documented_parts() -> None:
    rows = league_table(
        [
            ev("甲局", 1.0, Status.DONE),
            ev("甲局", 0.8, Status.ON_TRACK),
            ev("乙局", 0.55, Status.LAGGING),  # 20 points behind
            ev("乙局", 1.0, Status.DONE),
            ev("丙局", 0.75, Status.ON_TRACK, {m: 1 for m in range(3, 13)} | {4: 0, 6: 0}),
        ],
        SEPT,
        {"乙局": 1},
    )
    by_unit = {r.unit: r for r in rows}
    # 甲局: 50×1/2 + 50×2/2 − 0 = 75
    assert by_unit["甲局"].score == 75.0 and by_unit["甲局"].behind_points == 0.0
    # 乙局: 50×1/2 + 50×1/2 − 20/2 points − 10×1 overdue = 30
    assert by_unit["乙局"].behind_points == 10.0 and by_unit["乙局"].overdue_cases == 1
    assert by_unit["乙局"].score == 30.0
    # 丙局: 0 done, on schedule, April and June without an update: 50 − 2×2 = 46
    assert by_unit["丙局"].missing_updates == 2 and by_unit["丙局"].score == 46.0
    assert [r.unit for r in rows] == ["甲局", "丙局", "乙局"]
    assert [r.rank for r in rows] == [1, 2, 3]
    assert by_unit["甲局"].board == RED and by_unit["乙局"].board == BLACK
    assert by_unit["乙局"].parts_text() == "50×50% + 50×50% − 10.0 − 10×1 − 2×0.0"


def test_equal_scores_share_a_rank_and_the_red_list_takes_the_tie() -> None:
    rows = league_table(
        [ev(u, 1.0, Status.DONE) for u in ("甲局", "乙局", "丙局", "丁局")]
        + [ev("戊局", 0.3, Status.SEVERE)],
        SEPT,
    )
    assert [r.rank for r in rows] == [1, 1, 1, 1, 5]
    assert [r.board for r in rows] == [RED, RED, RED, RED, BLACK]


def test_missing_updates_count_march_to_the_last_full_month() -> None:
    item = Item("1", "x", category="省实事", monthly_updates={m: 0 for m in range(3, 13)})
    assert missing_updates(item, date(2024, 9, 30)) == 7  # March..September
    assert missing_updates(item, date(2024, 9, 29)) == 6  # September is not over
    assert missing_updates(Item("2", "y", category="市实事", monthly_updates={3: 0}), SEPT) == 0


def league_rows() -> list[dict[str, Any]]:
    done = run_cli(
        "export", "--view", "league", "--format", "json", "-o", "-", "--config", str(DEFAULT_CONFIG)
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    return body["rows"] if isinstance(body, dict) else body  # type: ignore[no-any-return]


def test_export_league_on_the_sample_ends_with_item_45s_unit() -> None:
    rows = league_rows()
    assert len(rows) == 15  # the sample's 15 lead units
    last = rows[-1]
    assert last["unit"] == "公安局交警大队" and last["board"] == "黑榜"
    assert last["behind_points"] == 43.0  # 75% expected − 32%
    assert last["score"] == -43.0 and last["rank"] == 15
    assert "− 43.0" in last["parts"]
    assert sum(r["items"] for r in rows) == 45 and sum(r["done"] for r in rows) == 25
    assert all(rows[i]["score"] >= rows[i + 1]["score"] for i in range(len(rows) - 1))


async def test_units_screen_l_shows_the_league_and_back() -> None:
    app = make_app(load_config(DEFAULT_CONFIG))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        table = app.screen.query_one("#league", VirtualTable)
        assert table.row_count == 15
        last = [str(c) for c in table.get_row_at(14)]
        assert "公安局交警大队" in last and "黑榜" in last and "-43.0" in last
        await pilot.press("l")
        await pilot.pause()
        assert app.screen.query_one("#units", VirtualTable).display


def test_an_overdue_case_in_the_store_costs_its_unit_ten_points(tmp_path: Path) -> None:
    from conftest import SAMPLE_CSV, write_config

    def at(as_of: str) -> Path:
        return write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}], "", as_of)

    # 督办 at 10-14 opens item 45's case (deadline 10-24); at 10-25 it is overdue.
    for as_of in ("2024-09-30", "2024-10-07", "2024-10-14", "2024-10-25"):
        done = run_cli("check", "--config", str(at(as_of)))
        assert done.returncode == 0, done.stderr
    cases = run_cli("cases", "--overdue", "--json", "--config", str(at("2024-10-25")))
    assert [c["unit"] for c in json.loads(cases.stdout)["cases"]] == ["公安局交警大队"]
    done = run_cli(
        "export", "--view", "league", "--format", "json", "-o", "-", "--config", str(at("2024-10-25"))
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    rows = body["rows"] if isinstance(body, dict) else body
    last = rows[-1]
    assert last["unit"] == "公安局交警大队" and last["overdue_cases"] == 1
    assert last["score"] == round(-last["behind_points"] - 10, 1)  # 0 done, behind, one overdue case
    assert "10×1" in last["parts"]
    assert all(r["overdue_cases"] == 0 for r in rows[:-1])
