"""督办 cases as the TUI works them (issue 14): read the cases with their notes and trail,
open one on an item, note, close (销号) and reopen — each step one store transaction
with its trail row, as `dashboard case …` does. Headless: the UI calls these through
the app, never the store itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dashboard import cases
from dashboard.alert_store import trail_rows
from dashboard.alerting import now_local
from dashboard.config import default_author
from dashboard.runtime import Runtime

ACTIVE = (cases.OPEN, cases.RECTIFIED)  # a case still being worked: `c` shows it, not a second


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One case and what the cases screen shows of its notes."""

    case: cases.Case
    notes: int
    last_note: str

    @property
    def key(self) -> str:
        return str(self.case.id)


@dataclass(frozen=True, slots=True)
class CaseFile:
    """A case with all of its notes and its audit trail (oldest first)."""

    case: cases.Case
    notes: list[dict[str, Any]]
    trail: list[dict[str, Any]]


def case_rows(runtime: Runtime) -> list[CaseRow]:
    """Every case, newest first, with its note count and last note."""
    store = runtime.store
    with store.lock:
        found = cases.list_cases(store.conn)
        counts: dict[int, tuple[int, str]] = {}
        for row in store.conn.execute(
            "SELECT case_id, COUNT(*) AS n, "
            "(SELECT text FROM case_notes l WHERE l.case_id = n.case_id ORDER BY id DESC LIMIT 1) AS last "
            "FROM case_notes n GROUP BY case_id"
        ):
            counts[int(row["case_id"])] = (int(row["n"]), str(row["last"] or ""))
    return [CaseRow(c, *counts.get(c.id, (0, ""))) for c in reversed(found)]


def case_file(runtime: Runtime, case_id: int) -> CaseFile | None:
    store = runtime.store
    with store.lock:
        case = cases.get_case(store.conn, case_id)
        if case is None:
            return None
        return CaseFile(case, cases.notes(store.conn, case_id), trail_rows(store.conn, case.subject))


def active_case(runtime: Runtime, item_id: str) -> cases.Case | None:
    """The item's case still being worked (督办中 or 已整改), if any."""
    store = runtime.store
    with store.lock:
        found = [c for c in cases.list_cases(store.conn, ACTIVE) if c.item_id == item_id]
    return found[-1] if found else None


def deadline_days(runtime: Runtime) -> int:
    return int(getattr(runtime.alerts, "case_deadline_days", cases.DEFAULT_DEADLINE_DAYS))


def default_deadline(runtime: Runtime, as_of: date, today: date) -> date:
    """The data's as-of date + `case_deadline_days`, as the engine's own cases; when that
    is already past (old data), today + the same days, since a deadline may not be past."""
    days = timedelta(days=deadline_days(runtime))
    return as_of + days if as_of + days >= today else today + days


def default_action(behind: bool) -> str:
    return cases.RULE_ACTIONS["severe"] if behind else cases.DEFAULT_ACTION


def author(runtime: Runtime) -> str:
    """`[user] name`, else the login name (as `dashboard ack` without `--by`)."""
    return default_author(runtime.config)


def open_case(
    runtime: Runtime, *, item_id: str, item_name: str, unit: str, deadline: date, action: str, by: str
) -> cases.Case:
    """立案 by hand. A deadline before today or an empty action is a CaseError, nothing changed."""
    today = date.today()
    if deadline < today:
        raise cases.CaseError("deadline", f"限期 {deadline} 已经过去（今天是 {today}）")
    if not action.strip():
        raise cases.CaseError("action", "必须写明整改要求 the required action is missing")
    with runtime.store.transaction() as conn:
        return cases.open_case(
            conn,
            now_local(),
            item_id=item_id,
            item_name=item_name,
            unit=unit,
            deadline=deadline,
            action=action.strip(),
            author=by.strip() or author(runtime),
        )


def add_note(runtime: Runtime, case_id: int, text: str, by: str = "") -> cases.Case:
    if not text.strip():
        raise cases.CaseError("text", "备注不能为空 the note is empty")
    with runtime.store.transaction() as conn:
        return cases.add_note(conn, case_id, text.strip(), by=by.strip() or author(runtime), at=now_local())


def close_case(runtime: Runtime, case_id: int, by: str = "") -> cases.Case:
    """销号 from 已整改 only (the TUI's rule: the data shows it caught up, a person confirms)."""
    with runtime.store.transaction() as conn:
        case = cases.get_case(conn, case_id)
        if case is not None and case.state == cases.OPEN:
            raise cases.CaseError(
                "ID", f"督办案件 #{case_id} 仍在督办中：数据显示整改后（已整改）才能销号 not rectified yet"
            )
        return cases.close_case(conn, case_id, by=by.strip() or author(runtime), at=now_local())


def reopen_case(runtime: Runtime, case_id: int, by: str = "") -> cases.Case:
    with runtime.store.transaction() as conn:
        return cases.reopen_case(conn, case_id, by=by.strip() or author(runtime), at=now_local())
