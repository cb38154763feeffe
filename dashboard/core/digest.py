"""The change digest (变化, issue 15): what changed between two bulletins. Pure: the
caller hands in the two evaluated item sets keyed by history key (`store.history_key`),
and the month-end bulletins before them for the consecutive-months count; no I/O.

Sections: items newly done; items whose status got worse or better; items whose ratio
moved with the same status; items whose ratio did not move (not done); items behind in
N consecutive monthly bulletins (连续N个月滞后); new and vanished items; units whose
provincial items posted no monthly update (每月动态) in the last full month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dashboard.core.alerts import last_full_month
from dashboard.core.items import UPDATE_MONTHS, Evaluated, Status
from dashboard.core.parse import format_percent

_EPS = 1e-9
BEHIND = frozenset({Status.LAGGING, Status.SEVERE})
_NUMERALS = "零一两三四五六七八九十"
NAMED = 10  # names in one clause of the paragraph (100,000 items: the sections list them)


@dataclass(slots=True, frozen=True)
class Bulletin:
    """One side of a comparison: the evaluated items on `day`, by history key."""

    day: date
    expected: float
    items: Mapping[str, Evaluated]


@dataclass(slots=True, frozen=True)
class Change:
    """An item in both bulletins, with its old and new status and ratio."""

    key: str
    id: str
    name: str
    unit: str
    old_status: Status
    new_status: Status
    old_ratio: float | None
    new_ratio: float | None

    @property
    def ratio_moved(self) -> bool:
        return not _same(self.old_ratio, self.new_ratio)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "unit": self.unit,
            "old_status": self.old_status.value,
            "new_status": self.new_status.value,
            "old_ratio": _rounded(self.old_ratio),
            "new_ratio": _rounded(self.new_ratio),
            "ratio_moved": self.ratio_moved,
        }

    def text(self) -> str:
        return (
            f"[{self.id}] {self.unit}「{self.name}」{self.old_status.label} {format_percent(self.old_ratio)}"
            f" → {self.new_status.label} {format_percent(self.new_ratio)}"
        )


@dataclass(slots=True, frozen=True)
class Entry:
    """An item on one side only (new, vanished), or one not moving, or one behind."""

    key: str
    id: str
    name: str
    unit: str
    status: Status
    ratio: float | None
    months: int = 0  # consecutive monthly bulletins behind (behind_streaks only)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "unit": self.unit,
            "status": self.status.value,
            "ratio": _rounded(self.ratio),
        }
        if self.months:
            d["months"] = self.months
        return d

    def text(self) -> str:
        tail = f"（连续{self.months}个月滞后）" if self.months else ""
        return f"[{self.id}] {self.unit}「{self.name}」{self.status.label} {format_percent(self.ratio)}{tail}"


@dataclass(slots=True, frozen=True)
class UnitNoUpdate:
    """A unit whose provincial items posted no monthly update in `month`."""

    unit: str
    items: tuple[str, ...]  # item ids

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "items": list(self.items)}


@dataclass(slots=True)
class Digest:
    until: date
    expected: float
    since: date | None  # None: no earlier bulletin to compare with (see notes)
    since_expected: float | None
    newly_done: list[Change] = field(default_factory=list)
    worse: list[Change] = field(default_factory=list)
    better: list[Change] = field(default_factory=list)
    moved: list[Change] = field(default_factory=list)  # the ratio moved, the status did not
    unmoved: list[Entry] = field(default_factory=list)
    behind: list[Entry] = field(default_factory=list)  # behind now, with consecutive months
    new_items: list[Entry] = field(default_factory=list)
    vanished: list[Entry] = field(default_factory=list)
    update_month: int | None = None  # the month `no_update` is about (None: none asked then)
    no_update: list[UnitNoUpdate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def compared(self) -> bool:
        return self.since is not None

    @property
    def changed(self) -> list[Change]:
        """Every item whose ratio or status changed, in section order."""
        return [*self.newly_done, *self.worse, *self.better, *self.moved]

    @property
    def streaks(self) -> list[Entry]:
        """Items behind in two or more consecutive monthly bulletins."""
        return [e for e in self.behind if e.months >= 2]

    def to_dict(self) -> dict[str, Any]:
        """`dashboard digest --json` (keys documented in docs/history.md; only ever added to)."""
        return {
            "until": self.until.isoformat(),
            "expected": round(self.expected, 6),
            "since": self.since.isoformat() if self.since else None,
            "since_expected": None if self.since_expected is None else round(self.since_expected, 6),
            "compared": self.compared,
            "paragraph": self.paragraph(),
            "newly_done": [c.to_dict() for c in self.newly_done],
            "worse": [c.to_dict() for c in self.worse],
            "better": [c.to_dict() for c in self.better],
            "moved": [c.to_dict() for c in self.moved],
            "unmoved": [e.to_dict() for e in self.unmoved],
            "behind": [e.to_dict() for e in self.behind],
            "new_items": [e.to_dict() for e in self.new_items],
            "vanished": [e.to_dict() for e in self.vanished],
            "update_month": self.update_month,
            "no_update": [u.to_dict() for u in self.no_update],
            "notes": list(self.notes),
        }

    def paragraph(self) -> str:
        """The bulletin's opening sentence: 本月新增完成3项，2项进度滞后，连续两个月滞后的有…"""
        d = self.until
        head = f"截至{d.year}年{d.month}月{d.day}日"
        if self.since is None:
            text = f"{head}，进度历史中没有更早的通报，无法比较变化"
        else:
            s = self.since
            text = f"{head}（与{s.year}年{s.month}月{s.day}日相比），新增完成{len(self.newly_done)}项"
            slipped = [c for c in self.worse if c.new_status in BEHIND]
            text += f"，{len(slipped)}项转为进度滞后"
            if slipped:
                text += "（" + _names([_short(c.unit, c.name, c.new_ratio) for c in slipped], "；") + "）"
            others = len(self.worse) - len(slipped)
            if others:
                text += f"，{others}项状态变差"
            if self.better:
                text += f"，{len(self.better)}项好转"
            text += f"，{len(self.unmoved)}项未完成的项目完成比例没有变化"
        streaks = self.streaks
        if streaks:
            groups: dict[int, list[Entry]] = {}
            for e in streaks:
                groups.setdefault(e.months, []).append(e)
            parts = [
                f"连续{_count_words(n)}个月滞后的有"
                + _names([_short(e.unit, e.name, e.ratio) for e in group], "、")
                for n, group in sorted(groups.items(), reverse=True)
            ]
            text += "；" + "；".join(parts)
        if self.new_items or self.vanished:
            text += f"；新增项目{len(self.new_items)}项，减少{len(self.vanished)}项"
        if self.no_update and self.update_month is not None:
            text += f"；{len(self.no_update)}个单位{self.update_month}月未更新动态：" + "、".join(
                u.unit for u in self.no_update
            )
        return text + "。"

    def item_sections(self, *, unmoved: bool = False) -> list[tuple[str, Sequence[Change | Entry]]]:
        """(section, entries) in the order the 变化 annex and screen list items; the
        unmoved items (usually the longest list, the least news) last when asked for."""
        found: list[tuple[str, Sequence[Change | Entry]]] = [
            ("新增完成", self.newly_done),
            ("状态变差", self.worse),
            ("状态好转", self.better),
            ("比例变动", self.moved),
            ("连续滞后", self.streaks),
            ("新增项目", self.new_items),
            ("减少的项目", self.vanished),
        ]
        return [*found, ("比例未变", self.unmoved)] if unmoved else found

    def sections(self) -> list[tuple[str, list[str]]]:
        """(heading, lines) per section, as `dashboard digest` prints them."""
        month = f"{self.update_month}月" if self.update_month else ""
        return [
            ("新增完成 newly done", [c.text() for c in self.newly_done]),
            ("状态变差 worse", [c.text() + ("" if c.ratio_moved else "（比例未变）") for c in self.worse]),
            ("状态好转 better", [c.text() for c in self.better]),
            ("比例变动、状态不变 moved", [c.text() for c in self.moved]),
            ("比例未变 not moved", [e.text() for e in self.unmoved]),
            ("滞后 behind（连续月数 consecutive months）", [e.text() for e in self.behind]),
            ("新增项目 new items", [e.text() for e in self.new_items]),
            ("减少的项目 vanished", [e.text() for e in self.vanished]),
            (
                f"{month}未更新动态的单位 no monthly update",
                [f"{u.unit}：{'、'.join(u.items)}" for u in self.no_update],
            ),
        ]


def _rounded(ratio: float | None) -> float | None:
    """A ratio as JSON shows it: 0.874, not 0.8740000000000001 (87.4 / 100)."""
    return None if ratio is None else round(ratio, 6)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) < _EPS


def _short(unit: str, name: str, ratio: float | None) -> str:
    return f"{unit}「{name}」{format_percent(ratio)}"


def _names(names: list[str], sep: str) -> str:
    """At most NAMED names in a clause, then how many in all (the sections list every one)."""
    if len(names) <= NAMED:
        return sep.join(names)
    return sep.join(names[:NAMED]) + f"等{len(names)}项"


def _count_words(n: int) -> str:
    """两, 三 … 十 as the bulletin writes a count of months; digits beyond."""
    return _NUMERALS[n] if 2 <= n <= 10 else str(n)


def _entry(key: str, e: Evaluated, months: int = 0) -> Entry:
    it = e.item
    return Entry(key, it.id, it.name, it.unit, e.status, it.ratio, months)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def behind_streaks(bulletins: Sequence[Bulletin]) -> dict[str, int]:
    """Key → how many consecutive monthly bulletins, ending with the last one, the item
    was behind in (lagging or severe). `bulletins` oldest first, one per month; a month
    with no bulletin, or without the item, ends the run."""
    if not bulletins:
        return {}
    last = bulletins[-1]
    streaks: dict[str, int] = {}
    for key, e in last.items.items():
        if e.status not in BEHIND:
            continue
        n, month = 1, _month_index(last.day)
        for b in reversed(bulletins[:-1]):
            if _month_index(b.day) != month - 1:
                break
            past = b.items.get(key)
            if past is None or past.status not in BEHIND:
                break
            n, month = n + 1, month - 1
        streaks[key] = n
    return streaks


def no_monthly_update(evaluated: Iterable[Evaluated], as_of: date) -> tuple[int | None, list[UnitNoUpdate]]:
    """Units whose provincial items reported monthly updates but none for the last full
    month before `as_of` (as the missing_update rule reads them); (None, []) outside the
    update months."""
    year, month = last_full_month(as_of)
    if month not in UPDATE_MONTHS or year != as_of.year:
        return None, []
    by_unit: dict[str, list[str]] = {}
    for e in evaluated:
        it = e.item
        if it.is_provincial and it.monthly_updates and it.monthly_updates.get(month, 0) <= 0:
            by_unit.setdefault(it.unit, []).append(it.id)
    return month, [UnitNoUpdate(unit, tuple(ids)) for unit, ids in by_unit.items()]


def build_digest(new: Bulletin, old: Bulletin | None, history: Sequence[Bulletin] = ()) -> Digest:
    """The digest of `new` against `old` (None: nothing to compare with). `history` holds
    the monthly bulletins before `new` (oldest first) for 连续N个月滞后; `old` need not be
    among them."""
    month, no_update = no_monthly_update(new.items.values(), new.day)
    before = [b for b in history if _month_index(b.day) < _month_index(new.day)]
    streaks = behind_streaks([*before, new])
    digest = Digest(
        new.day,
        new.expected,
        old.day if old else None,
        old.expected if old else None,
        update_month=month,
        no_update=no_update,
    )
    digest.behind = sorted(
        (_entry(k, e, streaks[k]) for k, e in new.items.items() if k in streaks),
        key=lambda x: (-x.months, x.ratio if x.ratio is not None else 0.0),
    )
    if old is None:
        return digest
    for key, e in new.items.items():
        was = old.items.get(key)
        if was is None:
            digest.new_items.append(_entry(key, e))
            continue
        it = e.item
        change = Change(key, it.id, it.name, it.unit, was.status, e.status, was.item.ratio, it.ratio)
        if e.status is Status.DONE and was.status is not Status.DONE:
            digest.newly_done.append(change)
        elif e.status.rank < was.status.rank:  # rank: severe first
            digest.worse.append(change)
        elif e.status.rank > was.status.rank:
            digest.better.append(change)
        elif change.ratio_moved:
            digest.moved.append(change)
        elif e.status is not Status.DONE:
            digest.unmoved.append(_entry(key, e))
    digest.vanished = [_entry(k, e) for k, e in old.items.items() if k not in new.items]
    return digest
