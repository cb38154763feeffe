"""`dashboard store check|repair|vacuum`: look after the SQLite store the config names
(`[store] path`, else the data folder). No source is fetched, nothing is sent.

- `check`: integrity (`PRAGMA quick_check`), every table present, every row decoding;
  read only. Exit 0 healthy, 4 not.
- `repair`: a backup copy first (`<name>.bak-<time>`), then a fresh file rebuilt from
  every row that still reads and decodes; says what was lost. Exit 0, 4 if it failed.
- `vacuum`: history trimmed (`[store] keep_history`, intra-day points after a week)
  and the file compacted. Exit 0.

Run `repair` and `vacuum` with the TUI closed: a running TUI notices a replaced file
and recreates its own (its alert state seeded from memory), but its newest writes
may land in the old file.
"""

from __future__ import annotations

import argparse
import sqlite3
from typing import Any

from dashboard import strict_json
from dashboard.config import load_config, state_dir
from dashboard.store_health import check, describe, repair, vacuum

EXIT_UNHEALTHY = 4


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "store", parents=[common], help="检查、修复、压缩存储 check, repair or vacuum the store"
    )
    actions = p.add_subparsers(dest="store_action", metavar="check|repair|vacuum", required=True)
    for name, help_text in (
        ("check", "检查存储完整性 integrity, tables, rows (read only)"),
        ("repair", "先备份，再重建可读的部分 back up, then rebuild what still reads"),
        ("vacuum", "删减历史并压缩 trim the history and compact the file"),
    ):
        a = actions.add_parser(name, parents=[common], help=help_text)
        a.add_argument("--json", action="store_true", help="输出一个 JSON 对象 print one JSON object")
        a.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(getattr(args, "config", None))
    path = config.store_path or state_dir() / "dashboard.sqlite3"
    action = args.store_action
    code = 0
    report: dict[str, Any]
    if action == "check":
        report = check(path)
        code = 0 if report["ok"] else EXIT_UNHEALTHY
    elif action == "repair":
        try:
            report = {"ok": True, **repair(path).to_dict()}
        except (sqlite3.Error, OSError) as exc:
            report, code = {"ok": False, "path": str(path), "error": describe(exc)}, EXIT_UNHEALTHY
    else:
        try:
            report = {"ok": True, **vacuum(path, config.store_keep_history)}
        except (sqlite3.Error, OSError) as exc:
            report, code = {"ok": False, "path": str(path), "error": describe(exc)}, EXIT_UNHEALTHY
    if getattr(args, "json", False):
        print(strict_json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(render_text(action, report))
    return code


def render_text(action: str, report: dict[str, Any]) -> str:
    lines = [f"存储 store: {report['path']}"]
    if report.get("error") and action != "check":
        return "\n".join([*lines, f"✗ 失败 failed: {report['error']}"])
    if action == "check":
        lines.append("✓ 完好 healthy" if report["ok"] else "✗ 有问题 unhealthy")
        if report.get("error"):
            lines.append(f"  无法读取 cannot read: {report['error']}")
        if report.get("integrity") and report["integrity"] != ["ok"]:
            lines += [f"  完整性 integrity: {m}" for m in report["integrity"][:20]]
        if report.get("missing_tables"):
            lines.append("  缺少的表 missing tables: " + "、".join(report["missing_tables"]))
        for table, n in report.get("bad_rows", {}).items():
            lines.append(f"  {table}: {n} 行无法解码 rows do not decode")
        if not report["ok"]:
            lines.append("  修复 repair: dashboard store repair")
    elif action == "repair":
        if report.get("backup"):
            lines.append(f"备份 backup: {report['backup']}")
        kept = sum(report["kept"].values())
        lost = {t: n for t, n in report["dropped"].items() if n}
        lines.append(f"✓ 已重建 rebuilt: 保留 kept {kept} 行")
        for table, n in lost.items():
            lines.append(f"  丢弃 dropped {table}: {n} 行")
        for table, why in report["unreadable"].items():
            lines.append(f"  无法读完 unreadable {table}: {why}")
        if report["recreated"]:
            lines.append("  新建的表 recreated: " + "、".join(report["recreated"]))
    else:
        lines.append(
            f"✓ 删减历史 trimmed {report['deleted_points']} 点；"
            f"{report['size_before']:,} → {report['size_after']:,} 字节 bytes"
        )
    return "\n".join(lines)
