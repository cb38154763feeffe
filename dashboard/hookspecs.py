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
def dashboard_source_types() -> list[Any]:  # type: ignore[empty-body]
    """Source kinds this plugin offers.

    Called once at start. Returns a list of `dashboard.contracts.SourceType`; the
    `name` of each is what `type = "..."` selects in a `[[sources]]` table. The
    factory is called once per configured source (and again when the config is
    reloaded); the returned object's `async fetch()` is called on every refresh and
    returns a `FetchResult`. A `watch_paths()` method, if present, lists files whose
    change triggers a refresh. The runtime gives up on a fetch after the source's
    `timeout` (config key), or after the source object's own `fetch_timeout`
    attribute when it has one (a REST source sets it above its retries, so its own
    error naming the URL is what users see). Exceptions from `fetch` mark that
    source failed and keep its last good items; they never stop other sources.
    Each `fetch()` runs in its own thread with its own event loop (so a fetch that
    blocks is abandoned at its timeout, never freezing the app): do not keep
    loop-bound objects (an `httpx.AsyncClient`, an `asyncio.Lock`) across calls.
    While an abandoned fetch still runs, the source is not fetched again.
    """


@hookspec
def dashboard_sink_types() -> list[Any]:  # type: ignore[empty-body]
    """Alert sink kinds this plugin offers.

    Called once when the runtime starts. Returns a list of
    `dashboard.sinks.SinkType`: `name` (what `type = "..."` selects in a
    `[[sinks]]` table), `factory`, `description` and `options` (key → description).
    The factory receives a `dashboard.sinks.SinkSpec` (the table's keys other
    than name/type/enabled as `options`; `check_options`, `path`, `duration`,
    `env_name` help validate them, raising ConfigError) and returns an object whose
    `deliver(event: dashboard.core.alerts.AlertEvent) -> None` sends one event.
    `deliver` runs in a worker thread, one event at a time, oldest first; it raises
    `dashboard.sinks.DeliveryError` (with `permanent=True` for errors retrying
    will not fix) or any exception on failure: the event then stays in that sink's
    outbox in the store and is offered again, in order, on the next run. Delivery
    is at least once: a sink that must not duplicate skips `event.id`s it holds.
    An optional `deliver_batch(events)` (all or raise) takes a backlog at once.
    Secrets come from environment variables named by `*_env` options, read at
    delivery time (`dashboard.sinks.secret_from_env`), never from the config.
    """


@hookspec
def dashboard_exporters() -> list[Any]:  # type: ignore[empty-body]
    """Export formats this plugin offers.

    Called once at start (and when `dashboard export`, `dashboard report` or the
    `e` key looks the formats up). Returns a list of `dashboard.exporting.Exporter`:
    a `format` name (`csv`, `xlsx`, ... : what `--format` selects; the first plugin
    to offer a name keeps it), a file `extension`, a `description`, and
    `write(view, path)` writing one `dashboard.views.TableView` to `path`: a title,
    notes, columns (name, key, kind: text|int|number|percent|status|date), rows of
    typed cells (str, int, float, date, datetime or None; a percent is a fraction,
    0.32 for 32%) and an optional `Status` per row for colouring. Optionally
    `write_many(views, path)` writes several views into one file (a sheet or a
    section each); `dashboard report` needs it for the bulletin annexes.

    `path` is chosen by the caller (inside the export folder for the TUI) and its
    folder exists; the caller writes to a temporary name and renames, so `write`
    just writes. Raise on failure. Text cells are user data: a spreadsheet format
    must keep `=...` as text (`dashboard.exporting.neutralise` for CSV-like files).
    """


@hookspec
def dashboard_alert_rules() -> list[Any]:  # type: ignore[empty-body]
    """Alert rules this plugin adds to the built-in ones.

    Called once when the runtime starts. Returns a list of
    `dashboard.core.alerts.Rule`: `name` (the key under `[alerts.rules.<name>]`;
    a built-in name wins over a plugin's), `label` (Chinese), defaults for
    `severity` (info | warning | critical), `repeat` (a duration such as "1d", ""
    for never) and `enabled`, and `params` (key → default; the config must give
    the same type). `check(context: AlertContext, config: RuleConfig)` is called on
    every evaluation and returns the `Condition`s that hold now, each naming the
    rule, a subject (an item id) and a Chinese message with its figures. Pure: no
    I/O. A rule that raises is reported and its alerts are left as they were.
    """
