"""Child: the runtime's refresh cycle run many times; RSS, open fds and store size as it goes.

    python -m bench.child_soak CONFIG.toml LINK ORIGINAL REFRESHED CYCLES

The CSV source of CONFIG.toml reads LINK, a symbolic link. Before each cycle the link is pointed
alternately at ORIGINAL and at REFRESHED (the bulletin with 1% of its ratios changed), so every
cycle is a refresh where 1% of the rows changed: the store records their history, alerts on
those rows may fire or resolve and are written to the JSON Lines sink. Each cycle is
`Runtime.cycle()`, what `dashboard check` runs once and the TUI's refresh runs on its timer:
fetch every source, merge, evaluate, record, evaluate and deliver alerts.

After 10 cycles and after CYCLES cycles: RSS and open file descriptors (psutil), and the size
of the store (the SQLite file with its WAL).
"""

from __future__ import annotations

import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

from bench.childlib import clock, emit, swap_link


def store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


async def soak(config_path: str, link: Path, files: tuple[Path, Path], cycles: int) -> dict[str, Any]:
    import psutil

    from dashboard.config import load_config
    from dashboard.runtime import Runtime

    config = load_config(config_path)
    runtime = Runtime(config)
    assert config.store_path is not None
    process = psutil.Process()
    result: dict[str, Any] = {"cycles": cycles}
    marks = {10, cycles}
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
        if i in marks:
            gc.collect()
            result[f"rss_{i}"] = process.memory_info().rss
            result[f"fds_{i}"] = process.num_fds()
            result[f"store_{i}"] = store_bytes(config.store_path)
    runtime.close()
    times.sort()
    result["cycle_median"] = times[len(times) // 2]
    result["store_bytes"] = store_bytes(config.store_path)
    return result


def main(argv: list[str]) -> None:
    config, link, original, refreshed, cycles = argv
    emit(asyncio.run(soak(config, Path(link), (Path(original), Path(refreshed)), int(cycles))))


if __name__ == "__main__":
    main(sys.argv[1:])
