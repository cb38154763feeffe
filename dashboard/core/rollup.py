"""A city's roll-up of its counties (县市区): each source's `county` on its items, and the
counts per county. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from dashboard.core.items import Evaluated, Item
from dashboard.core.progress import count_by_status

NO_COUNTY = "（未注明）"  # items of a source without `county`, in a roll-up that has some


def with_county(items: Sequence[Item], county: str) -> Sequence[Item]:
    """`items` carrying `county`. Items that already do are the same objects (identity tells
    the unchanged, see merge.carry_over); the others are copies (a source's own items are
    kept and reused next refresh, so they are not changed in place)."""
    if not county:
        return items
    return [item if item.county == county else replace(item, county=county) for item in items]


def by_county(evaluated: Iterable[Evaluated], order: Sequence[str] = ()) -> dict[str, dict[str, object]]:
    """County → {"items": n, "by_status": {done, on_track, lagging, severe, unknown}}: the
    counties of `order` (the config's sources) first, in that order, then any others as
    they appear; {} when neither the config nor any item names a county."""
    groups: dict[str, list[Evaluated]] = {name: [] for name in order if name}
    for e in evaluated:
        groups.setdefault(e.item.county, []).append(e)
    if not any(groups):  # only the "" county: not a roll-up
        return {}
    return {
        county or NO_COUNTY: {"items": len(members), "by_status": count_by_status(members)}
        for county, members in groups.items()
        if members or county
    }
