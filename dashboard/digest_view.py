"""The change digest of a runtime (issue 15): the two bulletins and the monthly ones
before them, read from the current data and the store's history, handed to the pure
`dashboard.core.digest`. Shared by `dashboard digest` and `dashboard report`'s 变化 annex.

A bulletin from history holds, for each item of today's data, its last point on or
before the day (as `dashboard.history.items_at` reads them), plus an item of a past
bulletin that today's data no longer holds when history has a point for it in that
day's month (an imported bulletin writes every item; a point older than that month says
nothing about whether the item was still reported then).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from dashboard.core.digest import Bulletin, Change, Digest, Entry, build_digest
from dashboard.core.items import Item
from dashboard.core.parse import format_percent
from dashboard.core.progress import evaluate
from dashboard.runtime import Runtime
from dashboard.store import Store, history_keys
from dashboard.views import Cell, Column, TableView

DIGEST_COLUMNS = [
    Column("变化", "text", "section"),
    Column("序号", "text", "id"),
    Column("牵头单位", "text", "unit"),
    Column("项目", "text", "name"),
    Column("原状态", "text", "old_status"),
    Column("原完成比例", "percent", "old_ratio"),
    Column("现状态", "text", "new_status"),
    Column("现完成比例", "percent", "new_ratio"),
    Column("说明", "text", "detail"),
]


def history_dates(store: Store) -> list[date]:
    """Every data date history holds a point for, oldest first."""
    with store.lock:
        rows = store.conn.execute(
            "SELECT DISTINCT coalesce(as_of, substr(at, 1, 10)) AS day FROM item_history ORDER BY day"
        ).fetchall()
    days: list[date] = []
    for (text,) in rows:
        try:
            days.append(date.fromisoformat(text))
        except (TypeError, ValueError):
            continue  # an undecodable date: the store notes those where it reads points
    return days


def monthly_dates(days: Sequence[date]) -> list[date]:
    """The bulletin of each month: its latest date in `days` (oldest month first)."""
    last: dict[tuple[int, int], date] = {}
    for d in days:
        key = (d.year, d.month)
        if key not in last or d > last[key]:
            last[key] = d
    return [last[k] for k in sorted(last)]


def current_bulletin(runtime: Runtime, day: date) -> Bulletin:
    """Today's data, evaluated at `day`."""
    items = runtime.items()
    keys, _ = history_keys(items)
    expected = runtime.expected(day)
    evaluated = evaluate(items, expected, runtime.config.thresholds)
    return Bulletin(day, expected, dict(zip(keys, evaluated, strict=True)))


def history_bulletin(runtime: Runtime, day: date, current: Sequence[Item] | None = None) -> Bulletin | None:
    """The items as they stood on `day`, from history; None when it has no point by then."""
    points = runtime.store.history_at(day)
    if not points:
        return None
    items = runtime.items() if current is None else list(current)
    keys, _ = history_keys(items)
    chosen: dict[str, Item] = {}
    for key, item in zip(keys, items, strict=True):
        p = points.pop(key, None)
        if p is not None:
            chosen[key] = replace(item, ratio=p.ratio, actual=p.actual, target=p.target, as_of=p.day)
    month = (day.year, day.month)
    for key, p in points.items():
        if p.item is not None and (p.day.year, p.day.month) == month:
            chosen[key] = replace(p.item, as_of=p.day)
    expected = runtime.expected(day)
    evaluated = evaluate(list(chosen.values()), expected, runtime.config.thresholds)
    return Bulletin(day, expected, dict(zip(chosen, evaluated, strict=True)))


def previous_bulletin_day(days: Sequence[date], until: date) -> date | None:
    """The latest history date in a month before `until`'s: the previous bulletin."""
    earlier = [d for d in days if (d.year, d.month) < (until.year, until.month)]
    return max(earlier) if earlier else None


def runtime_digest(
    runtime: Runtime,
    *,
    until: date | None = None,
    since: date | None = None,
    own: date | None = None,
) -> Digest:
    """The digest of `until` (default: today's data at `own`, its as-of date) against `since`
    (default: the previous month's bulletin in history). A side history cannot give is
    said in `notes`; with no older side nothing is compared (`compared` false)."""
    notes: list[str] = []
    try:
        days = history_dates(runtime.store)
    except sqlite3.Error as exc:  # a store without history: nothing to compare with, say so
        days = []
        notes.append(f"无法读取进度历史 history unreadable: {exc}")
    own_day = own or runtime.resolve_as_of()
    items = runtime.items()
    new: Bulletin | None = None
    if until is not None and (until.year, until.month) != (own_day.year, own_day.month):
        new = history_bulletin(runtime, until, items)
        if new is None:
            notes.append(
                f"进度历史中没有 {until:%Y-%m-%d} 及以前的数据，按当前数据（截至 {own_day:%Y-%m-%d}）计算"
            )
    if new is None:
        new = current_bulletin(runtime, until or own_day)
    old_day = since if since is not None else previous_bulletin_day(days, new.day)
    old = None if old_day is None else history_bulletin(runtime, old_day, items)
    if old is None:
        when = f" {old_day:%Y-%m-%d} 及以前" if old_day else f" {new.day.year}年{new.day.month}月以前"
        notes.append(
            f"进度历史中没有{when}的通报，无法比较变化；可先用 `dashboard import` 导入往期通报"
            " no earlier bulletin in history"
        )
    elif old.day >= new.day:
        notes.append(f"--since {old.day:%Y-%m-%d} 不早于比较的截止日期 {new.day:%Y-%m-%d}")
    history: list[Bulletin] = []
    for day in monthly_dates([d for d in days if d <= new.day]):
        if (day.year, day.month) == (new.day.year, new.day.month):
            continue  # `new` stands for its own month
        b = history_bulletin(runtime, day, items)
        if b is not None:
            history.append(b)
    digest = build_digest(new, old, history)
    digest.notes = notes
    return digest


def digest_view(digest: Digest, title: str = "") -> TableView:
    """The 变化 annex / export: one row per item in each section."""
    rows: list[list[Cell]] = []

    def add(section: str, entries: Sequence[Change | Entry]) -> None:
        for e in entries:
            if isinstance(e, Change):
                detail = "" if e.ratio_moved else "比例未变"
                old: list[Cell] = [e.old_status.label, e.old_ratio]
                rows.append([section, e.id, e.unit, e.name, *old, e.new_status.label, e.new_ratio, detail])
            else:
                detail = f"连续{e.months}个月滞后" if e.months else ""
                rows.append([section, e.id, e.unit, e.name, "", None, e.status.label, e.ratio, detail])

    add("新增完成", digest.newly_done)
    add("状态变差", digest.worse)
    add("状态好转", digest.better)
    add("比例变动", digest.moved)
    add("连续滞后", digest.streaks)
    add("新增项目", digest.new_items)
    add("减少的项目", digest.vanished)
    for u in digest.no_update:
        rows.append(
            [
                "未更新动态",
                "、".join(u.items),
                u.unit,
                "",
                "",
                None,
                "",
                None,
                f"{digest.update_month}月未更新",
            ]
        )
    since = (
        f"{digest.since:%Y-%m-%d}（序时进度 {format_percent(digest.since_expected, 0)}）"
        if digest.since
        else "—"
    )
    notes = [
        digest.paragraph(),
        f"比较：{since} → {digest.until:%Y-%m-%d}（序时进度 {format_percent(digest.expected, 0)}）",
        f"完成比例未变的未完成项目 {len(digest.unmoved)} 个",
        *digest.notes,
    ]
    heading = f"{title} · 变化" if title else "变化"
    return TableView("digest", heading, list(DIGEST_COLUMNS), rows, notes=notes)
