"""The plugin manager: entry points, `plugins_dir`, and isolation of a failing plugin.

Created by the runtime and passed around; never a module-level global.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from dashboard import hookspecs
from dashboard.contracts import SourceType

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


@dataclass(slots=True)
class PluginRecord:
    name: str
    origin: str  # "内置 builtin", "<dist> <version>", or a file path
    kinds: list[str] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)  # source types, sink types, formats...
    error: str = ""


class PluginManager:
    """A thin typed wrapper over pluggy's manager."""

    def __init__(self, plugins_dir: Path | None = None, *, entry_point_group: bool = True) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        if entry_point_group:
            self._load_entry_points()
        if plugins_dir is not None:
            self._load_dir(plugins_dir)
        # A misspelled hook implementation is an error, not silence.
        self.pm.check_pending()

    # -- loading --------------------------------------------------------------
    def register(self, plugin: object, name: str, origin: str) -> None:
        self.pm.register(plugin, name=name)
        self.records[name] = PluginRecord(name, origin)

    def _load_entry_points(self) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist
            if dist is not None and dist.metadata["Name"] == OUR_DISTRIBUTION:
                origin = "内置 builtin"
            elif dist is not None:
                origin = f"{dist.metadata['Name']} {dist.version}"
            else:
                origin = ep.value
            if ep.name in self.records:
                continue  # the same distribution seen twice on sys.path
            try:
                module = ep.load()
                self.register(module, ep.name, origin)
            except Exception as exc:  # a broken plugin must not stop the others
                self.records[ep.name] = PluginRecord(ep.name, origin, error=_describe(exc))

    def _load_dir(self, folder: Path) -> None:
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"local:{path.stem}"
            try:
                module = _import_file(path, f"dashboard_local_plugins.{path.stem}")
                self.register(module, name, str(path))
            except Exception as exc:
                self.records[name] = PluginRecord(name, str(path), error=_describe(exc))

    # -- calling hooks, one plugin at a time ------------------------------------
    def collect(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call `hook_name` on each plugin separately; a plugin that raises or returns
        something that is not a list is recorded as failed and skipped."""
        results: list[tuple[str, Any]] = []
        hook = getattr(self.pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            record = self.records.setdefault(name, PluginRecord(name, "runtime"))
            if KINDS[hook_name] not in record.kinds:
                record.kinds.append(KINDS[hook_name])
            try:
                value = impl.function()
            except Exception as exc:
                record.error = _describe(exc)
                continue
            if not isinstance(value, (list, tuple)):
                record.error = f"{hook_name} 返回了 {type(value).__name__}，应为列表"
                continue
            for entry in value:
                results.append((name, entry))
        return results

    def descriptors(self, hook_name: str, kind: type[D], key: str = "name") -> dict[str, D]:
        """The descriptors of one hook by their `key` attribute (a source type's name, an
        exporter's format): the first plugin to offer a key keeps it; an entry of the
        wrong type is recorded against its plugin (see `dashboard plugins`) and skipped."""
        found: dict[str, D] = {}
        for plugin, entry in self.collect(hook_name):
            record = self.records[plugin]
            if not isinstance(entry, kind):
                record.error = f"返回了非 {kind.__name__} 对象: {entry!r}"
                continue
            label = str(getattr(entry, key))
            if label not in record.provides:
                record.provides.append(label)
            found.setdefault(label, entry)
        return found

    def source_types(self) -> dict[str, SourceType]:
        return self.descriptors("dashboard_source_types", SourceType)

    def describe(self) -> list[PluginRecord]:
        """Every plugin with its kinds, after asking each hook once."""
        for hook_name in KINDS:
            for plugin, entry in self.collect(hook_name):
                label = getattr(entry, "name", None) or getattr(entry, "format", None)
                record = self.records[plugin]
                if label and str(label) not in record.provides:
                    record.provides.append(str(label))
        return sorted(self.records.values(), key=lambda r: (r.origin != "内置 builtin", r.name))


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
    return f"{type(exc).__name__}: {exc}{where}"
