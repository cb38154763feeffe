"""Items as they stood on a past date, from the store's history (issue 15, "point in time").

History holds one point per item and as-of date (`Store.record_history`, and `dashboard
import` for past bulletins, whose points carry the whole item). On a past day each item
takes its last point dated on or before that day; an item with no such point has no
figure then (its ratio is left empty and it is counted), never a later figure borrowed.
`dashboard report --month` and `dashboard check --as-of` read through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from dashboard.core.items import Item
from dashboard.core.progress import count_by_status, default_order, evaluate
from dashboard.runtime import Runtime, Snapshot
from dashboard.store import HistoryPoint, Store, history_keys

HISTORY_LABEL = "历史回看"


@dataclass(slots=True)
class PastItems:
    """The items on `day`: today's items with that day's figures, plus items a past
    bulletin held that today's data no longer does."""

    day: date
    items: list[Item]
    without_figure: list[Item]  # in today's data, but history has no point for them by `day`
    from_history: int  # items whose figures come from a point on or before `day`

    @property
    def note(self) -> str:
        """The line a report or `check` shows about where its figures came from."""
        text = f"{HISTORY_LABEL} {self.day:%Y-%m-%d}：{self.from_history} 个项目的数字取自历史（截至该日的最近一期）"
        if self.without_figure:
            text += (
                f"；{len(self.without_figure)} 个项目在该日之前没有记录，不计完成比例 no figure at that date"
            )
        return text


def _as_it_stood(current: Item, point: HistoryPoint) -> Item:
    """`current` with the figures (and, from an imported bulletin, the texts) of `point`."""
    past = point.item
    if past is not None:
        return replace(
            current,
            target_text=past.target_text,
            target=past.target,
            target_is_rate=past.target_is_rate,
            progress_text=past.progress_text,
            actual=past.actual,
            ratio=past.ratio,
            ratio_computed=past.ratio_computed,
            acceptance_ratio=past.acceptance_ratio,
            as_of=point.day,
        )
    same = (point.ratio, point.actual) == (current.ratio, current.actual)
    return replace(
        current,
        ratio=point.ratio,
        actual=point.actual,
        target=point.target,
        acceptance_ratio=point.acceptance,
        progress_text=current.progress_text if same else "",  # today's sentence is not that day's
        as_of=point.day,
    )


def _without_figure(current: Item) -> Item:
    return replace(
        current, ratio=None, actual=None, progress_text="", ratio_computed=False, acceptance_ratio=None
    )


def items_at(store: Store, current: Sequence[Item], day: date) -> PastItems | None:
    """The items as they stood on `day`, or None when history has no point on or before it
    (then there is nothing to look back at, and callers use today's data as before)."""
    points = store.history_at(day)
    if not points:
        return None
    keys, _ = history_keys(current)
    items: list[Item] = []
    missing: list[Item] = []
    for key, item in zip(keys, current, strict=True):
        point = points.pop(key, None)
        if point is None:
            items.append(_without_figure(item))
            missing.append(item)
        else:
            items.append(_as_it_stood(item, point))
    # Items of a past bulletin that today's data no longer holds, as imported.
    gone = [replace(p.item, as_of=p.day) for p in points.values() if p.item is not None]
    return PastItems(day, items + gone, missing, len(items) - len(missing) + len(gone))


def data_as_of(runtime: Runtime) -> date:
    """The current data's own as-of date, whatever `--as-of` says: the config's `as_of`,
    else the latest date the sources state, else today (as `Runtime.as_of_origin`)."""
    dated = [s.as_of for s in runtime.states.values() if s.as_of]
    return runtime.config.as_of or (max(dated) if dated else date.today())


def looks_back(store: Store, day: date) -> bool:
    """Whether `day` is a past date of history: it holds a point on or before `day` and a
    later one (so `--as-of day` means "as it stood then", not "today's data as of day")."""
    first, last = store.history_days()
    return first is not None and last is not None and first <= day < last


def past_snapshot(runtime: Runtime, day: date) -> tuple[Snapshot, PastItems] | None:
    """A `Snapshot` of the items as they stood on `day` (alerts not evaluated), and what it
    was built from; None when history has nothing on or before `day`."""
    past = items_at(runtime.store, runtime.items(), day)
    if past is None:
        return None
    expected = runtime.expected(day)
    evaluated = default_order(evaluate(past.items, expected, runtime.config.thresholds))
    snap = Snapshot(
        as_of=day,
        expected=expected,
        evaluated=evaluated,
        by_status=count_by_status(evaluated),
        sources=list(runtime.states.values()),
        warnings=[w for s in runtime.states.values() for w in s.warnings],
        taken_at=datetime.now(),
        as_of_source="config",  # `--as-of` / `--month` chose the date
        as_of_note=past.note,
    )
    return snap, past
