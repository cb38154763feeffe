"""The data-quality findings of a snapshot (dashboard.core.quality) and the table every
exporter writes of them: shared by `dashboard quality`, `dashboard export --view
quality` and the 数据质量 screen. No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashboard.core.aliases import UnitAliases, apply_unit_aliases
from dashboard.core.quality import STALE_DAYS, Finding, QualityReport, SourceItems, quality_report
from dashboard.views import Column, TableView

# Source types that list only provincial items (省实事): 码上通 has no 市实事 to miss.
PROVINCIAL_ONLY_TYPES = frozenset({"mashangtong"})

QUALITY_COLUMNS = [
    Column("问题", "text", "label"),
    Column("序号", "text", "item_id"),
    Column("项目名称", "text", "name"),
    Column("牵头单位", "text", "unit"),
    Column("数据源", "text", "source"),
    Column("说明", "text", "detail"),
    Column("数据警告", "text", "warnings"),
    Column("建议", "text", "suggestion"),
    Column("类别键", "text", "kind"),
]


def snapshot_quality(snapshot: Any, config: Any = None) -> QualityReport:
    """The findings on a `Snapshot`'s merged items, with `[units]` aliases and
    `[quality] stale_days` from `config` (defaults without one)."""
    aliases: UnitAliases = getattr(config, "unit_aliases", None) or UnitAliases()
    stale_days = int(getattr(config, "quality_stale_days", STALE_DAYS))
    sources = [
        SourceItems(
            s.name,
            apply_unit_aliases(s.items, aliases),
            provincial_only=getattr(s.spec, "type", "") in PROVINCIAL_ONLY_TYPES,
        )
        for s in snapshot.sources
        if s.items
    ]
    return quality_report(
        [e.item for e in snapshot.evaluated],
        snapshot.as_of,
        warnings=snapshot.warnings,
        sources=sources,
        stale_days=stale_days,
    )


def finding_cells(f: Finding) -> list[Any]:
    return [
        f.label,
        f.item_id,
        f.name,
        f.unit,
        f.source,
        f.detail,
        "；".join(f.warnings),
        f.suggestion,
        f.kind,
    ]


def quality_view(findings: Sequence[Finding], title: str, notes: Sequence[str] = ()) -> TableView:
    """One row per finding, in the report's order (by kind)."""
    return TableView(
        "quality", title, list(QUALITY_COLUMNS), [finding_cells(f) for f in findings], notes=list(notes)
    )
