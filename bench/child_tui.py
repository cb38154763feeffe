"""Child: time a Textual contender's first paint and 1% refresh, identically for every contender.

    python -m bench.child_tui MODULE:FACTORY SPEC.json

SPEC.json holds `data` (the generated files), `mutated_csv`, `changes` and `size`. The factory
(e.g. `bench.stock_table:make_target`) returns a `bench.tui.TuiTarget`.

Definitions, the same for every contender:

- **settled frame**: `await pilot.pause()` has returned: every widget of the screen has processed
  the messages pending when it was called, the process went idle (Textual's idle detection: a
  20 ms sleep during which the process used under 1 ms of CPU), and a compositor update of the
  screen was forced. So each figure includes about 20 ms of idle detection, equally for all.
- **first paint**: from the parent's spawn of this process to the start of the first frame
  after which the rendered screen (`App.export_screenshot`, as text) contains
  `first_paint_text()`. A frame is a call of `App._display`, which Textual makes for every
  compositor update it would write to a terminal (headless, it composes the frame and skips
  writing the escape codes); the screen is checked right after each frame until the text is
  there. Not a settled frame: Textual's idle detection waits up to a second while any thread of
  the process is busy, which would charge a contender for work it does after the rows are on
  screen. The screenshots taken to check are not counted: their time is subtracted.
- **refresh (UI thread)**: the time of `apply_refresh(changes)`, a synchronous call on the app's
  event loop, unless the target reports its own UI-thread time (returned by `apply_refresh`, or
  by an optional `refresh_ui_time()` once the refresh is done, for a target whose work lands on
  the UI thread after a worker has loaded the data).
- **refresh (wall)**: from that call to the first settled frame after which `refresh_done()`.
- **peak RSS**: `ru_maxrss` at first paint and after the refresh.
"""

from __future__ import annotations

import time

T_START = time.clock_gettime(time.CLOCK_MONOTONIC)  # before any other import

import asyncio  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench.childlib import clock, emit, peak_rss_bytes  # noqa: E402

SIZE = (120, 40)


async def settle(pilot: Any, done: Callable[[], bool]) -> tuple[float, int]:
    """Wait for settled frames until `done()`; return the clock at that frame and the frames seen.

    `done` is not part of the app's work: its time is subtracted from the reading returned.
    """
    from textual.pilot import WaitForScreenTimeout

    checking = 0.0
    frames = 0
    while True:
        try:
            await pilot.pause()
        except WaitForScreenTimeout:
            continue  # widgets still busy after Textual's 30 s: nothing painted yet, keep waiting
        reading = clock()
        frames += 1
        ok = done()
        if ok:
            return reading - checking, frames
        checking += clock() - reading


class FirstFrame:
    """When the first frame showing the probe text started (None until then), net of the
    time spent checking frames, and how many frames were composed up to it."""

    def __init__(self) -> None:
        self.at: float | None = None
        self.frames = 0
        self.checking = 0.0
        self.rss = 0  # peak RSS (bytes) when that frame was composed


def watch_frames(app: Any, probe: str) -> FirstFrame:
    """Wrap this app's `_display` (every composed frame passes through it) to find the
    first frame whose screen contains `probe`; unwrapped once found."""
    from bench.tui import screen_text

    seen = FirstFrame()
    original = app._display

    def display(screen: Any, renderable: Any) -> None:
        start = clock()
        original(screen, renderable)
        if renderable is None or seen.at is not None:
            return
        seen.frames += 1
        check = clock()
        rss = peak_rss_bytes()  # before the check: the screenshot's own memory is the harness's
        found = probe in screen_text(app)
        if found:
            seen.at = start - seen.checking
            seen.rss = rss
            app._display = original
        seen.checking += clock() - check

    app._display = display
    return seen


async def measure(factory_spec: str, spec: dict[str, Any]) -> dict[str, Any]:
    from bench.generate import Change
    from bench.tui import TargetFiles

    module, _, name = factory_spec.partition(":")
    factory = getattr(importlib.import_module(module), name)
    t_imported = clock()  # Textual and the contender's modules are imported
    files = TargetFiles(
        data={k: Path(v) for k, v in spec["data"].items()},
        mutated_csv=Path(spec["mutated_csv"]) if spec.get("mutated_csv") else None,
        options=spec.get("options", {}),
    )
    changes = [Change(**c) for c in spec.get("changes", [])]
    target = factory(files)
    t_target = clock()
    result: dict[str, Any] = {"t_start": T_START, "t_imported": t_imported, "t_target": t_target}
    app = target.app
    probe = target.first_paint_text()
    painted = watch_frames(app, probe)
    async with app.run_test(size=tuple(spec.get("size", SIZE))) as pilot:
        while painted.at is None:
            await asyncio.sleep(0.005)
        result.update(
            t_paint=painted.at,
            paint_frames=painted.frames,
            rss_paint=painted.rss,
            rss_checked=peak_rss_bytes(),
        )
        if changes:
            t_refresh = clock()
            ui_time = target.apply_refresh(changes)
            t_applied = clock()
            t_refreshed, frames = await settle(pilot, lambda: target.refresh_done(changes))
            late = getattr(target, "refresh_ui_time", None)
            if ui_time is None and callable(late):
                ui_time = late()
            result.update(
                refresh_ui=ui_time if ui_time is not None else t_applied - t_refresh,
                refresh_wall=t_refreshed - t_refresh,
                refresh_frames=frames,
            )
        result["rss_end"] = peak_rss_bytes()
    return result


def main(argv: list[str]) -> None:
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    emit(asyncio.run(measure(argv[0], spec)))
    sys.stdout.flush()
    sys.stderr.flush()
    # Tearing down 100,000 rows of widgets is not part of any figure: leave at once.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
