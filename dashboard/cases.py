"""督办 cases (issue 14): a formal supervision case on one item, with a deadline, the
required action and who opened it; notes appended with time and author; states
督办中 → 已整改 (the item's condition has cleared in the data) → 已销号 (a person confirms).

Every change is a row in the audit trail (subject `case:ID`) in the same transaction
as the change. Overdue is judged by the data's as-of date (as the ladder counts days),
falling back to today when the data has none: a re-run of the same data gives the same
answer. The engine's hook (`after_evaluate`) runs inside `AlertEngine.evaluate`'s
transaction, so opening a case on reaching 督办 commits with the alert's own step."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dashboard.alert_store import SYSTEM, append_trail
from dashboard.core.alerts import AlertEvent, event_id
from dashboard.core.items import Evaluated, Status
from dashboard.store import Store

OPEN, RECTIFIED, CLOSED = "督办中", "已整改", "已销号"
STATES = (OPEN, RECTIFIED, CLOSED)
STATE_NAMES = {"open": OPEN, "rectified": RECTIFIED, "closed": CLOSED}  # English aliases for --state
DEFAULT_DEADLINE_DAYS = 10
OVERDUE_RULE = "case_overdue"
SUPERVISE = "supervise"  # the ladder's third level (core LEVELS)
# The action a case opened by the engine asks for, per rule (the bulletin's wording).
RULE_ACTIONS = {
    "severe": "加快推进，达到序时进度，并书面反馈整改情况",
    "lagging": "加快推进，达到序时进度，并书面反馈整改情况",
    "stalled": "说明进度停滞原因，书面反馈整改措施",
    "missing_update": "补报本月进度",
    "acceptance_lag": "及时组织验收，书面反馈",
    "comments_unanswered": "逐条答复群众意见",
}
DEFAULT_ACTION = "书面反馈整改情况"
BEHIND = (Status.LAGGING, Status.SEVERE)
CAUGHT_UP = (Status.ON_TRACK, Status.DONE)

CASES_DDL = """
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL,
    item_name TEXT NOT NULL,
    unit TEXT NOT NULL,
    deadline TEXT NOT NULL,
    action TEXT NOT NULL,
    author TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    state TEXT NOT NULL,
    alert_key TEXT,
    overdue_at TEXT,
    rectified_at TEXT,
    closed_at TEXT
);
CREATE INDEX IF NOT EXISTS cases_by_item ON cases(item_id, state);
CREATE TABLE IF NOT EXISTS case_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    at TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL
);
"""


class CaseError(ValueError):
    """A step the case's state does not allow, or an unknown case: nothing was changed.
    `key` names the argument at fault (for the CLI's usage error)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    item_id: str
    item_name: str
    unit: str
    deadline: date
    action: str
    author: str
    opened_at: datetime
    state: str
    alert_key: str | None = None
    overdue_at: datetime | None = None
    rectified_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def overdue(self) -> bool:
        return self.overdue_at is not None and self.state == OPEN

    @property
    def subject(self) -> str:
        return f"case:{self.id}"

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat(timespec="seconds")

        return {
            "id": self.id,
            "item_id": self.item_id,
            "item_name": self.item_name,
            "unit": self.unit,
            "deadline": self.deadline.isoformat(),
            "action": self.action,
            "author": self.author,
            "opened_at": iso(self.opened_at),
            "state": self.state,
            "alert_key": self.alert_key,
            "overdue": self.overdue,
            "overdue_at": iso(self.overdue_at),
            "rectified_at": iso(self.rectified_at),
            "closed_at": iso(self.closed_at),
        }


def ensure_cases_schema(store: Store) -> None:
    store.ensure_schema("cases", 1, CASES_DDL)


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def case_from_row(row: Mapping[str, Any]) -> Case:
    return Case(
        id=int(row["id"]),
        item_id=row["item_id"],
        item_name=row["item_name"],
        unit=row["unit"],
        deadline=date.fromisoformat(row["deadline"]),
        action=row["action"],
        author=row["author"],
        opened_at=datetime.fromisoformat(row["opened_at"]),
        state=row["state"],
        alert_key=row["alert_key"],
        overdue_at=_dt(row["overdue_at"]),
        rectified_at=_dt(row["rectified_at"]),
        closed_at=_dt(row["closed_at"]),
    )


# -- reading ------------------------------------------------------------------------------


def get_case(conn: Any, case_id: int) -> Case | None:
    row = conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    return None if row is None else case_from_row(row)


def list_cases(
    conn: Any, states: Iterable[str] | None = None, unit: str | None = None, overdue: bool = False
) -> list[Case]:
    """Cases oldest first, filtered by state, lead unit and overdue."""
    found = [case_from_row(r) for r in conn.execute("SELECT * FROM cases ORDER BY id")]
    wanted = set(states) if states else None
    return [
        c
        for c in found
        if (wanted is None or c.state in wanted)
        and (unit is None or c.unit == unit)
        and (not overdue or c.overdue)
    ]


def all_cases(store: Store) -> list[Case]:
    """Every case, oldest first (for the views and exports)."""
    with store.lock:
        return list_cases(store.conn)


def notes(conn: Any, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM case_notes WHERE case_id = ? ORDER BY id", (case_id,))
    return [{"at": r["at"], "author": r["author"], "text": r["text"]} for r in rows]


# -- the state machine (each step in the caller's transaction, with its trail row) ----------


def open_case(
    conn: Any,
    at: datetime,
    *,
    item_id: str,
    item_name: str,
    unit: str,
    deadline: date,
    action: str,
    author: str,
    alert_key: str | None = None,
) -> Case:
    cur = conn.execute(
        "INSERT INTO cases (item_id, item_name, unit, deadline, action, author, opened_at, state, alert_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (item_id, item_name, unit, deadline.isoformat(), action, author, at.isoformat(), OPEN, alert_key),
    )
    case = get_case(conn, int(cur.lastrowid or 0))
    assert case is not None
    append_trail(conn, at, author, "case_opened", case.subject, after=case.to_dict())
    return case


def _set_state(conn: Any, case: Case, at: datetime, actor: str, kind: str, **columns: Any) -> Case:
    assignments = ", ".join(f"{k} = ?" for k in columns)
    conn.execute(f"UPDATE cases SET {assignments} WHERE id = ?", (*columns.values(), case.id))
    new = get_case(conn, case.id)
    assert new is not None
    append_trail(conn, at, actor, kind, case.subject, before=case.to_dict(), after=new.to_dict())
    return new


def _existing(conn: Any, case_id: int) -> Case:
    case = get_case(conn, case_id)
    if case is None:
        raise CaseError("ID", f"没有督办案件 #{case_id}（见 `dashboard cases`）")
    return case


def add_note(conn: Any, case_id: int, text: str, *, by: str, at: datetime) -> Case:
    case = _existing(conn, case_id)
    if case.state == CLOSED:
        raise CaseError(
            "ID", f"督办案件 #{case_id} 已销号，不能再添加备注（可先 `dashboard case reopen {case_id}`）"
        )
    conn.execute(
        "INSERT INTO case_notes (case_id, at, author, text) VALUES (?, ?, ?, ?)",
        (case_id, at.isoformat(), by, text),
    )
    append_trail(conn, at, by, "case_noted", case.subject, after={"text": text}, comment=text)
    return case


def close_case(conn: Any, case_id: int, *, by: str, at: datetime, comment: str = "") -> Case:
    """销号: a person confirms a rectified case (or closes an open one by hand)."""
    case = _existing(conn, case_id)
    if case.state == CLOSED:
        raise CaseError("ID", f"督办案件 #{case_id} 已经销号")
    new = _set_state(conn, case, at, by, "case_closed", state=CLOSED, closed_at=at.isoformat())
    return new


def reopen_case(conn: Any, case_id: int, *, by: str, at: datetime) -> Case:
    case = _existing(conn, case_id)
    if case.state == OPEN:
        raise CaseError("ID", f"督办案件 #{case_id} 仍在督办中")
    return _set_state(
        conn, case, at, by, "case_reopened", state=OPEN, rectified_at=None, closed_at=None, overdue_at=None
    )


# -- the engine's hook ---------------------------------------------------------------------


def after_evaluate(
    conn: Any,
    events: Iterable[AlertEvent],
    evaluated: Iterable[Evaluated],
    as_of: date | None,
    now: datetime,
    deadline_days: int,
    push: Callable[[Any, AlertEvent], None],
) -> None:
    """Inside the engine's transaction: open a case for each event reaching 督办 (unless
    its alert has one in progress; a rectified one relapsing is reopened), mark cases
    已整改 whose alert resolved (or, opened by hand, whose item is no longer behind),
    reopen hand cases whose item is behind again, and fire `case_overdue` once for a
    case past its deadline still 督办中."""
    day = as_of or now.date()
    status = {e.item.id: e.status for e in evaluated}
    active = [c for c in list_cases(conn, (OPEN, RECTIFIED))]
    by_key = {c.alert_key: c for c in active if c.alert_key}
    for event in events:
        case = by_key.get(event.key)
        if event.kind == "resolved":
            if case is not None and case.state == OPEN:
                by_key[event.key] = _rectify(conn, case, now)
            continue
        if case is not None and case.state == RECTIFIED and event.kind in ("fired", "escalated"):
            by_key[event.key] = _set_state(
                conn, case, now, SYSTEM, "case_reopened", state=OPEN, rectified_at=None, overdue_at=None
            )
            continue
        if (
            case is None
            and event.level == SUPERVISE
            and event.kind in ("fired", "escalated")
            and event.item_id
        ):
            by_key[event.key] = open_case(
                conn,
                now,
                item_id=event.item_id,
                item_name=event.item_name,
                unit=event.unit,
                deadline=day + timedelta(days=deadline_days),
                action=RULE_ACTIONS.get(event.rule, DEFAULT_ACTION),
                author=SYSTEM,
                alert_key=event.key,
            )
    for case in list_cases(conn, (OPEN, RECTIFIED)):
        if case.alert_key is None and case.item_id in status:  # by hand: judged by the item's status
            behind = status[case.item_id] in BEHIND
            if case.state == OPEN and status[case.item_id] in CAUGHT_UP:
                case = _rectify(conn, case, now)
            elif case.state == RECTIFIED and behind:
                case = _set_state(conn, case, now, SYSTEM, "case_reopened", state=OPEN, rectified_at=None)
        if case.state == OPEN and case.overdue_at is None and day > case.deadline:
            case = _set_state(conn, case, now, SYSTEM, "case_overdue", overdue_at=now.isoformat())
            push(conn, overdue_event(case, now, day))


def _rectify(conn: Any, case: Case, at: datetime) -> Case:
    return _set_state(conn, case, at, SYSTEM, "case_rectified", state=RECTIFIED, rectified_at=at.isoformat())


def overdue_event(case: Case, now: datetime, day: date) -> AlertEvent:
    """The one event an overdue case fires, through the normal outbox."""
    key = f"{OVERDUE_RULE}:{case.id}"
    return AlertEvent(
        id=event_id(key, "fired", now),
        key=key,
        rule=OVERDUE_RULE,
        item_id=case.item_id,
        severity="critical",
        kind="fired",
        message=(
            f"【督办】逾期未整改：[{case.item_id}] {case.item_name}（{case.unit}），"
            f"限期 {case.deadline:%Y-%m-%d}，截至 {day:%Y-%m-%d} 仍在督办中（案件 #{case.id}）"
        ),
        figures={"case_id": case.id, "deadline": case.deadline.isoformat(), "as_of": day.isoformat()},
        at=now,
        item_name=case.item_name,
        unit=case.unit,
        level=SUPERVISE,
    )
