"""`python -m bench`: measure our figures and the references, print the table, write results.json.

python -m bench [--sizes 45,1000,10000,100000] [--runs 5] [--quick] [--only GROUPS]
                [--out bench/results.json] [--seed 0] [--timeout 300] [--list]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import ours, references
from bench.harness import Contender, check_declarations, run_all
from bench.report import (
    Results,
    evaluate_goals,
    git_revision,
    machine_info,
    now_iso,
    package_versions,
    print_goals,
    print_table,
    python_info,
    table_json,
    write_results,
)

DEFAULT_SIZES = "45,1000,10000,100000"
QUICK_SIZES = "1000"
DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help=f"item counts, comma-separated (default {DEFAULT_SIZES})")
    parser.add_argument("--runs", type=int, help="runs per figure, median kept (default 5)")
    parser.add_argument("--quick", action="store_true", help=f"CI smoke run: --sizes {QUICK_SIZES} --runs 1")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated groups or contenders: references, ours, csv, visidata, textual, "
        "ours.tui, ... (default: all)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results file")
    parser.add_argument("--seed", type=int, default=0, help="data generator seed (default 0)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per measurement (default 300)")
    parser.add_argument("--list", action="store_true", help="list contenders and figures, exit")
    args = parser.parse_args(argv)
    # --quick sets defaults; an explicit --sizes or --runs still wins.
    args.sizes = [int(s) for s in (args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)).split(",")]
    args.runs = args.runs or (1 if args.quick else 5)
    args.only = [t.strip() for t in args.only.split(",") if t.strip()]
    if args.runs < 1 or any(n < 1 for n in args.sizes):
        parser.error("--runs and --sizes must be positive")
    return args


def list_contenders(contenders: Sequence[Contender], console: Console) -> None:
    for c in contenders:
        console.print(f"[bold]{c.name}[/] ({c.group})")
        for f in c.figures:
            console.print(f"  {f.id:<24} {f.unit:<6} {f.label}")


def compile_sources() -> None:
    """Byte-compile our packages before any child starts, as `pip install` does for an
    installed package: with an editable install under PYTHONDONTWRITEBYTECODE (set on some
    machines), every child would otherwise compile them again at start-up (~50 ms), while
    Textual, VisiData and the csv module start from bytecode."""
    import compileall

    root = Path(__file__).resolve().parent.parent
    for package in ("dashboard", "plugins", "bench"):
        compileall.compile_dir(root / package, quiet=1)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Logs (CI) are wider than the 80 columns Rich assumes without a terminal.
    console = Console(width=None if sys.stdout.isatty() else 150)
    log = Console(stderr=True)
    contenders = (*references.CONTENDERS, *ours.CONTENDERS)
    check_declarations(contenders, ours.COMPARISONS, ours.GOALS)
    if args.list:
        list_contenders(contenders, console)
        return 0
    selected = [c for c in contenders if c.selected(args.only)]
    if not selected:
        names = ", ".join(c.name for c in contenders)
        log.print(f"--only {','.join(args.only)} matches nothing; contenders: {names}")
        return 2

    compile_sources()
    started, t0 = now_iso(), time.monotonic()
    document: dict[str, Any] = {
        "schema": 1,
        "started_at": started,
        "command": ["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)],
        "git": git_revision(),
        "settings": {
            "sizes": args.sizes,
            "runs": args.runs,
            "quick": args.quick,
            "only": args.only,
            "seed": args.seed,
            "timeout_s": args.timeout,
        },
        "machine": machine_info(),
        "python": python_info(),
        "packages": package_versions(),
    }
    outcomes, inputs = run_all(
        selected,
        args.sizes,
        runs=args.runs,
        seed=args.seed,
        timeout=args.timeout,
        quick=args.quick,
        progress=lambda line: log.print(line, highlight=False),
    )
    results = Results(outcomes)
    figures = {f.id: f for c in contenders for f in c.figures}
    goals = evaluate_goals(results, ours.GOALS, figures)
    print_table(results, ours.COMPARISONS, console)
    print_goals(goals, console)
    # Other work on the machine skews the figures: record how busy it was by the end too.
    document["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    document.update(
        duration_s=round(time.monotonic() - t0, 1),
        inputs={
            str(n): {kind: {"path": str(p), "bytes": p.stat().st_size} for kind, p in files.items()}
            for n, files in inputs.items()
        },
        figures=[o.as_json() for o in outcomes],
        table=table_json(results, ours.COMPARISONS),
        goals=goals,
    )
    write_results(args.out, document)
    log.print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
