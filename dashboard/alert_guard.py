"""What the alert engine does when it cannot record, and when one cycle would flood
the robots. Decided once (docs/reliability.md):

- While the store cannot be written, nothing is sent (an event is only ever sent
  after its decision and outbox rows are committed). The engine still evaluates the
  pure conditions each cycle and keeps, per alert key, the episode in memory (first
  seen, the condition then and now, when it cleared). When the store can be written
  again, each held episode is committed in the next evaluation's transaction — a
  fire at its first-seen time, and a resolve at its clearing time when it cleared —
  each marked late (`LATE_SUFFIX`, `figures.late`), then delivered. A clear and a
  return within one outage reads as one continuous episode. Held episodes live in
  the process: a `dashboard check` that exits holding them sends them with the next
  run if the condition still holds.
- After the store was recreated with its alert state lost (a damaged file rebuilt
  without `alert_state`, a file deleted under a running process that had not yet
  evaluated), the first evaluation *adopts*: conditions that hold then with no
  record are recorded as sent without sending (they most likely were sent). A
  process that has evaluated before seeds the new file from what it knows instead.
- At most `[alerts] max_per_cycle` events (default 200) go to the sinks one by one
  per evaluation; the rest are recorded in `alert_state` as usual (so they do not
  fire again) and one summary event says how many were not pushed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from dashboard.core.alerts import AlertEvent, Condition, event_id

LATE_SUFFIX = "（存储恢复后补发）"
MAX_PER_CYCLE = 200
SUMMARY_KEY = "summary:cycle"


@dataclass(slots=True)
class HeldEpisode:
    """One alert condition seen while its decision could not be recorded."""

    first: Condition  # as it held when first seen
    first_seen: datetime
    last: Condition
    last_seen: datetime
    cleared_at: datetime | None = None


def hold(
    held: dict[str, HeldEpisode],
    holding: dict[str, Condition],
    now: datetime,
    *,
    keep: Collection[str] = (),
) -> None:
    """Update the held episodes with the conditions that hold at `now`; an episode not
    holding now clears, unless its key is in `keep` (its rule failed, or its item
    vanished with a failed source: not a resolution)."""
    for key, condition in holding.items():
        episode = held.get(key)
        if episode is None:
            held[key] = HeldEpisode(condition, now, condition, now)
        else:
            episode.last, episode.last_seen, episode.cleared_at = condition, now, None
    for key, episode in held.items():
        if key not in holding and key not in keep and episode.cleared_at is None:
            episode.cleared_at = now


def mark_late(event: AlertEvent, now: datetime) -> AlertEvent:
    """The event of a decision taken while the store was down, sent now."""
    return replace(
        event,
        message=event.message + LATE_SUFFIX,
        figures={**event.figures, "late": True, "sent_late_at": now.isoformat(timespec="seconds")},
    )


def summary_event(count: int, now: datetime) -> AlertEvent:
    """The one event that stands for `count` events not pushed one by one this cycle."""
    return AlertEvent(
        id=event_id(SUMMARY_KEY, "fired", now),
        key=SUMMARY_KEY,
        rule="summary",
        item_id="",
        severity="warning",
        kind="fired",
        message=f"本轮另有 {count} 条预警未逐条推送，请在看板查看 ({count} more alerts this cycle: see the dashboard)",
        figures={"not_pushed": count},
        at=now,
        unit="本轮预警汇总 alerts summary",  # the robots' title line
    )
