"""The item model: one indicator (指标) of a livelihood project. Pure data, no I/O."""

from __future__ import annotations

import enum
import gc
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any


class Status(str, enum.Enum):
    """The five statuses of design §2, in the order a team reads them (worst first)."""

    SEVERE = "severe"
    LAGGING = "lagging"
    UNKNOWN = "unknown"
    ON_TRACK = "on_track"
    DONE = "done"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def rank(self) -> int:
        """Sort key: severe first, done last."""
        return _RANK[self]


STATUS_LABELS: dict[Status, str] = {
    Status.DONE: "已完成",
    Status.ON_TRACK: "正常",
    Status.LAGGING: "滞后",
    Status.SEVERE: "严重滞后",
    Status.UNKNOWN: "未知",
}
_RANK = {s: i for i, s in enumerate(Status)}

# The value of an item's mapping fields when it has nothing there: one shared read-only
# mapping instead of four empty dicts per item (25 MiB at 100,000 items).
NOTHING: Mapping[Any, Any] = MappingProxyType({})

# Months whose updates (每月动态) a provincial item reports: March..December.
UPDATE_MONTHS: tuple[int, ...] = tuple(range(3, 13))


@dataclass(slots=True)
class Item:
    """One indicator as loaded from a source, before evaluation.

    `ratio` is a fraction (0.32 for 32%); `ratio_computed` says it was derived
    from actual / target because the source gave none.
    """

    id: str
    name: str
    category: str = ""
    unit: str = ""  # 牵头单位, the lead unit
    target_text: str = ""
    target: float | None = None
    target_is_rate: bool = False
    progress_text: str = ""
    actual: float | None = None
    ratio: float | None = None
    ratio_computed: bool = False
    source: str = ""
    as_of: date | None = None
    project_code: str = ""
    project_name: str = ""
    measure: str = ""  # 计量单位
    acceptance_status: str = ""
    acceptance_ratio: float | None = None
    # The mappings are never changed in place (loaders may share one empty mapping, see
    # NOTHING): build a new dict and assign it.
    monthly_updates: Mapping[int, int] = field(default_factory=dict)
    disclosures: Mapping[str, int] = field(default_factory=dict)
    ratings: int | None = None
    satisfaction: float | None = None
    comments_received: int | None = None
    comments_answered: int | None = None
    updated_at: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    # Field name -> source name, filled when several sources merge into one item.
    field_sources: Mapping[str, str] = field(default_factory=dict)
    # Where the item came from, for error messages and drill-down ("file.csv:12").
    origin: str = ""
    # The county (县市区) of a city's roll-up: its source's `county` key; "" for a county's own data.
    # Last, so loaders that build items positionally are unchanged.
    county: str = ""

    @property
    def is_provincial(self) -> bool:
        return "省" in self.category


@dataclass(slots=True, frozen=True)
class DataWarning:
    """A problem in the input that did not stop the load: names file, row and column."""

    source: str
    message: str
    location: str = ""  # file path or URL
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.location or self.source
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column:
            where += f" 列「{self.column}」"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class Evaluated:
    """An item with its status against the expected progress of the as-of date."""

    item: Item
    status: Status
    expected: float
    gap: float | None  # expected - ratio, in fraction points; None when unknown

    @property
    def id(self) -> str:
        return self.item.id


_gc_lock = threading.Lock()
_gc_pauses = 0  # how many `paused_gc` blocks are running (in any thread)
_gc_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a block creates many objects that hold
    no reference cycles (items, evaluated items, sort keys): at 100,000 items its
    repeated scans of the growing heap cost most of the time (evaluating: 0.12 s →
    0.02 s). Counted, so blocks in several threads resume it only when the last ends."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
