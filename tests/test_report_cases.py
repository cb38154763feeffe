"""The monthly report's 督办 annex (issue 14): cases opened, rectified (已整改) and closed
(已销号) in the month, and those still 督办中 at its end with overdue marked — the state at
the month's end replayed from the audit trail, not today's."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
from conftest import SAMPLE_CSV, run_cli, write_config

from dashboard import cases
from dashboard.config import load_config
from dashboard.core.progress import evaluate
from dashboard.runtime import Runtime


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "T10:00:00")


def seed_cases(cfg: Path) -> dict[str, int]:
    """Six cases around August 2024, through dashboard/cases.py on the real store file."""
    runtime = Runtime(load_config(cfg))
    asyncio.run(runtime.refresh_all())
    items = {i.id: i for i in runtime.items()}
    ids: dict[str, int] = {}

    def open_(name: str, item_id: str, when: str, deadline: str) -> None:
        with runtime.store.transaction() as conn:
            it = items[item_id]
            ids[name] = cases.open_case(
                conn,
                at(when),
                item_id=it.id,
                item_name=it.name,
                unit=it.unit,
                deadline=date.fromisoformat(deadline),
                action="加快推进",
                author="张三",
            ).id

    def close(name: str, when: str) -> None:
        with runtime.store.transaction() as conn:
            cases.close_case(conn, ids[name], by="李四", at=at(when))

    open_("june", "3", "2024-06-01", "2024-06-20")
    close("june", "2024-06-30")  # settled before August: not in the annex
    open_("july_open", "45", "2024-07-20", "2024-07-30")  # untouched in August, overdue at its end
    open_("closed_in_sept", "44", "2024-07-01", "2024-08-10")
    close("closed_in_sept", "2024-09-05")  # still 督办中 on 31 August, past its deadline
    open_("opened_closed", "1", "2024-08-03", "2024-09-30")
    close("opened_closed", "2024-08-25")
    open_("rectified", "2", "2024-08-05", "2024-09-30")
    # 已整改 as the engine marks it: the hand case's item is on track in the data.
    on_track = evaluate(runtime.items(), 0.0, runtime.config.thresholds)
    with runtime.store.transaction() as conn:
        case = cases.get_case(conn, ids["rectified"])
        assert case is not None
        cases.after_evaluate(
            conn, [], [e for e in on_track if e.item.id == "2"], None, at("2024-08-20"), 10, lambda c, e: None
        )
        rectified = cases.get_case(conn, ids["rectified"])
        assert rectified is not None and rectified.state == cases.RECTIFIED
    open_("september", "5", "2024-09-02", "2024-09-30")  # after the month: left out
    runtime.close()
    return ids


def test_the_august_annex_lists_opened_rectified_closed_and_still_open_cases(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    ids = seed_cases(cfg)
    proc = run_cli(
        "report", "--config", str(cfg), "--month", "2024-08", "-o", str(tmp_path / "out"), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)["cases"]
    assert figures == {
        "opened": [ids["opened_closed"], ids["rectified"]],
        "rectified": [ids["rectified"]],
        "closed": [ids["opened_closed"]],
        "open_at_month_end": [ids["july_open"], ids["closed_in_sept"]],
        "overdue_at_month_end": [ids["july_open"], ids["closed_in_sept"]],
    }

    wb = openpyxl.load_workbook(tmp_path / "out" / "bulletin-2024-08.xlsx")
    assert wb.sheetnames[5] == "附件5 督办事项" and wb.sheetnames[4] == "附件4 每月动态更新"
    rows = [list(r) for r in wb["附件5 督办事项"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "序号")
    body = {r[1]: r for r in rows[header + 1 :] if r[0] is not None}
    assert set(body) == {f"#{ids[k]}" for k in ("july_open", "closed_in_sept", "opened_closed", "rectified")}
    # Case 44 was closed in September: on 31 August it was still 督办中, and overdue.
    sept = body[f"#{ids['closed_in_sept']}"]
    assert (sept[8], sept[9]) == ("督办中", "逾期")
    assert body[f"#{ids['opened_closed']}"][7:10] == ["立案、已销号", "已销号", None]
    assert body[f"#{ids['rectified']}"][7:10] == ["立案、已整改", "已整改", None]
    md = (tmp_path / "out" / "bulletin-2024-08.md").read_text(encoding="utf-8")
    assert "## 附件5：督办事项（本月立案2件、整改1件、销号1件，月末督办中2件）" in md
    assert "本月新立督办案件2件，已整改1件，已销号1件；月末仍在督办2件，其中逾期未整改2件" in md


def test_a_case_opened_with_dashboard_case_is_in_this_months_annex(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    deadline = (date.today() + timedelta(days=20)).isoformat()
    proc = run_cli(
        "case",
        "open",
        "45",
        "--deadline",
        deadline,
        "--action",
        "加快推进",
        "--by",
        "王五",
        "--config",
        str(cfg),
    )
    assert proc.returncode == 0, proc.stderr
    month = f"{date.today():%Y-%m}"
    proc = run_cli("report", "--config", str(cfg), "--month", month, "-o", str(tmp_path / "out"), "--json")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)["cases"]
    assert figures["opened"] == [1] and figures["open_at_month_end"] == [1] and figures["closed"] == []
    # The month before knows nothing of it.
    last = date.today().replace(day=1) - timedelta(days=1)
    proc = run_cli("report", "--config", str(cfg), "--month", f"{last:%Y-%m}", "-o", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cases"]["open_at_month_end"] == []
