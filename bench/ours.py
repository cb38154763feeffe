"""Our own contenders, the table rows that compare them, and the goals.

TODO(bench): every contender below is a placeholder that raises NotImplementedError (reported as
"n/a") until the app's API is wired in. The figures the performance issue asks for:

- load + evaluate, per format (UTF-8 CSV, GB18030 CSV, 码上通 xlsx), in a fresh process, timed in
  process around the load-and-evaluate call, like the csv module's `*_read` reference;
- first paint of the overview with the item table (`bench.measure.tui_run` with a factory
  returning a `bench.tui.TuiTarget`, so the definition is the stock DataTable's);
- `dashboard check` wall time (process start to exit, against VisiData's batch load);
- 1% refresh: UI-thread time and wall time (same child as first paint);
- at 100k items: sort, one filter keystroke, page down, open an item (Enter to detail);
- idle CPU over 60 s with the app showing 100k items (percent of one core);
- RSS and open file descriptors after 10 and after 1000 refresh cycles;
- peak RSS at 100k (the `peak_rss` figure of first paint, read at 100,000);
- store: time to write one 1% refresh, and the store's size after 1000 cycles.

How to declare a contender: a function `measure(case: Case) -> Mapping[str, float]` that measures
ONE run at `case.n` items (the harness repeats it and takes median/min/max) and returns a value
for each figure id it declares, in the declared unit ("s", "bytes", "%", "count"). The inputs are
`case.files` (`csv_utf8`, `csv_gb18030`, `xlsx`, see `bench.generate`), `case.refresh()` (a
refreshed copy of the bulletin and its changes), `case.workdir` (scratch) and `case.timeout`
(pass it to `bench.proc.run_child`). Raise NotImplementedError for "n/a". Then add a
`Contender(name, "ours", measure, (Figure(id, label, unit), ...))` to CONTENDERS, and rows to
COMPARISONS and GOALS if it is compared or has a target.

TODO(lead): the goal targets below are placeholders to be replaced by the issue's numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

from bench.harness import Case, Comparison, Contender, Figure, Goal, MeasureFn

S = "s"


def todo(what: str) -> MeasureFn:
    """A placeholder contender: reported as n/a, with `what` it will measure."""

    def measure(case: Case) -> Mapping[str, float]:
        raise NotImplementedError(f"TODO: {what}")

    return measure


CONTENDERS: tuple[Contender, ...] = (
    Contender(
        "ours.load",
        "ours",
        todo("load + evaluate each format in a fresh process"),
        (
            Figure("load_csv_utf8", "ours: load + evaluate UTF-8 CSV", S),
            Figure("load_csv_gb18030", "ours: load + evaluate GB18030 CSV", S),
            Figure("load_xlsx", "ours: load + evaluate 码上通 xlsx", S),
        ),
    ),
    Contender(
        "ours.check",
        "ours",
        todo("`dashboard check` wall time, process start to exit"),
        (Figure("check_wall", "ours: `dashboard check` wall", S),),
    ),
    Contender(
        "ours.tui",
        "ours",
        todo("bench.measure.tui_run(case, 'MODULE:make_target') on the overview screen"),
        (
            Figure("first_paint", "ours: first paint", S),
            Figure("peak_rss", "ours: peak RSS at first paint", "bytes"),
            Figure("refresh_ui", "ours: 1% refresh, UI thread", S),
            Figure("refresh_wall", "ours: 1% refresh, wall", S),
        ),
    ),
    Contender(
        "ours.keys",
        "ours",
        todo("sort, one filter keystroke, page down and open item, each to a settled frame"),
        (
            Figure("sort", "ours: sort", S),
            Figure("filter_keystroke", "ours: filter, one keystroke", S),
            Figure("page_down", "ours: page down", S),
            Figure("open_item", "ours: open item (Enter)", S),
        ),
    ),
    Contender(
        "ours.idle",
        "ours",
        todo("CPU used over 60 s of idle with the items shown"),
        (Figure("idle_cpu", "ours: idle CPU over 60 s", "%"),),
        largest_only=True,
        quick=False,
        runs=1,
    ),
    Contender(
        "ours.soak",
        "ours",
        todo("RSS and open fds after 10 and 1000 refresh cycles; store size after 1000"),
        (
            Figure("rss_10", "ours: RSS after 10 refresh cycles", "bytes"),
            Figure("rss_1000", "ours: RSS after 1000 refresh cycles", "bytes"),
            Figure("fds_10", "ours: open fds after 10 refresh cycles", "count"),
            Figure("fds_1000", "ours: open fds after 1000 refresh cycles", "count"),
            Figure("store_size_1000", "ours: store size after 1000 cycles", "bytes"),
        ),
        largest_only=True,
        quick=False,
        runs=1,
    ),
    Contender(
        "ours.store",
        "ours",
        todo("time to record one 1% refresh in the store"),
        (Figure("store_write", "ours: store write of a 1% refresh", S),),
    ),
)

# One table row per comparison and size; reference figures not named here get rows of their own.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison("load+evaluate UTF-8 CSV vs csv module", "load_csv_utf8", "csv_utf8_read"),
    Comparison("load+evaluate GB18030 CSV vs csv module", "load_csv_gb18030", "csv_gb18030_read"),
    Comparison("load+evaluate xlsx vs openpyxl read-only", "load_xlsx", "xlsx_read"),
    Comparison("`dashboard check` vs VisiData batch load", "check_wall", "vd_utf8_load"),
    Comparison("first paint vs stock DataTable", "first_paint", "datatable_first_paint"),
    Comparison("peak RSS at first paint vs stock DataTable", "peak_rss", "datatable_peak_rss"),
    Comparison("1% refresh, UI thread vs update_cell", "refresh_ui", "datatable_refresh_ui"),
    Comparison("1% refresh, wall vs update_cell + repaint", "refresh_wall", "datatable_refresh_wall"),
)

HUNDRED_K = 100_000

# TODO(lead): placeholder targets; copy the numbers here.
GOALS: tuple[Goal, ...] = (
    Goal("load+evaluate UTF-8 CSV ≤ 3× csv module", "load_csv_utf8", 3.0, "csv_utf8_read", HUNDRED_K),
    Goal(
        "load+evaluate GB18030 CSV ≤ 3× csv module",
        "load_csv_gb18030",
        3.0,
        "csv_gb18030_read",
        HUNDRED_K,
    ),
    Goal("load+evaluate xlsx ≤ 1.5× openpyxl", "load_xlsx", 1.5, "xlsx_read", HUNDRED_K),
    Goal("`dashboard check` ≤ 2× VisiData load", "check_wall", 2.0, "vd_utf8_load", HUNDRED_K),
    Goal("first paint ≤ 0.2× stock DataTable", "first_paint", 0.2, "datatable_first_paint", HUNDRED_K),
    Goal("first paint at 100k ≤ 1 s", "first_paint", 1.0, size=HUNDRED_K),
    Goal("peak RSS ≤ stock DataTable", "peak_rss", 1.0, "datatable_peak_rss", HUNDRED_K),
    Goal("1% refresh, UI thread ≤ 50 ms", "refresh_ui", 0.05, size=HUNDRED_K),
    Goal("1% refresh, wall ≤ 1 s", "refresh_wall", 1.0, size=HUNDRED_K),
    Goal("sort at 100k ≤ 200 ms", "sort", 0.2, size=HUNDRED_K),
    Goal("filter keystroke at 100k ≤ 100 ms", "filter_keystroke", 0.1, size=HUNDRED_K),
    Goal("page down at 100k ≤ 50 ms", "page_down", 0.05, size=HUNDRED_K),
    Goal("open item at 100k ≤ 100 ms", "open_item", 0.1, size=HUNDRED_K),
    Goal("idle CPU ≤ 1%", "idle_cpu", 1.0),
    Goal("RSS after 1000 cycles ≤ 1.1× after 10", "rss_1000", 1.1, "rss_10"),
    Goal("open fds after 1000 cycles ≤ after 10", "fds_1000", 1.0, "fds_10"),
    Goal("store write of a 1% refresh ≤ 50 ms", "store_write", 0.05, size=HUNDRED_K),
    Goal("store size after 1000 cycles ≤ 100 MiB", "store_size_1000", 100 * 2**20),
)
