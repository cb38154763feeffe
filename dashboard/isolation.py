"""Run a plugin's fetch where a stuck one can be abandoned.

Each fetch gets its own daemon thread with its own event loop, whose default
executor starts daemon threads that nobody joins. A fetch that blocks (a FIFO, a
dead share, `time.sleep` inside `async def fetch`) then holds only its own
threads: the caller's event loop stays free, the caller's executor is never
filled, and neither `asyncio.run` nor the interpreter waits for it at exit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class FetchAborted(Exception):
    """A plugin raised a BaseException (SystemExit, KeyboardInterrupt...) in its fetch:
    carried back as an ordinary exception, so it fails the source and exits nothing."""

    def __init__(self, original: BaseException) -> None:
        self.original = original
        name = type(original).__name__
        super().__init__(f"{name}: {original}" if str(original) else name)


class DaemonExecutor(concurrent.futures.ThreadPoolExecutor):
    """An executor that runs every call in a new daemon thread and never joins it:
    `asyncio.to_thread` inside an isolated fetch cannot hold up shutdown. (A
    ThreadPoolExecutor only because asyncio's default executor must be one; none of
    its pool is used, so no worker is registered for the join at interpreter exit.)"""

    def __init__(self, name: str) -> None:
        super().__init__(max_workers=1, thread_name_prefix=name)
        self.name = name

    def submit(  # type: ignore[override]
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to whoever awaits the call
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=run, name=f"{self.name}-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: a stuck worker is abandoned, by design."""


class IsolatedCall:
    """One fetch running in its own daemon thread and event loop.

    `future` (on the caller's loop) gets the result, or the exception the call
    raised (a BaseException arrives as FetchAborted). The caller may stop awaiting
    at any time; the thread then finishes, or not, on its own.
    """

    def __init__(self, name: str, call: Callable[[], Any]) -> None:
        self.name = name
        self.started = time.monotonic()
        self._call = call
        self.returned = False
        self._loop = asyncio.get_running_loop()
        self.future: asyncio.Future[Any] = self._loop.create_future()
        self.thread = threading.Thread(target=self._run, name=f"fetch:{name}", daemon=True)
        self.thread.start()

    @property
    def running(self) -> bool:
        """The plugin's code has not returned yet (the thread may still close its loop after)."""
        return self.thread.is_alive() and not self.returned

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # for a plugin that asks `get_event_loop()` before awaiting
        try:
            loop.set_default_executor(DaemonExecutor(f"fetch:{self.name}"))
            # The plugin's own code runs only here: calling `fetch()` may block too.
            result = self._call()
            if inspect.isawaitable(result):
                result = loop.run_until_complete(_awaited(result))
        except Exception as exc:
            self.returned = True
            self._hand_back(exc, failed=True)
        except BaseException as exc:  # a plugin's sys.exit must not end the app
            self.returned = True
            self._hand_back(FetchAborted(exc), failed=True)
        else:
            self.returned = True
            self._hand_back(result, failed=False)
        finally:
            _close(loop)

    def _hand_back(self, value: Any, *, failed: bool) -> None:
        def settle() -> None:
            if self.future.done():  # timed out or cancelled: nobody is waiting
                return
            if failed:
                self.future.set_exception(value)
            else:
                self.future.set_result(value)

        with contextlib.suppress(RuntimeError):  # the caller's loop has closed (check has exited)
            self._loop.call_soon_threadsafe(settle)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the fetch left running and close its loop; never raises."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    except BaseException as exc:  # a plugin's cleanup failing is not our error
        log.warning("cleaning up an isolated fetch failed: %s: %s", type(exc).__name__, exc)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
