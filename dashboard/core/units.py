"""Aggregations over evaluated items: per lead unit (牵头单位) and per project. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dashboard.core.items import Evaluated, Status


@dataclass(slots=True)
class UnitSummary:
    unit: str
    items: int = 0
    done: int = 0
    on_track: int = 0
    lagging: int = 0
    severe: int = 0
    unknown: int = 0
    open_alerts: int = 0
    worst: Evaluated | None = None
    members: list[Evaluated] = field(default_factory=list)

    def sort_key(self) -> tuple[int, int, float, str]:
        """Worst first: most severe, then most lagging, then the lowest worst ratio."""
        worst_ratio = self.worst.item.ratio if self.worst and self.worst.item.ratio is not None else 9.9
        return (-self.severe, -self.lagging, worst_ratio, self.unit)


def _worse(a: Evaluated | None, b: Evaluated) -> bool:
    if a is None:
        return True
    if b.status.rank != a.status.rank:
        return b.status.rank < a.status.rank
    return (b.gap or 0.0) > (a.gap or 0.0)


def _summarise(
    key_of: str, evaluated: Iterable[Evaluated], open_alerts: Mapping[str, int]
) -> list[UnitSummary]:
    groups: dict[str, UnitSummary] = {}
    for e in evaluated:
        key = getattr(e.item, key_of) or "（未填写）"
        s = groups.get(key)
        if s is None:
            s = groups[key] = UnitSummary(key)
        s.items += 1
        s.members.append(e)
        setattr(s, e.status.value, getattr(s, e.status.value) + 1)
        if e.status is not Status.DONE and _worse(s.worst, e):
            s.worst = e
    for s in groups.values():
        s.open_alerts = open_alerts.get(s.unit, 0)
    return sorted(groups.values(), key=UnitSummary.sort_key)


def summarise_units(
    evaluated: Iterable[Evaluated], open_alerts: Mapping[str, int] | None = None
) -> list[UnitSummary]:
    """One row per lead unit, worst first. `open_alerts` is unit → open alert count."""
    return _summarise("unit", evaluated, open_alerts or {})


def summarise_projects(evaluated: Iterable[Evaluated]) -> list[UnitSummary]:
    """One row per 码上通 project (project code); items without one are left out."""
    return [s for s in _summarise("project_code", evaluated, {}) if s.unit != "（未填写）"]
