"""Alert files that several writers share: the JSONL and CSV sinks' append-only files.

The TUI, a cron `dashboard check` (killed at any point) and a second dashboard with
its own store may all append to the same `alerts.jsonl`. `SharedLineFile` makes each
event appear in it exactly once, whoever writes it:

- every append happens under a lock on the file itself (`<file>.lock`, `filelock`:
  flock on POSIX, msvcrt on Windows; the OS drops it when its holder dies);
- under that lock the ids already in the file's tail are re-read whenever the file is
  not exactly as this process left it (device, inode, size or mtime changed), so an
  event another process wrote is never written again;
- a torn last line (a full disk, `ulimit -f`, a kill mid-write) is cut back to the end
  of the last complete line before appending: that event is still in its writer's
  outbox and is written whole again.

Only events still in some outbox can already be in a file (written, then a crash before
the outbox was updated), and those are the file's last lines. So a file sink remembers
the ids of its file's tail and of its own recent writes: bounded memory for a sink that
runs for weeks, whatever the file's size.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from inspect import signature
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple

from dashboard.core.alerts import AlertEvent

if TYPE_CHECKING:  # filelock is imported at the first lock: not on the TUI's first frame (issue 17)
    from filelock import FileLock

log = logging.getLogger(__name__)

TAIL_BYTES = 8 << 20
RECENT_IDS = 50_000
# Another writer holds a file's lock only for one read-tail + append + fsync.
LOCK_TIMEOUT = 10.0
_SCAN = 1 << 16


def tail_lines(path: Path, tail_bytes: int = TAIL_BYTES) -> list[str]:
    """The complete lines in the last `tail_bytes` of a text file ([] when missing).
    Lines end at b"\\n" only (not at U+2028 or a lone CR inside a value); a line the
    file does not terminate yet (torn, or being written) is not complete."""
    if not path.exists():
        return []
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        start = max(0, size - tail_bytes)
        f.seek(start)
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    parts = data.split(b"\n")
    parts.pop()  # after the last newline: empty, or an unterminated line
    if start > 0 and parts:
        parts.pop(0)  # the first line of a tail may be partial
    return [p.removesuffix(b"\r").decode("utf-8", errors="replace") for p in parts]


class RecentIds:
    """Event ids a file sink holds, forgetting the oldest beyond `limit`."""

    def __init__(self, ids: Iterable[str] = (), limit: int = RECENT_IDS) -> None:
        self.limit = limit
        self._ids: dict[str, None] = {}
        self.add(ids)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def add(self, ids: Iterable[str]) -> None:
        self._ids.update(dict.fromkeys(ids))
        for old in list(itertools.islice(self._ids, max(0, len(self._ids) - self.limit))):
            del self._ids[old]


@cache
def _no_soft() -> dict[str, Any]:
    """filelock 4 falls back to a marker file where flock is missing; 3.x raises instead."""
    from filelock import FileLock

    return (
        {"fallback_to_soft": False} if "fallback_to_soft" in signature(FileLock.__init__).parameters else {}
    )


def os_lock(lock_path: Path | str, timeout: float) -> FileLock:
    """An OS lock (flock on POSIX, msvcrt on Windows) that dies with its holder. A new,
    not thread-local object per use: two threads exclude each other as two processes
    do. Never a soft (marker-file) lock: a killed holder's marker would block forever."""
    from filelock import FileLock

    return FileLock(os.fspath(lock_path), timeout=timeout, thread_local=False, **_no_soft())


@contextmanager
def locked(path: Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold `<path>.lock`, waiting up to `timeout` seconds for another writer."""
    from filelock import Timeout

    lock = os_lock(f"{path}.lock", timeout)
    try:
        lock.acquire()
    except Timeout:
        raise OSError(
            errno.EBUSY,
            f"另一个进程占用 {path.name}.lock 超过 {timeout:g} 秒 (file locked by another process)",
        ) from None
    try:
        yield
    finally:
        lock.release()


def repair_torn_tail(f: BinaryIO, whole: Callable[[bytes], bool] | None = None) -> int:
    """If the file (opened "a+b") does not end with a newline, cut it back to the end
    of its last complete line; or, when `whole` says the unterminated line is complete
    (a hand edit without the final newline), terminate it. Returns the bytes cut (-1
    when a newline was added, 0 when the file was fine)."""
    size = f.seek(0, os.SEEK_END)
    if size == 0:
        return 0
    f.seek(size - 1)
    if f.read(1) == b"\n":
        return 0
    keep, end = 0, size
    while end > 0:  # the last newline, scanning back a chunk at a time
        start = max(0, end - _SCAN)
        f.seek(start)
        found = f.read(end - start).rfind(b"\n")
        if found >= 0:
            keep = start + found + 1
            break
        end = start
    if whole is not None and size - keep <= TAIL_BYTES:
        f.seek(keep)
        if whole(f.read(size - keep)):
            f.seek(0, os.SEEK_END)
            f.write(b"\n")
            f.flush()
            return -1
    f.truncate(keep)
    f.seek(0, os.SEEK_END)
    log.warning(
        "%s: 末尾有不完整的一行（%d 字节），已截去，该事件将重新写入 / cut a torn last line",
        f.name,
        size - keep,
    )
    return size - keep


class _Stamp(NamedTuple):
    dev: int
    ino: int
    size: int
    mtime_ns: int


def _stamp(f: BinaryIO) -> _Stamp:
    st = os.fstat(f.fileno())
    return _Stamp(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class SharedLineFile:
    """An append-only file of one-line events that other processes may also write.

    `read_ids(path)` lists the ids in the file's tail; `render(events, new_file)` turns
    the events to append into bytes (a header first when `new_file`); `whole(line)`
    says whether an unterminated last line is a complete event. `append` raises
    OSError when the file cannot be written; the caller keeps the events then."""

    def __init__(
        self,
        path: Path,
        read_ids: Callable[[Path], Iterable[str]],
        *,
        fsync: bool = True,
        whole: Callable[[bytes], bool] | None = None,
        lock_timeout: float = LOCK_TIMEOUT,
    ) -> None:
        self.path = path
        self.read_ids = read_ids
        self.fsync = fsync
        self.whole = whole
        self.lock_timeout = lock_timeout
        self.rereads = 0  # how often another writer had changed the file (for tests, figures)
        self._ids: RecentIds | None = None
        self._left: _Stamp | None = None  # the file as this process last saw it, under the lock

    def append(self, events: Sequence[AlertEvent], render: Callable[[list[AlertEvent], bool], bytes]) -> int:
        """Append the events the file does not hold yet, then flush and fsync once.
        Returns how many were written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with locked(self.path, self.lock_timeout), self.path.open("a+b") as f:
            repaired = repair_torn_tail(f, self.whole)
            now = _stamp(f)
            if self._ids is None or repaired or now != self._left:
                self._ids = RecentIds(self.read_ids(self.path))
                self.rereads += 1
            ids = self._ids
            fresh = list({e.id: e for e in events if e.id not in ids}.values())
            if fresh:
                f.write(render(fresh, now.size == 0))
                f.flush()
                if self.fsync:
                    os.fsync(f.fileno())
                ids.add(e.id for e in fresh)
                now = _stamp(f)
            self._left = now
        return len(fresh)
