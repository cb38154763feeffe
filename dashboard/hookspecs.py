"""Every hook a 专班看板 plugin can implement. This module is the plugin contract.

A plugin is a module (or object) with functions decorated by `dashboard.hookimpl`,
registered through the entry point group `dashboard.plugins` (built-in plugins
too) or dropped as a `.py` file into the folder named by `plugins_dir`.

All hooks are called once when the plugin manager starts, with no arguments, and
return lists of descriptors; the runtime calls each plugin's hook separately, so a
plugin that raises is reported (see `dashboard plugins`) and the others go on.
Every hook name starts with `dashboard_`.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "dashboard"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def dashboard_source_types() -> list[Any]:
    """Source kinds this plugin offers.

    Called once at start. Returns a list of `dashboard.contracts.SourceType`; the
    `name` of each is what `type = "..."` selects in a `[[sources]]` table. The
    factory is called once per configured source (and again when the config is
    reloaded); the returned object's `async fetch()` is called on every refresh and
    returns a `FetchResult`. A `watch_paths()` method, if present, lists files whose
    change triggers a refresh. Exceptions from `fetch` mark that source failed and
    keep its last good items; they never stop other sources.
    """


@hookspec
def dashboard_sink_types() -> list[Any]:
    """Alert sink kinds this plugin offers.

    Called once at start. Returns a list of `dashboard.alerting.SinkType`: `name`
    (what `type = "..."` selects in a `[[sinks]]` table) and a factory taking the
    sink's config and returning an object whose `deliver(event)` sends one alert
    event and raises on failure (the event then stays in the outbox).
    """


@hookspec
def dashboard_exporters() -> list[Any]:
    """Export formats this plugin offers.

    Called once at start. Returns a list of `dashboard.exporting.Exporter`: a
    `format` name (`csv`, `xlsx`, ...), a file `extension`, and `write(view, path)`
    writing a `TableView` (title, columns, rows of typed cells) to `path`.
    """


@hookspec
def dashboard_alert_rules() -> list[Any]:
    """Alert rules this plugin adds to the built-in ones.

    Called once at start. Returns a list of `dashboard.core.alerts.Rule`: a
    `name` (the key under `[alerts.rules.<name>]` in the config), defaults, and
    `check(context)` returning the conditions that hold now. Pure: no I/O.
    """
