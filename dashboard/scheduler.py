"""Keeps every source current by itself, headless: the TUI starts one, tests drive one.

Each source has its own asyncio task: refresh, then wait `refresh` seconds (or until
woken) and refresh again. The timer is re-armed only after a fetch finishes, so a
slow source never piles up refreshes, and one slow source never delays another.
File sources are also refreshed as soon as a file they read changes on disk
(watchfiles), once the file has stopped changing for `debounce` seconds, so a
half-written file is not read.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from dashboard.contracts import watch_paths
from dashboard.runtime import Runtime, SourceState

log = logging.getLogger(__name__)

RefreshCallback = Callable[[SourceState], Awaitable[None] | None]
# A file that keeps changing is read anyway after this many quiet periods.
_MAX_SETTLE_ROUNDS = 20


class Scheduler:
    """Per-source refresh loops and a file watcher over one `Runtime`.

    `on_refresh(state)` is called (on the event loop) after every completed refresh
    of a source, whether it succeeded or failed.
    """

    def __init__(
        self,
        runtime: Runtime,
        on_refresh: RefreshCallback | None = None,
        *,
        debounce: float = 0.5,
        watch: bool = True,
    ) -> None:
        self.runtime = runtime
        self.on_refresh = on_refresh
        self.debounce = debounce
        self.watch = watch
        self.watching = asyncio.Event()  # set once file changes are being watched
        self._wake: dict[str, asyncio.Event] = {}
        self._waiters: dict[str, list[asyncio.Future[SourceState]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._stop.is_set()

    async def start(self, *, initial: bool = True) -> None:
        """Start the loops on the running event loop. With `initial`, every source
        refreshes at once; otherwise the first refresh waits one period."""
        if self._tasks:
            return
        self._stop.clear()
        for name in self.runtime.states:
            self._wake[name] = asyncio.Event()
            self._waiters[name] = []
            if initial:
                self._wake[name].set()
            self._tasks.append(asyncio.create_task(self._loop(name), name=f"refresh:{name}"))
        if self.watch:
            self._tasks.append(asyncio.create_task(self._watch(), name="watch-files"))
        else:
            self.watching.set()

    async def stop(self) -> None:
        """Stop every loop and the watcher; a fetch in flight is cancelled."""
        self._stop.set()  # the watcher's thread sees this within one step
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        # Python 3.11's `wait_for` can swallow a cancel that lands as its future completes
        # (a fetch handing back its result just then): that loop must still see the stop.
        for wake in self._wake.values():
            wake.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for waiters in self._waiters.values():
            for fut in waiters:
                fut.cancel()
            waiters.clear()

    def refresh_now(self, names: Iterable[str] | None = None) -> asyncio.Future[list[SourceState]]:
        """Wake the given sources (default: all) now. The returned future completes
        when each has finished a refresh that started after this call."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[SourceState]] = []
        for name in names if names is not None else list(self.runtime.states):
            if name not in self._wake:
                raise KeyError(name)
            fut: asyncio.Future[SourceState] = loop.create_future()
            self._waiters[name].append(fut)
            self._wake[name].set()
            futures.append(fut)
        return asyncio.gather(*futures)

    # -- the loops -------------------------------------------------------------------
    async def _loop(self, name: str) -> None:
        wake = self._wake[name]
        period = self.runtime.states[name].spec.refresh
        while True:
            await _wait(wake, period)
            if self._stop.is_set():
                return
            wake.clear()
            # Waiters registered from here on want the next refresh, not this one.
            waiters, self._waiters[name] = self._waiters[name], []
            try:
                state = await self.runtime.refresh(name)
            except Exception as exc:  # the runtime isolates plugins; this is our own bug
                log.exception("refresh of %s failed", name)
                for fut in waiters:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for fut in waiters:
                if not fut.done():
                    fut.set_result(state)
            await self._notify(state)

    async def _notify(self, state: SourceState) -> None:
        if self.on_refresh is None:
            return
        try:
            result = self.on_refresh(state)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a broken listener must not stop the refreshes
            log.exception("on_refresh callback failed for %s", state.name)

    # -- watching files ------------------------------------------------------------------
    def _targets(self) -> dict[str, list[str]]:
        """Normalised file path → the sources that read it."""
        targets: dict[str, list[str]] = {}
        for name, state in self.runtime.states.items():
            if state.source is None:
                continue
            for path in watch_paths(state.source):
                targets.setdefault(_norm(path), []).append(name)
        return targets

    async def _watch(self) -> None:
        targets = self._targets()
        while not self._stop.is_set():
            # Watch the folders, not the files: editors and exports replace a file by
            # renaming a new one over it, which a watch on the old file would miss.
            folders = sorted({os.path.dirname(t) for t in targets if os.path.isdir(os.path.dirname(t))})
            if not folders:
                self.watching.set()
                return
            try:
                await self._watch_folders(folders, targets)
                return  # stopped
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # e.g. a folder removed: keep the timers, try again later
                log.warning("file watching stopped (%s); retrying in 5 s", exc)
                self.watching.clear()
                await _wait(self._stop, 5)

    async def _watch_folders(self, folders: list[str], targets: dict[str, list[str]]) -> None:
        from watchfiles import awatch

        changes_iter = awatch(
            *folders,
            watch_filter=lambda _change, path: _norm(path) in targets,
            recursive=False,
            step=50,
            debounce=max(100, int(self.debounce * 1000)),
            stop_event=self._stop,
            rust_timeout=1000,
        ).__aiter__()
        pending = asyncio.ensure_future(changes_iter.__anext__())
        # awatch creates its notifier in the first step of that future, before its
        # first await: one turn of the loop, and changes from now on are seen.
        await asyncio.sleep(0)
        self.watching.set()
        try:
            while True:
                try:
                    changes = await pending
                except StopAsyncIteration:
                    return
                changed = {_norm(path) for _change, path in changes}
                names = {n for path in changed for n in targets.get(path, [])}
                await self._settle([Path(p) for p in changed])
                for name in sorted(names):
                    if name in self._wake:
                        self._wake[name].set()
                pending = asyncio.ensure_future(changes_iter.__anext__())
        finally:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
            await changes_iter.aclose()  # type: ignore[attr-defined]

    async def _settle(self, paths: list[Path]) -> None:
        """Return once none of `paths` has changed (size, mtime) for `debounce` seconds."""
        before = _signature(paths)
        for _ in range(_MAX_SETTLE_ROUNDS):
            await asyncio.sleep(self.debounce)
            now = _signature(paths)
            if now == before:
                return
            before = now
        log.warning("%s still changing after %d checks; reading it anyway", paths, _MAX_SETTLE_ROUNDS)


async def _wait(event: asyncio.Event, timeout: float) -> bool:
    """Wait for `event` at most `timeout` seconds; True if it was set."""
    try:
        await asyncio.wait_for(event.wait(), timeout=timeout)
    except asyncio.TimeoutError:
        return False
    return True


def _norm(path: str | Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _signature(paths: list[Path]) -> list[tuple[int, int] | None]:
    sig: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            sig.append(None)  # removed for now (replaced by rename): wait for it to settle
        else:
            sig.append((st.st_size, st.st_mtime_ns))
    return sig
