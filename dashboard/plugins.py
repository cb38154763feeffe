"""The plugin manager: entry points, `plugins_dir`, and isolation of a failing plugin.

Created by the runtime and passed around; never a module-level global.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from dashboard import hookspecs
from dashboard.contracts import SourceType, difflib_close
from dashboard.plugin_trace import Tracer

D = TypeVar("D")
ENTRY_POINT_GROUP = "dashboard.plugins"
OUR_DISTRIBUTION = "zhuanban-dashboard"

# Hook name → the kind of plugin that implements it, for `dashboard plugins`.
KINDS = {
    "dashboard_source_types": "source",
    "dashboard_sink_types": "sink",
    "dashboard_exporters": "exporter",
    "dashboard_alert_rules": "rule",
}
# For messages: what a name conflict is about (Chinese, English).
KIND_NAMES = {
    "dashboard_source_types": ("数据源类型", "source type"),
    "dashboard_sink_types": ("推送类型", "sink type"),
    "dashboard_exporters": ("导出格式", "export format"),
    "dashboard_alert_rules": ("预警规则", "alert rule"),
}


# The hooks each built-in plugin implements, by entry point name. A built-in module is
# imported when one of its hooks is first collected, not at start: `dashboard check`
# never asks for exporters, so it never imports them (issue 17). A built-in missing here
# loads at start; tests/test_startup.py checks the table against the modules.
BUILTIN_HOOKS: dict[str, tuple[str, ...]] = {
    "csv": ("dashboard_source_types",),
    "rest": ("dashboard_source_types",),
    "mashangtong": ("dashboard_source_types",),
    "export_csv": ("dashboard_exporters",),
    "export_xlsx": ("dashboard_exporters",),
    "export_md": ("dashboard_exporters",),
    "export_html": ("dashboard_exporters",),
    "export_json": ("dashboard_exporters",),
    "sink_jsonl": ("dashboard_sink_types",),
    "sink_csv": ("dashboard_sink_types",),
    "sink_webhook": ("dashboard_sink_types",),
    "sink_wecom": ("dashboard_sink_types",),
    "sink_dingtalk": ("dashboard_sink_types",),
    "sink_feishu": ("dashboard_sink_types",),
}
BUILTIN_ORIGIN = "内置 builtin"

# Hook name → the attribute that names each descriptor it returns.
LABELS = {
    "dashboard_source_types": "name",
    "dashboard_sink_types": "name",
    "dashboard_exporters": "format",
    "dashboard_alert_rules": "name",
}


@dataclass(slots=True)
class PluginRecord:
    name: str
    origin: str  # "内置 builtin", "<dist> <version>", or a file path
    kinds: list[str] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)  # source types, sink types, formats...
    error: str = ""  # every problem found with this plugin, joined by "；"

    def add_error(self, message: str) -> None:
        if message not in self.error.split("；"):
            self.error = f"{self.error}；{message}" if self.error else message


class PluginManager:
    """A thin typed wrapper over pluggy's manager.

    `trace` (default: from `DASHBOARD_TRACE` / `DASHBOARD_TRACE_FILE`) logs every plugin
    load, hook call and call into a plugin's objects with its duration. Hooks are called
    one plugin at a time (`collect`), not through pluggy's hook caller, so pluggy's own
    `add_hookcall_monitoring` would see nothing; the manager times them itself."""

    def __init__(
        self,
        plugins_dir: Path | None = None,
        *,
        entry_point_group: bool = True,
        trace: Tracer | None = None,
    ) -> None:
        self.trace = trace if trace is not None else Tracer.from_env()
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        # Each hook is called once per plugin (hookspecs: "called once at start").
        self._collected: dict[str, list[tuple[str, Any]]] = {}
        # (hook, label) → the plugin that keeps that source type / format name.
        self._owners: dict[tuple[str, str], str] = {}
        # Plugin name → its place in discovery order: hooks are collected in this order
        # whenever a deferred built-in was actually imported, so built-ins still come first.
        self._order: dict[str, int] = {}
        self._deferred: dict[str, EntryPoint] = {}  # built-ins not imported yet
        if entry_point_group:
            self._load_entry_points()
        if plugins_dir is not None:
            self._load_dir(plugins_dir)

    # -- loading --------------------------------------------------------------
    def register(self, plugin: object, name: str, origin: str) -> None:
        """Register one plugin. A hookimpl whose signature does not match its spec
        leaves nothing registered (PluginValidationError, reported by the loaders); a
        misspelled hook name is recorded against the plugin and that hook ignored
        (pluggy's `check_pending` would stop every command instead)."""
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError:
            if self.pm.has_plugin(name):  # pluggy may have registered part of it
                self.pm.unregister(name=name)
            raise
        self._order.setdefault(name, len(self._order))
        record = self.records[name] = PluginRecord(name, origin)
        for hook_name in _unknown_hooks(self.pm, name):
            hint = difflib_close(hook_name, list(KINDS))
            record.add_error(f"未知的钩子 unknown hook {hook_name}{hint}（已忽略 ignored）")

    def _load_entry_points(self) -> None:
        names: dict[object, str] = {}  # distribution → its name: METADATA is parsed once, not per entry point
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist
            if dist is not None and dist not in names:
                names[dist] = dist.metadata["Name"]
            if dist is not None and names[dist] == OUR_DISTRIBUTION:
                origin = BUILTIN_ORIGIN
            elif dist is not None:
                origin = f"{names[dist]} {dist.version}"
            else:
                origin = ep.value
            if ep.name in self.records or ep.name in self._deferred:
                continue  # the same distribution seen twice on sys.path
            self._order.setdefault(ep.name, len(self._order))
            if origin == BUILTIN_ORIGIN and ep.name in BUILTIN_HOOKS:
                self._deferred[ep.name] = ep
                continue
            self._load_entry_point(ep, origin)

    def _load_entry_point(self, ep: EntryPoint, origin: str) -> None:
        try:
            with self._timed(f"load entry_point={ep.value}", ep.name):
                module = ep.load()
            self.register(module, ep.name, origin)
        except (Exception, SystemExit) as exc:  # a broken plugin (even sys.exit) must not stop the others
            self.records[ep.name] = PluginRecord(ep.name, origin, error=_describe(exc))

    def _load_deferred(self, hook_name: str | None = None) -> None:
        """Import the deferred built-ins implementing `hook_name` (None: every one)."""
        for name in [n for n in self._deferred if hook_name is None or hook_name in BUILTIN_HOOKS[n]]:
            self._load_entry_point(self._deferred.pop(name), BUILTIN_ORIGIN)

    def _load_dir(self, folder: Path) -> None:
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"local:{path.stem}"
            self._order.setdefault(name, len(self._order))
            try:
                with self._timed(f"load file={path.name}", name):
                    module = _import_file(path, f"dashboard_local_plugins.{path.stem}")
                self.register(module, name, str(path))
            except (Exception, SystemExit) as exc:  # sys.exit() at import is a broken plugin, not an exit
                self.records[name] = PluginRecord(name, str(path), error=_describe(exc))

    # -- calling hooks, one plugin at a time ------------------------------------
    def collect(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call `hook_name` on each plugin separately (once; later calls return the same
        entries); a plugin that raises or returns something that is not a list is
        recorded as failed and skipped."""
        cached = self._collected.get(hook_name)
        if cached is not None:
            return cached
        results: list[tuple[str, Any]] = []
        hook = getattr(self.pm.hook, hook_name)
        self._load_deferred(hook_name)
        # Deferred built-ins register late: discovery order puts them back first (in
        # pluggy's own layout: trylast first, tryfirst last, registration order between).
        impls = sorted(
            hook.get_hookimpls(),
            key=lambda impl: (
                0 if impl.trylast else 2 if impl.tryfirst else 1,
                self._order.get(self.pm.get_name(impl.plugin) or "", len(self._order)),
            ),
        )
        for impl in impls:
            name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            record = self.records.setdefault(name, PluginRecord(name, "runtime"))
            if KINDS[hook_name] not in record.kinds:
                record.kinds.append(KINDS[hook_name])
            try:
                with self._timed(hook_name, name) as detail:
                    value = impl.function()
                    if isinstance(value, (list, tuple)):
                        detail.append(f"{len(value)} entries")
            except (Exception, SystemExit) as exc:
                record.add_error(_describe(exc))
                continue
            if not isinstance(value, (list, tuple)):
                record.add_error(f"{hook_name} 返回了 {type(value).__name__}，应为列表")
                continue
            for entry in value:
                results.append((name, entry))
        self._collected[hook_name] = results
        return results

    def descriptors(self, hook_name: str, kind: type[D], key: str = "name") -> dict[str, D]:
        """The descriptors of one hook by their `key` attribute (a source type's name, an
        exporter's format): the first plugin to offer a key keeps it (built-in plugins
        load first), and a later one is told who kept it (see `dashboard plugins`); an
        entry of the wrong type is recorded against its plugin and skipped."""
        found: dict[str, D] = {}
        for plugin, entry in self.collect(hook_name):
            if not isinstance(entry, kind):
                self.records[plugin].add_error(f"返回了非 {kind.__name__} 对象: {entry!r}")
                continue
            label = str(getattr(entry, key))
            if self._claim(hook_name, label, plugin) and label not in found:
                found[label] = self.trace.descriptor(hook_name, plugin, entry, label) if self.trace else entry
        return found

    @contextmanager
    def _timed(self, what: str, plugin: str) -> Iterator[list[str]]:
        if self.trace is None:
            yield []
        else:
            with self.trace.timed(what, plugin) as detail:
                yield detail

    def _claim(self, hook_name: str, label: str, plugin: str) -> bool:
        """Whether `plugin` keeps `label` for `hook_name`; the first to offer it does."""
        owner = self._owners.setdefault((hook_name, label), plugin)
        record = self.records[plugin]
        if owner == plugin:
            if label not in record.provides:
                record.provides.append(label)
            return True
        keeper = self.records[owner]
        zh, en = KIND_NAMES[hook_name]
        record.add_error(
            f"{zh} {label!r} 已由 {owner}（{keeper.origin}）提供，本插件的同名{zh}未启用"
            f" ({en} {label!r} is kept by {owner})"
        )
        return False

    def source_types(self) -> dict[str, SourceType]:
        return self.descriptors("dashboard_source_types", SourceType)

    def describe(self) -> list[PluginRecord]:
        """Every plugin with its kinds, provided names and problems, after asking each hook."""
        self._load_deferred()
        for hook_name in KINDS:
            for plugin, entry in self.collect(hook_name):
                label = getattr(entry, LABELS[hook_name], None)
                if label:
                    self._claim(hook_name, str(label), plugin)
        return sorted(self.records.values(), key=lambda r: (r.origin != BUILTIN_ORIGIN, r.name))


def _unknown_hooks(pm: pluggy.PluginManager, plugin_name: str) -> list[str]:
    """Hook names the plugin implements that no hookspec declares (a misspelling)."""
    plugin = pm.get_plugin(plugin_name)
    unknown: list[str] = []
    for caller in pm.get_hookcallers(plugin) or []:
        if caller.has_spec():
            continue
        if any(impl.plugin is plugin and not impl.optionalhook for impl in caller.get_hookimpls()):
            unknown.append(caller.name)
    return sorted(unknown)


def _import_file(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"无法加载 {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    if isinstance(exc, pluggy.PluginValidationError):
        # pluggy's message spans lines; one line, said in our words first.
        detail = " / ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        return f"钩子签名与规范不符，插件未加载 hook signature does not match its spec: {detail}"
    if isinstance(exc, SystemExit):
        return f"插件调用了 sys.exit({exc.code!r})，已拦截、未加载 plugin called sys.exit{where}"
    return f"{type(exc).__name__}: {exc}{where}"
