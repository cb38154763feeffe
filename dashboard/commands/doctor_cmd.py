"""`dashboard doctor [--config PATH] [--json]`: check a config before relying on it.

Each source is fetched once (time, items, warnings) into a store in memory, so the
real store, the alerts and the sinks are not touched: nothing is fired, nothing is
posted. Then: each environment variable the config names (set or not, never its
value), each sink (file sinks: the folder writable; robots and webhooks: the host
reachable by TCP, but "未测试 not tested" since no robot offers a dry run), the store
(writable, by taking and releasing its write lock), the working-day calendar (covering
the as-of year) and the plugins (loaded, and their problems).

Exit 0 when no check failed (warnings and untested sinks do not fail), 3 when any did,
2 for a config that cannot be loaded at all (as every command).

`--json` prints one object, keys only ever added: `config` (path), `ok`, `as_of`,
`counts` (`ok`, `warn`, `skip`, `fail`) and `checks`, each with `kind` (`source` | `env`
| `sink` | `store` | `calendar` | `plugins`), `name`, `status` (`ok` | `warn` | `skip` |
`fail`), `detail`, and per kind: source `type`, `seconds`, `items`, `warnings`,
`warning_lines`, `error`; env `var`, `where`, `set`; sink `type`, `target`; store
`path`, `exists`; calendar `method`, `year`, `used`, `calendar`; plugins `loaded`,
`problems` (each `name`, `origin`, `error`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dashboard import strict_json
from dashboard.commands.common import table_lines
from dashboard.config import Config, load_config
from dashboard.contracts import ConfigError
from dashboard.plugins import PluginManager
from dashboard.runtime import Runtime
from dashboard.store import Store
from dashboard.workcal import load_calendar

EXIT_FAILED = 3
CONNECT_TIMEOUT = 3.0  # seconds for a sink host's TCP connect
ROBOTS = ("wecom", "dingtalk", "feishu")
STATUSES = ("ok", "warn", "skip", "fail")
_MARKS = {"ok": "✓", "warn": "!", "skip": "–", "fail": "✗"}
_KIND_LABELS = {
    "source": "数据源 source",
    "env": "环境变量 env",
    "sink": "推送 sink",
    "store": "存储 store",
    "calendar": "日历 calendar",
    "plugins": "插件 plugins",
}


@dataclass(slots=True)
class Check:
    kind: str
    name: str
    status: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            **self.extra,
        }


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "doctor",
        parents=[common],
        help="检查配置：数据源、环境变量、推送、存储、日历、插件 check a config",
        description=(
            "每个数据源读取一次（不写入存储、不评估预警、不推送）；检查配置中写到的环境变量是否已设置（不显示其值）、"
            "推送是否可达（机器人不支持试发：写“未测试”，不发消息）、存储是否可写、工作日历是否包含截止日期所在年份、"
            "插件是否正常载入。全部通过退出码 0，有未通过的 3。"
        ),
    )
    p.add_argument("--json", action="store_true", help="输出一个 JSON 对象 print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    plugins = PluginManager(config.plugins_dir)
    checks: list[Check] = []
    runtime, calendar_error = _runtime(config, plugins)
    checks += asyncio.run(_fetch_sources(runtime))
    as_of = runtime.resolve_as_of()
    checks += env_checks(config)
    checks += sink_checks(runtime, config)
    checks.append(store_check(config))
    checks.append(calendar_check(runtime, config, as_of, calendar_error))
    checks.append(plugin_check(plugins))
    counts = {s: sum(1 for c in checks if c.status == s) for s in STATUSES}
    code = EXIT_FAILED if counts["fail"] else 0
    if args.json:
        report = {
            "config": str(config.path),
            "ok": not counts["fail"],
            "as_of": as_of.isoformat(),
            "counts": counts,
            "checks": [c.to_dict() for c in checks],
        }
        print(strict_json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(render_text(config, as_of, checks, counts))
    if runtime.abandoned():  # a fetch given up on still runs in its thread: do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    runtime.close()
    return code


def _runtime(config: Config, plugins: PluginManager) -> tuple[Runtime, str]:
    """A runtime over a store in memory (the doctor changes nothing). A calendar that
    lacks the as-of year is a failed check here, not the end: the sources are still
    fetched, with expected progress by months."""
    try:
        return Runtime(config, plugins, store=Store(":memory:")), ""
    except ConfigError as exc:
        if not exc.key.startswith("calendar"):
            raise
        months = dataclasses.replace(config, method="months")
        try:
            return Runtime(months, plugins, store=Store(":memory:")), str(exc)
        except ConfigError as again:
            if not again.key.startswith("calendar"):
                raise
        # Routes' mute = ["holidays"] need this year too: without them the sinks still build.
        bare = dataclasses.replace(months, routes=[])
        return Runtime(bare, plugins, store=Store(":memory:")), str(exc)


async def _fetch_sources(runtime: Runtime) -> list[Check]:
    async def one(name: str) -> Check:
        started = time.monotonic()
        state = await runtime.refresh(name)
        seconds = time.monotonic() - started
        warnings = [str(w) for w in state.warnings]
        extra: dict[str, Any] = {
            "type": state.spec.type,
            "seconds": round(seconds, 3),
            "items": len(state.items),
            "warnings": len(warnings),
            "warning_lines": warnings[:20],
            "error": state.error or None,
        }
        if state.ok:
            took = f"{seconds * 1000:.0f} 毫秒 ms" if seconds < 1 else f"{seconds:.1f} 秒 s"
            detail = f"{len(state.items)} 项 items · {took} · 数据警告 {len(warnings)} 行 warnings"
            return Check("source", name, "warn" if warnings else "ok", detail, extra)
        detail = state.error or "读取失败 failed"
        path = state.spec.options.get("path")
        if isinstance(path, str) and "文件不存在" in detail:
            detail += "；还没有数据 no data yet：把通报表另存为这个文件 save the bulletin there"
        return Check("source", name, "fail", detail, extra)

    if not runtime.states:
        return [Check("source", "—", "fail", "配置中没有数据源 no [[sources]]", {})]
    checks = list(await asyncio.gather(*(one(name) for name in runtime.states)))
    await runtime.flush()
    return checks


def _env_refs(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(where, variable) for every `*_env` key in a table, nested ones included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{where}.{key}" if where else str(key)
            if key.endswith("_env") and isinstance(inner, str) and inner:
                yield here, inner
            else:
                yield from _env_refs(inner, here)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _env_refs(inner, f"{where}[{i}]")


def env_checks(config: Config) -> list[Check]:
    """Each environment variable the config names: set or not. The value is never shown."""
    checks = []
    for where, var in _env_refs(config.raw, ""):
        table = _owning_table(config.raw, where)
        extra = {"var": var, "where": where, "set": bool(os.environ.get(var))}
        if table is not None and table.get("enabled") is False:
            checks.append(Check("env", var, "skip", f"{where}：未启用 disabled", extra))
        elif os.environ.get(var):
            checks.append(Check("env", var, "ok", f"{where}：已设置 set（值不显示 value not shown）", extra))
        else:
            missing = "为空 empty" if var in os.environ else "未设置 not set"
            checks.append(Check("env", var, "fail", f"{where}：{missing}", extra))
    return checks


def _owning_table(raw: dict[str, Any], where: str) -> dict[str, Any] | None:
    """The `[[sources]]` / `[[sinks]]` entry a key path such as `sinks[1].key_env` lies in."""
    head = where.split(".", 1)[0]
    if "[" not in head:
        return None
    name, _, index = head.partition("[")
    entries = raw.get(name)
    try:
        entry = entries[int(index.rstrip("]"))] if isinstance(entries, list) else None
    except (ValueError, IndexError):
        return None
    return entry if isinstance(entry, dict) else None


def sink_checks(runtime: Runtime, config: Config) -> list[Check]:
    checks = []
    for configured in runtime.alerts.sinks:
        spec, sink = configured.spec, configured.sink
        extra: dict[str, Any] = {"type": spec.type, "target": None}
        if sink is None:
            checks.append(Check("sink", spec.name, "fail", configured.error or "无法创建 not built", extra))
            continue
        path = getattr(sink, "path", None)
        if isinstance(path, Path):
            extra["target"] = str(path)
            status, detail = folder_writable(path)
            checks.append(Check("sink", spec.name, status, detail, extra))
            continue
        if hasattr(sink, "url"):
            status, detail, target = _http_sink(sink, spec.type)
            extra["target"] = target
            checks.append(Check("sink", spec.name, status, detail, extra))
            continue
        checks.append(Check("sink", spec.name, "skip", "未测试 not tested（第三方推送 plugin sink）", extra))
    for index, table in enumerate(config.sinks):
        if table.get("enabled") is False:
            name = str(table.get("name") or table.get("type") or f"sinks[{index}]")
            checks.append(
                Check("sink", name, "skip", "未启用 disabled", {"type": table.get("type"), "target": None})
            )
    return checks


def folder_writable(path: Path) -> tuple[str, str]:
    """Whether a file sink can write `path`: the file itself, or its folder (created on
    the first alert; then its nearest existing ancestor must be writable)."""
    if path.exists():
        if path.is_dir():
            return "fail", f"{path} 是文件夹，不是文件 is a folder"
        if not os.access(path, os.W_OK):
            return "fail", f"{path} 不可写 not writable"
    folder = path.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return "fail", f"{existing} 不是文件夹 not a folder"
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".doctor-"):
            pass
    except OSError as exc:
        return "fail", f"文件夹不可写 folder not writable: {existing}: {exc.strerror or exc}"
    if existing != folder:
        return "ok", f"文件夹可写 writable（{folder} 将在首次预警时新建 created on the first alert）"
    return "ok", f"文件夹可写 folder writable: {folder}"


def _http_sink(sink: Any, type_name: str) -> tuple[str, str, str | None]:
    """(status, detail, scheme://host:port): the host reachable by TCP; nothing is posted."""
    url = getattr(sink, "url", "") or ""
    url_env = getattr(sink, "url_env", "") or ""
    if url_env:
        url = os.environ.get(url_env, "")
        if not url:
            return "fail", f"环境变量 {url_env} 未设置，没有地址 no URL", None
    parts = urlsplit(url)
    if not parts.hostname:
        return "fail", "没有可用的地址 no usable URL", None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = f"{parts.scheme}://{parts.hostname}:{port}"  # never the path or query: keys live there
    why = (
        "机器人不支持试发 robots offer no dry run"
        if type_name in ROBOTS
        else "webhook 没有试发约定 no dry-run contract"
    )
    untested = f"未测试 not tested（{why}，未发送消息 nothing posted）"
    proxy = next(
        (
            v
            for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")
            if os.environ.get(v)
        ),
        "",
    )
    if proxy:
        return "skip", f"{untested}；经代理 {proxy}，未测连接 via a proxy", target
    try:
        with socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        return "fail", f"无法连接 cannot connect {target}: {exc.strerror or exc}", target
    return "skip", f"{untested}；可连接 reachable {target}", target


def store_check(config: Config) -> Check:
    """The store writable: its write lock taken and released (nothing written); a
    store not created yet needs a writable folder."""
    path = config.store_path
    assert path is not None
    extra: dict[str, Any] = {"path": str(path), "exists": path.is_file()}
    if not path.exists():
        status, detail = folder_writable(path)
        if status == "ok":
            detail = f"尚未创建，首次运行时新建 not created yet: {path}"
        return Check("store", "dashboard.sqlite3", status, detail, extra)
    try:
        conn = sqlite3.connect(path, timeout=2.0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock: proves the file can be written
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return Check("store", path.name, "fail", f"不可写 not writable: {path}: {exc}", extra)
    size = path.stat().st_size
    return Check("store", path.name, "ok", f"可写 writable: {path}（{size / 1024:.0f} KB）", extra)


def calendar_check(runtime: Runtime, config: Config, as_of: date, error: str) -> Check:
    """The working-day calendar knows the as-of year (and this year, for `mute = ["holidays"]`)."""
    holidays = runtime.alerts.day_off is not None
    used = config.method == "workdays" or holidays
    extra: dict[str, Any] = {"method": config.method, "year": as_of.year, "used": used, "calendar": None}
    if error:
        return Check("calendar", str(as_of.year), "fail", error, extra)
    try:
        calendar = load_calendar(config.calendar, config.path)
    except ConfigError as exc:
        return Check("calendar", str(as_of.year), "fail" if used else "skip", str(exc), extra)
    extra["calendar"] = calendar.name
    years = sorted({as_of.year, date.today().year} if holidays else {as_of.year})
    unknown = [y for y in years if not calendar.knows(y)]
    if not unknown:
        use = "按工作日 workdays" if config.method == "workdays" else f"method = {config.method}"
        mute = "，免打扰 holidays" if holidays else ""
        return Check(
            "calendar", str(as_of.year), "ok", f"{calendar.name} 含 {as_of.year} 年（{use}{mute}）", extra
        )
    gap = "、".join(str(y) for y in unknown)
    if not used:
        return Check(
            "calendar",
            str(as_of.year),
            "skip",
            f"未使用 not used（method = {config.method}）；{calendar.name} 不含 {gap} 年",
            extra,
        )
    if calendar.fallback == "calendar_days":
        return Check(
            "calendar",
            str(as_of.year),
            "warn",
            f"{calendar.name} 不含 {gap} 年：按自然日计算 fallback",
            extra,
        )
    return Check(
        "calendar", str(as_of.year), "fail", f"{calendar.name} 不含 {gap} 年：在 [calendar] 中补充", extra
    )


def plugin_check(plugins: PluginManager) -> Check:
    records = plugins.describe()
    problems = [{"name": r.name, "origin": r.origin, "error": r.error} for r in records if r.error]
    extra: dict[str, Any] = {"loaded": len(records), "problems": problems}
    if problems:
        named = "；".join(f"{p['name']}（{p['origin']}）: {p['error']}" for p in problems)
        return Check("plugins", f"{len(records)} 个", "fail", named, extra)
    return Check("plugins", f"{len(records)} 个", "ok", "全部正常载入 all loaded", extra)


def render_text(config: Config, as_of: date, checks: list[Check], counts: dict[str, int]) -> str:
    lines = [f"配置 config {config.path}    数据截止 as of {as_of.isoformat()}"]
    rows = [[_MARKS[c.status], _KIND_LABELS.get(c.kind, c.kind), c.name, c.detail] for c in checks]
    lines += table_lines(rows, indent="  ")
    for c in checks:
        for w in c.extra.get("warning_lines", [])[:5]:
            lines.append(f"      ! {c.name}: {w}")
    summary = f"通过 ok {counts['ok']} · 提示 warn {counts['warn']} · 未测试 skip {counts['skip']} · 未通过 fail {counts['fail']}"
    verdict = (
        "全部通过 all checks passed" if not counts["fail"] else f"{counts['fail']} 项未通过 checks failed"
    )
    lines.append(f"{verdict}（{summary}）")
    return "\n".join(lines)
