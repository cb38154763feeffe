"""Load and validate dashboard.toml: the only module that knows its top-level keys.

Source, sink and rule tables are validated by the plugin that owns them.
"""

from __future__ import annotations

import difflib
import getpass
import hashlib
import math
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard.contracts import COMMON_SOURCE_KEYS, ConfigError, SourceSpec
from dashboard.core.aliases import AliasConflict, UnitAliases, build_aliases
from dashboard.core.digest_schedule import Schedule, parse_schedule
from dashboard.core.progress import Thresholds
from dashboard.workcal import CalendarSettings, parse_calendar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

APP_NAME = "zhuanban-dashboard"
CONFIG_NAME = "dashboard.toml"
BUNDLED_CONFIG = Path(__file__).parent / "data" / CONFIG_NAME

TOP_KEYS = {
    "title": "看板标题",
    "as_of": "数据截止日期 YYYY-MM-DD，或 auto",
    "plugins_dir": "本地插件 .py 文件夹",
    "progress": "序时进度与状态阈值",
    "store": "SQLite 存储",
    "export": "导出",
    "ui": "界面",
    "alerts": "预警规则",
    "sources": "数据源",
    "sinks": "预警推送",
    "routes": "预警路由：[[routes]] 按级别、规则、单位把事件分给推送",
    "user": "使用者：name = 确认、静默时记下的姓名",
    "units": "牵头单位：[units.aliases] 别名 = 标准名称，或 groups = [[标准名称, 别名…]]",
    "quality": "数据质量：stale_days = 更新时间超过多少天算未按时填报",
    "calendar": '工作日历：holidays、workdays 补充库中没有的年份，fallback = "calendar_days"',
    "serve": "浏览器访问 dashboard serve：token_env = 访问令牌所在的环境变量",
    "digest": '变化摘要定时推送：schedule = "MON 09:00"，sinks = [推送名称…]（不写则按路由）',
}
PROGRESS_KEYS = {
    "period_start": "MM-DD",
    "period_end": "MM-DD",
    "method": "months | days | workdays",
    "threshold_mode": "points | share",
    "lagging_below": "number",
    "severe_below": "number",
    "done_at": "number (percent)",
}
KEEP_HISTORY = timedelta(days=730)  # `[store] keep_history` default: 2y
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
# Floors: a refresh faster than this hammers a server or disk for nothing; a timeout
# shorter than this fails every real request.
MIN_REFRESH = 1.0
MIN_TIMEOUT = 0.1
MIN_KIOSK_INTERVAL = 1.0


def parse_duration(value: object) -> float | None:
    """`30s`, `5m`, `1h`, `2d` or a number of seconds → seconds (None: not a finite duration)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    m = _DURATION_RE.match(value)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def state_dir() -> Path:
    """Where the store and default alert files live; `DASHBOARD_DATA_DIR` overrides."""
    override = os.environ.get("DASHBOARD_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


# The shipped sample, installed or in a source checkout: it keeps the data folder's top level
# (its store, alerts.jsonl and exports) so users of the sample keep their history.
SAMPLE_CONFIGS = (BUNDLED_CONFIG, Path(__file__).resolve().parents[1] / CONFIG_NAME)


def config_slug(file: Path) -> str:
    """`<stem>-<8 hex of sha256 of the resolved path>`: one folder per config file."""
    resolved = file.resolve()
    stem = re.sub(r"[^\w.-]+", "-", resolved.stem).strip("-.")[:40] or "config"
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{stem}-{digest}"


def config_data_dir(file: Path) -> Path:
    """Where one config's default store, alert files and exports live: the data folder
    itself for the sample, else `<data folder>/configs/<slug>` (config_slug), so two
    configs never share history or alerts."""
    resolved = file.resolve()
    if any(resolved == sample.resolve() for sample in SAMPLE_CONFIGS):
        return state_dir()
    return state_dir() / "configs" / config_slug(resolved)


@dataclass(slots=True)
class UiConfig:
    theme: str = "dark"
    kiosk: bool = False
    kiosk_interval: float = 20.0
    # No acknowledging, silencing or exporting, and only Ctrl+Q quits; None: on with the kiosk.
    read_only: bool | None = None

    def is_read_only(self) -> bool:
        """The office screen is read-only unless the config says otherwise."""
        return self.kiosk if self.read_only is None else self.read_only


@dataclass(slots=True)
class Config:
    path: Path
    base_dir: Path
    title: str = "重点民生实事 专班看板"
    as_of: date | None = None  # None: auto (the data's date, else today)
    period_start: tuple[int, int] = (1, 1)
    period_end: tuple[int, int] = (12, 31)
    method: str = "months"
    thresholds: Thresholds = field(default_factory=Thresholds)
    plugins_dir: Path | None = None
    sources: list[SourceSpec] = field(default_factory=list)
    store_path: Path | None = None
    # History points older than this are deleted (None: kept for good); `[store] keep_history`.
    store_keep_history: timedelta | None = KEEP_HISTORY
    export_dir: Path | None = None
    # This config's own folder for default files (config_data_dir); None: the data folder.
    data_dir: Path | None = None
    ui: UiConfig = field(default_factory=UiConfig)
    alerts: dict[str, Any] = field(default_factory=dict)
    sinks: list[dict[str, Any]] = field(default_factory=list)
    routes: list[Any] = field(default_factory=list)  # `[[routes]]`, validated by dashboard.routes
    raw: dict[str, Any] = field(default_factory=dict)
    user_name: str = ""  # `[user] name`: the author of acknowledgements and silences
    # `[units]`: variant → canonical lead-unit name, applied to every source's items before merging.
    unit_aliases: UnitAliases = field(default_factory=UnitAliases)
    quality_stale_days: int = 35  # `[quality] stale_days`: 更新时间 older than this is 未按时填报
    # `[calendar]`: holidays and make-up workdays added to the library's (dashboard.workcal).
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    serve_token_env: str = ""  # `[serve] token_env`: the variable holding `dashboard serve`'s token
    # `[digest]`: when the change digest goes out (None: never) and to which sinks ([]: by the routes).
    digest_schedule: Schedule | None = None
    digest_sinks: list[str] = field(default_factory=list)

    def error(self, key: str, message: str, expected: str = "") -> ConfigError:
        return ConfigError(key, message, expected=expected, file=self.path)

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def find_config(explicit: str | Path | None) -> Path:
    """--config PATH, else ./dashboard.toml, else the user's config folder, else bundled."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError("--config", f"找不到配置文件 {path}", expected="一个存在的 TOML 文件")
        return path
    local = Path.cwd() / CONFIG_NAME
    if local.is_file():
        return local
    from platformdirs import user_config_dir

    user = Path(user_config_dir(APP_NAME, appauthor=False)) / CONFIG_NAME
    if user.is_file():
        return user
    return BUNDLED_CONFIG


def suggest(key: str, known: list[str] | set[str] | dict[str, str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f"，是否想写 `{close[0]}`？" if close else ""


def check_keys(table: dict[str, Any], known: dict[str, str] | set[str], prefix: str, file: Path) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(
                f"{prefix}{key}",
                f"未知的键{suggest(key, known)}",
                expected="、".join(sorted(known)),
                file=file,
            )


def _month_day(value: object, key: str, file: Path) -> tuple[int, int]:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.month, value.day
    m = re.match(r"^(?:\d{4}-)?(\d{1,2})-(\d{1,2})$", value) if isinstance(value, str) else None
    try:
        # 2000 is a leap year: 02-29 is a real day, 02-30 and 04-31 are not.
        day = date(2000, int(m.group(1)), int(m.group(2))) if m else None
    except ValueError:
        day = None
    if day is None:
        raise ConfigError(key, f"无法识别的日期 {value!r}", expected="MM-DD，例如 11-30", file=file)
    return day.month, day.day


def parse_as_of(value: object, key: str = "as_of", file: Path | None = None) -> date | None:
    if value is None or value == "auto":
        return None
    if isinstance(value, datetime):
        raise ConfigError(
            key, f"应为日期，不含时间，实为 {value!r}", expected="YYYY-MM-DD 或 auto", file=file
        )
    if isinstance(value, date):
        return value
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            key, f"无法识别的日期 {value!r}", expected="YYYY-MM-DD 或 auto", file=file
        ) from None


# -- typed getters: every key is read through one of these, so no value is coerced -----
def _number(
    table: dict[str, Any],
    key: str,
    default: float,
    prefix: str,
    file: Path,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{prefix}{key}", f"应为数字，实为 {value!r}", expected="数字", file=file)
    if value < low or value > high or (low_open and value == low):
        bounds = f"{'大于' if low_open else '不小于'} {low:g}、不大于 {high:g} 的数字"
        raise ConfigError(f"{prefix}{key}", f"超出范围: {value!r}", expected=bounds, file=file)
    return float(value)


def _bool(table: dict[str, Any], key: str, default: bool, prefix: str, file: Path) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        # `kiosk = "no"` must not turn kiosk on: only TOML's own true / false count.
        raise ConfigError(
            f"{prefix}{key}", f"应为 true 或 false，实为 {value!r}", expected="true | false", file=file
        )
    return value


def _str(
    table: dict[str, Any],
    key: str,
    default: str,
    prefix: str,
    file: Path,
    *,
    choices: tuple[str, ...] = (),
    nonempty: bool = False,
) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(
            f"{prefix}{key}",
            f"应为字符串，实为 {type(value).__name__} {value!r}",
            expected=" | ".join(choices) or "字符串",
            file=file,
        )
    if choices and value not in choices:
        raise ConfigError(
            f"{prefix}{key}",
            f"未知的值 {value!r}{suggest(value, choices)}",
            expected=" | ".join(choices),
            file=file,
        )
    if nonempty and not value.strip():
        raise ConfigError(f"{prefix}{key}", "不能为空", expected="非空字符串", file=file)
    return value


def _duration(
    table: dict[str, Any], key: str, default: str, prefix: str, file: Path, *, minimum: float
) -> float:
    value = table.get(key, default)
    seconds = parse_duration(value)
    if seconds is None:
        raise ConfigError(f"{prefix}{key}", f"无法识别的时间 {value!r}", expected="如 30s、5m、1h", file=file)
    if seconds < minimum:
        raise ConfigError(
            f"{prefix}{key}",
            f"{value!r} 太短",
            expected=f"不小于 {minimum:g} 秒（如 {minimum:g}s）",
            file=file,
        )
    return seconds


_KEEP_RE = re.compile(r"^\s*(\d+)\s*(d|w|m|y)\s*$")
_KEEP_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def _keep_history(value: object, file: Path) -> timedelta | None:
    """`[store] keep_history`: `730d`, `104w`, `24m` (months of 30 days), `2y`; `0` or
    "forever" keeps every point."""
    if value in (0, "0", "forever"):
        return None
    m = _KEEP_RE.match(value) if isinstance(value, str) else None
    if m is None or int(m.group(1)) == 0:
        raise ConfigError(
            "store.keep_history",
            f"无法识别的保留时长 {value!r}",
            expected="如 2y、18m、90d；0 为永久保留",
            file=file,
        )
    return timedelta(days=int(m.group(1)) * _KEEP_DAYS[m.group(2)])


def _path(cfg: Config, table: dict[str, Any], key: str, prefix: str) -> Path | None:
    """A path option resolved against the config's folder; None when absent."""
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise cfg.error(f"{prefix}{key}", f"应为文件夹或文件路径，实为 {value!r}", "非空字符串")
    return cfg.resolve(value)


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a config file. Raises ConfigError on any problem."""
    file = find_config(path).resolve()
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(TOML)", f"语法错误: {exc}", expected="合法的 TOML", file=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("(文件)", f"无法读取: {exc}", file=file) from None
    check_keys(raw, TOP_KEYS, "", file)
    cfg = Config(path=file, base_dir=file.parent, raw=raw)
    cfg.title = _str(raw, "title", cfg.title, "", file)
    cfg.as_of = parse_as_of(raw.get("as_of"), file=file)

    progress = _table(raw, "progress", file)
    check_keys(progress, PROGRESS_KEYS, "progress.", file)
    cfg.period_start = _month_day(progress.get("period_start", "01-01"), "progress.period_start", file)
    cfg.period_end = _month_day(progress.get("period_end", "12-31"), "progress.period_end", file)
    if cfg.period_start >= cfg.period_end:
        # Otherwise expected progress is 0 all year and every item shows as on track.
        start, end = (f"{m:02d}-{d:02d}" for m, d in (cfg.period_start, cfg.period_end))
        raise cfg.error("progress.period_start", f"起始日 {start} 不早于结束日 {end}", f"早于 {end} 的 MM-DD")
    cfg.method = _str(progress, "method", "months", "progress.", file, choices=("months", "days", "workdays"))
    mode = _str(progress, "threshold_mode", "points", "progress.", file, choices=("points", "share"))
    lagging = _number(progress, "lagging_below", 0, "progress.", file, low=0, high=100)
    severe = _number(progress, "severe_below", 25, "progress.", file, low=0, high=100)
    if severe < lagging:
        raise cfg.error("progress.severe_below", "严重滞后阈值小于滞后阈值", f">= {lagging:g}")
    done_at = _number(progress, "done_at", 100, "progress.", file, low=0, high=100, low_open=True)
    cfg.thresholds = Thresholds(mode, lagging / 100, severe / 100, done_at / 100)  # type: ignore[arg-type]

    cfg.plugins_dir = _path(cfg, raw, "plugins_dir", "")

    store = _table(raw, "store", file)
    check_keys(store, {"path", "keep_history"}, "store.", file)
    cfg.data_dir = config_data_dir(file)
    cfg.store_path = _path(cfg, store, "path", "store.") or cfg.data_dir / "dashboard.sqlite3"
    cfg.store_keep_history = _keep_history(store.get("keep_history", "2y"), file)
    export = _table(raw, "export", file)
    check_keys(export, {"dir"}, "export.", file)
    cfg.export_dir = _path(cfg, export, "dir", "export.") or cfg.data_dir / "exports"

    ui = _table(raw, "ui", file)
    check_keys(ui, {"theme", "kiosk", "kiosk_interval", "read_only"}, "ui.", file)
    cfg.ui = UiConfig(
        theme=_str(ui, "theme", "dark", "ui.", file, nonempty=True),
        kiosk=_bool(ui, "kiosk", False, "ui.", file),
        kiosk_interval=_duration(ui, "kiosk_interval", "20s", "ui.", file, minimum=MIN_KIOSK_INTERVAL),
        read_only=_bool(ui, "read_only", False, "ui.", file) if "read_only" in ui else None,
    )
    user = _table(raw, "user", file)
    check_keys(user, {"name"}, "user.", file)
    cfg.user_name = _str(user, "name", "", "user.", file).strip()
    cfg.unit_aliases = _unit_aliases(_table(raw, "units", file), file)
    quality = _table(raw, "quality", file)
    check_keys(quality, {"stale_days"}, "quality.", file)
    cfg.quality_stale_days = int(_number(quality, "stale_days", 35, "quality.", file, low=1, high=3660))
    cfg.calendar = parse_calendar(_table(raw, "calendar", file), file)
    serve = _table(raw, "serve", file)
    check_keys(serve, {"token_env"}, "serve.", file)
    cfg.serve_token_env = _str(serve, "token_env", "", "serve.", file).strip()
    cfg.alerts = _table(raw, "alerts", file)
    sinks = raw.get("sinks", [])
    if not isinstance(sinks, list) or not all(isinstance(s, dict) for s in sinks):
        raise cfg.error("sinks", "应为表数组", "[[sinks]]")
    cfg.sinks = sinks
    routes = raw.get("routes", [])
    if not isinstance(routes, list) or not all(isinstance(r, dict) for r in routes):
        raise cfg.error("routes", "应为表数组", "[[routes]]")
    cfg.routes = routes
    cfg.digest_schedule, cfg.digest_sinks = _digest(_table(raw, "digest", file), sinks, file)
    cfg.sources = _sources(raw.get("sources", []), cfg)
    return cfg


def _digest(
    table: dict[str, Any], sinks: list[dict[str, Any]], file: Path
) -> tuple[Schedule | None, list[str]]:
    """`[digest] schedule` and `sinks` (names of `[[sinks]]`), ConfigError naming the key."""
    check_keys(table, {"schedule", "sinks"}, "digest.", file)
    text = _str(table, "schedule", "", "digest.", file).strip()
    try:
        schedule = parse_schedule(text) if text else None
    except ValueError as exc:
        expected = '"MON 09:00"、"MON,THU 09:00" 或 "DAILY 08:30"'
        raise ConfigError("digest.schedule", str(exc), expected=expected, file=file) from None
    names = table.get("sinks", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError("digest.sinks", "应为推送名称的列表", expected='["专班群"]', file=file)
    known: list[str] = []  # as dashboard.sinks names them: the name, else the type (type-N when taken)
    for index, t in enumerate(sinks or [{"type": "jsonl", "name": "alerts.jsonl"}]):
        kind = str(t.get("type", ""))
        known.append(str(t.get("name", kind if kind not in known else f"{kind}-{index + 1}")))
    for name in names:
        if name not in known:
            raise ConfigError(
                "digest.sinks", f"没有名为 {name!r} 的推送", expected="、".join(known), file=file
            )
    return schedule, list(names)


def _table(raw: dict[str, Any], key: str, file: Path) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(key, f"应为表，实为 {type(value).__name__}", expected=f"[{key}]", file=file)
    return value


def _unit_aliases(units: dict[str, Any], file: Path) -> UnitAliases:
    """`[units.aliases]` (variant = canonical) and `groups` (lists, canonical first)."""
    check_keys(units, {"aliases", "groups"}, "units.", file)
    aliases = units.get("aliases", {})
    if not isinstance(aliases, dict):
        raise ConfigError(
            "units.aliases", "应为表", expected='[units.aliases] "别名" = "标准名称"', file=file
        )
    pairs: list[tuple[str, str, str]] = []
    for variant, canonical in aliases.items():
        key = f'units.aliases."{variant}"'
        if not isinstance(canonical, str) or not canonical.strip():
            raise ConfigError(key, f"应为单位名称，实为 {canonical!r}", expected="非空字符串", file=file)
        pairs.append((key, variant, canonical.strip()))
    groups = units.get("groups", [])
    if not isinstance(groups, list):
        raise ConfigError("units.groups", "应为列表的列表", expected='[["标准名称", "别名", …]]', file=file)
    for i, group in enumerate(groups):
        key = f"units.groups[{i}]"
        if (
            not isinstance(group, list)
            or len(group) < 2
            or not all(isinstance(n, str) and n.strip() for n in group)
        ):
            raise ConfigError(
                key, f"无效的单位组 {group!r}", expected='["标准名称", "别名", …]（至少两个名称）', file=file
            )
        pairs.extend((key, name, group[0].strip()) for name in group[1:])
    try:
        return build_aliases(pairs)
    except AliasConflict as exc:
        raise ConfigError(exc.key, str(exc), expected="每个名称只对应一个单位", file=file) from None


def _sources(value: object, cfg: Config) -> list[SourceSpec]:
    if not isinstance(value, list) or not all(isinstance(s, dict) for s in value):
        raise cfg.error("sources", "应为表数组", "[[sources]]")
    specs: list[SourceSpec] = []
    names: set[str] = set()
    for index, table in enumerate(value):
        prefix = f"sources[{index}]"
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise cfg.error(f"{prefix}.name", "每个数据源需要一个名称", "非空字符串")
        if name in names:
            raise cfg.error(f"{prefix}.name", f"数据源名称 {name!r} 重复", "唯一的名称")
        names.add(name)
        type_name = table.get("type")
        if not isinstance(type_name, str) or not type_name:
            raise cfg.error(f"{prefix}.type", "缺少数据源类型", "例如 csv、rest、mashangtong")
        refresh = _duration(table, "refresh", "5m", f"{prefix}.", cfg.path, minimum=MIN_REFRESH)
        timeout = _duration(table, "timeout", "60s", f"{prefix}.", cfg.path, minimum=MIN_TIMEOUT)
        max_shrink = table.get("max_shrink", 0.5)
        if (
            isinstance(max_shrink, bool)
            or not isinstance(max_shrink, (int, float))
            or not 0 <= max_shrink <= 1
        ):
            raise cfg.error(
                f"{prefix}.max_shrink", f"无法识别的比例 {max_shrink!r}", "0 到 1 之间的数，如 0.5"
            )
        allow_shrink = table.get("allow_shrink", False)
        if not isinstance(allow_shrink, bool):
            raise cfg.error(
                f"{prefix}.allow_shrink", f"应为 true 或 false，实为 {allow_shrink!r}", "true | false"
            )
        county = table.get("county", "")
        if not isinstance(county, str) or (county and not county.strip()):
            raise cfg.error(f"{prefix}.county", f"应为县市区名称，实为 {county!r}", '如 county = "湘乡市"')
        if not _bool(table, "enabled", True, f"{prefix}.", cfg.path):
            continue
        options = {k: v for k, v in table.items() if k not in COMMON_SOURCE_KEYS}
        specs.append(
            SourceSpec(
                name=name,
                type=type_name,
                refresh=refresh,
                options=options,
                base_dir=cfg.base_dir,
                config_file=cfg.path,
                key_prefix=prefix,
                timeout=timeout,
                max_shrink=float(max_shrink),
                allow_shrink=allow_shrink,
                county=county.strip(),
            )
        )
    return specs


def default_author(cfg: Config) -> str:
    """Who acknowledges or silences when no `--by` is given: `[user] name`, else the
    login name, else "?" (getpass raises where no login name can be found)."""
    if cfg.user_name:
        return cfg.user_name
    try:
        return getpass.getuser() or "?"
    except (OSError, KeyError, ImportError):
        return "?"
