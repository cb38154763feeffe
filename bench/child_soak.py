"""Child: the runtime's refresh cycle run many times; RSS, open fds, threads and store size as it goes.

    python -m bench.child_soak CONFIG.toml LINK ORIGINAL REFRESHED CYCLES

The CSV source of CONFIG.toml reads LINK, a symbolic link. Before each cycle the link is pointed
alternately at ORIGINAL and at REFRESHED (the bulletin with 1% of its ratios changed), so every
cycle is a refresh where 1% of the rows changed: the store records their history, alerts on
those rows may fire or resolve and are written to the JSON Lines sink. Each cycle is
`Runtime.cycle()`, what `dashboard check` runs once and the TUI's refresh runs on its timer:
fetch every source, merge, evaluate, record, evaluate and deliver alerts.

RSS (after a full `gc.collect()`) is sampled every `SAMPLE_EVERY` cycles; see `Sampler` for what
is reported. `bench.child_tui_soak` does the same for the TUI.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.childlib import clock, emit, swap_link

SAMPLE_EVERY = 5
# The first cycles fill caches (SQLite pages, parse memos, Textual's CSS and strips): growth
# up to here is start-up, not a leak. `rss_start` is taken here.
WARMUP = 10


def store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def slope_per_100(samples: list[tuple[int, int]]) -> float:
    """The slope of RSS (bytes) over the cycle number, in MiB per 100 cycles: the median of the
    slopes between every two samples (Theil-Sen), so one step of the allocator at the end of a
    short run does not decide it, and a steady growth does."""
    slopes = [
        (r2 - r1) / (c2 - c1) for i, (c1, r1) in enumerate(samples) for c2, r2 in samples[i + 1 :] if c2 != c1
    ]
    return statistics.median(slopes) * 100 / 2**20 if slopes else 0.0


def settle_fetches(limit: float = 2.0) -> None:
    """Wait (at most `limit` s) for fetch threads still running to end: each fetch runs in a
    thread of its own that ends with it (dashboard.isolation); one caught in flight, by the file
    watcher's refresh, is not a thread that stays."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and any(t.name.startswith("fetch:") for t in threading.enumerate()):
        time.sleep(0.01)


# asyncio's default executor: a bounded pool (at most min(32, cores + 4) threads) that starts
# its threads lazily, so under load it may fill late in a run. Its threads are not counted:
# a pool that fills up is not a leak, and it cannot grow past its bound.
POOL_PREFIXES = ("asyncio_", "ThreadPoolExecutor")


def pool_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith(POOL_PREFIXES))


class Sampler:
    """RSS, fds and threads of this process over a soak of `cycles` cycles.

    Reports `rss_start` / `fds_start` / `threads_start` after WARMUP cycles, the same `_end`
    after the last, `rss_<i>` / `fds_<i>` at cycles 10 and `cycles` (the keys bench.ours reads),
    the samples of each, and `slope_mib_per_100`: the slope of RSS over the second half of the
    run (see `slope_per_100`).
    """

    def __init__(self, cycles: int) -> None:
        import psutil

        self.process = psutil.Process()
        self.cycles = cycles
        self.samples: list[tuple[int, int]] = []
        self.fd_samples: list[tuple[int, int]] = []
        self.thread_samples: list[tuple[int, int]] = []
        self.result: dict[str, Any] = {"cycles": cycles}

    def after(self, i: int) -> None:
        """Call after cycle `i` (1-based)."""
        if i % SAMPLE_EVERY and i not in (WARMUP, self.cycles):
            return
        settle_fetches()
        gc.collect()
        info = self.process.memory_info()
        fds, threads = self.process.num_fds(), self.process.num_threads() - pool_threads()
        self.samples.append((i, info.rss))
        self.fd_samples.append((i, fds))
        self.thread_samples.append((i, threads))
        for name, at in (("start", WARMUP), ("end", self.cycles)):
            if i == at:
                self.result.update({f"rss_{name}": info.rss, f"fds_{name}": fds, f"threads_{name}": threads})
        if i in (10, self.cycles):
            self.result.update({f"rss_{i}": info.rss, f"fds_{i}": fds})

    def summary(self) -> dict[str, Any]:
        half = [s for s in self.samples if s[0] >= self.cycles // 2]
        return {
            **self.result,
            "slope_mib_per_100": slope_per_100(half),
            "samples": self.samples,
            "fd_samples": self.fd_samples,
            "thread_samples": self.thread_samples,
        }


async def soak(config_path: str, link: Path, files: tuple[Path, Path], cycles: int) -> dict[str, Any]:
    from dashboard.config import load_config
    from dashboard.runtime import Runtime

    config = load_config(config_path)
    runtime = Runtime(config)
    assert config.store_path is not None
    sampler = Sampler(cycles)
    result: dict[str, Any] = {"mode": "runtime"}
    times: list[float] = []
    for i in range(1, cycles + 1):
        swap_link(link, files[i % 2])
        t = clock()
        snap = await runtime.cycle()
        times.append(clock() - t)
        if i == 1:
            result["items"] = len(snap.evaluated)
            bad = [s.error for s in snap.sources if not s.ok]
            if bad:
                raise RuntimeError(f"a source failed: {bad}")
        if i in (10, cycles):
            result[f"store_{i}"] = store_bytes(config.store_path)
        sampler.after(i)
    runtime.close()
    times.sort()
    result["cycle_median"] = times[len(times) // 2]
    result["store_bytes"] = store_bytes(config.store_path)
    return {**result, **sampler.summary()}


def main(argv: list[str]) -> None:
    config, link, original, refreshed, cycles = argv
    emit(asyncio.run(soak(config, Path(link), (Path(original), Path(refreshed)), int(cycles))))


if __name__ == "__main__":
    main(sys.argv[1:])
