"""Tracing plugin calls: `dashboard plugins --trace`, `DASHBOARD_TRACE=1` for any command.

One line per plugin load, hook call and call into a plugin's objects (a source's fetch,
a sink's delivery, an exporter's write, a rule's check), with its duration, e.g.
`[trace] fetch source=通报 type=csv plugin=csv 4.5ms ok 45 items`.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

# `DASHBOARD_TRACE=1` traces every plugin call of any command to stderr; `DASHBOARD_TRACE_FILE`
# appends the same lines to a file (the TUI owns the terminal, so its trace must go there).
TRACE_ENV = "DASHBOARD_TRACE"
TRACE_FILE_ENV = "DASHBOARD_TRACE_FILE"


class Tracer:
    """One line per plugin call: what ran, for which plugin, how long, and how it ended.

    Lines name hooks, plugins, sources and sinks only, never arguments, options or
    exception messages (a URL or a token could be in them): a trace can be pasted into
    an issue as it is. Safe from any thread."""

    def __init__(self, stream: IO[str] | None = None, path: Path | None = None) -> None:
        self._stream = stream  # None: sys.stderr as it is at each write
        self._path = path
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Tracer | None:
        env = os.environ if environ is None else environ
        path = env.get(TRACE_FILE_ENV, "").strip()
        if path:
            return cls(path=Path(path).expanduser())
        if env.get(TRACE_ENV, "").strip().lower() in ("1", "true", "yes", "on", "stderr"):
            return cls()
        return None

    def write(self, what: str, plugin: str, seconds: float, outcome: str = "ok") -> None:
        """Write one line. Never raises: a trace that cannot be written must not fail the
        plugin call it describes (an unwritable trace file falls back to stderr, said once)."""
        line = f"[trace] {what} plugin={plugin} {seconds * 1000:.1f}ms {outcome}\n"
        with self._lock:
            if self._path is not None:
                try:
                    with self._path.open("a", encoding="utf-8") as f:
                        f.write(line)
                    return
                except OSError as exc:
                    failed, self._path = self._path, None
                    line = f"[trace] 无法写入追踪文件 cannot write {failed}: {exc.strerror}\n{line}"
            try:
                stream = self._stream or sys.stderr
                stream.write(line)
                stream.flush()
            except (OSError, ValueError):  # stderr closed or gone (a detached process)
                pass

    @contextmanager
    def timed(self, what: str, plugin: str) -> Iterator[list[str]]:
        """Time the block; the caller may append a detail (`45 items`) to the yielded list."""
        detail: list[str] = []
        start = time.perf_counter()
        try:
            yield detail
        except BaseException as exc:
            self.write(what, plugin, time.perf_counter() - start, f"error {type(exc).__name__}")
            raise
        self.write(what, plugin, time.perf_counter() - start, " ".join(["ok", *detail]))

    def wrap(self, fn: Callable[..., Any], what: str, plugin: str) -> Callable[..., Any]:
        """`fn` timed on every call; an awaitable result is timed until it is done."""

        def traced(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                self.write(what, plugin, time.perf_counter() - start, f"error {type(exc).__name__}")
                raise
            if inspect.isawaitable(result):
                return self._awaited(result, start, what, plugin)
            self.write(what, plugin, time.perf_counter() - start, _outcome(result))
            return result

        return traced

    async def _awaited(self, result: Awaitable[Any], start: float, what: str, plugin: str) -> Any:
        try:
            value = await result
        except BaseException as exc:
            self.write(what, plugin, time.perf_counter() - start, f"error {type(exc).__name__}")
            raise
        self.write(what, plugin, time.perf_counter() - start, _outcome(value))
        return value

    def patch(self, obj: object, methods: tuple[str, ...], what: str, plugin: str) -> None:
        """Time the methods `obj` has, on the instance itself (its class and attributes stay
        as they are); an object that refuses new attributes is left untraced, and said so."""
        for method in methods:
            fn = getattr(obj, method, None)
            if not callable(fn):
                continue
            try:
                setattr(obj, method, self.wrap(fn, f"{method} {what}", plugin))
            except (AttributeError, TypeError):
                self.write(f"{method} {what}", plugin, 0.0, "not traced (object refuses attributes)")

    def descriptor(self, hook_name: str, plugin: str, entry: Any, label: str) -> Any:
        """The descriptor with its callables timed: a source type's factory (and each
        source's fetch), a sink type's factory (and each delivery), an exporter's writes,
        a rule's check. The descriptor itself is a copy; the plugin's object is untouched."""
        if hook_name in ("dashboard_source_types", "dashboard_sink_types"):
            noun, methods = (
                ("source", ("fetch",))
                if hook_name == "dashboard_source_types"
                else ("sink", ("deliver", "deliver_batch", "deliver_group", "deliver_message"))
            )
            factory = entry.factory

            def traced_factory(spec: Any) -> Any:
                what = f"{noun}={getattr(spec, 'name', '?')} type={label}"
                with self.timed(f"create {what}", plugin):
                    obj = factory(spec)
                self.patch(obj, methods, what, plugin)
                return obj

            return dataclasses.replace(entry, factory=traced_factory)
        if hook_name == "dashboard_exporters":
            write_many = entry.write_many
            return dataclasses.replace(
                entry,
                write=self.wrap(entry.write, f"write format={label}", plugin),
                write_many=self.wrap(write_many, f"write_many format={label}", plugin)
                if write_many
                else None,
            )
        if hook_name == "dashboard_alert_rules":
            return dataclasses.replace(entry, check=self.wrap(entry.check, f"check rule={label}", plugin))
        return entry


def _outcome(value: Any) -> str:
    """`ok`, with a count when the result has one (a fetch's items, a hook's descriptors)."""
    items = getattr(value, "items", None)
    if isinstance(items, list):
        return f"ok {len(items)} items"
    if isinstance(value, (list, tuple)):
        return f"ok {len(value)} entries"
    return "ok"
