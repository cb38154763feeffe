"""Running a measurement in a fresh process, with a time limit (the parent's side).

The parent reads the clock just before it spawns the child; the child reads the same clock
(`bench.childlib.clock`) at the moments that matter and hands them back. A figure "from process
start" is a child's timestamp minus the spawn time: it includes the interpreter's start-up and
every import, as a user launching the program waits for them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.childlib import RESULT_ENV, clock

REPO_ROOT = Path(__file__).resolve().parent.parent


class MeasurementTimeout(Exception):
    """A measurement ran past its time limit; it is recorded as a timeout, not as a figure."""


class ChildFailed(Exception):
    """A child exited with an error or handed back nothing."""


@dataclass(frozen=True)
class ChildRun:
    spawned: float  # clock() just before the process was created
    exited: float  # clock() just after it was reaped
    result: dict[str, Any]  # what the child emitted ({} if it emits nothing)

    def since_spawn(self, key: str) -> float:
        """Seconds from the spawn to the child's timestamp `key`."""
        return float(self.result[key]) - self.spawned

    @property
    def wall(self) -> float:
        return self.exited - self.spawned


def python_module(module: str, *args: str) -> list[str]:
    """argv running `python -m module args` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def run_child(
    argv: list[str],
    timeout: float,
    *,
    tty_stdout: bool = False,
    tty_size: tuple[int, int] | None = None,
    expect_result: bool = True,
    env: dict[str, str] | None = None,
) -> ChildRun:
    """Run `argv` to completion, killing its whole process group after `timeout` seconds.

    `tty_stdout` gives the child a pseudo-terminal as stdout, for programs that behave differently
    when piped; `tty_size` (columns, rows) sets its size. Raises MeasurementTimeout, or ChildFailed with the tail of its stderr.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        result_path = Path(tmp) / "result.json"
        child_env = {**os.environ, **(env or {}), RESULT_ENV: str(result_path)}
        # The children are modules of this package: make it importable wherever we are run from.
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
        )
        master = slave = -1
        if tty_stdout:
            master, slave = pty.openpty()
            if tty_size is not None:  # (columns, rows); a fresh pseudo-terminal is 0×0
                fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", tty_size[1], tty_size[0], 0, 0))
        stderr_path = Path(tmp) / "stderr"
        try:
            with stderr_path.open("wb") as stderr:
                spawned = clock()
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=slave if tty_stdout else subprocess.DEVNULL,
                    stderr=stderr,
                    env=child_env,
                    cwd=REPO_ROOT,
                    start_new_session=True,  # its own process group, so a timeout kills it all
                )
                if tty_stdout:
                    os.close(slave)
                    slave = -1
                    _drain_until_exit(proc, master, spawned + timeout)
                try:
                    proc.wait(timeout=max(0.0, spawned + timeout - clock()))
                except subprocess.TimeoutExpired:
                    _kill_group(proc)
                    raise MeasurementTimeout(f"{argv[-1]}: over {timeout:.0f} s") from None
                exited = clock()
        finally:
            for fd in (master, slave):
                if fd >= 0:
                    os.close(fd)
        if proc.returncode != 0:
            tail = stderr_path.read_text(errors="replace").strip().splitlines()[-8:]
            raise ChildFailed(f"exit {proc.returncode}: " + " | ".join(tail))
        if not result_path.exists():
            if expect_result:
                raise ChildFailed("the child handed back no result")
            return ChildRun(spawned, exited, {})
        return ChildRun(spawned, exited, json.loads(result_path.read_text()))


def _drain_until_exit(proc: subprocess.Popen[bytes], master: int, deadline: float) -> None:
    # A pseudo-terminal has a small buffer: keep reading, or a chatty child blocks on write.
    while proc.poll() is None and clock() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:  # EIO once the child has closed its side
                return


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # The group may be gone already: the child exited between the timeout and the kill.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
