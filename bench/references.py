"""The references, measured in the same run on the same generated files as our figures.

Each runs in a fresh process (`bench.child_*`), so start-up is measured where it matters and no
run warms the next one's interpreter:

- **csv module** reading the UTF-8 and the GB18030 bulletin to a list of rows: the floor for a
  pure-Python loader. `*_read` is the reading alone (after imports); `*_wall` is from the spawn
  to the rows read (interpreter start-up included).
- **openpyxl** read-only, every row of the 码上通 `.xlsx`: the same floor for the spreadsheet.
- **VisiData** batch load of the same CSV (`vd -N -b -f csv`, see `bench.child_vd`), from the
  spawn to the sheet loaded, with every row counted.
- **VisiData's first screen** (`vd FILE` in a 160×45 tmux window, `bench.tmux`): from the launch
  to the first capture of the window showing the file's first row, as a user waits for it.
- **stock Textual `DataTable`** holding the same rows (`bench.stock_table`): first paint, peak RSS
  at first paint, and `update_cell` on 1% of the rows, UI thread and wall (definitions in
  `bench.child_tui`).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from bench import tmux
from bench.harness import Case, Contender, Figure, MeasureFn
from bench.measure import expect_rows, read_file, tui_run
from bench.proc import python_module, run_child

TMUX_PROBE_CHARS = 4  # of the first row's name: fits VisiData's default column width


def csv_module(file: str, encoding: str, prefix: str) -> MeasureFn:
    def measure(case: Case) -> Mapping[str, float]:
        run = read_file(case, "csv", file, encoding)
        expect_rows(run, case.n + 1, f"csv module ({encoding})")  # + the header
        r = run.result
        return {f"{prefix}_read": r["t_read"] - r["t_imported"], f"{prefix}_wall": run.since_spawn("t_read")}

    return measure


def openpyxl_read(case: Case) -> Mapping[str, float]:
    run = read_file(case, "xlsx", "xlsx")
    expect_rows(run, case.n + 2, "openpyxl")  # + the title row and the header
    r = run.result
    return {"xlsx_read": r["t_read"] - r["t_imported"], "xlsx_wall": run.since_spawn("t_read")}


def visidata_load(file: str, encoding: str, figure: str) -> MeasureFn:
    def measure(case: Case) -> Mapping[str, float]:
        argv = python_module("bench.child_vd", str(case.files[file]), encoding)
        # With a terminal on stdout, batch mode loads and exits; with a pipe it would also dump
        # the sheet to stdout.
        run = run_child(argv, case.timeout, tty_stdout=True)
        expect_rows(run, case.n, f"VisiData ({encoding})")
        return {figure: run.since_spawn("t_loaded")}

    return measure


def first_name(path: Path) -> str:
    """The name (项目名称, the third column) of a generated bulletin's first data row."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        next(rows)
        return next(rows)[2]


def visidata_screen(case: Case) -> Mapping[str, float]:
    path = case.files["csv_utf8"]
    probe = first_name(path)[:TMUX_PROBE_CHARS]
    argv = ["vd", "-N", "--motd-url", "", "-f", "csv", str(path)]
    return {"vd_first_screen": tmux.first_screen(argv, probe, case.timeout)}


def stock_datatable(case: Case) -> Mapping[str, float]:
    figures = tui_run(case, "bench.stock_table:make_target")
    return {f"datatable_{k}": v for k, v in figures.items()}


CONTENDERS: tuple[Contender, ...] = (
    Contender(
        "csv.utf8",
        "references",
        csv_module("csv_utf8", "utf-8", "csv_utf8"),
        (
            Figure("csv_utf8_read", "csv module: read UTF-8 CSV", "s"),
            Figure("csv_utf8_wall", "csv module: UTF-8 CSV, process start to rows", "s"),
        ),
    ),
    Contender(
        "csv.gb18030",
        "references",
        csv_module("csv_gb18030", "gb18030", "csv_gb18030"),
        (
            Figure("csv_gb18030_read", "csv module: read GB18030 CSV", "s"),
            Figure("csv_gb18030_wall", "csv module: GB18030 CSV, process start to rows", "s"),
        ),
    ),
    Contender(
        "openpyxl.xlsx",
        "references",
        openpyxl_read,
        (
            Figure("xlsx_read", "openpyxl read-only: read 码上通 xlsx", "s"),
            Figure("xlsx_wall", "openpyxl read-only: xlsx, process start to rows", "s"),
        ),
    ),
    Contender(
        "visidata.utf8",
        "references",
        visidata_load("csv_utf8", "utf-8", "vd_utf8_load"),
        (Figure("vd_utf8_load", "VisiData batch: load UTF-8 CSV (process start to loaded)", "s"),),
    ),
    Contender(
        "visidata.gb18030",
        "references",
        visidata_load("csv_gb18030", "gb18030", "vd_gb18030_load"),
        (Figure("vd_gb18030_load", "VisiData batch: load GB18030 CSV (process start to loaded)", "s"),),
    ),
    Contender(
        "visidata.tmux",
        "references",
        visidata_screen,
        (Figure("vd_first_screen", "VisiData: first screen in tmux (launch to rows on screen)", "s"),),
    ),
    Contender(
        "textual.datatable",
        "references",
        stock_datatable,
        (
            Figure("datatable_first_paint", "stock DataTable: first paint", "s"),
            Figure("datatable_peak_rss", "stock DataTable: peak RSS at first paint", "bytes"),
            Figure("datatable_refresh_ui", "stock DataTable: update_cell 1%, UI thread", "s"),
            Figure("datatable_refresh_wall", "stock DataTable: update_cell 1% + repaint", "s"),
        ),
    ),
)
