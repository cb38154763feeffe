"""The headless engine shared by `dashboard check` and the TUI: build sources from
the config through plugins, fetch them (isolated from each other), merge and
evaluate. The TUI adds screens on top of this, nothing more.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard.alerting import AlertEngine, SinkStatus, now_local, stalled_history
from dashboard.config import Config, default_author
from dashboard.contracts import (
    ConfigError,
    FetchResult,
    Source,
    SourceError,
    SourceSpec,
    SourceType,
    difflib_close,
)
from dashboard.core.alerts import AlertRecord
from dashboard.core.aliases import apply_unit_aliases
from dashboard.core.items import DataWarning, Evaluated, Item
from dashboard.core.merge import carry_over, merge_sources
from dashboard.core.progress import Period, count_by_status, default_order, expected_progress, reevaluate
from dashboard.core.rollup import with_county
from dashboard.core.sanitize import clean_text
from dashboard.core.validate import clean_result_parts
from dashboard.isolation import FetchAborted, IsolatedCall
from dashboard.plugins import PluginManager
from dashboard.redact import redact_text
from dashboard.store import HistoryPoint, Store, history_key, spec_key
from dashboard.store_guard import StoreGuard, Swap
from dashboard.workcal import WorkCalendar, load_calendar, workday_expected

log = logging.getLogger(__name__)
# A source is stale when it fails, or has had no good fetch for this many refresh periods.
STALE_PERIODS = 3
AS_OF_TODAY_NOTE = "截止日期取自今天：数据中没有截止日期 as of today: the data states no date"


@dataclass(slots=True)
class SourceState:
    """What the runtime knows of one source; the UI and `check` read it."""

    spec: SourceSpec
    source: Source | None = None
    ok: bool | None = None  # None: not tried yet
    error: str = ""
    items: list[Item] = field(default_factory=list)
    warnings: list[DataWarning] = field(default_factory=list)
    as_of: date | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    restored: bool = False  # items are the last good ones from the store, not yet refreshed
    refused: bool = False  # the last fetch shrank too far: its items were refused (shrink guard)
    failures: int = 0  # consecutive failed fetches since the last good one (source_stale's `failures`)

    @property
    def name(self) -> str:
        return self.spec.name

    def is_stale(self, now: datetime | None = None) -> bool:
        """Failing, or no good fetch for STALE_PERIODS refresh periods."""
        if self.ok is False:
            return True
        if self.last_success is None:
            return False
        age = (now or datetime.now()) - self.last_success
        return age.total_seconds() > STALE_PERIODS * self.spec.refresh

    @property
    def stale(self) -> bool:
        return self.is_stale()

    def age(self, now: datetime | None = None) -> timedelta | None:
        """How old the items are: time since the last good fetch."""
        return None if self.last_success is None else (now or datetime.now()) - self.last_success

    def age_text(self, now: datetime | None = None) -> str:
        """`3 分钟前` / `2 小时前`; `从未成功` when there never was a good fetch."""
        age = self.age(now)
        if age is None:
            return "从未成功 never loaded"
        seconds = max(0, int(age.total_seconds()))
        for unit, size in (("天", 86400), ("小时", 3600), ("分钟", 60)):
            if seconds >= size:
                return f"{seconds // size} {unit}前"
        return f"{seconds} 秒前"


# Compared by identity: the TUI's reactive `snapshot` compares old and new, and comparing two
# lists of 100,000 evaluated items field by field costs 0.2 s of the UI thread per refresh.
# A short repr: `asyncio.run` on Python 3.11 formats its result's repr on the way out (via
# `signal.getsignal`), which for 100,000 items took over a second of `dashboard check`.
@dataclass(slots=True, eq=False, repr=False)
class Snapshot:
    """One evaluated view of all sources at an as-of date."""

    as_of: date
    expected: float
    evaluated: list[Evaluated]  # worst first
    by_status: dict[str, int]
    sources: list[SourceState]
    warnings: list[DataWarning]
    taken_at: datetime
    # Alert events of the cycle that produced this snapshot (filled by the alert engine).
    fired: list[Any] = field(default_factory=list)
    resolved: list[Any] = field(default_factory=list)
    # Ids of the items that are new, changed or gone since the previous snapshot; None when
    # everything is to be taken as new (the first one, or a changed expected progress).
    # Unchanged items keep their `Evaluated` objects, so `is` tells the same.
    changed: frozenset[str] | None = None
    serial: int = 0  # one more than the snapshot `changed` is counted from
    # Where `as_of` came from: "config" (`as_of`, `--as-of`, a source's `as_of`), "data" (the
    # bulletin's title or 更新时间) or "today" (nothing said); `as_of_note` says so in words.
    as_of_source: str = "today"
    as_of_note: str = ""
    # The working-day calendar counting `expected` ("" for months or days), or its fallback's warning.
    calendar: str = ""

    def __repr__(self) -> str:
        return f"Snapshot(as_of={self.as_of}, items={len(self.evaluated)}, by_status={self.by_status})"

    @property
    def behind(self) -> list[Evaluated]:
        return [e for e in self.evaluated if e.status.value in ("lagging", "severe")]


class Runtime:
    def __init__(
        self,
        config: Config,
        plugins: PluginManager | None = None,
        *,
        as_of: date | None = None,
        store: Store | None = None,
    ) -> None:
        self.config = config
        self.plugins = plugins or PluginManager(config.plugins_dir)
        self.as_of_override = as_of
        self.source_types: dict[str, SourceType] = self.plugins.source_types()
        self.states: dict[str, SourceState] = {}
        for spec in config.sources:
            self.states[spec.name] = self._build(spec)
        # The store never stops the app: a file that cannot be used is replaced by a
        # stand-in in memory and tried again every cycle (store_guard, store_health).
        self.store_guard = StoreGuard(_store_path(config), store)
        self.store = self.store_guard.store
        self.store_error = ""  # the last failure to read or write the store, shown in the status bar
        self._trimmed_on: date | None = None  # history is trimmed at most once a day
        self._unsaved: set[str] = set()  # sources whose items the store in use does not hold
        self._persist_lock = threading.Lock()  # one source's write at a time: merge reads every source
        self._history_pending = False
        # False for a run that looks at another date than the data's own (a report on a past
        # month, a look back): history is by the data's as-of date, and that date is not it.
        self.record_history = True
        self._persisting: set[asyncio.Future[None]] = set()  # store writes still running
        # Open unless a screen holds the store writes back until it has shown new data
        # (`hold_writes_until_shown`): at 100,000 items the first launch's writes would
        # otherwise compete with evaluating and drawing for the interpreter.
        # An asyncio event, awaited before a write takes a worker thread: a write waiting
        # in a thread would hold one of the few executor threads the fetches need.
        self._writes_open = asyncio.Event()
        self._writes_open.set()
        self._hold_writes = False
        self._restore()
        # The working-day calendar (method = "workdays"); a year it lacks is a config error, at
        # start for the as-of date known now (given, or the restored data's), else when first seen.
        self.calendar: WorkCalendar | None = None
        self.calendar_warning = ""
        if config.method == "workdays":
            self.calendar = load_calendar(config.calendar, config.path)
            self.expected(self.as_of_origin()[0])
        # Rules, alert state, outbox and sinks (design §5); config errors surface here.
        try:
            self.alerts = AlertEngine(config, self.plugins, self.store)
        except sqlite3.Error as exc:  # its tables cannot be created: run on without the file
            self.store_guard.failed(exc, "无法建立预警表")
            self._use_store(Swap(Store(":memory:"), lost_state=False))
            self.store_guard.standin = True
            self.alerts = AlertEngine(config, self.plugins, self.store)
        if self.store_guard.lost_state:
            self.alerts.adopt_next = True  # rebuilt without its alert state: see alert_guard
        self.alert_error = ""  # the last failure to evaluate or deliver alerts
        # Open alerts, counted by the worker that evaluated them: counting reads every alert
        # (5,000 at 100,000 items, 90 ms), too slow for the UI thread that shows the number.
        self._open_alerts: int | None = None
        # The last snapshot's evaluated items, in merge order: the next one evaluates only what changed.
        self._evaluated: list[Evaluated] = []
        self._serial = 0
        self._evaluate_lock = threading.Lock()
        # The last fetch of each source, still running or not (see `refresh`).
        self._inflight: dict[str, IsolatedCall] = {}

    def _restore(self) -> None:
        """Put each source's last good items from the store on screen at once."""
        try:
            saved = self.store.load_sources()
        except (sqlite3.Error, ValueError) as exc:
            self.store_error = self.store_guard.failed(exc, "无法读取存储")
            return
        for name, state in self.states.items():
            s = saved.get(name)
            if s is None:
                continue
            state.last_attempt, state.last_success = s.last_attempt, s.last_success
            # The store keeps whether the last fetch failed, not how many in a row: a failure
            # recorded by an earlier run (cron's `dashboard check`) counts as one.
            state.failures = 1 if s.ok is False else 0
            if s.last_success is not None and s.spec_key == spec_key(state.spec.type, state.spec.options):
                state.items, state.warnings, state.as_of = s.items, s.warnings, s.as_of
                state.restored = True

    def _build(self, spec: SourceSpec) -> SourceState:
        state = SourceState(spec)
        source_type = self.source_types.get(spec.type)
        if source_type is None:
            raise ConfigError(
                f"{spec.key_prefix}.type",
                f"没有插件提供数据源类型 {spec.type!r}{difflib_close(spec.type, list(self.source_types))}",
                expected="、".join(sorted(self.source_types)),
                file=spec.config_file,
            )
        try:
            state.source = source_type.factory(spec)
        except ConfigError:
            raise
        except (Exception, SystemExit) as exc:  # a plugin's bug (or sys.exit) fails its source only
            state.ok, state.error = False, shown_error(f"插件创建数据源失败: {type(exc).__name__}: {exc}")
        return state

    # -- fetching ---------------------------------------------------------------
    async def refresh(self, name: str) -> SourceState:
        """Fetch one source; on failure keep its last good items and record the error.

        The fetch runs isolated (its own thread and event loop, see dashboard.isolation)
        and is abandoned after its timeout; while an abandoned fetch still runs, the
        source is reported failed instead of starting a second one."""
        state = self.states[name]
        state.last_attempt = datetime.now()
        if state.source is None:
            return state
        # A source that retries on its own (REST) says how long a whole fetch may take.
        limit = getattr(state.source, "fetch_timeout", None) or state.spec.timeout
        changed = False
        previous = self._inflight.get(name)
        if previous is not None and previous.running:
            state.ok = False
            state.error = f"上次读取仍未结束（已 {previous.elapsed():.0f} 秒）previous fetch still running"
            state.refused = False
        else:
            changed = await self._fetch(state, limit)
        state.failures = 0 if state.ok else state.failures + 1
        # Whatever a plugin put in its exception is shown, stored and sent to the robots
        # (source_stale): no terminal escapes, no token in a URL.
        state.error = shown_error(state.error)
        # The store write runs behind the UI: a first launch at 100,000 items spends two
        # seconds recording history, and the screen need not wait for it. `flush()` waits.
        if self._hold_writes:
            self._writes_open.clear()
        task = asyncio.ensure_future(self._persist_when_open(state, changed))
        self._persisting.add(task)
        task.add_done_callback(self._persisting.discard)
        return state

    async def _fetch(self, state: SourceState, limit: float) -> bool:
        """One isolated fetch of `state`'s source, applied to `state`; whether its items changed."""
        source = state.source
        assert source is not None
        call = IsolatedCall(state.name, source.fetch)
        self._inflight[state.name] = call
        state.refused = False
        try:
            result = await asyncio.wait_for(call.future, timeout=limit)
            result = _check_result(result, state.name)
        except asyncio.TimeoutError:
            # Abandoned: the call stays in `_inflight` until it returns (see `refresh`).
            state.ok, state.error = False, f"超时: {limit:g} 秒内没有返回"
        except FetchAborted as exc:
            state.ok, state.error = False, f"插件出错: {exc}（已拦截，看板继续运行 intercepted）"
        except (SourceError, ConfigError) as exc:
            state.ok, state.error = False, str(exc)
        except Exception as exc:
            state.ok, state.error = False, f"插件出错: {type(exc).__name__}: {exc}"
        else:
            refusal = shrink_refusal(state, len(result.items))
            if refusal:
                # A half-read file is not the truth: keep the last good set, say why.
                state.ok, state.error, state.refused = False, refusal, True
                return False
            # Comparing 100,000 items field by field is work for a worker, not the event loop.
            items, changed = await asyncio.to_thread(_reconcile, state, result)
            state.ok, state.error = True, ""
            state.items, state.warnings, state.as_of = items, result.warnings, result.as_of
            # Age counts from when the data arrived, not from when the slow read began.
            state.last_success = datetime.now()
            state.restored = False
            return changed
        finally:
            if call.returned and self._inflight.get(state.name) is call:
                del self._inflight[state.name]  # nothing left running: forget it, and its result
        return False

    def abandoned(self) -> list[str]:
        """Sources whose fetch was given up on (timed out, cancelled) and is still running."""
        return [name for name, call in self._inflight.items() if call.running and call.future.done()]

    def fetching(self) -> dict[str, tuple[float, int | None]]:
        """Source name → (seconds its fetch has run, rows read so far or None) for every
        fetch still running now; a source says how far it got with a `rows_read` attribute."""
        running: dict[str, tuple[float, int | None]] = {}
        for name, call in list(self._inflight.items()):
            if call.running:
                source = self.states[name].source
                rows = getattr(source, "rows_read", None)
                running[name] = (call.elapsed(), rows if isinstance(rows, int) else None)
        return running

    def plugin_problems(self) -> list[tuple[str, str, str]]:
        """(plugin, origin, error) for every plugin that failed to load or misbehaved."""
        return [(r.name, r.origin, r.error) for r in self.plugins.describe() if r.error]

    def hold_writes_until_shown(self) -> None:
        """From now on, store writes after a fetch wait until `writes_may_start()` (or `flush()`)."""
        self._hold_writes = True

    def writes_may_start(self) -> None:
        self._writes_open.set()

    async def _persist_when_open(self, state: SourceState, changed: bool) -> None:
        await self._writes_open.wait()
        await asyncio.to_thread(self._persist, state, changed)

    async def flush(self) -> None:
        """Wait until every fetched result is in the store (history, source state)."""
        self._writes_open.set()
        while self._persisting:
            await asyncio.gather(*list(self._persisting))

    def _persist(self, state: SourceState, changed: bool) -> None:
        """Record a source's state (with its items when they changed) and, after a
        good fetch, the history of the merged items. Runs in a worker thread; a store
        that cannot be written is reported, never a reason to drop the fetched data."""
        with self._persist_lock:
            if not self._store_usable():
                self._unsaved.add(state.name)  # written in full once the file is back
                return
            unsaved = state.name in self._unsaved
            try:
                self.store.save_source(
                    state.name,
                    spec_key=spec_key(state.spec.type, state.spec.options),
                    ok=state.ok,
                    error=state.error,
                    last_attempt=state.last_attempt,
                    last_success=state.last_success,
                    as_of=state.as_of,
                    items=state.items if changed or unsaved else None,
                    warnings=state.warnings,
                )
                self._unsaved.discard(state.name)
                if state.ok and self.record_history and (changed or unsaved or self._history_pending):
                    # Until every source has data (or has failed), the merge is partial:
                    # its figures could come from the wrong source.
                    pending = any(s.ok is None and not s.restored for s in self.states.values())
                    self._history_pending = pending
                    if not pending:
                        # With the data's as-of date: the detail dates lags by it, not by the fetch day.
                        self.store.record_history(self.items(), state.last_success, self.resolve_as_of())
                if state.ok:
                    self._trim_history(state.last_success or datetime.now())
                self.store_error = ""
                self.store_guard.succeeded()
            except (sqlite3.Error, OSError) as exc:
                if unsaved or changed:
                    self._unsaved.add(state.name)
                self.store_error = self.store_guard.failed(exc, "无法写入存储")

    def _trim_history(self, now: datetime) -> None:
        """At most once a day per process: history older than `[store] keep_history`
        goes, intra-day points older than a week are thinned (Store.trim_history)."""
        if self._trimmed_on == now.date():
            return
        self._trimmed_on = now.date()
        deleted = self.store.trim_history(self.config.store_keep_history, now)
        if deleted:
            log.info("history trimmed: %d points", deleted)

    def _store_usable(self) -> bool:
        """Before each write: swap in the file when it is back, rebuilt or recreated
        (`StoreGuard.check`); False while only the stand-in in memory is there."""
        swap = self.store_guard.check()
        if swap is not None:
            self._use_store(swap)
        return not self.store_guard.standin

    def _use_store(self, swap: Swap) -> None:
        self.store = swap.store
        self._unsaved = {name for name, s in self.states.items() if s.items or s.last_attempt}
        self._history_pending = True
        alerts = getattr(self, "alerts", None)
        if alerts is not None:
            alerts.attach(swap.store, lost_state=swap.lost_state)
        self._open_alerts = None

    @property
    def store_problem(self) -> str:
        """Why the store cannot be used or written now ("" when it can): the status bar's `存储不可用`."""
        return self.store_guard.problem

    @property
    def store_status(self) -> str:
        """One line for the status bar: `存储不可用：…；预警暂缓 N 条`, or "" when the store is fine."""
        problem = self.store_guard.problem
        if not problem:
            return ""
        held = len(self.alerts.held)
        return f"存储不可用：{problem}" + (f"；预警暂缓 {held} 条 alerts held" if held else "")

    def store_report(self) -> dict[str, Any]:
        """The `store` object of `dashboard check --json`."""
        return self.store_guard.report(held=len(self.alerts.held))

    async def refresh_all(self) -> list[SourceState]:
        """Fetch every source concurrently (one slow source never delays another) and
        record the results in the store."""
        states = list(await asyncio.gather(*(self.refresh(name) for name in self.states)))
        await self.flush()
        return states

    async def cycle(self, *, alerts: bool = True) -> Snapshot:
        """One full round, as `dashboard check` and the TUI's refresh both run it:
        fetch every source (recording history), evaluate, then (unless `alerts` is
        False, for a what-if run) evaluate the alert rules and deliver."""
        await self.refresh_all()
        snap = self.snapshot()
        if alerts:
            await asyncio.to_thread(self.evaluate_alerts, snap)
        return snap

    # -- alerts ---------------------------------------------------------------------
    def evaluate_alerts(self, snap: Snapshot, now: datetime | None = None) -> Snapshot:
        """Evaluate the alert rules on `snap` (setting `snap.fired` / `snap.resolved`),
        commit the decisions, then deliver every sink's outbox. Blocking (sinks may
        post to the network): the TUI and `cycle` run it in a worker thread."""
        at = now or now_local()
        ctx = None
        try:
            with self._persist_lock:  # no store swap under a write of `_persist`
                usable = self._store_usable() and self.store_guard.writable()
            if usable:
                history: dict[str, list[tuple[date, float]]] = {}
                if self.alerts.wants_history():
                    history = stalled_history(self.store, snap.evaluated, self.alerts.stalled_before(at))
                ctx = self.alerts.context(snap, at, history)
                result = self.alerts.evaluate(ctx)
                snap.fired, snap.resolved = result.fired, result.resolved
                if self.config.digest_schedule is not None:  # `[digest] schedule`: its slot's event
                    from dashboard.digest_send import queue_scheduled_digest  # (it imports this module)

                    queue_scheduled_digest(self, at)
                self.alerts.deliver(now)
                self._open_alerts = self.alerts.open_count()
                self.alert_error = ""
                return snap
        except (sqlite3.Error, OSError) as exc:  # a full disk must not stop the dashboard
            self.store_error = self.store_guard.failed(exc, "无法读写预警状态")
        # Nothing is sent that could not be recorded first: the decisions wait in memory.
        held = self.alerts.hold(ctx or self.alerts.context(snap, at, {}))
        self.alert_error = (
            f"预警暂缓：存储不可写（{held} 条待记录，恢复后补发）alerts held: store not writable"
        )
        log.warning("%s: %s", self.alert_error, self.store_guard.problem)
        return snap

    def alert_records(
        self, states: Iterable[str] | None = None, item_id: str | None = None
    ) -> list[AlertRecord]:
        """Alerts in the given states (open, acknowledged, silenced, resolved), open first;
        with `item_id`, only that item's."""
        return self.alerts.records(states, item_id=item_id)

    def acknowledge(self, key: str, until: date | None = None, *, by: str = "", comment: str = "") -> bool:
        """Acknowledge an alert (quiet until it resolves), or with `until` silence it
        through that date; `by` and `comment` go on the alert and in the trail. False
        when there is no such active alert."""
        done = self.alerts.acknowledge(key, until, by=by or default_author(self.config), comment=comment)
        self._open_alerts = None  # counted again when next asked
        return done

    def silence(self, key: str, until: date, *, by: str = "", comment: str = "") -> bool:
        done = self.alerts.silence(key, until, by=by or default_author(self.config), comment=comment)
        self._open_alerts = None
        return done

    def open_alert_count(self) -> int:
        """Open alerts as of the last evaluation (or acknowledgement): cheap enough for the UI."""
        count = self._open_alerts
        if count is None:
            count = self._open_alerts = self.alerts.open_count()
        return count

    def sink_status(self) -> list[SinkStatus]:
        """Per sink: name, type, pending (events in its outbox), last error."""
        return self.alerts.sink_status()

    # -- evaluating ---------------------------------------------------------------
    def resolve_as_of(self) -> date:
        return self.as_of_origin()[0]

    def as_of_origin(self) -> tuple[date, str, str]:
        """(as-of date, where it came from: "config" | "data" | "today", a line saying so).

        `--as-of`, then the config's `as_of`, then the latest date the sources state (a
        source's `as_of` option, its title rows, 码上通's 更新时间), then today."""
        if self.as_of_override:
            return self.as_of_override, "config", "截止日期取自命令行 --as-of"
        if self.config.as_of:
            return self.config.as_of, "config", "截止日期取自配置 as_of"
        dated = [s for s in self.states.values() if s.as_of]
        if not dated:
            return date.today(), "today", AS_OF_TODAY_NOTE
        latest = max(dated, key=lambda s: s.as_of or date.min)
        assert latest.as_of is not None
        if "as_of" in latest.spec.options:
            return latest.as_of, "config", f"截止日期取自数据源「{latest.name}」的 as_of"
        return latest.as_of, "data", f"截止日期取自数据「{latest.name}」"

    def expected(self, as_of: date) -> float:
        cfg = self.config
        start = date(as_of.year, *cfg.period_start)
        end_month, end_day = cfg.period_end
        period = Period(start, Period.for_year(as_of.year, (end_month, end_day)).end)
        if self.calendar is None:
            return expected_progress(as_of, period, cfg.method)  # type: ignore[arg-type]
        expected, self.calendar_warning = workday_expected(as_of, period, self.calendar, cfg.path)
        return expected

    def calendar_report(self) -> dict[str, Any]:
        """How expected progress is counted: `method`, the working-day calendar in use
        (`calendar`, None for months or days) and a `warning` when it fell back."""
        return {
            "method": self.config.method,
            "calendar": self.calendar.name if self.calendar is not None else None,
            "warning": self.calendar_warning or None,
        }

    def calendar_label(self) -> str:
        """What the header says of the count: the working-day calendar, or its fallback's warning."""
        if self.calendar is None:
            return ""
        return self.calendar_warning or f"按工作日 {self.calendar.name}"

    def items(self) -> list[Item]:
        # `[units]` aliases first, so one unit written two ways merges, counts and alerts as one.
        aliases = self.config.unit_aliases
        # A city's roll-up: each source's `county` on its items, so two counties never merge.
        return merge_sources(
            [
                (s.name, with_county(apply_unit_aliases(s.items, aliases), s.spec.county))
                for s in self.states.values()
                if s.items
            ]
        )

    def history(self, item: Item) -> list[HistoryPoint]:
        """Every recorded change of this item's figures, oldest first."""
        return self.store.history(history_key(item))

    def close(self) -> None:
        self.store.close()

    def snapshot(self) -> Snapshot:
        """Merge and evaluate; only items that changed since the last snapshot are
        evaluated again (the others keep their `Evaluated` objects)."""
        as_of, as_of_source, as_of_note = self.as_of_origin()
        expected = self.expected(as_of)
        with self._evaluate_lock:
            previous = self._evaluated
            unordered, changed = reevaluate(self.items(), expected, self.config.thresholds, previous)
            kept = len(unordered) - len(changed)
            if kept < len(previous):  # some ids are gone
                changed |= {e.item.id for e in previous} - {e.item.id for e in unordered}
            self._evaluated = unordered
            self._serial += 1
            serial = self._serial
        evaluated = default_order(unordered)
        warnings = [w for s in self.states.values() for w in s.warnings]
        return Snapshot(
            as_of=as_of,
            expected=expected,
            evaluated=evaluated,
            by_status=count_by_status(evaluated),
            sources=list(self.states.values()),
            warnings=warnings,
            taken_at=datetime.now(),
            changed=frozenset(changed) if previous else None,
            serial=serial,
            as_of_source=as_of_source,
            as_of_note=as_of_note,
            calendar=self.calendar_label(),
        )


def _store_path(config: Config) -> Path:
    """The store file the config names (a store that cannot be opened is not a config error)."""
    from dashboard.config import state_dir

    return config.store_path or state_dir() / "dashboard.sqlite3"


def shown_error(text: str) -> str:
    """An error text fit to show, store and send: control characters stripped and
    credentials in URLs masked (plugins' exceptions carry whatever they like)."""
    return redact_text(clean_text(text)) if text else text


def _reconcile(state: SourceState, result: FetchResult) -> tuple[list[Item], bool]:
    """The fetched items with the unchanged ones kept as the objects the state holds
    (`carry_over`), and whether anything (items, their order, warnings) changed."""
    items, fresh = carry_over(state.items, result.items)
    changed = bool(fresh) or len(items) != len(state.items) or state.warnings != result.warnings
    if not changed:
        changed = any(a is not b for a, b in zip(items, state.items, strict=True))  # a new order
    return items, changed


def shrink_refusal(state: SourceState, fetched: int) -> str:
    """Why a fetch of `fetched` items must not replace `state`'s last good set, or "".

    Refused: a drop to zero, or by more than `max_shrink` of the last good count,
    unless the source says `allow_shrink = true`."""
    before = len(state.items)
    if before == 0 or fetched >= before or state.spec.allow_shrink:
        return ""
    limit = state.spec.max_shrink
    if fetched > 0 and (before - fetched) / before <= limit:
        return ""
    return (
        f"数据项由 {before} 骤减为 {fetched}（超过 max_shrink {limit:.0%}），保留上次数据；"
        "如确属正常请设 allow_shrink = true"
    )


def _check_result(result: object, source: str = "") -> FetchResult:
    """The plugin boundary (dashboard.core.validate): a result that is not a FetchResult
    fails the source; otherwise it is cleaned in place (bad fields unknown, bad entries
    dropped, each with a warning; control characters stripped) and returned."""
    if not isinstance(result, FetchResult):
        raise SourceError(f"插件返回了 {type(result).__name__}，应为 FetchResult")
    try:
        result.items, result.warnings, result.as_of = clean_result_parts(
            result.items, result.warnings, result.as_of, source, checked=result.checked
        )
    except TypeError as exc:
        raise SourceError(f"插件返回的结果无效: {exc}") from None
    return result
