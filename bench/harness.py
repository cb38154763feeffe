"""The benchmark's vocabulary and its run loop.

A **contender** is a named function measuring one run at one size: it receives a `Case` (the
generated files of that size, a scratch folder, the time limit) and returns a mapping of figure
id → value. It raises `NotImplementedError` when it cannot be measured yet (reported as "n/a"),
`MeasurementTimeout` when it ran out of time. Each figure is declared with its unit. The harness
repeats each contender `runs` times per size and keeps the median, min and max of every figure.

A **comparison** is one row of the printed table: one of our figures beside a reference figure.
A **goal** is a comparison (or one of our figures alone) with a target: a ratio not to exceed, or
a value not to exceed.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.generate import Change, changes, generate, mutate
from bench.proc import ChildFailed, MeasurementTimeout

REFRESH_FRACTION = 0.01


@dataclass(frozen=True)
class Figure:
    id: str  # unique across contenders: what comparisons, goals and results.json refer to
    label: str
    unit: str  # "s", "bytes", "%" or "count"


@dataclass
class Case:
    """One size's inputs, the same for every contender."""

    n: int
    seed: int
    files: dict[str, Path]  # bench.generate.FILES keys
    workdir: Path  # scratch space, removed after the size is done
    timeout: float  # seconds allowed for one measurement
    quick: bool = False  # `--quick`: long measurements (idle, soak) are shortened, and say so
    _refresh: tuple[Path, list[Change]] | None = field(default=None, repr=False)

    def refresh(self) -> tuple[Path, list[Change]]:
        """A copy of the UTF-8 bulletin with 1% of the ratios changed, and those changes.

        Made once per size, so every contender and every run refreshes the same rows.
        """
        if self._refresh is None:
            path = self.workdir / "bulletin-utf8-refreshed.csv"
            shutil.copyfile(self.files["csv_utf8"], path)
            ids = mutate(path, REFRESH_FRACTION, seed=self.seed + 1)
            self._refresh = (path, changes(path, ids))
        return self._refresh


MeasureFn = Callable[[Case], Mapping[str, float]]


@dataclass(frozen=True)
class Contender:
    name: str  # e.g. "csv.utf8"; `--only` matches it, its prefix before a dot, or its group
    group: str  # "references" or "ours"
    measure: MeasureFn
    figures: tuple[Figure, ...]
    sizes: tuple[int, ...] | None = None  # only at these sizes (None: every size asked for)
    largest_only: bool = False  # only at the largest size asked for (long measurements)
    quick: bool = True  # False: skipped by --quick (e.g. a 60 s idle measurement)
    runs: int | None = None  # fixed number of runs, whatever --runs says

    def selected(self, tokens: Sequence[str]) -> bool:
        return not tokens or any(
            t in (self.group, self.name) or self.name.startswith(t + ".") for t in tokens
        )


@dataclass(frozen=True)
class Comparison:
    label: str
    ours: str | None  # figure id
    reference: str | None  # figure id


@dataclass(frozen=True)
class Goal:
    name: str
    ours: str  # figure id
    target: float  # the ratio to the reference not to exceed, or the value if no reference
    reference: str | None = None
    size: int | None = None  # None: the largest size measured


@dataclass
class Outcome:
    """All runs of one contender's figure at one size."""

    figure: Figure
    contender: Contender
    size: int
    status: str = "ok"  # ok | n/a | timeout | error | skipped
    values: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.status == "ok" and self.values else None

    def as_json(self) -> dict[str, Any]:
        ok = self.status == "ok" and self.values
        return {
            "figure": self.figure.id,
            "label": self.figure.label,
            "unit": self.figure.unit,
            "contender": self.contender.name,
            "group": self.contender.group,
            "size": self.size,
            "status": self.status,
            "runs": len(self.values),
            "median": self.median,
            "min": min(self.values) if ok else None,
            "max": max(self.values) if ok else None,
            "values": self.values,
            "error": self.error or None,
        }


Progress = Callable[[str], None]


def run_contender(contender: Contender, case: Case, runs: int, progress: Progress) -> list[Outcome]:
    """Measure `contender` `runs` times on `case`; a failure ends its runs at this size."""
    outcomes = [Outcome(f, contender, case.n) for f in contender.figures]
    runs = contender.runs or runs
    for run in range(runs):
        try:
            values = contender.measure(case)
        except NotImplementedError as e:
            return _fail(outcomes, "n/a", str(e) or "not implemented yet")
        except MeasurementTimeout as e:
            return _fail(outcomes, "timeout", str(e))
        except ChildFailed as e:
            return _fail(outcomes, "error", str(e))
        except Exception as e:  # a broken contender is reported; it must not cost the others
            return _fail(outcomes, "error", f"{type(e).__name__}: {e}")
        missing = [o.figure.id for o in outcomes if o.figure.id not in values]
        if missing:
            return _fail(outcomes, "error", f"returned no value for {', '.join(missing)}")
        for outcome in outcomes:
            outcome.values.append(float(values[outcome.figure.id]))
        progress(f"  {contender.name} n={case.n} run {run + 1}/{runs}")
    return outcomes


def _fail(outcomes: list[Outcome], status: str, error: str) -> list[Outcome]:
    for outcome in outcomes:
        outcome.status, outcome.error = status, error
    return outcomes


def run_all(
    contenders: Sequence[Contender],
    sizes: Iterable[int],
    *,
    runs: int,
    seed: int,
    timeout: float,
    quick: bool,
    progress: Progress,
) -> tuple[list[Outcome], dict[int, dict[str, Path]]]:
    """Every contender at every size it applies to (smallest first); returns outcomes and inputs.

    A contender that timed out is not tried at the larger sizes (recorded as timeouts), and one that
    is not implemented is tried once only.
    """
    outcomes: list[Outcome] = []
    inputs: dict[int, dict[str, Path]] = {}
    given_up: dict[str, tuple[str, str]] = {}  # contender name → (status, note) that ends it
    for contender in contenders:
        if quick and not contender.quick:
            given_up[contender.name] = ("skipped", "not measured in quick mode")
    ordered = sorted(set(sizes))
    for n in ordered:
        progress(f"n={n}: generating (cached under bench/.data)")
        files = generate(n, seed)
        inputs[n] = files
        with tempfile.TemporaryDirectory(prefix=f"bench-n{n}-") as tmp:
            case = Case(n=n, seed=seed, files=files, workdir=Path(tmp), timeout=timeout, quick=quick)
            for contender in contenders:
                if (contender.sizes is not None and n not in contender.sizes) or (
                    contender.largest_only and n != ordered[-1]
                ):
                    continue
                if contender.name in given_up:
                    status, note = given_up[contender.name]
                    outcomes += _fail([Outcome(f, contender, n) for f in contender.figures], status, note)
                    continue
                result = run_contender(contender, case, runs, progress)
                outcomes += result
                status = result[0].status if result else "ok"
                if status == "timeout":
                    given_up[contender.name] = (status, "timed out at a smaller size")
                elif status == "n/a":
                    given_up[contender.name] = (status, result[0].error)
    return outcomes, inputs


def check_declarations(
    contenders: Sequence[Contender], comparisons: Sequence[Comparison], goals: Sequence[Goal]
) -> None:
    """Fail early on a figure id that no contender declares (a typo would print as n/a forever)."""
    declared = [f.id for c in contenders for f in c.figures]
    duplicates = {f for f in declared if declared.count(f) > 1}
    if duplicates:
        raise ValueError(f"figure ids declared twice: {sorted(duplicates)}")
    used = [x for c in comparisons for x in (c.ours, c.reference)]
    used += [x for g in goals for x in (g.ours, g.reference)]
    unknown = {x for x in used if x is not None and x not in declared}
    if unknown:
        raise ValueError(f"comparisons or goals name undeclared figures: {sorted(unknown)}")
