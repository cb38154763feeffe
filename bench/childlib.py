"""What a timing child needs from the harness, and nothing more: it is imported inside the
measured time, so it stays as light as the standard library allows (json, os, resource, time).

Timestamps are read on CLOCK_MONOTONIC, one system-wide clock, so a child's reading minus the
parent's reading just before the spawn is the time "from process start". The child hands its
result back with `emit()`, as JSON in the file named by the `BENCH_RESULT` environment variable,
so its stdout and stderr stay free (VisiData, for one, must see a terminal on stdout).
"""

from __future__ import annotations

import json
import os
import resource
import time
from typing import Any

RESULT_ENV = "BENCH_RESULT"


def clock() -> float:
    """Seconds on CLOCK_MONOTONIC (system-wide: readings from different processes compare)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def swap_link(link: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Point the symbolic link `link` at `target` atomically, as a program replacing a file
    does (a new link renamed over the old one): a reader sees the old file or the new one."""
    link = os.fspath(link)
    tmp = os.path.join(os.path.dirname(link), f".{os.path.basename(link)}.new")
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(os.fspath(target), tmp)
    os.replace(tmp, link)


def emit(payload: dict[str, Any]) -> None:
    """Hand the child's result to the parent; printed instead when run by hand."""
    path = os.environ.get(RESULT_ENV)
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(payload, f)
    else:
        print(json.dumps(payload, indent=1))
