"""`dashboard serve`: the dashboard in a browser, for the office TV and for PCs without
a terminal. textual-serve's pieces (its page, its xterm.js bundle, its AppService that
runs one app process per browser tab) behind our own aiohttp application:

- one Refresher fetches every source, evaluates the alert rules and delivers, as the
  TUI does; each tab's app is a follower that reads the store (dashboard.ui.follower),
  so tabs never multiply fetches or deliveries;
- every request passes `guard`: the access token (when one is required) on the page,
  the websocket, downloads and the read API alike, and a websocket only from the
  page's own origin (no other web page can drive a session).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from dashboard.config import Config
from dashboard.contracts import ConfigError
from dashboard.runtime import Runtime, SourceState
from dashboard.scheduler import Scheduler
from dashboard.webauth import COOKIE_NAME, TOKEN_HEADER, TokenCheck, Verdict, is_loopback, same_origin

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
WS_PATHS = ("/ws", "/ws/kiosk")
# Offices often cannot reach Google: the page must not wait for its web font.
_WEB_FONT = '<link\n      rel="stylesheet"\n      href="https://fonts.googleapis.com/css?family=Roboto%20Mono"\n    />'


@dataclass(slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    allow_actions: bool = False
    kiosk: bool = False
    token: str | None = None  # None: no token required (loopback without one configured)
    token_env: str = ""  # the variable the token came from: removed from the sessions' environment
    as_of: str | None = None


class Refresher:
    """The one headless refresh loop of `dashboard serve`: a first full cycle (every
    source, then the alert rules once), then each source on its own timer and file
    watch, each refresh followed by evaluation and delivery (one at a time)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.scheduler = Scheduler(runtime, on_refresh=self._refreshed)
        self.cycles = 0  # evaluations done: tests and the log read it
        self._task: asyncio.Task[None] | None = None
        self._evaluating = False
        self._again = False
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._first_cycle(), name="serve:first-cycle")

    async def _first_cycle(self) -> None:
        try:
            await self.runtime.cycle()  # as `dashboard check`: all sources, then the rules once
            self.cycles += 1
        except ConfigError as exc:  # a year the working-day calendar lacks, found in the data
            log.error("%s", exc)
        await self.scheduler.start(initial=False)

    def _refreshed(self, state: SourceState) -> None:
        task = asyncio.create_task(self._evaluate())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _evaluate(self) -> None:
        if self._evaluating:
            self._again = True  # the running evaluation goes round once more
            return
        self._evaluating = True
        try:
            while True:
                self._again = False
                await self.runtime.flush()
                try:
                    snap = await asyncio.to_thread(self.runtime.snapshot)
                except ConfigError as exc:
                    log.error("%s", exc)
                    return
                await asyncio.to_thread(self.runtime.evaluate_alerts, snap)
                self.cycles += 1
                if not self._again:
                    return
        finally:
            self._evaluating = False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.scheduler.stop()
        await asyncio.gather(*list(self._pending), return_exceptions=True)
        await self.runtime.flush()
        self.runtime.close()


def session_command(config: Config, options: ServeOptions, *, kiosk: bool) -> str:
    """The shell command textual-serve runs for one tab: a follower app on this config."""
    argv = [sys.executable, "-m", "dashboard.ui.follower", "--config", str(config.path)]
    if kiosk or options.kiosk:
        argv.append("--kiosk")
    if options.allow_actions:
        argv.append("--allow-actions")
    if options.as_of:
        argv += ["--as-of", options.as_of]
    command = shlex.join(argv)
    if options.token_env and os.name == "posix":
        command = f"env -u {shlex.quote(options.token_env)} {command}"  # a session needs no token
    return command


def _refused(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain", charset="utf-8")


class DashboardServer:
    """The aiohttp application of `dashboard serve` (see the module's docstring)."""

    def __init__(self, config: Config, runtime: Runtime, options: ServeOptions) -> None:
        from textual_serve.download_manager import DownloadManager

        self.config = config
        self.options = options
        self.refresher = Refresher(runtime)
        self.auth = TokenCheck(options.token) if options.token else None
        self.download_manager = DownloadManager()
        self.websockets: set[web.WebSocketResponse] = set()  # browser sessions running now

    # -- the application -------------------------------------------------------------
    def make_app(self) -> web.Application:
        import textual_serve

        static = Path(textual_serve.__file__).parent / "static"
        app = web.Application(middlewares=[self.guard])
        app.add_routes(
            [
                web.get("/", self.handle_index),
                *(web.get(path, self.handle_websocket) for path in WS_PATHS),
                web.get("/download/{key}", self.handle_download),
                web.static("/static", static),
            ]
        )
        self.add_routes(app)
        app.on_startup.append(self._start)
        app.on_shutdown.append(self._close_sessions)
        app.on_cleanup.append(self._stop)
        return app

    def add_routes(self, app: web.Application) -> None:
        """More routes behind the same guard: the read API (dashboard.webapi) when present."""
        try:
            from dashboard import webapi  # type: ignore[attr-defined, unused-ignore]
        except ImportError:
            return
        add = getattr(webapi, "add_api_routes", None)
        if callable(add):
            add(app, self.refresher.runtime, guarded=True)  # the guard above checks the token

    async def _start(self, app: web.Application) -> None:
        await self.refresher.start()

    async def _close_sessions(self, app: web.Application) -> None:
        # Each tab's app is told to quit now, not after aiohttp's shutdown timeout.
        for websocket in list(self.websockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message="服务已停止 server stopped".encode())

    async def _stop(self, app: web.Application) -> None:
        await self.refresher.stop()

    # -- the guard -------------------------------------------------------------------
    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Token first (401 without one, 403 for a wrong one), then a websocket's origin (403)."""
        via_query = False
        if self.auth is not None:
            query = request.query.get("token")
            verdict = self.auth.check(
                query=query,
                cookie=request.cookies.get(COOKIE_NAME),
                header=request.headers.get("Authorization") or request.headers.get(TOKEN_HEADER),
            )
            if verdict is Verdict.MISSING:
                return _refused(
                    401,
                    "需要访问令牌 token required：首次打开请用 /?token=<令牌>，"
                    f"或带上请求头 Authorization: Bearer <令牌> / {TOKEN_HEADER}",
                )
            if verdict is Verdict.WRONG:
                return _refused(403, "访问令牌不正确 wrong token：请向专班管理员索取正确的令牌")
            via_query = query is not None and self.auth.check(query=query) is Verdict.OK
        elif not is_loopback(_host_name(request.host)):
            # No token: only this machine may ask, by a loopback name (a page on another site
            # whose name was re-pointed at 127.0.0.1, DNS rebinding, says its own name here).
            return _refused(403, f"只接受本机地址 loopback only: Host {request.host} 不是本机地址")
        if request.path in WS_PATHS and not same_origin(
            request.headers.get("Origin"), request.scheme, request.host
        ):
            origin = request.headers.get("Origin", "")
            return _refused(
                403, f"来源不符 origin not allowed：{origin} 不是 {request.scheme}://{request.host}"
            )
        if via_query and request.path == "/" and self.auth is not None:
            # The token leaves the address bar (and the TV's history); a cookie carries on.
            kept = {k: v for k, v in request.query.items() if k != "token"}
            target = request.rel_url.with_query(kept)
            response = web.HTTPSeeOther(str(target))
            response.set_cookie(
                COOKIE_NAME,
                self.auth.cookie_value,
                httponly=True,
                samesite="Strict",
                secure=request.secure,
                path="/",
            )
            return response
        return await handler(request)

    # -- the page ----------------------------------------------------------------------
    async def handle_index(self, request: web.Request) -> web.Response:
        """textual-serve's page, with the websocket on the address the browser used (a
        server bound to 0.0.0.0 cannot name it) and the kiosk from `?kiosk=1`."""
        import textual_serve

        template = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
        html = template.read_text(encoding="utf-8").replace(_WEB_FONT, "")
        kiosk = self.options.kiosk or request.query.get("kiosk", "") in ("1", "true", "yes")
        scheme = "wss" if request.secure else "ws"
        values = {
            "{{ config.static.url }}": "/static/",
            "{{ app_websocket_url }}": f"{scheme}://{request.host}{WS_PATHS[1] if kiosk else WS_PATHS[0]}",
            "{{ font_size }}": str(_int(request.query.get("fontsize", "16"), 16, 6, 64)),
            "{{ application.name or 'Textual Application' }}": _html_escape(self.config.title),
            "{{ ping_url }}": "",
        }
        for key, value in values.items():
            html = html.replace(key, value)
        return web.Response(text=html, content_type="text/html", charset="utf-8")

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        try:
            meta = await self.download_manager.get_download_metadata(key)
        except KeyError:
            raise web.HTTPNotFound(text=f"没有这个下载 no such download: {key}") from None
        response = web.StreamResponse()
        response.headers["Content-Type"] = meta.mime_type + (
            f"; charset={meta.encoding}" if meta.encoding else ""
        )
        disposition = "inline" if meta.open_method == "browser" else "attachment"
        response.headers["Content-Disposition"] = f"{disposition}; filename={meta.file_name}"
        await response.prepare(request)
        async for chunk in self.download_manager.download(key):
            await response.write(chunk)
        await response.write_eof()
        return response

    # -- one browser session -------------------------------------------------------------
    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: a follower app process, its terminal carried over the websocket."""
        from textual_serve.app_service import AppService

        websocket = web.WebSocketResponse(heartbeat=15)
        width = _int(request.query.get("width", "80"), 80, 20, 500)
        height = _int(request.query.get("height", "24"), 24, 5, 300)
        command = session_command(self.config, self.options, kiosk=request.path == WS_PATHS[1])
        await websocket.prepare(request)
        service = AppService(
            command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=partial(_close, websocket),
            download_manager=self.download_manager,
        )
        self.websockets.add(websocket)
        try:
            await service.start(width, height)
            await self._relay(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:  # one session's failure ends that session only
            log.exception("browser session failed")
        finally:
            self.websockets.discard(websocket)
            await service.stop()
        return websocket

    async def _relay(self, websocket: web.WebSocketResponse, service: Any) -> None:
        """Browser → app: keys, resizes, focus; anything malformed is ignored, not fatal."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = message.json()
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await service.set_terminal_size(
                    _int(str(data.get("width", 80)), 80, 20, 500),
                    _int(str(data.get("height", 24)), 24, 5, 300),
                )
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await service.blur()
            elif kind == "focus":
                await service.focus()


async def _close(websocket: web.WebSocketResponse) -> None:
    """The app process ended (Ctrl+Q): the tab shows textual-serve's `Session ended`."""
    await websocket.close()


def _host_name(host: str) -> str:
    """`127.0.0.1:8000` → `127.0.0.1`, `[::1]:8000` → `::1`."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _int(value: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value)))
    except ValueError:
        return default


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def run(server: DashboardServer) -> None:
    """Serve until Ctrl+C / SIGTERM (then the refresher stops and the store is flushed)."""
    web.run_app(
        server.make_app(),
        host=server.options.host,
        port=server.options.port,
        print=None,
        access_log=None,
        handle_signals=True,
    )
