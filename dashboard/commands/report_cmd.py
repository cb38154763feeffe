"""`dashboard report`: the month's bulletin annexes (附件1–4, 附件5 督办事项, 附件6 变化 since the
month before, 附件7 红黑榜) with the opening paragraph on what changed, as XLSX and Markdown."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from dashboard import strict_json
from dashboard.alert_store import trail_rows
from dashboard.cases import all_cases
from dashboard.commands.common import CommandError, UsageError
from dashboard.config import load_config
from dashboard.digest_view import digest_view, runtime_digest
from dashboard.exporting import ExportError
from dashboard.history import data_as_of, past_snapshot
from dashboard.report import month_end, parse_month, report_from_snapshot, write_report
from dashboard.report_cases import CaseAnnex, build_case_annex
from dashboard.runtime import Runtime, Snapshot
from dashboard.store import Store
from dashboard.unit_league import league_view, snapshot_league


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "report",
        parents=[common],
        help="写出月度通报附件 write the month's bulletin annexes (xlsx + md)",
        description=(
            "按该月最后一天为截止日期评估全部项目，写出通报附件：附件1 已完成、附件2 达到或超过序时进度、"
            "附件3 低于序时进度、附件4 省重点民生实事每月动态更新情况、附件5 督办事项（本月立案、整改、销号，"
            "月末仍在督办与逾期）、附件6 变化（与上月通报相比，取自进度历史）、附件7 红黑榜；"
            "说明页以变化摘要开头；一个 XLSX 工作簿（每个附件一个工作表）"
            "和一个 Markdown 文件。"
        ),
    )
    p.add_argument("--month", metavar="YYYY-MM", required=True, help="通报月份 month, e.g. 2024-09")
    p.add_argument("-o", "--output", metavar="DIR", help="输出文件夹（默认配置的导出文件夹 [export] dir）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出汇总数字 print the figures as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        year, month = parse_month(args.month)
    except ValueError as exc:
        raise UsageError("--month", str(exc)) from None
    config = load_config(args.config)
    end = month_end(year, month)
    runtime = Runtime(config, as_of=end)
    # Sources and evaluation only: a report on a past month must not fire or resolve today's
    # alerts, nor record today's figures in history under that month's date.
    runtime.record_history = False
    asyncio.run(runtime.refresh_all())
    snap = runtime.snapshot()
    notes: list[str] = []
    own = data_as_of(runtime)
    past = None if (own.year, own.month) == (year, month) else past_snapshot(runtime, end)
    if past is not None:
        report = report_from_snapshot(past[0])  # the items as they stood at the month's end
        notes.append(past[1].note)
    else:
        report = report_from_snapshot(snap)
        if (own.year, own.month) != (year, month):
            notes.append(
                f"进度历史中没有 {end:%Y-%m-%d} 及以前的数据，按当前数据（截至 {own:%Y-%m-%d}）计算"
                "；可先用 `dashboard import` 导入往期通报 no history for that month: today's data used"
            )
    report.notes = notes
    report.cases = case_annex(runtime.store, year, month)
    month_annexes(report, runtime, past[0] if past is not None else snap, end, own)
    folder = Path(args.output) if args.output else config.export_dir
    assert folder is not None
    try:
        written = write_report(report, folder, runtime.plugins, title=config.title)
    except ExportError as exc:
        raise CommandError(f"写出附件失败 report failed: `-o`: {exc}") from None
    except OSError as exc:
        raise CommandError(
            f"写出附件失败 report failed: `-o`: 无法写入 {folder}: {exc}（应为 可写的文件夹）"
        ) from None
    if args.json:
        figures = report.figures() | {"files": {fmt: str(p) for fmt, p in written.items()}}
        print(strict_json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        if report.opening:
            print(report.opening)
        print(report.summary())
        for note in notes:
            print(f"! {note}")
        for path in written.values():
            print(f"已写出 written: {path}")
    failed = [s for s in snap.sources if s.ok is False]
    for s in failed:
        print(f"✗ 数据源 {s.name} 载入失败，附件数据不完整: {s.error}", file=sys.stderr)
    return 3 if failed else 0


def case_annex(store: Store, year: int, month: int) -> CaseAnnex:
    """附件5 from the store's cases and their trail (an empty annex when the store has none)."""
    end = month_end(year, month)
    try:
        with store.lock:
            cases = all_cases(store)
            trail = [row for c in cases for row in trail_rows(store.conn, c.subject)]
    except sqlite3.Error as exc:  # a store without the case tables: say so in the annex, not a crash
        print(f"! 无法读取督办案件 cases unreadable: {exc}", file=sys.stderr)
        cases, trail = [], []
    return build_case_annex(cases, trail, end.replace(day=1), end)


def month_annexes(report: Any, runtime: Runtime, snap: Snapshot, end: date, own: date) -> None:
    """The opening paragraph, 附件6 变化 (the month against the previous bulletin in history)
    and 附件7 红黑榜 (the month's league, with the store's overdue 督办 cases)."""
    digest = runtime_digest(runtime, until=end, own=own)
    report.opening = digest.paragraph()
    changes = digest_view(digest)
    changes.title = "附件6：变化（与上期通报相比）" if digest.compared else "附件6：变化（无上期通报可比）"
    changes.sheet = "附件6 变化"
    try:
        with runtime.store.lock:
            cases = all_cases(runtime.store)
    except sqlite3.Error:  # 附件5 already says the cases are unreadable: rank without them
        cases = []
    rows = snapshot_league(snap, runtime.config, cases)
    league = league_view(rows, f"附件7：牵头单位红黑榜（截至{end.year}年{end.month}月{end.day}日）")
    league.sheet = "附件7 红黑榜"
    report.changes, report.league = changes, league
    report.annex_figures = {"changes": digest.to_dict(), "league": [asdict(r) for r in rows]}
