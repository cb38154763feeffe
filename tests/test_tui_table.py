"""The virtual item table on its own: 100,000 rows, CJK alignment, sort, filter
and a cursor that survives new data. No timings here (see the ad-hoc check in the
performance notes); these assert that the work follows the rows on screen."""

from __future__ import annotations

from textual.app import App, ComposeResult

from dashboard.core.items import Evaluated, Item
from dashboard.core.progress import Thresholds, default_order, evaluate
from dashboard.ui.widgets.item_table import ItemTable
from dashboard.ui.widgets.table import fit

UNITS = ["公安局交警大队", "民政局", "Data局 ABC", "人社局", "住建局 Housing"]


def generated(n: int, shift: float = 0.0) -> list[Evaluated]:
    items = [
        Item(
            id=str(i),
            name=f"项目{i} mixed 名称 ASCII {i % 97}",
            category="省实事" if i % 3 else "湘潭市实事",
            unit=UNITS[i % len(UNITS)],
            target_text=str(100 + i % 900),
            progress_text="进度" * (i % 4),
            ratio=((i * 7919) % 1200) / 1000 + shift,
        )
        for i in range(n)
    ]
    return default_order(evaluate(items, 0.75, Thresholds()))


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ItemTable()


async def test_100k_rows_draw_only_what_is_on_screen() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one(ItemTable)
        table.set_rows(generated(100_000))
        await pilot.pause()
        assert table.row_count == 100_000
        assert table.cached_rows <= 45  # one screen, not 100,000 rows
        table.focus()
        await pilot.press("pagedown", "pagedown")
        assert table.cached_rows <= 3 * 45
        assert table.cursor_row > 80 and table.scroll_y > 40  # two screens down


async def test_sort_filter_and_cursor_survive_new_data() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one(ItemTable)
        table.set_rows(generated(20_000))
        table.focus()
        await pilot.press("down", "down", "down")
        key = table.cursor_key
        table.sort_by(1)  # by name: the cursor follows its row
        assert table.cursor_key == key
        assert str(table.get_row_at(table.cursor_row)[1]) == f"项目{key} mixed 名称 ASCII {int(key) % 97}"  # type: ignore[arg-type]
        table.set_filter("data局 abc")  # any case, every term
        assert table.row_count == 4_000
        assert {str(table.get_row_at(i)[2]) for i in range(table.row_count)} == {"Data局 ABC"}
        table.set_filter("data局 abc 项目5")
        assert 0 < table.row_count < 4_000
        table.set_filter("")
        table.move_cursor_to_key("12345")
        scroll = table.scroll_y
        table.set_rows(generated(20_000, shift=0.0001))  # a refresh: new objects, same keys
        await pilot.pause()
        assert table.cursor_key == "12345" and table.scroll_y == scroll


async def test_mixed_chinese_and_ascii_names_keep_the_columns_aligned() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(ItemTable)
        table.set_rows(generated(200))
        await pilot.pause()
        layout = table.column_layout
        starts = [sum(w + 1 for _, w in layout[:i]) for i in range(len(layout))]
        unit_col = next(i for i, (c, _) in enumerate(layout) if c.label == "牵头单位")
        start, width = starts[unit_col], layout[unit_col][1]
        for y in range(1, 29):
            strip = table.render_line(y)
            assert strip.cell_length == table.size.width
            row = table.get_row_at(y - 1)
            assert strip.crop(start, start + width).text == fit(str(row[2]), width)
