"""Our own contenders, the table rows that compare them, and the goals (issue 8).

Every figure is measured on the real app, on the same generated files as the references:

- **load + evaluate** (`bench.child_load`), per format: a fresh process builds the runtime from a
  config (not timed, like the csv module's import), then the clock runs around the source
  plugin's fetch (read, detect the encoding, parse, normalise), the runtime's merge and
  evaluation (statuses, worst-first order) and the alert rules;
- **`dashboard check`**: `python -m dashboard check --config <generated config>`, process start
  to exit, on a fresh store (the first run: every item's history and the alerts that fire are
  written), and again on the store it left (a cron job's steady state);
- **first paint, peak RSS, 1% refresh** (`bench.ours_tui` through `bench.measure.tui_run`): the
  app `dashboard.ui.app.make_app` builds, timed by `bench.child_tui` exactly like the stock
  DataTable;
- **interactions** (`bench.child_app keys`): sort, one filter keystroke, page down, open an item;
- **idle** (`bench.child_app idle`): CPU share over 60 s with every item shown and nothing
  changing (5 s in `--quick`, and the figure's window says so);
- **soak** (`bench.child_soak`): `Runtime.cycle()` 1,000 times (100 in `--quick`) with 1% of the
  rows changing each time, at 1,000 items: RSS and open fds after 10 cycles and at the end, and
  the store's size;
- **store**: recording a refresh where 1% of the items changed, through `dashboard.store.Store`
  as the runtime does it (the changed items' history rows, then the source's state and items).

Each measurement prepares its folder (config, a symbolic link to the bulletin as the CSV
source's file, a fresh store, a JSON Lines alert sink) in the parent, outside the timed child.
"""

from __future__ import annotations

import itertools
import json
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import tmux
from bench.childlib import swap_link
from bench.harness import Case, Comparison, Contender, Figure, Goal
from bench.measure import tui_run
from bench.proc import ChildFailed, python_module, run_child

S = "s"
AS_OF = "2024-09-30"  # the generated data is as of the end of September (序时进度 75%)
SOAK_SIZE = 1000
SOAK_CYCLES, SOAK_CYCLES_QUICK = 1000, 100
IDLE_SECONDS, IDLE_SECONDS_QUICK = 60.0, 5.0
PROBE_CHARS = 8  # of the first row's name: fits the name column at 120 columns

_serial = itertools.count(1)


@dataclass(frozen=True)
class Setup:
    """A folder prepared for one measurement of our app."""

    folder: Path
    config: Path
    link: Path  # the CSV source's path: a symbolic link to the generated bulletin
    store: Path


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string is JSON's string syntax


def make_setup(case: Case, kind: str, csv: Path | None = None, *, extra_sources: str = "") -> Setup:
    """A fresh folder: config (CSV source → link → `csv`), empty store, alert sink."""
    folder = case.workdir / f"{kind}-{next(_serial)}"
    folder.mkdir(parents=True)
    link = folder / "bulletin.csv"
    link.symlink_to(csv or case.files["csv_utf8"])
    store = folder / "store.sqlite3"
    config = folder / "dashboard.toml"
    config.write_text(
        f"""as_of = {_toml(AS_OF)}

[store]
path = {_toml(str(store))}

[export]
dir = {_toml(str(folder / "exports"))}

[[sources]]
name = "通报"
type = "csv"
path = {_toml(str(link))}
{extra_sources}
[[sinks]]
type = "jsonl"
path = {_toml(str(folder / "alerts.jsonl"))}
""",
        encoding="utf-8",
    )
    return Setup(folder, config, link, store)


def _run_runtime(config: Path) -> tuple[Any, list[Any]]:
    """Load and evaluate once in this process (the parent, untimed): (snapshot, merged items)."""
    from dashboard.config import load_config
    from dashboard.runtime import Runtime

    runtime = Runtime(load_config(config))
    try:
        for state in runtime.states.values():
            assert state.source is not None, state.error
            result = state.source.load()  # type: ignore[attr-defined]  # file sources: synchronous
            state.items, state.warnings, state.as_of, state.ok = (
                result.items,
                result.warnings,
                result.as_of,
                True,
            )
        return runtime.snapshot(), runtime.items()
    finally:
        runtime.close()


_probes: dict[Path, str] = {}


def first_row_probe(case: Case) -> str:
    """The start of the name of the item our default order shows first (computed untimed)."""
    path = case.files["csv_utf8"]
    if path not in _probes:
        setup = make_setup(case, "probe")
        snap, _items = _run_runtime(setup.config)
        _probes[path] = snap.evaluated[0].item.name[:PROBE_CHARS]
    return _probes[path]


def app_options(case: Case, kind: str) -> dict[str, Any]:
    setup = make_setup(case, kind)
    return {"config": str(setup.config), "link": str(setup.link), "probe": first_row_probe(case), "n": case.n}


# -- load + evaluate --------------------------------------------------------------------
LOAD_SOURCES = """
[[sources]]
name = "通报GB18030"
type = "csv"
path = {gb}

[[sources]]
name = "码上通"
type = "mashangtong"
path = {xlsx}
"""


def load_evaluate(case: Case) -> Mapping[str, float]:
    extra = LOAD_SOURCES.format(gb=_toml(str(case.files["csv_gb18030"])), xlsx=_toml(str(case.files["xlsx"])))
    setup = make_setup(case, "load", extra_sources=extra)
    figures: dict[str, float] = {}
    for figure, source in (
        ("load_csv_utf8", "通报"),
        ("load_csv_gb18030", "通报GB18030"),
        ("load_xlsx", "码上通"),
    ):
        run = run_child(python_module("bench.child_load", str(setup.config), source), case.timeout)
        if run.result["rows"] != case.n:
            raise ChildFailed(f"{source}: {run.result['rows']} items, expected {case.n}")
        figures[figure] = run.result["t_done"] - run.result["t_imported"]
    return figures


# -- dashboard check --------------------------------------------------------------------
def dashboard_check(case: Case) -> Mapping[str, float]:
    setup = make_setup(case, "check")
    argv = [sys.executable, "-m", "dashboard", "check", "--config", str(setup.config)]
    first = run_child(argv, case.timeout, expect_result=False)
    again = run_child(argv, case.timeout, expect_result=False)
    return {"check_wall": first.wall, "check_wall_again": again.wall}


# -- the TUI ------------------------------------------------------------------------------
def tui(case: Case) -> Mapping[str, float]:
    return tui_run(case, "bench.ours_tui:make_target", options=app_options(case, "tui"))


def warm_setup(case: Case, kind: str) -> dict[str, Any]:
    """`app_options` on a store a previous run wrote: `dashboard check` on the same config,
    untimed (the morning start: last night's store holds the last good data)."""
    options = app_options(case, kind)
    argv = [sys.executable, "-m", "dashboard", "check", "--config", options["config"]]
    run_child(argv, case.timeout, expect_result=False)
    return options


def tui_warm(case: Case) -> Mapping[str, float]:
    figures = tui_run(case, "bench.ours_tui:make_target", refresh=False, options=warm_setup(case, "warm"))
    return {"first_paint_warm": figures["first_paint"], "peak_rss_warm": figures["peak_rss"]}


def tmux_warm(case: Case) -> Mapping[str, float]:
    """The warm start as a user sees it: `dashboard` in a 160×45 tmux window (`bench.tmux`)."""
    options = warm_setup(case, "tmux")
    argv = [sys.executable, "-m", "dashboard", "--config", options["config"]]
    return {"tmux_first_screen_warm": tmux.first_screen(argv, options["probe"], case.timeout)}


def _app_child(case: Case, mode: str, *args: str) -> dict[str, Any]:
    options = app_options(case, mode)
    spec = {"data": {k: str(v) for k, v in case.files.items()}, "options": options}
    spec_path = Path(options["config"]).with_name("spec.json")
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return run_child(python_module("bench.child_app", mode, str(spec_path), *args), case.timeout).result


def keys(case: Case) -> Mapping[str, float]:
    r = _app_child(case, "keys")
    return {k: r[k] for k in ("sort", "filter_keystroke", "page_down", "open_item")}


def idle(case: Case) -> Mapping[str, float]:
    seconds = IDLE_SECONDS_QUICK if case.quick else IDLE_SECONDS
    r = _app_child(case, "idle", str(seconds))
    return {"idle_cpu": r["idle_cpu"], "idle_window": r["idle_seconds"], "idle_fds": r["idle_fds"]}


# -- soak ----------------------------------------------------------------------------------
def soak(case: Case) -> Mapping[str, float]:
    cycles = SOAK_CYCLES_QUICK if case.quick else SOAK_CYCLES
    refreshed, _changes = case.refresh()
    setup = make_setup(case, "soak")
    # Long: about 1,000 cycles of a full refresh; allowed more than one measurement's limit.
    run = run_child(
        python_module(
            "bench.child_soak",
            str(setup.config),
            str(setup.link),
            str(case.files["csv_utf8"]),
            str(refreshed),
            str(cycles),
        ),
        max(case.timeout, 1800.0),
    )
    r = run.result
    return {
        "rss_10": r["rss_10"],
        "rss_1000": r[f"rss_{cycles}"],
        "fds_10": r["fds_10"],
        "fds_1000": r[f"fds_{cycles}"],
        "store_size_1000": r["store_bytes"],
        "soak_cycles": cycles,
        "soak_cycle": r["cycle_median"],
    }


# -- the store ----------------------------------------------------------------------------
_store_inputs: dict[Path, tuple[Any, Any]] = {}


def _store_items(case: Case) -> tuple[Any, Any]:
    """(items of the bulletin, items of its 1% refresh), parsed once per size."""
    path = case.files["csv_utf8"]
    if path not in _store_inputs:
        _store_inputs.clear()  # one size at a time: 100,000 items are 100+ MB
        # In the merge's order, as the runtime records them (not the worst-first order).
        # Both through the same source (the refresh replaces its file), as in the app: the
        # items' origins (file:row) are then the same, and only the changed rows differ.
        setup = make_setup(case, "store-in")
        _snap, before = _run_runtime(setup.config)
        swap_link(setup.link, case.refresh()[0])
        _snap, after = _run_runtime(setup.config)
        _store_inputs[path] = (before, after)
    return _store_inputs[path]


def store_write(case: Case) -> Mapping[str, float]:
    from datetime import datetime, timedelta

    from bench.childlib import clock
    from dashboard.core.merge import carry_over
    from dashboard.store import Store, spec_key

    before, after = _store_items(case)
    after = carry_over(before, after)[0]  # as the runtime keeps unchanged items after a fetch
    folder = case.workdir / f"store-{next(_serial)}"
    folder.mkdir()
    store = Store(folder / "store.sqlite3")
    key = spec_key("csv", {"path": "bulletin.csv"})
    t0 = datetime(2024, 9, 30, 9, 0)

    def save(items: Any, at: datetime) -> int:
        # What the runtime writes after a good fetch that changed the items (Runtime._persist).
        rows = store.record_history(items, at)
        store.save_source(
            "通报", spec_key=key, ok=True, error="", last_attempt=at, last_success=at, items=items
        )
        return rows

    try:
        save(before, t0)  # the state before the refresh: every item recorded once
        t = clock()
        history_rows = store.record_history(after, t0 + timedelta(minutes=5))
        t_history = clock()
        store.save_source(
            "通报", spec_key=key, ok=True, error="", last_attempt=t0, last_success=t0, items=after
        )
        t_end = clock()
    finally:
        store.close()
    if history_rows != len(case.refresh()[1]):
        raise ChildFailed(f"store wrote {history_rows} history rows for {len(case.refresh()[1])} changes")
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "store_write": t_end - t,
        "store_history_write": t_history - t,
        "store_rows_written": history_rows,
    }


CONTENDERS: tuple[Contender, ...] = (
    Contender(
        "ours.load",
        "ours",
        load_evaluate,
        (
            Figure("load_csv_utf8", "ours: load + evaluate UTF-8 CSV", S),
            Figure("load_csv_gb18030", "ours: load + evaluate GB18030 CSV", S),
            Figure("load_xlsx", "ours: load + evaluate 码上通 xlsx", S),
        ),
    ),
    Contender(
        "ours.check",
        "ours",
        dashboard_check,
        (
            Figure("check_wall", "ours: `dashboard check` wall (fresh store)", S),
            Figure("check_wall_again", "ours: `dashboard check` wall, run again on its store", S),
        ),
    ),
    Contender(
        "ours.tui",
        "ours",
        tui,
        (
            Figure("first_paint", "ours: first paint", S),
            Figure("peak_rss", "ours: peak RSS at first paint", "bytes"),
            Figure("refresh_ui", "ours: 1% refresh, UI thread", S),
            Figure(
                "refresh_wall", "ours: 1% refresh, wall (file replaced → screen; 0.5 s debounce included)", S
            ),
        ),
    ),
    Contender(
        "ours.tui_warm",
        "ours",
        tui_warm,
        (
            Figure("first_paint_warm", "ours: first paint, warm store (written by a previous run)", S),
            Figure("peak_rss_warm", "ours: peak RSS at first paint, warm store", "bytes"),
        ),
    ),
    Contender(
        "ours.tmux",
        "ours",
        tmux_warm,
        (Figure("tmux_first_screen_warm", "ours: first screen in tmux, warm store (launch to rows)", S),),
    ),
    Contender(
        "ours.keys",
        "ours",
        keys,
        (
            Figure("sort", "ours: sort (key to settled frame)", S),
            Figure("filter_keystroke", "ours: filter, one keystroke", S),
            Figure("page_down", "ours: page down", S),
            Figure("open_item", "ours: open item (Enter)", S),
        ),
    ),
    Contender(
        "ours.idle",
        "ours",
        idle,
        (
            Figure("idle_cpu", "ours: idle CPU, share of one core", "%"),
            Figure("idle_window", "ours: idle window (60 s; 5 s in --quick)", S),
            Figure("idle_fds", "ours: open fds of the idle app", "count"),
        ),
        largest_only=True,
        runs=1,
    ),
    Contender(
        "ours.soak",
        "ours",
        soak,
        (
            Figure("rss_10", "ours: RSS after 10 refresh cycles", "bytes"),
            Figure("rss_1000", "ours: RSS after 1000 refresh cycles (100 in --quick)", "bytes"),
            Figure("fds_10", "ours: open fds after 10 refresh cycles", "count"),
            Figure("fds_1000", "ours: open fds after 1000 refresh cycles (100 in --quick)", "count"),
            Figure("store_size_1000", "ours: store size after the cycles", "bytes"),
            Figure("soak_cycles", "ours: refresh cycles run", "count"),
            Figure("soak_cycle", "ours: one refresh cycle (Runtime.cycle, median)", S),
        ),
        sizes=(SOAK_SIZE,),
        runs=1,
    ),
    Contender(
        "ours.store",
        "ours",
        store_write,
        (
            Figure("store_write", "ours: store write of a 1% refresh (history + source state)", S),
            Figure("store_history_write", "ours: store write of a 1% refresh, history rows only", S),
            Figure("store_rows_written", "ours: history rows written for a 1% refresh", "count"),
        ),
    ),
)

# One table row per comparison and size; reference figures not named here get rows of their own.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison("load+evaluate UTF-8 CSV vs csv module", "load_csv_utf8", "csv_utf8_read"),
    Comparison("load+evaluate GB18030 CSV vs csv module", "load_csv_gb18030", "csv_gb18030_read"),
    Comparison("load+evaluate xlsx vs openpyxl read-only", "load_xlsx", "xlsx_read"),
    Comparison("first paint vs VisiData batch load", "first_paint", "vd_utf8_load"),
    Comparison("first paint vs stock DataTable", "first_paint", "datatable_first_paint"),
    Comparison("first paint, warm store vs VisiData batch load", "first_paint_warm", "vd_utf8_load"),
    Comparison("first paint, warm store vs stock DataTable", "first_paint_warm", "datatable_first_paint"),
    Comparison(
        "first screen in tmux, warm store vs VisiData's first screen",
        "tmux_first_screen_warm",
        "vd_first_screen",
    ),
    Comparison("`dashboard check` vs VisiData batch load", "check_wall", "vd_utf8_load"),
    Comparison("`dashboard check`, warm store vs VisiData batch load", "check_wall_again", "vd_utf8_load"),
    Comparison("peak RSS at first paint vs stock DataTable", "peak_rss", "datatable_peak_rss"),
    Comparison("1% refresh, UI thread vs update_cell", "refresh_ui", "datatable_refresh_ui"),
    Comparison("1% refresh, wall vs update_cell + repaint", "refresh_wall", "datatable_refresh_wall"),
)

HUNDRED_K = 100_000

# The goals of issues 8 and 17, word for word in their targets (issue 17's table first).
GOALS: tuple[Goal, ...] = (
    Goal(
        "first paint at 100k, fresh store ≤ 0.5 × VisiData batch load",
        "first_paint",
        0.5,
        "vd_utf8_load",
        HUNDRED_K,
    ),
    Goal(
        "first paint at 100k ≤ 0.05 × stock DataTable",
        "first_paint",
        0.05,
        "datatable_first_paint",
        HUNDRED_K,
    ),
    Goal(
        "first screen at 100k, warm store (tmux) ≤ 0.5 × VisiData's first screen",
        "tmux_first_screen_warm",
        0.5,
        "vd_first_screen",
        HUNDRED_K,
    ),
    Goal("load + evaluate 100k CSV ≤ 2 × csv module read", "load_csv_utf8", 2.0, "csv_utf8_read", HUNDRED_K),
    Goal("peak RSS at 100k ≤ 0.6 × stock DataTable", "peak_rss", 0.6, "datatable_peak_rss", HUNDRED_K),
    Goal(
        "first paint at 45 items ≤ 1.1 × stock DataTable app", "first_paint", 1.1, "datatable_first_paint", 45
    ),
    Goal("`dashboard check` at 45 items ≤ 1.0 × VisiData batch load", "check_wall", 1.0, "vd_utf8_load", 45),
    Goal("`dashboard check` at 100k, fresh store ≤ 1.5 s", "check_wall", 1.5, size=HUNDRED_K),
    Goal("`dashboard check` at 100k, warm store ≤ 1 s", "check_wall_again", 1.0, size=HUNDRED_K),
    # Issue 8's, still kept.
    Goal("`dashboard check` at 45 items < 1 s wall", "check_wall", 1.0, size=45),
    Goal(
        "1% refresh at 100k ≤ 0.1 × stock DataTable update_cell (UI thread)",
        "refresh_ui",
        0.1,
        "datatable_refresh_ui",
        HUNDRED_K,
    ),
    Goal("1% refresh at 100k < 100 ms UI-thread time", "refresh_ui", 0.1, size=HUNDRED_K),
    Goal("sort at 100k < 100 ms", "sort", 0.1, size=HUNDRED_K),
    Goal("filter keystroke at 100k < 100 ms", "filter_keystroke", 0.1, size=HUNDRED_K),
    Goal("page down at 100k < 100 ms", "page_down", 0.1, size=HUNDRED_K),
    Goal("idle CPU < 1% of a core", "idle_cpu", 1.0),
    Goal("RSS after 1000 refresh cycles within 10% of after 10", "rss_1000", 1.1, "rss_10"),
    Goal("open fds after 1000 refresh cycles flat (≤ after 10)", "fds_1000", 1.0, "fds_10"),
)
