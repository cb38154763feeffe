"""`dashboard digest [--since DATE] [--until DATE] [--json]` (issue 15): what changed since
the previous bulletin, from the store's history: the opening paragraph the bulletin uses,
then each section (dashboard/core/digest.py). A read: no alerts, no history recorded.

Exit codes: 0 (also when history holds no earlier bulletin: the digest says so, with
`compared` false), 2 for a bad option or configuration, 3 when a source failed to load."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from dashboard import strict_json
from dashboard.commands.common import UsageError, date_arg
from dashboard.config import load_config
from dashboard.core.digest import Digest
from dashboard.core.parse import format_percent
from dashboard.digest_view import runtime_digest
from dashboard.history import data_as_of
from dashboard.runtime import Runtime


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "digest",
        parents=[common],
        help="变化摘要 what changed since the previous bulletin (from history)",
        description=(
            "比较两期通报（默认：当前数据与进度历史中上一个月的通报）：新增完成、状态变差或好转（原、现状态与完成比例）、"
            "比例变动、比例未变、连续N个月滞后、新增与减少的项目、上月未更新动态的单位。"
            "历史中没有更早的通报时照常退出（0）并说明。不评估预警，不写历史。"
        ),
    )
    p.add_argument("--since", metavar="YYYY-MM-DD", help="与哪一天的情况比较（默认上一期通报）compare with")
    p.add_argument(
        "--until", metavar="YYYY-MM-DD", help="比较到哪一天（默认当前数据）up to (default: today's data)"
    )
    p.add_argument("--json", action="store_true", help="输出一个 JSON 对象 print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    since = date_arg(args.since, "--since")
    until = date_arg(args.until, "--until")
    if since is not None and until is not None and since >= until:
        raise UsageError("--since", f"{since} 不早于 --until {until}", expected="早于 --until 的日期")
    config = load_config(args.config)
    runtime = Runtime(config)
    runtime.record_history = False  # a read of history, not a new point of it
    try:
        asyncio.run(runtime.refresh_all())
        own = data_as_of(runtime)
        if since is not None and until is None and since >= own:
            raise UsageError("--since", f"{since} 不早于当前数据的截止日期 {own}", expected="更早的日期")
        digest = runtime_digest(runtime, since=since, until=until, own=own)
        failed = [s for s in runtime.states.values() if s.ok is False]
    finally:
        runtime.close()
    if args.json:
        body: dict[str, Any] = digest.to_dict()
        body["sources"] = [
            {"name": s.name, "ok": bool(s.ok), "error": s.error} for s in runtime.states.values()
        ]
        print(strict_json.dumps(body, ensure_ascii=False, indent=2))
    else:
        print("\n".join(text_lines(digest)))
    for s in failed:
        print(f"✗ 数据源 {s.name} 载入失败，变化不完整: {s.error}", file=sys.stderr)
    return 3 if failed else 0


def text_lines(digest: Digest) -> list[str]:
    """The paragraph, then each non-empty section with its items."""
    since = (
        f"{digest.since:%Y-%m-%d}（序时进度 {format_percent(digest.since_expected, 0)}）"
        if digest.since
        else "—"
    )
    lines = [
        f"变化摘要 Digest  {since} → {digest.until:%Y-%m-%d}（序时进度 {format_percent(digest.expected, 0)}）",
        digest.paragraph(),
    ]
    lines += [f"! {note}" for note in digest.notes]
    for heading, entries in digest.sections():
        if not entries:
            continue
        lines += ["", f"{heading}（{len(entries)}）", *(f"  {e}" for e in entries)]
    return lines
