"""Child: read a file into a list of rows with the plainest tool (the floor for a pure-Python
loader).

    python -m bench.child_read csv FILE ENCODING
    python -m bench.child_read xlsx FILE

`csv`: the stdlib csv module over a text file in ENCODING. `xlsx`: openpyxl in read-only mode,
every row's values (what any .xlsx loader has to do at least). Emits the timestamps of start, of
imports done, of the rows read, and the row count (header and title rows included).
"""

from __future__ import annotations

import time

T_START = time.clock_gettime(time.CLOCK_MONOTONIC)  # before any other import

import sys  # noqa: E402
from typing import Any  # noqa: E402

from bench.childlib import clock, emit, peak_rss_bytes  # noqa: E402


def read_csv(path: str, encoding: str) -> list[list[str]]:
    import csv

    with open(path, encoding=encoding, newline="") as f:
        return list(csv.reader(f))


def read_xlsx(path: str) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        return list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()


def main(argv: list[str]) -> None:
    kind, path = argv[0], argv[1]
    if kind == "csv":
        import csv  # noqa: F401  (imported before the clock starts: only the reading is timed)

        t_imported = clock()
        rows: list[Any] = read_csv(path, argv[2])
    else:
        import openpyxl  # noqa: F401

        t_imported = clock()
        rows = read_xlsx(path)
    t_read = clock()
    emit(
        {
            "t_start": T_START,
            "t_imported": t_imported,
            "t_read": t_read,
            "rows": len(rows),
            "peak_rss": peak_rss_bytes(),
        }
    )


if __name__ == "__main__":
    main(sys.argv[1:])
