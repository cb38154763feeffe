"""Child: our load + evaluate of one file, in a fresh process, timed like `bench.child_read`.

    python -m bench.child_load CONFIG.toml SOURCE_NAME

After the imports and building the runtime from CONFIG.toml (plugins, store, alert engine: the
start-up, not timed, as the csv module's import is not), the clock runs around what turns a file
into evaluated items:

- the source plugin's `fetch()` (read, detect the encoding, parse, normalise, every quirk of
  design §1),
- the merge and evaluation of the runtime (`Runtime.snapshot`: 序时进度, statuses, worst-first
  order, counts),
- the alert rules (`AlertEngine.conditions`: which alerts hold now; deciding what fires and
  recording it is the store's work, timed separately).

Emits the timestamps and the number of items, statuses and alert conditions found.
"""

from __future__ import annotations

import time

T_START = time.clock_gettime(time.CLOCK_MONOTONIC)  # before any other import

import asyncio  # noqa: E402
import sys  # noqa: E402

from bench.childlib import clock, emit, peak_rss_bytes  # noqa: E402


def main(config_path: str, source: str) -> None:
    from dashboard.alerting import now_local
    from dashboard.config import load_config
    from dashboard.contracts import FetchResult
    from dashboard.runtime import Runtime

    runtime = Runtime(load_config(config_path))
    state = runtime.states[source]
    assert state.source is not None, state.error
    fetched: list[FetchResult] = []

    async def fetch() -> None:
        # Not `asyncio.run(fetch())`'s return value: on Python 3.11 asyncio.run formats the repr
        # of its result on the way out (via signal.getsignal), a second for 100,000 items.
        fetched.append(await state.source.fetch())

    t_imported = clock()
    asyncio.run(fetch())
    t_loaded = clock()
    result = fetched[0]
    state.items, state.warnings, state.as_of, state.ok = result.items, result.warnings, result.as_of, True
    snap = runtime.snapshot()
    t_evaluated = clock()
    ctx = runtime.alerts.context(snap, now_local())
    conditions, failed = runtime.alerts.conditions(ctx)
    t_done = clock()
    emit(
        {
            "t_start": T_START,
            "t_imported": t_imported,
            "t_loaded": t_loaded,
            "t_evaluated": t_evaluated,
            "t_done": t_done,
            "rows": len(snap.evaluated),
            "by_status": snap.by_status,
            "conditions": len(conditions),
            "failed_rules": sorted(failed),
            "peak_rss": peak_rss_bytes(),
        }
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
