"""Child: the TUI itself refreshed many times, headless; RSS, fds, threads and store size as it goes.

    python -m bench.child_tui_soak CONFIG.toml LINK ORIGINAL REFRESHED CYCLES [--trace]

The real app (`dashboard.ui.app.make_app`) runs under Textual's pilot on the overview (every
item in the table), on the terminal of stdout (bench.soak gives it a 120×40 pseudo-terminal),
headless when stdout is not a terminal. Before each cycle the CSV source's symbolic link LINK is
pointed alternately at ORIGINAL and REFRESHED (1% of the ratios changed); then the app's own
refresh (`r`, `action_reload`) runs, and the cycle ends when every worker it started (the
refresh, the render, the alert rules) has finished and the screen has repainted. So a cycle is
what the office PC does on its timer: fetch, merge, evaluate, store, alerts (fired ones are
toasts), redraw. The file watcher and the source's own timer run as in the app.

What is reported: see `bench.child_soak.Sampler`. `--trace` also compares tracemalloc snapshots
and object counts by type between the middle and the end (slower; to find what grows, not for
the figures).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from bench.child_soak import Sampler, store_bytes
from bench.childlib import clock, emit, swap_link

REPAINT = 0.05  # a few of the screen's 60 frames a second: what changed is painted


def type_counts() -> Counter[str]:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


async def soak(
    config_path: str, link: Path, files: tuple[Path, Path], cycles: int, trace: bool = False
) -> dict[str, Any]:
    from dashboard.config import load_config
    from dashboard.ui.app import make_app

    config = load_config(config_path)
    assert config.store_path is not None
    app = make_app(config)
    sampler = Sampler(cycles)
    result: dict[str, Any] = {"mode": "tui", "terminal": sys.stdout.isatty()}
    times: list[float] = []
    middle = cycles // 2
    before: tuple[tracemalloc.Snapshot, Counter[str]] | None = None
    if trace:
        tracemalloc.start(4)
    # A terminal when there is one (bench.soak gives the child a pseudo-terminal): headless,
    # Textual neither renders the screen to the terminal nor shows toasts, and the leak of
    # issue 12 (a toast per alert) was on that path. Notifications on, as in the app.
    headless = not sys.stdout.isatty()
    async with app.run_test(headless=headless, size=(120, 40), notifications=True):
        await app.workers.wait_for_complete()
        await asyncio.sleep(REPAINT)
        for i in range(1, cycles + 1):
            swap_link(link, files[i % 2])
            t = clock()
            await app.reload().wait()
            await app.workers.wait_for_complete()
            await asyncio.sleep(REPAINT)  # not pilot.pause(): on a terminal it waits 1 s
            times.append(clock() - t)
            if i == 1:
                snap = app.snapshot
                assert snap is not None
                result["items"] = len(snap.evaluated)
                bad = [s.error for s in snap.sources if not s.ok]
                if bad:
                    raise RuntimeError(f"a source failed: {bad}")
            sampler.after(i)
            if trace and i == middle:
                gc.collect()
                before = tracemalloc.take_snapshot(), type_counts()
        result["workers_end"] = len(app.workers)
        if before is not None:
            gc.collect()
            stats = tracemalloc.take_snapshot().compare_to(before[0], "traceback")
            result["trace_top"] = ["\n".join([str(s), *s.traceback.format()[-8:]]) for s in stats[:15]]
            result["types_grown"] = (type_counts() - before[1]).most_common(25)
    times.sort()
    result["cycle_median"] = times[len(times) // 2]
    result["store_bytes"] = store_bytes(config.store_path)
    return {**result, **sampler.summary()}


def main(argv: list[str]) -> None:
    trace = "--trace" in argv
    config, link, original, refreshed, cycles = (a for a in argv if a != "--trace")
    emit(asyncio.run(soak(config, Path(link), (Path(original), Path(refreshed)), int(cycles), trace)))


if __name__ == "__main__":
    main(sys.argv[1:])
