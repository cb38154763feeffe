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

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from dashboard.core.digest import Bulletin, Change, Digest, Entry, build_digest
from dashboard.core.items import Item
from dashboard.core.parse import format_percent
from dashboard.core.progress import evaluate
from dashboard.runtime import Runtime
from dashboard.store import Store, history_keys, item_from_dict
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


def current_bulletin(
    runtime: Runtime, day: date, current: tuple[list[Item], list[str]] | None = None
) -> Bulletin:
    """Today's data (`current`: its items and their history keys), evaluated at `day`."""
    items, keys = current or _keyed(runtime)
    expected = runtime.expected(day)
    evaluated = evaluate(items, expected, runtime.config.thresholds)
    return Bulletin(day, expected, dict(zip(keys, evaluated, strict=True)))


# The data's date of a point, as the store orders history (store._POINT_DAY).
_DAY = "coalesce(as_of, substr(at, 1, 10))"


def _figures_at(store: Store, day: date) -> dict[str, tuple[float | None, float | None, float | None, date]]:
    """History key → (ratio, actual, target, day) of its last point on or before `day`.
    The figures only: decoding every imported point's whole item (`Store.history_at`) took
    most of a digest's time at 100,000 items."""
    with store.lock:
        rows = store.conn.execute(
            f"SELECT key, ratio, actual, target, {_DAY} AS day FROM item_history"
            f" WHERE {_DAY} <= ? ORDER BY key, {_DAY}, at, rowid",
            (day.isoformat(),),
        ).fetchall()
    found: dict[str, tuple[float | None, float | None, float | None, date]] = {}
    for key, ratio, actual, target, text in rows:
        try:
            found[key] = (_finite(ratio), _finite(actual), _finite(target), date.fromisoformat(text))
        except (TypeError, ValueError):
            continue  # an undecodable row: the store notes those where it reads whole points
    return found


def _finite(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _past_items(store: Store, keys: Sequence[str], day: date) -> dict[str, Item]:
    """The items an imported bulletin of `day` held under `keys` (those it stored whole)."""
    found: dict[str, Item] = {}
    with store.lock:
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            rows = store.conn.execute(
                f"SELECT key, item FROM item_history WHERE {_DAY} = ? AND item IS NOT NULL"
                f" AND key IN ({','.join('?' * len(chunk))})",
                (day.isoformat(), *chunk),
            ).fetchall()
            for key, blob in rows:
                try:
                    found[key] = replace(item_from_dict(json.loads(blob)), as_of=day)
                except (TypeError, ValueError, AttributeError):
                    continue
    return found


def _as_it_stood(item: Item, p: tuple[float | None, float | None, float | None, date]) -> Item:
    """What the digest reads of `item` on a past day: its names, category and monthly updates
    with that day's figures. A new Item, not `dataclasses.replace` (which reads all 28
    fields: 3 s of a digest at 100,000 items)."""
    return Item(
        item.id,
        item.name,
        item.category,
        item.unit,
        target=p[2],
        actual=p[1],
        ratio=p[0],
        as_of=p[3],
        project_code=item.project_code,
        monthly_updates=item.monthly_updates,
        county=item.county,
    )


def _keyed(runtime: Runtime) -> tuple[list[Item], list[str]]:
    items = runtime.items()
    return items, history_keys(items)[0]


def history_bulletin(
    runtime: Runtime, day: date, current: tuple[list[Item], list[str]] | None = None
) -> Bulletin | None:
    """The items as they stood on `day`, from history; None when it has no point by then."""
    points = _figures_at(runtime.store, day)
    if not points:
        return None
    items, keys = current or _keyed(runtime)
    chosen: dict[str, Item] = {}
    for key, item in zip(keys, items, strict=True):
        p = points.pop(key, None)
        if p is not None:
            chosen[key] = _as_it_stood(item, p)
    month = (day.year, day.month)
    gone: dict[date, list[str]] = {}
    for key, p in points.items():
        if (p[3].year, p[3].month) == month:
            gone.setdefault(p[3], []).append(key)
    for point_day, gone_keys in gone.items():
        chosen.update(_past_items(runtime.store, gone_keys, point_day))
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
    items = _keyed(runtime)  # once: normalising 100,000 names for each bulletin took seconds
    new: Bulletin | None = None
    if until is not None and (until.year, until.month) != (own_day.year, own_day.month):
        new = history_bulletin(runtime, until, items)
        if new is None:
            notes.append(
                f"进度历史中没有 {until:%Y-%m-%d} 及以前的数据，按当前数据（截至 {own_day:%Y-%m-%d}）计算"
            )
    if new is None:
        new = current_bulletin(runtime, until or own_day, items)
    old_day = since if since is not None else previous_bulletin_day(days, new.day)
    cache: dict[date, Bulletin | None] = {}

    def at(day: date) -> Bulletin | None:
        if day not in cache:  # the previous bulletin is one of the months as well
            cache[day] = history_bulletin(runtime, day, items)
        return cache[day]

    old = None if old_day is None else at(old_day)
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
        b = at(day)
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

    for section, entries in digest.item_sections():
        add(section, entries)
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
