"""The sink contract: what an alert sink plugin implements and receives (design §5).

A sink plugin returns `SinkType`s from the `dashboard_sink_types` hook; the factory
gets a `SinkSpec` (one `[[sinks]]` table) and returns an object with
`deliver(event)`, raising `DeliveryError` when the event was not delivered.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from dashboard.config import Config, parse_duration, state_dir
from dashboard.contracts import ConfigError, difflib_close
from dashboard.core.alerts import AlertEvent

# Keys every [[sinks]] table may have; the rest belong to the sink's plugin.
COMMON_SINK_KEYS = ("name", "type", "enabled")


class DeliveryError(Exception):
    """A sink could not deliver. `permanent`: retrying soon will not help (bad key,
    bad signature, keyword): the event stays in the outbox and the sink is left alone
    for a while instead of being hammered."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@runtime_checkable
class Sink(Protocol):
    """A configured sink. `deliver` sends one event or raises (DeliveryError for
    expected failures); it is called from a worker thread, never concurrently.
    A sink may also offer `deliver_batch(events)`, all-or-raise, used for backlogs."""

    def deliver(self, event: AlertEvent) -> None: ...


@dataclass(slots=True)
class SinkSpec:
    """One `[[sinks]]` table: name and type, the rest as `options` for the plugin."""

    name: str
    type: str
    options: dict[str, Any]
    base_dir: Path
    config_file: Path | None = None
    key_prefix: str = "sinks"
    data_dir: Path | None = None  # the config's folder for default files (Config.data_dir)

    def error(self, key: str, message: str, expected: str = "") -> ConfigError:
        return ConfigError(f"{self.key_prefix}.{key}", message, expected=expected, file=self.config_file)

    def check_options(self, known: Mapping[str, str]) -> None:
        """Reject unknown keys, suggesting the nearest known one."""
        for key in self.options:
            if key not in known:
                hint = difflib_close(key, [*known, *COMMON_SINK_KEYS])
                raise self.error(key, f"{self.type} 推送不认识这个键{hint}", "、".join(known))

    def path(self, key: str, default: Path) -> Path:
        value = self.options.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            raise self.error(key, "应为文件路径", "非空字符串")
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def string(self, key: str, default: str = "") -> str:
        value = self.options.get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"应为字符串，实为 {value!r}", "字符串")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.options.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"应为数字，实为 {value!r}", "数字")
        return float(value)

    def duration(self, key: str, default: str) -> float:
        seconds = parse_duration(self.options.get(key, default))
        if seconds is None or seconds < 0:
            raise self.error(key, f"无法识别的时间 {self.options.get(key)!r}", "如 500ms、2s、1m")
        return seconds

    def env_name(self, key: str) -> str:
        """An `*_env` option: the name of the environment variable holding a secret (read
        at delivery time). A value that may be the secret itself is never echoed."""
        from dashboard.redact import env_name_problem

        name = self.options.get(key, "")
        if name == "":
            return ""
        problem = env_name_problem(name, os.environ)
        if problem:
            raise self.error(key, problem, "如 DINGTALK_SECRET")
        assert isinstance(name, str)
        return name


def secret_from_env(var: str, what: str) -> str:
    """Read a secret at delivery time (so fixing the environment needs no restart).
    A missing one fails the delivery with an error naming the variable, never a
    value; it is checked again on the next run (no robot was called: no hammering)."""
    value = os.environ.get(var, "") if var else ""
    if not value:
        raise DeliveryError(f"环境变量 {var or '(未配置)'} 未设置，缺少{what}")
    return value


@dataclass(frozen=True, slots=True)
class SinkType:
    """A kind of sink a plugin offers, selected by `type = "<name>"` in `[[sinks]]`.

    `factory` validates the spec (raising ConfigError) and returns a Sink;
    `options` documents the keys it accepts (key → description)."""

    name: str
    factory: Callable[[SinkSpec], Sink]
    description: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SinkStatus:
    """A sink as the sources/alerts screen shows it."""

    name: str
    type: str
    pending: int
    last_error: str = ""
    last_error_at: datetime | None = None
    last_ok_at: datetime | None = None
    next_attempt: datetime | None = None
    permanent: bool = False
    waiting: str = ""  # 限流等待: why the quota or the server holds it until next_attempt


def sink_specs(config: Config) -> list[SinkSpec]:
    """The `[[sinks]]` tables; none configured means one JSONL file in the config's folder."""
    tables = config.sinks or [{"type": "jsonl", "name": "alerts.jsonl"}]
    specs: list[SinkSpec] = []
    names: set[str] = set()
    for index, table in enumerate(tables):
        prefix = f"sinks[{index}]"
        type_name = table.get("type")
        if not isinstance(type_name, str) or not type_name:
            raise config.error(
                f"{prefix}.type", "缺少推送类型", "jsonl、csv、webhook、wecom、dingtalk、feishu"
            )
        name = table.get("name", type_name if type_name not in names else f"{type_name}-{index + 1}")
        if not isinstance(name, str) or not name.strip():
            raise config.error(f"{prefix}.name", "推送名称应为非空字符串", "非空字符串")
        if name in names:
            raise config.error(f"{prefix}.name", f"推送名称 {name!r} 重复", "唯一的名称")
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise config.error(f"{prefix}.enabled", f"应为 true 或 false，实为 {enabled!r}", "true | false")
        names.add(name)
        if not enabled:
            continue
        options = {k: v for k, v in table.items() if k not in COMMON_SINK_KEYS}
        specs.append(
            SinkSpec(name, type_name, options, config.base_dir, config.path, prefix, config.data_dir)
        )
    return specs


def default_alert_file(name: str, spec: SinkSpec | None = None) -> Path:
    """A sink's default file: in its config's own folder (so two configs never write
    one alerts.jsonl), or the data folder when no spec is given."""
    folder = spec.data_dir if spec is not None and spec.data_dir is not None else None
    return (folder or state_dir()) / name


# -- for file sinks: in dashboard.alert_files, re-exported here for sink plugins ---------
from dashboard.alert_files import (  # noqa: E402, F401
    RECENT_IDS,
    TAIL_BYTES,
    RecentIds,
    SharedLineFile,
    tail_lines,
)
