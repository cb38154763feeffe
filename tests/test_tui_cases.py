"""Issue 14, 督办 cases in the TUI: `c` on item 45 opens a case (a second `c` shows it,
never a second case), `k` lists the cases with their counts and filters, Enter opens
one with its item, notes and trail; `n` adds a note, `x` 销号 only once the data shows
it rectified, `o` reopens; a read-only screen refuses every step. Real store, real
files, the real app under Textual's pilot."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import DEFAULT_CONFIG, sample_rows, write_config, write_csv
from screen_text import loaded, screen_lines
from test_snapshots import FROZEN, frozen_app  # noqa: F401  (a fixture)
from test_snapshots import settle as settle_frozen

from dashboard import cases, casework
from dashboard.alert_store import trail_rows
from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.screens.case_detail import CaseDetailScreen
from dashboard.ui.screens.case_dialog import NoteDialog, OpenCaseDialog
from dashboard.ui.screens.cases import CasesScreen

UNIT_45 = "公安局交警大队"
NAME_45 = "重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)"


def app_with_toasts(config_path: Path = DEFAULT_CONFIG, **ui: Any) -> tuple[DashboardApp, list[str]]:
    config = load_config(config_path)
    config.user_name = "张三"
    for key, value in ui.items():
        setattr(config.ui, key, value)
    app = make_app(config)
    shown: list[str] = []
    notify = app.notify

    def record(message: str, **kwargs: Any) -> None:
        shown.append(str(message))
        notify(message, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return app, shown


def stored(app: DashboardApp) -> list[cases.Case]:
    """The cases as SQLite holds them now (not as a screen shows them)."""
    with app.runtime.store.lock:
        return cases.list_cases(app.runtime.store.conn)


def open_by_hand(app: DashboardApp, item_id: str = "45", deadline: date | None = None) -> cases.Case:
    """A case opened in the store directly (as `dashboard case open` does), any deadline."""
    with app.runtime.store.transaction() as conn:
        return cases.open_case(
            conn,
            datetime.now(),
            item_id=item_id,
            item_name=NAME_45 if item_id == "45" else f"项目 {item_id}",
            unit=UNIT_45 if item_id == "45" else "数据局",
            deadline=deadline or date.today() + timedelta(days=10),
            action="加快推进",
            author="李四",
        )


async def settle(app: DashboardApp, pilot: Any) -> None:
    """Until the workers (reads of the store, a refresh and its alert rules) are done."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def bulletin(folder: Path, ratio: str) -> Path:
    rows = sample_rows()
    for row in rows:
        if row and row[0] == "45":
            row[6] = ratio
    return write_csv(folder / "bulletin.csv", rows)


async def test_c_on_item_45_opens_a_case_listed_on_k_and_a_second_c_shows_it() -> None:
    app, shown = app_with_toasts()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert app.screen.table.cursor_value.item.id == "45"  # type: ignore[attr-defined]  # worst first
        await pilot.press("c")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OpenCaseDialog)
        expected_deadline = casework.default_deadline(app.runtime, date(2024, 9, 30), date.today())
        assert dialog.query_one("#case-deadline").value == f"{expected_deadline:%Y-%m-%d}"  # type: ignore[attr-defined]
        assert dialog.query_one("#case-by").value == "张三"  # type: ignore[attr-defined]  # [user] name
        assert dialog.query_one("#case-action").value == cases.RULE_ACTIONS["severe"]  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        [case] = stored(app)
        assert (case.item_id, case.unit, case.state, case.author) == ("45", UNIT_45, "督办中", "张三")
        assert case.deadline == expected_deadline and case.alert_key is None
        assert any("已立案 督办案件 #1" in s for s in shown)

        await pilot.press("k")
        await settle(app, pilot)
        assert isinstance(app.screen, CasesScreen)
        table = app.screen.table
        assert table.row_count == 1
        cells = [str(c) for c in table.get_row_at(0)]
        assert cells[:2] == ["#1", "督办中"] and cells[4].startswith("[45] 重点治理")
        assert cells[5] == UNIT_45
        note = "\n".join(screen_lines(app))
        assert "[1] 督办中 1 · [2] 已整改 0 · [3] 已销号 0 · [4] 逾期 0" in note

        await pilot.press("o", "c")  # the overview again, `c` on item 45 once more
        await settle(app, pilot)
        assert isinstance(app.screen, CaseDetailScreen) and app.screen.case_id == 1
        assert len(stored(app)) == 1
        assert any("已有督办案件 #1" in s for s in shown)


async def test_the_open_case_dialog_refuses_a_past_deadline_and_stays_open() -> None:
    app, _shown = app_with_toasts()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        box = app.screen.query_one("#case-deadline")
        box.value = "2024-10-10"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OpenCaseDialog)
        assert "已经过去" in str(app.screen.query_one(".case-error").render())
        assert stored(app) == []
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, OpenCaseDialog) and stored(app) == []


async def test_a_note_added_on_the_case_screen_is_stored_and_shown_with_its_trail() -> None:
    app, _shown = app_with_toasts()
    open_by_hand(app)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("k")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseDetailScreen)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteDialog)
        app.screen.query_one("#note-text").value = "已约谈交警大队"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseDetailScreen)
        with app.runtime.store.lock:
            notes = cases.notes(app.runtime.store.conn, 1)
        assert [(n["author"], n["text"]) for n in notes] == [("张三", "已约谈交警大队")]
        text = "\n".join(screen_lines(app))
        assert "张三  已约谈交警大队" in text  # the notes
        assert "李四  立案 opened  → 督办中" in text and "张三  备注 noted  「已约谈交警大队」" in text
        assert "完成比例 ratio 32.0%  vs 序时进度 expected 75%" in text and UNIT_45 in text
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, CasesScreen)
        assert str(app.screen.table.get_row_at(0)[6]) == "已约谈交警大队"  # the last note


async def test_a_case_rectified_by_a_refresh_shows_on_screen_and_x_closes_it(tmp_path: Path) -> None:
    csv_path = bulletin(tmp_path, "32.0%")
    config = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(csv_path)}])
    app, shown = app_with_toasts(config)
    open_by_hand(app)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("k")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        await pilot.press("x")  # still 督办中: refused, with why
        await pilot.pause()
        assert [c.state for c in stored(app)] == ["督办中"]
        assert any("仍在督办中" in s and "已整改" in s for s in shown)

        bulletin(tmp_path, "90.0%")  # item 45 above the 75% expected
        await pilot.press("r")
        await settle(app, pilot)
        assert [c.state for c in stored(app)] == ["已整改"]
        assert isinstance(app.screen, CaseDetailScreen)  # never left the screen
        assert "督办案件 #1  【已整改】" in "\n".join(screen_lines(app))

        await pilot.press("x")
        await settle(app, pilot)
        [case] = stored(app)
        assert case.state == "已销号" and case.closed_at is not None
        assert "【已销号】" in "\n".join(screen_lines(app))
        with app.runtime.store.lock:
            trail = trail_rows(app.runtime.store.conn, "case:1")
        assert [(r["kind"], r["actor"]) for r in trail] == [
            ("case_opened", "李四"),
            ("case_rectified", "system"),
            ("case_closed", "张三"),
        ]
        await pilot.press("o")  # reopen (the overview's key is the case's here)
        await settle(app, pilot)
        assert isinstance(app.screen, CaseDetailScreen)
        with app.runtime.store.lock:
            trail = trail_rows(app.runtime.store.conn, "case:1")
        # 督办中 again; the next evaluation may find item 45 caught up and rectify it anew.
        assert (trail[3]["kind"], trail[3]["actor"], trail[3]["after"]["state"]) == (
            "case_reopened",
            "张三",
            "督办中",
        )


async def test_read_only_refuses_c_n_x_and_o_and_changes_nothing() -> None:
    app, shown = app_with_toasts(read_only=True)
    open_by_hand(app)
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        assert app.read_only
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, OpenCaseDialog)
        await pilot.press("k")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, CaseDetailScreen)
        await pilot.press("n", "x", "o")
        await pilot.pause()
        assert isinstance(app.screen, CaseDetailScreen)  # `o` did not go to the overview
        refusals = [s for s in shown if "只读模式" in s]
        assert len(refusals) == 4
        for word in ("立案督办", "添加备注", "销号", "重新督办"):
            assert any(word in s for s in refusals), word
        [case] = stored(app)
        assert case.state == "督办中" and case.id == 1
        with app.runtime.store.lock:
            assert cases.notes(app.runtime.store.conn, 1) == []
        footer = screen_lines(app)[-1]
        assert "备注" not in footer and "销号" not in footer


async def test_the_cases_screen_filters_by_state_overdue_and_unit_and_exports_what_it_shows(
    isolated_state: Path,
) -> None:
    app, shown = app_with_toasts()
    open_by_hand(app, "45", deadline=date(2024, 9, 20))  # before the data's 09-30: overdue
    open_by_hand(app, "1")  # item 1 is done: the first evaluation rectifies it
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("k")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CasesScreen)
        assert [(c.id, c.state, c.overdue) for c in stored(app)] == [
            (1, "督办中", True),
            (2, "已整改", False),
        ]
        text = "\n".join(screen_lines(app))
        assert "[1] 督办中 1 · [2] 已整改 1 · [3] 已销号 0 · [4] 逾期 1" in text
        assert [str(screen.table.get_row_at(i)[0]) for i in range(2)] == ["#1", "#2"]  # overdue first
        await pilot.press("4")
        assert screen.table.row_count == 1 and str(screen.table.get_row_at(0)[2]) == "逾期"
        await pilot.press("2")
        assert [str(c) for c in screen.table.get_row_at(0)][:2] == ["#2", "已整改"]
        await pilot.press("0", "slash", *"交警")
        await pilot.pause()
        assert screen.table.row_count == 1 and str(screen.table.get_row_at(0)[0]) == "#1"
        await pilot.press("enter", "e")
        await settle(app, pilot)
        [exported] = [s for s in shown if s.startswith("已导出")]
        assert exported.startswith("已导出 1 行")
        path = Path(exported.split("到 ", 1)[1])
        assert path.exists() and path.suffix == ".xlsx"


async def test_k_shows_the_cases_and_shift_k_turns_the_kiosk_rotation_on() -> None:
    app, _shown = app_with_toasts()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        await pilot.press("k")
        await settle(app, pilot)
        assert isinstance(app.screen, CasesScreen) and not app.kiosk
        lines = screen_lines(app)
        assert any("没有督办案件" in line for line in lines)
        assert "? 全部按键" in lines[-1] and "q 退出" in lines[-1]
        await pilot.press("K")
        await pilot.pause()
        assert app.kiosk


async def test_an_unreadable_case_table_is_said_on_the_screen_and_the_app_runs_on() -> None:
    app, _shown = app_with_toasts()
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        with app.runtime.store.transaction() as conn:
            conn.execute("ALTER TABLE case_notes RENAME TO case_notes_lost")  # as a damaged file would
        await pilot.press("k")
        await settle(app, pilot)
        assert isinstance(app.screen, CasesScreen) and app.is_running
        assert any("督办案件不可读" in line for line in screen_lines(app))


def test_cases_screen_snapshot_160x45(snap_compare: Any, frozen_app: DashboardApp) -> None:  # noqa: F811
    """An overdue case with a note, a rectified one and a closed one, every clock frozen."""
    with frozen_app.runtime.store.transaction() as conn:
        first = cases.open_case(
            conn,
            FROZEN,
            item_id="45",
            item_name=NAME_45,
            unit=UNIT_45,
            deadline=date(2024, 9, 20),  # before the data's 09-30: overdue at the first evaluation
            action=cases.RULE_ACTIONS["severe"],
            author="李四",
        )
        cases.add_note(conn, first.id, "已约谈交警大队负责人，承诺10月15日前完成", by="李四", at=FROZEN)
        for item_id, name, unit in (("1", "城市低保标准", "民政局"), ("2", "农村低保标准", "民政局")):
            case = cases.open_case(
                conn,
                FROZEN,
                item_id=item_id,
                item_name=name,
                unit=unit,
                deadline=date(2024, 10, 10),
                action=cases.DEFAULT_ACTION,
                author="张三",
            )
        cases.close_case(conn, case.id, by="张三", at=FROZEN)

    async def cases_screen(pilot: Any) -> None:
        await settle_frozen(pilot)
        await pilot.press("k")
        await settle(pilot.app, pilot)

    assert snap_compare(frozen_app, terminal_size=(160, 45), run_before=cases_screen)
