"""The headless engine shared by `dashboard check` and the TUI: build sources from
the config through plugins, fetch them (isolated from each other), merge and
evaluate. The TUI adds screens on top of this, nothing more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dashboard.config import Config
from dashboard.contracts import (
    ConfigError,
    FetchResult,
    Source,
    SourceError,
    SourceSpec,
    SourceType,
    difflib_close,
)
from dashboard.core.items import DataWarning, Evaluated, Item
from dashboard.core.merge import merge_sources
from dashboard.core.progress import Period, count_by_status, default_order, evaluate, expected_progress
from dashboard.plugins import PluginManager


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

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(slots=True)
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
    ) -> None:
        self.config = config
        self.plugins = plugins or PluginManager(config.plugins_dir)
        self.as_of_override = as_of
        self.source_types: dict[str, SourceType] = self.plugins.source_types()
        self.states: dict[str, SourceState] = {}
        for spec in config.sources:
            self.states[spec.name] = self._build(spec)

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
        except Exception as exc:  # a plugin's bug marks its source failed, nothing more
            state.ok, state.error = False, f"插件创建数据源失败: {type(exc).__name__}: {exc}"
        return state

    # -- fetching ---------------------------------------------------------------
    async def refresh(self, name: str) -> SourceState:
        """Fetch one source; on failure keep its last good items and record the error."""
        state = self.states[name]
        state.last_attempt = datetime.now()
        if state.source is None:
            return state
        try:
            result = await asyncio.wait_for(state.source.fetch(), timeout=state.spec.timeout)
            _check_result(result)
        except asyncio.TimeoutError:
            state.ok, state.error = False, f"超时: {state.spec.timeout:g} 秒内没有返回"
        except (SourceError, ConfigError) as exc:
            state.ok, state.error = False, str(exc)
        except Exception as exc:
            state.ok, state.error = False, f"插件出错: {type(exc).__name__}: {exc}"
        else:
            state.ok, state.error = True, ""
            state.items, state.warnings, state.as_of = result.items, result.warnings, result.as_of
            state.last_success = state.last_attempt
        return state

    async def refresh_all(self) -> list[SourceState]:
        """Fetch every source concurrently: one slow source never delays another."""
        return list(await asyncio.gather(*(self.refresh(name) for name in self.states)))

    async def cycle(self) -> Snapshot:
        """One full round, as `dashboard check` and the TUI's refresh both run it:
        fetch every source, evaluate, (record history, evaluate alerts, deliver)."""
        await self.refresh_all()
        return self.snapshot()

    # -- evaluating ---------------------------------------------------------------
    def resolve_as_of(self) -> date:
        if self.as_of_override:
            return self.as_of_override
        if self.config.as_of:
            return self.config.as_of
        dates = [s.as_of for s in self.states.values() if s.as_of]
        return max(dates) if dates else date.today()

    def expected(self, as_of: date) -> float:
        cfg = self.config
        start = date(as_of.year, *cfg.period_start)
        end_month, end_day = cfg.period_end
        period = Period(start, Period.for_year(as_of.year, (end_month, end_day)).end)
        return expected_progress(as_of, period, cfg.method, _workday_calendar(cfg.method))  # type: ignore[arg-type]

    def items(self) -> list[Item]:
        return merge_sources([(s.name, s.items) for s in self.states.values() if s.items])

    def snapshot(self) -> Snapshot:
        as_of = self.resolve_as_of()
        expected = self.expected(as_of)
        evaluated = default_order(evaluate(self.items(), expected, self.config.thresholds))
        warnings = [w for s in self.states.values() for w in s.warnings]
        return Snapshot(
            as_of=as_of,
            expected=expected,
            evaluated=evaluated,
            by_status=count_by_status(evaluated),
            sources=list(self.states.values()),
            warnings=warnings,
            taken_at=datetime.now(),
        )


def _check_result(result: object) -> None:
    """A plugin that returns garbage is a failed source, not a crash later on."""
    if not isinstance(result, FetchResult):
        raise SourceError(f"插件返回了 {type(result).__name__}，应为 FetchResult")
    bad: Iterable[object] = (i for i in result.items if not isinstance(i, Item))
    if next(iter(bad), None) is not None:
        raise SourceError("插件返回的 items 中有非 Item 对象")


def _workday_calendar(method: str):  # type: ignore[no-untyped-def]
    if method != "workdays":
        return None
    try:
        import chinese_calendar
    except ImportError as exc:
        raise ConfigError(
            "progress.method", "按工作日计算需要安装 chinesecalendar", expected="pip install chinesecalendar"
        ) from exc
    return chinese_calendar.is_workday
