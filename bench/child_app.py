"""Child: our app, headless, with every item loaded: interactions, or idle CPU.

    python -m bench.child_app keys SPEC.json
    python -m bench.child_app idle SPEC.json SECONDS

SPEC.json is the spec `bench.measure.tui_run` writes (`options`: `config`, `probe`, `link`, see
`bench.ours_tui`). The app is built by `bench.ours_tui.make_target` (so by `make_app`) and run
with `App.run_test` at 120×40, like `bench.child_tui`; it is first given time to load every item
and settle (not timed).

**keys**: each interaction is timed from posting the key event to the app (what the terminal
driver does on a key press) to the first settled frame (`bench.child_tui.settle`: the app has
processed its messages, went idle — Textual's 20 ms idle detection, included in every figure —
and the screen was updated) after which the app's state shows the interaction's effect:

- `sort`: `s` on the item table, the first sort by a column (its keys computed, rows reordered);
- `filter_keystroke`: with the filter box open (`/`, not timed: the search text is prepared
  then), one keystroke `局` (it matches every 局's items, so the view changes a lot);
- `page_down`: `pagedown` on the table (after the filter is cleared with `Esc`);
- `open_item`: `enter` on the table's cursor row, to the item's detail screen.

**idle**: the process's CPU time (every thread) over SECONDS of wall time with nothing changing,
as a percentage of one core, plus RSS and open file descriptors at the end.
"""

from __future__ import annotations

import time

T_START = time.clock_gettime(time.CLOCK_MONOTONIC)  # before any other import

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench.child_tui import SIZE, settle  # noqa: E402
from bench.childlib import clock, emit, peak_rss_bytes  # noqa: E402


async def interact(pilot: Any, key: str, done: Callable[[], bool]) -> float:
    """Seconds from posting `key` to the first settled frame after which `done()`."""
    from textual import events

    t0 = clock()
    pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))
    t_done, _frames = await settle(pilot, done)
    return t_done - t0


async def quiet(pilot: Any, frames: int = 3) -> None:
    for _ in range(frames):
        await pilot.pause()


async def run(mode: str, spec: dict[str, Any], seconds: float) -> dict[str, Any]:
    from bench.ours_tui import OurTarget
    from bench.tui import TargetFiles, screen_text
    from dashboard.ui.screens.detail import ItemDetailScreen

    files = TargetFiles(
        data={k: Path(v) for k, v in spec["data"].items()}, mutated_csv=None, options=spec["options"]
    )
    target = OurTarget(files)
    app = target.app
    n = int(spec["options"]["n"])
    result: dict[str, Any] = {"t_start": T_START}
    async with app.run_test(size=SIZE) as pilot:
        probe = target.first_paint_text()
        await settle(pilot, lambda: probe in screen_text(app))
        await settle(pilot, lambda: len(target.table_rows()) == n)
        # Start-up is over when the first refresh's background work is: the store
        # write, the alert rules, the tables' presorts (workers) have finished.
        await app.runtime.flush()
        for _ in range(3):  # a redraw after the alerts fired starts the presort anew
            await app.workers.wait_for_complete()
            await quiet(pilot)
        table: Any = app.screen.query_one("#items")
        if mode == "keys":
            table.focus()
            await quiet(pilot, 1)
            result["sort"] = await interact(pilot, "s", lambda: table.sort_column == 0)
            await pilot.press("slash")
            await quiet(pilot)
            result["filter_keystroke"] = await interact(pilot, "局", lambda: table.filter_text == "局")
            result["filter_rows"] = table.row_count
            await pilot.press("escape")
            await quiet(pilot)
            table.focus()
            await quiet(pilot, 1)
            before = table.cursor_row
            result["page_down"] = await interact(pilot, "pagedown", lambda: table.cursor_row > before)
            result["open_item"] = await interact(
                pilot, "enter", lambda: isinstance(app.screen, ItemDetailScreen)
            )
        else:
            import psutil

            process = psutil.Process()
            cpu0, t0 = time.process_time(), clock()
            await asyncio.sleep(seconds)
            cpu1, t1 = time.process_time(), clock()
            result.update(
                idle_cpu=100.0 * (cpu1 - cpu0) / (t1 - t0),
                idle_seconds=t1 - t0,
                idle_rss=process.memory_info().rss,
                idle_fds=process.num_fds(),
            )
        result["peak_rss"] = peak_rss_bytes()
    return result


def main(argv: list[str]) -> None:
    spec = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    seconds = float(argv[2]) if len(argv) > 2 else 0.0
    emit(asyncio.run(run(argv[0], spec, seconds)))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # tearing down 100,000 rows is not part of any figure


if __name__ == "__main__":
    main(sys.argv[1:])
