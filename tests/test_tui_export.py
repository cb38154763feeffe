"""Exporting from the TUI: `e` writes the view on screen, `E` asks for a name, and a
name that would leave the export folder is refused with a clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import DEFAULT_CONFIG
from openpyxl import load_workbook

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.export_dialog import ExportDialog


def app_with_toasts() -> tuple[DashboardApp, list[str]]:
    """The sample app, recording the text of every notification the user sees."""
    app = make_app(load_config(DEFAULT_CONFIG))
    shown: list[str] = []
    notify = app.notify

    def record(message: str, **kwargs: Any) -> None:
        shown.append(str(message))
        notify(message, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return app, shown


async def export_as(app: DashboardApp, pilot: Any, name: str) -> None:
    await pilot.press("E")
    await pilot.pause()
    assert isinstance(app.screen, ExportDialog)
    field = app.screen.query_one("#export-name")
    field.value = ""  # type: ignore[attr-defined]
    await pilot.press(*name, "enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_export_as_a_typed_name_inside_the_folder(isolated_state: Path) -> None:
    app, shown = app_with_toasts()
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("/", *"交警", "enter")
        await export_as(app, pilot, "九月/滞后.xlsx")
        written = isolated_state / "exports" / "九月" / "滞后.xlsx"
        assert written.is_file(), shown
        rows = list(load_workbook(written).active.iter_rows(values_only=True))
        assert any("公安局交警大队" in str(cell) for row in rows for cell in row)
        assert not any("城市低保标准" in str(row) for row in rows)  # the filter on screen applies
        assert any(str(written) in message for message in shown)


async def test_names_outside_the_export_folder_are_refused(isolated_state: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    app, shown = app_with_toasts()
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        for name in ("../../x.csv", str(outside)):
            shown.clear()
            await export_as(app, pilot, name)
            assert any("不在导出文件夹" in m and "已拒绝" in m for m in shown), shown
        assert not outside.exists()
        assert not (isolated_state.parent / "x.csv").exists()
        assert not (isolated_state / "x.csv").exists()
        exports = isolated_state / "exports"
        assert not exports.exists() or not any(exports.iterdir())


async def test_escape_cancels_the_export_dialog(isolated_state: Path) -> None:
    app, _shown = app_with_toasts()
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExportDialog)
        assert not (isolated_state / "exports").exists() or not list((isolated_state / "exports").iterdir())
