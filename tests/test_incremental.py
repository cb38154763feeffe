"""A refresh costs what changed (issue 8): unchanged items keep their objects from the
fetch through evaluation, the store writes only the changed rows, and the table
repaints only changed lines and builds a long table's sorted or filtered view in a
worker. Real files, a real SQLite store and the real app; no timings here."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from conftest import SAMPLE_COUNTS, sample_rows, write_csv
from test_tui_table import TableApp, generated

from dashboard.config import load_config
from dashboard.core.items import Item
from dashboard.core.merge import carry_over
from dashboard.runtime import Runtime
from dashboard.store import Store, item_to_dict
from dashboard.textfiles import iter_csv_rows
from dashboard.ui.widgets.item_table import ItemTable

ITEM45 = "重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)"


def with_ratio(rows: list[list[str]], name: str, ratio: str) -> list[list[str]]:
    out = [list(r) for r in rows]
    row = next(r for r in out if r[2] == name)
    row[5], row[6] = "", ratio
    return out


async def test_a_refresh_evaluates_only_the_item_that_changed(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    runtime = Runtime(load_config(config_writer([{"name": "通报", "type": "csv", "path": data.name}])))
    first = await runtime.cycle()
    assert first.changed is None and first.by_status == SAMPLE_COUNTS  # the first: all new

    write_csv(data, with_ratio(sample_rows(), ITEM45, "80.0%"))
    second = await runtime.cycle()
    assert second.changed == {"45"}
    assert second.by_status == {**SAMPLE_COUNTS, "severe": 0, "on_track": 20}
    before = {e.item.id: e for e in first.evaluated}
    kept = [e for e in second.evaluated if e is before[e.item.id]]
    assert len(kept) == 44  # the same objects: nothing downstream needs to look at them again
    assert next(e for e in second.evaluated if e.item.id == "45").item.ratio == 0.8

    unchanged = await runtime.cycle()  # the file as it was: nothing new
    assert unchanged.changed == frozenset()
    assert all(a is b for a, b in zip(unchanged.evaluated, second.evaluated, strict=True))

    write_csv(data, sample_rows()[:-1])  # item 45 (the last row) removed
    third = await runtime.cycle()
    assert third.changed == {"45"} and len(third.evaluated) == 44
    runtime.close()


def test_the_store_writes_only_the_changed_items_and_restores_them_in_order(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    items = [Item(id=str(n), name=f"项目{n}", unit="民政局", ratio=n / 100, source="s") for n in range(1, 46)]

    def save(batch: list[Item]) -> int:
        """Rows the save changed in SQLite (source state + item rows)."""
        before = store.conn.total_changes
        store.save_source(
            "s", spec_key="k", ok=True, error="", last_attempt=None, last_success=None, items=batch
        )
        return store.conn.total_changes - before

    assert save(items) == 1 + 45
    fetched = [
        Item(id=str(n), name=f"项目{n}", unit="民政局", ratio=n / 100, source="s") for n in range(1, 46)
    ]
    fetched[44] = Item(id="45", name="项目45", unit="民政局", ratio=0.9, source="s")
    refreshed, fresh = carry_over(items, fetched)  # as the runtime does after each fetch
    assert fresh == 1 and refreshed[0] is items[0]
    assert save(refreshed) == 1 + 1
    assert save(refreshed[:40]) == 1 + 5  # five rows gone: deleted, nothing rewritten
    store.close()

    again = Store(tmp_path / "s.sqlite3")  # a restart
    assert again.load_sources()["s"].items == refreshed[:40]
    again.close()


def test_items_stored_as_one_document_by_the_previous_version_are_restored(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    old = [Item(id="1", name="项目1", ratio=0.5, source="s", extra={"备注": "x"})]
    store.conn.execute(
        "INSERT INTO source_state(name, spec_key, ok, last_success, item_count, items)"
        " VALUES ('s', 'k', 1, ?, 1, ?)",
        (datetime(2024, 9, 30).isoformat(), json.dumps([item_to_dict(i) for i in old], ensure_ascii=False)),
    )
    assert store.load_sources()["s"].items == old
    store.close()


@pytest.mark.parametrize(
    "text",
    [
        '序号,项目名称\r\n1,"两行\r\n的名称"\r\n2,b\r\n',  # CRLF, a quoted line break
        "序号,项目名称\n1,a\n2,b",  # LF, no final line end
        "序号,项目名称\r1,a\r2,b\r",  # old Mac CR line ends
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_rows_are_read_from_the_file_as_the_csv_module_reads_them(
    tmp_path: Path, text: str, encoding: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    assert list(iter_csv_rows(path)) == list(csv.reader(io.StringIO(text, newline="")))


async def test_a_long_filtered_table_gets_its_new_view_from_a_worker() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one(ItemTable)
        table.set_rows(generated(20_000))
        table.set_filter("data局")
        assert table.row_count == 4_000
        table.move_cursor_to_key("12")
        fresh = generated(20_000, shift=0.0001)
        table.set_rows(fresh)
        assert table.rows is not fresh  # still the old view: the new one is built in a worker
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert table.rows is fresh and table.row_count == 4_000
        assert table.cursor_key == "12"
        assert all(table.view_rows[i].item.unit == "Data局 ABC" for i in range(0, 4_000, 97))


async def test_new_rows_repaint_only_the_changed_lines_on_screen() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one(ItemTable)
        rows = generated(1_000)
        table.set_rows(rows)
        await pilot.pause()
        drawn = {key: strip for key, (_row, _sig, strip) in table._strips.items()}
        changed = list(rows)
        changed[3] = replace(rows[3], item=replace(rows[3].item, ratio=0.123))  # one visible row changed
        table.set_rows(changed)
        await pilot.pause()
        again = {key: strip for key, (_row, _sig, strip) in table._strips.items()}
        redrawn = {key for key in drawn if again.get(key) is not drawn[key]}
        assert redrawn == {changed[3].item.id}  # the other lines on screen are the strips drawn before
        assert "12.3%" in str(table.get_row_at(3)[5])


async def test_many_sources_are_shown_and_stored_while_writes_wait_for_the_screen(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    """Store writes wait until the data is on screen; waiting must not hold the worker
    threads that the fetches and the evaluation need (more sources than threads)."""
    from dashboard.ui.app import make_app

    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    names = [f"通报{n}" for n in range(40)]
    cfg = config_writer([{"name": name, "type": "csv", "path": data.name} for name in names])
    app = make_app(load_config(cfg))
    async with app.run_test(size=(120, 40)) as pilot:
        async with asyncio.timeout(30):
            while app.snapshot is None or len(app.snapshot.evaluated) != 45:
                await pilot.pause(0.05)
            await app.runtime.flush()
        stored = app.runtime.store.load_sources()
        assert sorted(stored) == sorted(names) and all(len(s.items) == 45 for s in stored.values())


async def test_per_item_alert_rules_check_only_changed_items_and_agree_with_a_full_check(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    from conftest import SAMPLE_MST_XLSX

    from dashboard.alerting import AlertEngine, now_local

    data = write_csv(tmp_path / "bulletin.csv", sample_rows())
    cfg = config_writer(
        [
            {"name": "通报", "type": "csv", "path": data.name},
            {"name": "码上通", "type": "mashangtong", "path": str(SAMPLE_MST_XLSX)},
        ]
    )
    runtime = Runtime(load_config(cfg))
    first = await runtime.cycle()
    assert {e.key for e in first.fired} >= {"severe:45", "acceptance_behind:26", "comments_unanswered:27"}

    rows = with_ratio(sample_rows(), ITEM45, "80.0%")  # severe → on track
    rows = with_ratio(rows, rows[3][2], "10.0%")  # an item done or on track → severe
    write_csv(data, rows)
    second = await runtime.cycle()
    assert second.serial == first.serial + 1 and second.changed == {"45", rows[3][0]}
    assert runtime.alerts._item_conditions["severe"][0] == second.serial  # checked from the cache
    assert "severe:45" in {e.key for e in second.resolved}
    assert f"severe:{rows[3][0]}" in {e.key for e in second.fired}

    # The same conditions as a fresh engine's check of every item.
    ctx = runtime.alerts.context(second, now_local())
    incremental, _ = runtime.alerts.conditions(ctx)
    full, _ = AlertEngine(runtime.config, runtime.plugins, runtime.store).conditions(ctx)
    assert {k: c.message for k, c in incremental.items()} == {k: c.message for k, c in full.items()}
    runtime.close()
