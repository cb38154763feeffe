"""Data quality (数据质量, issue 15): what in the loaded data a person should check
before trusting the figures. Pure: no I/O.

Findings are facts, not failures (`dashboard quality` exits 0 on them):

- `no_ratio`      没有完成比例: no ratio given and none computable, with the row's warnings;
- `computed`      比例由任务数与完成值算出: the source gave no ratio;
- `text_progress` 进度只有文字: 进度情况 is a sentence, not a figure;
- `out_of_range`  比例超出范围: over `max_ratio` (200%) or negative;
- `stale_update`  未按时填报: 更新时间 more than `stale_days` days before the as-of date;
- `one_source`    只在一个数据源中: with two or more sources, an item one of them lacks
  (a 码上通 source only lists provincial items, so it lacks no 市实事);
- `unit_variant`  单位名称疑似同一单位: names that look like one unit, with the lines
  for a `[units.aliases]` table (dashboard.core.aliases).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from dashboard.core.aliases import VariantGroup, find_variants
from dashboard.core.as_of import latest_update
from dashboard.core.items import DataWarning, Item
from dashboard.core.merge import merge_key
from dashboard.core.parse import format_percent

KINDS: dict[str, str] = {
    "no_ratio": "没有完成比例",
    "computed": "比例由任务数与完成值算出",
    "text_progress": "进度只有文字",
    "out_of_range": "比例超出范围",
    "stale_update": "未按时填报",
    "one_source": "只在一个数据源中",
    "unit_variant": "单位名称疑似同一单位",
}
MAX_RATIO = 2.0  # a ratio over 200% is more likely a typo (target and actual swapped) than real
STALE_DAYS = 35


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to check: an item (id, name, unit, source) or, for `unit_variant`, a
    group of unit names (`unit` lists them); `suggestion` is what to do about it."""

    kind: str
    detail: str
    item_id: str = ""
    name: str = ""
    unit: str = ""
    source: str = ""
    warnings: tuple[str, ...] = ()
    suggestion: str = ""

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "label": self.label,
            "item_id": self.item_id,
            "name": self.name,
            "unit": self.unit,
            "source": self.source,
            "detail": self.detail,
            "warnings": list(self.warnings),
            "suggestion": self.suggestion,
        }


@dataclass(slots=True)
class SourceItems:
    """One source's items (aliases applied) for the one-source check; `provincial_only`
    when the source lists only provincial items (a 码上通 export)."""

    name: str
    items: Sequence[Item]
    provincial_only: bool = False


@dataclass(slots=True)
class QualityReport:
    as_of: date
    stale_days: int
    findings: list[Finding] = field(default_factory=list)
    variants: list[VariantGroup] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Findings per kind, every kind present (0 when none), in KINDS order."""
        counts = dict.fromkeys(KINDS, 0)
        for f in self.findings:
            counts[f.kind] += 1
        return counts

    def by_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def alias_table(self) -> str:
        """A `[units.aliases]` table proposing every variant group ("" when there is none)."""
        lines = [line for g in self.variants for line in g.alias_lines()]
        return "[units.aliases]\n" + "\n".join(lines) + "\n" if lines else ""

    def to_dict(self) -> dict[str, object]:
        """The `dashboard quality --json` object; keys are only ever added."""
        return {
            "as_of": self.as_of.isoformat(),
            "stale_days": self.stale_days,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
            "unit_variants": [
                {
                    "canonical": g.canonical,
                    "names": dict(g.names),
                    "items": g.items,
                    "alias_lines": g.alias_lines(),
                }
                for g in self.variants
            ],
            "alias_table": self.alias_table(),
        }


def _row_warnings(warnings: Iterable[DataWarning]) -> dict[str, list[str]]:
    """`location:row` (an item's `origin`) → the messages of that row's warnings."""
    out: dict[str, list[str]] = {}
    for w in warnings:
        if w.row is not None:
            column = f"「{w.column}」" if w.column else ""
            out.setdefault(f"{w.location}:{w.row}", []).append(f"{column}{w.message}")
    return out


def _finding(kind: str, item: Item, detail: str, **more: object) -> Finding:
    return Finding(kind, detail, item.id, item.name, item.unit, item.source, **more)  # type: ignore[arg-type]


def quality_report(
    items: Sequence[Item],
    as_of: date,
    *,
    warnings: Iterable[DataWarning] = (),
    sources: Sequence[SourceItems] = (),
    stale_days: int = STALE_DAYS,
    max_ratio: float = MAX_RATIO,
) -> QualityReport:
    """The findings on merged `items` (aliases applied), in KINDS order, items in input order."""
    report = QualityReport(as_of, stale_days)
    by_row = _row_warnings(warnings)
    found: dict[str, list[Finding]] = {k: [] for k in KINDS}
    days: dict[str, date | None] = {}  # 更新时间 text → its day: values repeat across items
    for item in items:
        row = tuple(by_row.get(item.origin, ()))
        if item.ratio is None:
            found["no_ratio"].append(
                _finding(
                    "no_ratio",
                    item,
                    "没有完成比例，也无法由任务数与完成值算出，状态为未知",
                    warnings=row,
                    suggestion="请牵头单位补报完成比例或完成值",
                )
            )
        elif item.ratio_computed:
            found["computed"].append(
                _finding(
                    "computed",
                    item,
                    f"完成比例为空，按 {item.progress_text or item.actual} / {item.target_text} "
                    f"算得 {format_percent(item.ratio)}",
                    warnings=row,
                )
            )
        if item.ratio is not None and (item.ratio > max_ratio or item.ratio < 0):
            found["out_of_range"].append(
                _finding(
                    "out_of_range",
                    item,
                    f"完成比例 {format_percent(item.ratio)}，超出 0%–{format_percent(max_ratio, 0)}",
                    suggestion="核对任务数与完成值是否填反、单位是否一致",
                )
            )
        if item.progress_text and item.actual is None:
            found["text_progress"].append(_finding("text_progress", item, f"进度情况：{item.progress_text}"))
        if item.updated_at:
            text = item.updated_at
            updated = days[text] if text in days else days.setdefault(text, latest_update([text]))
            if updated is not None and (as_of - updated).days > stale_days:
                found["stale_update"].append(
                    _finding(
                        "stale_update",
                        item,
                        f"更新时间 {updated:%Y-%m-%d}，距截止日期 {(as_of - updated).days} 天（超过 {stale_days} 天）",
                        suggestion="督促牵头单位按时更新",
                    )
                )
    found["one_source"] = _one_source(sources)
    report.variants = find_variants(item.unit for item in items)
    found["unit_variant"] = [
        Finding(
            "unit_variant",
            "、".join(f"{name} {n} 项" for name, n in g.names.items()),
            unit=" / ".join(g.names),
            suggestion="\n".join(g.alias_lines()),
        )
        for g in report.variants
    ]
    report.findings = [f for k in KINDS for f in found[k]]
    return report


def _one_source(sources: Sequence[SourceItems]) -> list[Finding]:
    """Items in one source that another lacks (only with two or more sources)."""
    if len(sources) < 2:
        return []
    keys: list[Mapping[str, Item]] = [{merge_key(i): i for i in s.items} for s in sources]
    out: list[Finding] = []
    seen: set[str] = set()
    for index, source in enumerate(sources):
        for key, item in keys[index].items():
            if key in seen:
                continue
            missing = [
                other.name
                for j, other in enumerate(sources)
                if j != index and key not in keys[j] and (item.is_provincial or not other.provincial_only)
            ]
            if missing:
                seen.add(key)
                out.append(
                    _finding(
                        "one_source",
                        item,
                        f"见于「{source.name}」，不见于「{'」「'.join(missing)}」",
                        suggestion="核对项目名称与牵头单位是否一致",
                    )
                )
    return out
