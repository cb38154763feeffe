"""`dashboard quality [--json]`: the data-quality findings (数据质量, issue 15) of one
load of every source, with a suggested `[units.aliases]` table for unit names that look
like variants. Findings are not failures: exit 0 (3 when a source failed to load, as
`dashboard check`; 2 for a configuration error). No alerts are evaluated or sent."""

from __future__ import annotations

import argparse
import asyncio
import sys

from dashboard import strict_json
from dashboard.commands.common import open_runtime, table_lines
from dashboard.core.quality import KINDS, QualityReport
from dashboard.data_quality import snapshot_quality


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "quality",
        parents=[common],
        help="数据质量 data quality: 缺比例、超范围、未按时填报、单位名称变体…",
        description=(
            "载入全部数据源一次，列出需要核对的数据：没有完成比例、比例由任务数与完成值算出、进度只有文字、"
            "比例超出范围、未按时填报、只在一个数据源中、疑似同一单位的名称（附 [units.aliases] 建议）。"
            "发现问题不是错误：退出码 0。"
        ),
    )
    p.add_argument("--json", action="store_true", help="输出一个 JSON 对象 print one JSON object")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="数据截止日期 as-of date")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config, runtime = open_runtime(args)
    try:
        snap = asyncio.run(runtime.cycle(alerts=False))
    finally:
        runtime.close()
    report = snapshot_quality(snap, config)
    failed = [s for s in snap.sources if s.ok is False]
    if args.json:
        body = report.to_dict()
        body["sources"] = [{"name": s.name, "ok": bool(s.ok), "error": s.error} for s in snap.sources]
        print(strict_json.dumps(body, ensure_ascii=False, indent=2))
    else:
        print("\n".join(text_lines(report)))
    for s in failed:
        print(f"✗ 数据源 {s.name} 载入失败，结果不完整: {s.error}", file=sys.stderr)
    return 3 if failed else 0


def text_lines(report: QualityReport) -> list[str]:
    """The findings as a person reads them: a summary line, then one block per kind found."""
    counts = report.counts()
    lines = [
        f"数据质量 Data quality  截止 {report.as_of:%Y-%m-%d}  "
        f"（未按时填报：更新时间超过 {report.stale_days} 天）",
        " · ".join(f"{KINDS[k]} {n}" for k, n in counts.items()),
    ]
    if not report.findings:
        lines.append("没有发现问题 no findings")
        return lines
    for kind, label in KINDS.items():
        found = report.by_kind(kind)
        if not found:
            continue
        lines += ["", f"{label} ({len(found)})"]
        if kind == "unit_variant":
            for f in found:
                lines.append(f"  {f.unit}：{f.detail}")
            continue
        rows = [[f.item_id, _clip(f.name, 30), f.unit, _clip(f.detail + _warned(f), 60)] for f in found]
        lines += table_lines(rows, indent="  ")
    table = report.alias_table()
    if table:
        lines += ["", "建议写入配置 suggested for dashboard.toml:", *("  " + x for x in table.splitlines())]
    return lines


def _warned(f: object) -> str:
    warnings = getattr(f, "warnings", ())
    return f"（{'；'.join(warnings)}）" if warnings else ""


def _clip(text: str, limit: int) -> str:
    """A long sentence cut for a terminal line (`--json` and the export keep it whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
