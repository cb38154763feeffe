"""Building blocks for contenders: run a timing child on a case and check what it saw."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from bench.harness import Case
from bench.proc import ChildFailed, ChildRun, python_module, run_child


def expect_rows(run: ChildRun, expected: int, what: str) -> None:
    """A reference that did not read every row measured something else: fail loudly."""
    if run.result.get("rows") != expected:
        raise ChildFailed(f"{what} read {run.result.get('rows')} rows, expected {expected}")


def read_file(case: Case, kind: str, file: str, encoding: str = "") -> ChildRun:
    """`bench.child_read` on one of the case's files (csv with `encoding`, or xlsx)."""
    args = [kind, str(case.files[file])] + ([encoding] if encoding else [])
    return run_child(python_module("bench.child_read", *args), case.timeout)


def tui_run(
    case: Case, factory: str, *, refresh: bool = True, options: dict[str, Any] | None = None
) -> dict[str, float]:
    """Time a Textual contender with `bench.child_tui` (definitions there).

    `factory` is `module:function` returning a `bench.tui.TuiTarget`. Returns `first_paint`
    (seconds from spawn), `peak_rss` (bytes, at first paint) and, with `refresh`, `refresh_ui`
    and `refresh_wall` (seconds) for the 1% refresh of `Case.refresh()`. `options` reach the
    factory as `TargetFiles.options` (prepared here, in the parent, so they are not timed).
    """
    spec: dict[str, Any] = {"data": {k: str(v) for k, v in case.files.items()}, "options": options or {}}
    if refresh:
        mutated, changes = case.refresh()
        spec.update(mutated_csv=str(mutated), changes=[asdict(c) for c in changes])
    spec_path = case.workdir / f"tui-spec-{factory.replace(':', '.')}.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    run = run_child(python_module("bench.child_tui", factory, str(spec_path)), case.timeout)
    figures = {"first_paint": run.since_spawn("t_paint"), "peak_rss": float(run.result["rss_paint"])}
    if refresh:
        figures["refresh_ui"] = float(run.result["refresh_ui"])
        figures["refresh_wall"] = float(run.result["refresh_wall"])
    return figures
