"""What a benchmark run reports: the printed table, the goals, and bench/results.json."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.harness import Comparison, Figure, Goal, Outcome
from bench.proc import REPO_ROOT

PACKAGES = ("textual", "rich", "httpx", "openpyxl", "visidata", "psutil", "zhuanban-dashboard")


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_bytes": _memory_bytes(),
        # A busy machine skews every figure: record how busy it was when the run started.
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    return info


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        return None


def python_info() -> dict[str, Any]:
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.0f} µs"
        return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "bytes":
        return f"{value / 2**20:.1f} MiB"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:.0f}"


def _cell(outcome: Outcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    data = outcome.as_json()
    del data["values"], data["group"], data["contender"], data["label"]
    return data


def _text(outcome: Outcome | None) -> str:
    if outcome is None:
        return "—"
    if outcome.status != "ok":
        return outcome.status
    unit = outcome.figure.unit
    text = format_value(outcome.median, unit)
    if len(outcome.values) > 1:
        low, high = min(outcome.values), max(outcome.values)
        text += f" [{format_value(low, unit)}–{format_value(high, unit)}]"
    return text


def _ratio(ours: Outcome | None, reference: Outcome | None) -> float | None:
    if ours is None or reference is None:
        return None
    a, b = ours.median, reference.median
    return a / b if a is not None and b else None


class Results:
    """The outcomes of a run, looked up by figure and size."""

    def __init__(self, outcomes: Sequence[Outcome]) -> None:
        self.outcomes = list(outcomes)
        self._by_key = {(o.figure.id, o.size): o for o in outcomes}
        self.sizes = sorted({o.size for o in outcomes})

    def get(self, figure: str | None, size: int) -> Outcome | None:
        return None if figure is None else self._by_key.get((figure, size))

    def largest_size(self, figure: str) -> int | None:
        sizes = [o.size for o in self.outcomes if o.figure.id == figure]
        return max(sizes) if sizes else None

    def rows(
        self, comparisons: Sequence[Comparison]
    ) -> list[tuple[str, int, Outcome | None, Outcome | None]]:
        """(label, size, ours, reference) for every comparison, then every figure left over."""
        rows = []
        covered = {x for c in comparisons for x in (c.ours, c.reference) if x}
        for comparison in comparisons:
            for n in self.sizes:
                ours, ref = self.get(comparison.ours, n), self.get(comparison.reference, n)
                if ours is not None or ref is not None:
                    rows.append((comparison.label, n, ours, ref))
        # Figures no comparison names: grouped by figure (in declaration order), then by size.
        leftovers = [o for o in self.outcomes if o.figure.id not in covered]
        order = {f: i for i, f in enumerate(dict.fromkeys(o.figure.id for o in leftovers))}
        for outcome in sorted(leftovers, key=lambda o: (order[o.figure.id], o.size)):
            ref_side = outcome.contender.group == "references"
            ours, ref = (None, outcome) if ref_side else (outcome, None)
            rows.append((outcome.figure.label, outcome.size, ours, ref))
        return rows


def table_json(results: Results, comparisons: Sequence[Comparison]) -> list[dict[str, Any]]:
    return [
        {
            "label": label,
            "size": n,
            "ours": _cell(ours),
            "reference": _cell(ref),
            "ratio": _ratio(ours, ref),
        }
        for label, n, ours, ref in results.rows(comparisons)
    ]


def print_table(results: Results, comparisons: Sequence[Comparison], console: Console) -> None:
    table = Table(title="专班看板 benchmark: median [min–max]", title_justify="left")
    for name, justify in (("figure", "left"), ("n", "right"), ("ours", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("reference", justify="right")
    table.add_column("ratio", justify="right")
    for label, n, ours, ref in results.rows(comparisons):
        ratio = _ratio(ours, ref)
        table.add_row(label, f"{n:,}", _text(ours), _text(ref), "—" if ratio is None else f"{ratio:.2f}×")
    console.print(table)
    problems = [o for o in results.outcomes if o.status in ("timeout", "error") and o.error]
    seen = set()
    for o in problems:
        key = (o.contender.name, o.size)
        if key not in seen:
            seen.add(key)
            console.print(f"[bold]{o.status}[/]: {o.contender.name} at n={o.size:,}: {o.error}")


def evaluate_goals(
    results: Results, goals: Sequence[Goal], figures: dict[str, Figure]
) -> list[dict[str, Any]]:
    """One object per goal: its value, the reference, the ratio, the target and whether it is met."""
    evaluated = []
    for goal in goals:
        size = goal.size or results.largest_size(goal.ours)
        ours = results.get(goal.ours, size) if size else None
        ref = results.get(goal.reference, size) if size else None
        value = ours.median if ours else None
        reference = ref.median if ref else None
        ratio = _ratio(ours, ref)
        measured = ratio if goal.reference else value
        evaluated.append(
            {
                "name": goal.name,
                "value": value,
                "reference": reference,
                "ratio": ratio,
                "target": goal.target,
                "met": None if measured is None else measured <= goal.target,
                "target_kind": "ratio" if goal.reference else "value",
                "figure": goal.ours,
                "reference_figure": goal.reference,
                "unit": figures[goal.ours].unit,
                "size": size,
                "status": ours.status if ours else "not measured",
            }
        )
    return evaluated


def print_goals(goals: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="goals", title_justify="left")
    for name in ("goal", "n", "value", "target", "met"):
        table.add_column(name)
    for g in goals:
        if g["target_kind"] == "ratio":
            value = "—" if g["ratio"] is None else f"{g['ratio']:.2f}×"
            target = f"≤ {g['target']:g}×"
        else:
            value = format_value(g["value"], g["unit"])
            target = "≤ " + format_value(g["target"], g["unit"])
        met = {True: "yes", False: "NO", None: g["status"]}[g["met"]]
        size = "—" if g["size"] is None else f"{g['size']:,}"
        table.add_row(g["name"], size, value, target, met)
    console.print(table)


def write_results(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
