"""First screen as a user sees it: a program launched in a tmux window, to its rows on screen.

The headless first paint (`bench.child_tui`) times frames inside the process. This times what
a person at a terminal waits for: from asking tmux to start the program in a new 160×45 window
to the first capture of that window (`tmux capture-pane`, polled every 10 ms) whose text holds
a probe: the name of the first row the program shows. A private tmux server (`-L`) is started
before the clock runs, so its own start-up is not counted. Polling adds up to 10 ms.
"""

from __future__ import annotations

import itertools
import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Sequence

from bench.childlib import clock
from bench.proc import REPO_ROOT, MeasurementTimeout

SIZE = (160, 45)
POLL = 0.01
_serial = itertools.count(1)


def available() -> bool:
    return shutil.which("tmux") is not None


def first_screen(argv: Sequence[str], probe: str, timeout: float, env: dict[str, str] | None = None) -> float:
    """Seconds from launching `argv` in a fresh tmux window to a screen containing `probe`."""
    if not available():
        raise NotImplementedError("tmux is not installed")
    socket = f"zhuanban-bench-{os.getpid()}-{next(_serial)}"
    tmux = ["tmux", "-u", "-L", socket]
    environ = {**os.environ, **(env or {}), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"}
    cols, rows = SIZE
    # The server and a first window, untimed.
    subprocess.run(
        [*tmux, "new-session", "-d", "-s", "idle", "-x", str(cols), "-y", str(rows)], env=environ, check=True
    )
    try:
        command = "cd " + shlex.quote(str(REPO_ROOT)) + " && exec " + shlex.join(argv)
        t0 = clock()
        subprocess.run(
            [*tmux, "new-session", "-d", "-s", "run", "-x", str(cols), "-y", str(rows), command],
            env=environ,
            check=True,
        )
        while True:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", "run"], env=environ, capture_output=True, text=True
            ).stdout
            if probe in screen:
                return clock() - t0
            if clock() - t0 > timeout:
                raise MeasurementTimeout(f"{argv[0]}: {probe!r} not on screen after {timeout:g} s")
            time.sleep(POLL)
    finally:
        subprocess.run([*tmux, "kill-server"], env=environ, capture_output=True)
