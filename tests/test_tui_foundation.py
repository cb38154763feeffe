"""The first screen, driven through Textual's pilot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import DEFAULT_CONFIG, SAMPLE_CSV

from dashboard.config import load_config
from dashboard.ui.app import make_app
from dashboard.ui.widgets.item_table import ItemTable


async def loaded(app, pilot) -> None:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_sample_table_has_45_rows_with_item_45_first_in_red() -> None:
    app = make_app(load_config(DEFAULT_CONFIG))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        table = app.query_one("#items", ItemTable)
        assert table.row_count == 45
        first = table.get_row_at(0)
        assert "临水临崖" in str(first[1]) and "公安局交警大队" in str(first[2])
        assert "red" in str(first[1].style)
        assert "32.0%" in str(first[5])
        await pilot.press("r")
        await loaded(app, pilot)
        assert table.row_count == 45


async def test_broken_plugin_leaves_the_other_items_on_screen(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    from test_plugins import BROKEN_PLUGIN

    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "broken.py").write_text(BROKEN_PLUGIN, encoding="utf-8")
    cfg = config_writer(
        [{"name": "sample", "type": "csv", "path": str(SAMPLE_CSV)}, {"name": "bad", "type": "broken"}],
        extra='plugins_dir = "lp"',
    )
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert app.query_one("#items", ItemTable).row_count == 45
