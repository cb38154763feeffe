"""`dashboard case open|note|close|reopen` and `dashboard cases`: 督办 cases (issue 14).
They read and write the store only (`case open` loads the sources once when the store
holds no items yet). Every change is a row in the audit trail (留痕) in the same
transaction; a mistake (a deadline in the past, a note on a closed case, an unknown
case or item) is a usage error naming the argument, exit 2, and nothing changes."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from typing import Any

from dashboard import cases, strict_json
from dashboard.alerting import now_local
from dashboard.commands.common import UsageError, date_arg, open_runtime, table_lines
from dashboard.config import Config, default_author
from dashboard.runtime import Runtime


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    c = sub.add_parser("case", parents=[common], help="督办案件 open, note, close (销号) or reopen a case")
    steps = c.add_subparsers(dest="case_command", metavar="STEP", required=True)
    o = steps.add_parser("open", parents=[common], help="立案 open a case on an item")
    o.add_argument("item", metavar="ITEM", help="项目编号 item id")
    o.add_argument("--deadline", metavar="YYYY-MM-DD", required=True, help="整改期限 deadline (今天或以后)")
    o.add_argument("--action", metavar="TEXT", required=True, help="整改要求 required action")
    o.add_argument("--by", metavar="NAME", help="立案人（默认 [user] name，其次登录名）who opens it")
    o.set_defaults(handler=run_open)
    n = steps.add_parser("note", parents=[common], help="添加备注 append a note")
    n.add_argument("id", metavar="ID", help="案件编号 case id")
    n.add_argument("text", metavar="TEXT", help="备注 the note")
    n.add_argument("--by", metavar="NAME", help="备注人 who writes it")
    n.set_defaults(handler=run_note)
    x = steps.add_parser("close", parents=[common], help="销号 confirm and close a case")
    x.add_argument("id", metavar="ID", help="案件编号 case id")
    x.add_argument("--by", metavar="NAME", help="销号人 who confirms")
    x.add_argument("--comment", metavar="TEXT", default="", help="说明 why")
    x.set_defaults(handler=run_close)
    r = steps.add_parser("reopen", parents=[common], help="重新督办 reopen a rectified or closed case")
    r.add_argument("id", metavar="ID", help="案件编号 case id")
    r.add_argument("--by", metavar="NAME", help="操作人 who reopens")
    r.set_defaults(handler=run_reopen)
    ls = sub.add_parser("cases", parents=[common], help="列出督办案件 list 督办 cases")
    ls.add_argument(
        "--state",
        action="append",
        metavar="STATE",
        help="督办中|已整改|已销号 (open|rectified|closed)，可重复 repeatable",
    )
    ls.add_argument("--unit", metavar="UNIT", help="牵头单位 lead unit")
    ls.add_argument("--overdue", action="store_true", help="只列逾期 only overdue cases")
    ls.add_argument("--json", action="store_true", help="输出一个 JSON 对象 print one JSON object")
    ls.set_defaults(handler=run_list)


def _actor(args: argparse.Namespace, config: Config) -> str:
    """`--by`, else `[user] name`, else the login name (as `dashboard ack`)."""
    return (getattr(args, "by", None) or "").strip() or default_author(config)


def _case_id(text: str) -> int:
    value = text.strip().removeprefix("#").removeprefix("case:")
    if not value.isdigit():
        raise UsageError("ID", f"无效的案件编号 {text!r}", expected="整数，如 1（见 `dashboard cases`）")
    return int(value)


def _step(args: argparse.Namespace, do: Any) -> cases.Case:
    config, runtime = open_runtime(args)
    try:
        with runtime.store.transaction() as conn:
            return do(conn, _actor(args, config))  # type: ignore[no-any-return]
    except cases.CaseError as exc:
        raise UsageError(exc.key, str(exc)) from None
    finally:
        runtime.close()


def run_open(args: argparse.Namespace) -> int:
    today = date.today()
    deadline = date_arg(args.deadline, "--deadline")
    if deadline is None or deadline < today:
        raise UsageError(
            "--deadline", f"日期 {deadline} 已经过去（今天是 {today}）", expected="今天或以后的日期"
        )
    action = args.action.strip()
    if not action:
        raise UsageError("--action", "必须写明整改要求", expected="--action TEXT")
    config, runtime = open_runtime(args)
    try:
        item = _find_item(runtime, args.item.strip())
        with runtime.store.transaction() as conn:
            case = cases.open_case(
                conn,
                now_local(),
                item_id=item.id,
                item_name=item.name,
                unit=item.unit,
                deadline=deadline,
                action=action,
                author=_actor(args, config),
            )
    finally:
        runtime.close()
    print(
        f"已立案 督办案件 #{case.id}：[{case.item_id}] {case.item_name}（{case.unit}），限期 {case.deadline}"
    )
    return 0


def _find_item(runtime: Runtime, item_id: str) -> Any:
    items = runtime.items()
    if not items:  # nothing in the store yet: load the sources once
        asyncio.run(runtime.refresh_all())
        items = runtime.items()
    found = next((i for i in items if i.id == item_id), None)
    if found is None:
        raise UsageError(
            "ITEM", f"没有项目 {item_id!r}", expected="数据中的项目编号（见 `dashboard export`）"
        )
    return found


def run_note(args: argparse.Namespace) -> int:
    text = args.text.strip()
    if not text:
        raise UsageError("TEXT", "备注不能为空")
    case_id = _case_id(args.id)
    case = _step(args, lambda conn, by: cases.add_note(conn, case_id, text, by=by, at=now_local()))
    print(f"督办案件 #{case.id}：已添加备注 noted")
    return 0


def run_close(args: argparse.Namespace) -> int:
    case_id = _case_id(args.id)
    comment = args.comment.strip()
    case = _step(
        args, lambda conn, by: cases.close_case(conn, case_id, by=by, at=now_local(), comment=comment)
    )
    print(f"督办案件 #{case.id}：已销号 closed")
    return 0


def run_reopen(args: argparse.Namespace) -> int:
    case_id = _case_id(args.id)
    case = _step(args, lambda conn, by: cases.reopen_case(conn, case_id, by=by, at=now_local()))
    print(f"督办案件 #{case.id}：重新督办 reopened")
    return 0


def _states(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    result = []
    for value in values:
        state = cases.STATE_NAMES.get(value.strip().lower(), value.strip())
        if state not in cases.STATES:
            raise UsageError(
                "--state", f"未知的状态 {value!r}", expected="督办中|已整改|已销号 或 open|rectified|closed"
            )
        result.append(state)
    return result


def run_list(args: argparse.Namespace) -> int:
    states = _states(args.state)
    _config, runtime = open_runtime(args)
    try:
        with runtime.store.lock:
            conn = runtime.store.conn
            found = cases.list_cases(conn, states, args.unit, args.overdue)
            notes = {c.id: cases.notes(conn, c.id) for c in found}
    finally:
        runtime.close()
    if args.json:
        listed = [{**c.to_dict(), "notes": notes[c.id]} for c in found]
        print(strict_json.dumps({"cases": listed}, ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("没有督办案件 no cases")
        return 0
    rows = [
        [
            f"#{c.id}",
            c.state + (" 逾期" if c.overdue else ""),
            f"限期 {c.deadline}",
            f"[{c.item_id}] {c.item_name}",
            c.unit,
            c.action,
        ]
        for c in found
    ]
    for line in table_lines(rows):
        print(line)
    return 0
