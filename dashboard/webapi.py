"""The read API `/api/v1/…` (aiohttp): the evaluated items, the headline counts and the
unresolved alerts as JSON, for a city's dashboard that rolls up its counties (docs/api.md).

`add_api_routes(app, get_state)` mounts it on another aiohttp application (`dashboard serve`);
`make_api_app(...)` and `python -m dashboard.webapi --config …` run it alone. The state comes
from `get_state` (the last good items and their evaluation): answering never fetches a source.
Items are keyed by the bulletin's column names (views.BULLETIN_COLUMNS), paginated as the REST
source's `pagination = { mode = "page" }` reads them, so another dashboard's REST source loads
them with no `fields` mapping. Responses only ever gain fields; `schema` counts the additions.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import inspect
import ipaddress
import math
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from dashboard import strict_json
from dashboard.core.alerts import LEVEL_LABELS, SEVERITY_LABELS, STATE_LABELS, AlertRecord
from dashboard.core.items import Evaluated, paused_gc
from dashboard.core.progress import count_by_status, evaluate
from dashboard.core.rollup import by_county
from dashboard.core.units import summarise_units
from dashboard.views import progress_cell, target_cell

API = "v1"
SCHEMA = 1  # raised by one whenever fields are added; nothing is ever renamed or removed
DEFAULT_SIZE = 100  # the REST source's default page size
MAX_SIZE = 1000
UNRESOLVED = ("open", "acknowledged", "silenced")
ALERT_STATES = (*UNRESOLVED, "resolved")
_DIGITS = re.compile(r"^[0-9]{1,9}$")
TOKEN_HEADER = "X-Dashboard-Token"  # the same header as dashboard serve's page (dashboard.webauth)

if TYPE_CHECKING:
    from dashboard.runtime import Runtime


@dataclass(slots=True)
class SourceInfo:
    name: str
    ok: bool | None
    items: int
    last_success: datetime | None = None
    stale: bool = False


@dataclass(slots=True)
class ApiState:
    """What the API shows: one evaluation of the last good items, and the store's alerts."""

    as_of: date
    expected: float
    evaluated: Sequence[Evaluated]
    as_of_source: str = ""
    alerts: Sequence[AlertRecord] = ()
    sources: Sequence[SourceInfo] = ()
    counties: Sequence[str] = ()  # the config's `county` keys, in order (by_county's order)
    taken_at: datetime = field(default_factory=datetime.now)
    # Read only by the endpoints that show alerts (decoding thousands is not free); else `alerts`.
    load_alerts: Callable[[], Sequence[AlertRecord]] | None = None
    _ordered: list[Evaluated] | None = field(default=None, repr=False)

    def alert_list(self) -> Sequence[AlertRecord]:
        return self.load_alerts() if self.load_alerts is not None else self.alerts

    def ordered(self) -> list[Evaluated]:
        """The items in page order: by county, then by id as a bulletin numbers them (2 before
        10). Sorted once per state: a roll-up reads 100,000 items as 1,000 pages of this."""
        if self._ordered is None:
            with paused_gc():  # 100,000 keys hold no cycles: 0.42 s → 0.14 s without the collector's passes
                self._ordered = sorted(self.evaluated, key=lambda e: (e.item.county, _natural(e.item.id)))
        return self._ordered


StateGetter = Callable[[], "ApiState | Awaitable[ApiState]"]


def runtime_state(runtime: Runtime) -> Callable[[], ApiState]:
    """A `get_state` over a `dashboard.runtime.Runtime`: its sources' current items (fetched
    or restored from the store), evaluated here, and the store's alerts. It fetches nothing
    and leaves the runtime's own incremental evaluation (`Runtime.snapshot`) untouched."""

    last: list[Any] = []  # [the sources' item lists, as-of, expected, the ApiState made of them]

    def get() -> ApiState:
        as_of, origin, _ = runtime.as_of_origin()
        expected = runtime.expected(as_of)
        states = list(runtime.states.values())
        lists = [s.items for s in states]  # a fetch replaces the list: identity tells a change
        if (
            last
            and last[1:3] == [as_of, expected]
            and all(a is b for a, b in zip(last[0], lists, strict=True))
        ):
            evaluated, ordered = last[3].evaluated, last[3].ordered()
        else:
            evaluated = evaluate(runtime.items(), expected, runtime.config.thresholds)
            ordered = None
        state = ApiState(
            as_of=as_of,
            expected=expected,
            evaluated=evaluated,
            as_of_source=origin,
            sources=[SourceInfo(s.name, s.ok, len(s.items), s.last_success, s.is_stale()) for s in states],
            counties=[s.spec.county for s in states],
            load_alerts=lambda: runtime.alert_records(ALERT_STATES),
            _ordered=ordered,
        )
        last[:] = [lists, as_of, expected, state]
        return state

    return get


# -- the bodies ----------------------------------------------------------------------------
def _head(state: ApiState) -> dict[str, Any]:
    return {
        "api": API,
        "schema": SCHEMA,
        "as_of": state.as_of.isoformat(),
        "as_of_source": state.as_of_source,
        "expected": round(state.expected, 6),
        "taken_at": state.taken_at.isoformat(timespec="seconds"),
    }


def _percent(fraction: float | None) -> float | None:
    """A fraction as the bulletin's percent number (0.32 → 32.0), to 10 decimals so that the
    REST source's percent / 100 gives back the very float a bulletin's `32.0%` parses to."""
    if fraction is None or not math.isfinite(fraction):
        return None
    return round(fraction * 100, 10)


def item_record(e: Evaluated, as_of: date) -> dict[str, Any]:
    """One item as the API writes it: the bulletin's columns, then status and dates."""
    it = e.item
    return {
        "序号": it.id,
        "实事类别": it.category,
        "项目名称": it.name,
        "牵头单位": it.unit,
        "任务数": target_cell(it),
        "计量单位": it.measure,
        "进度情况": progress_cell(it),
        "完成比例": _percent(it.ratio),
        "序时进度": _percent(e.expected),
        "状态": e.status.label,
        "status": e.status.value,
        "截止日期": (it.as_of or as_of).isoformat(),
        "县市区": it.county,
    }


def alert_record(a: AlertRecord) -> dict[str, Any]:
    return {
        "key": a.key,
        "rule": a.rule,
        "item_id": a.item_id,
        "item_name": a.item_name,
        "unit": a.unit,
        "severity": a.severity,
        "severity_label": SEVERITY_LABELS.get(a.severity, a.severity),
        "level": a.level_name,
        "level_label": a.level_label,
        "state": a.effective_state(date.today()),
        "state_label": STATE_LABELS.get(a.effective_state(date.today()), a.state),
        "message": a.message,
        "first_fired": _iso(a.first_fired),
        "last_sent": _iso(a.last_sent),
        "silenced_until": a.silenced_until.isoformat() if a.silenced_until else None,
        "acknowledged_by": a.acknowledged_by,
        "comment": a.comment,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    """`2` before `10`: ids as a bulletin numbers them (a stable order for the pages)."""
    if text.isascii() and text.isdigit():  # most ids: no regex (int("²") would raise)
        return ((0, int(text), ""),)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p)


def items_body(state: ApiState, page: int, size: int, path: str) -> dict[str, Any]:
    ordered = state.ordered()
    rows = ordered[(page - 1) * size : page * size]
    return {
        **_head(state),
        **_paging(len(ordered), page, size, path, {}),
        "items": [item_record(e, state.as_of) for e in rows],
    }


def summary_body(state: ApiState) -> dict[str, Any]:
    today = date.today()
    open_by_unit: dict[str, int] = {}
    levels = dict.fromkeys(LEVEL_LABELS.values(), 0)
    for a in state.alert_list():
        if a.effective_state(today) == "open":
            open_by_unit[a.unit] = open_by_unit.get(a.unit, 0) + 1
        if a.effective_state(today) in UNRESOLVED:
            levels[a.level_label] = levels.get(a.level_label, 0) + 1
    units = summarise_units(state.evaluated, open_by_unit)
    return {
        **_head(state),
        "items": len(state.evaluated),
        "by_status": count_by_status(state.evaluated),
        "open_alerts": sum(open_by_unit.values()),
        # Unresolved alerts (open, acknowledged, silenced) by ladder level.
        "alerts_by_level": levels,
        "by_unit": [
            {
                "unit": u.unit,
                "items": u.items,
                "done": u.done,
                "on_track": u.on_track,
                "lagging": u.lagging,
                "severe": u.severe,
                "unknown": u.unknown,
                "open_alerts": u.open_alerts,
            }
            for u in units
        ],
        "by_county": by_county(state.evaluated, state.counties),
        "sources": [
            {
                "name": s.name,
                "ok": bool(s.ok),
                "items": s.items,
                "last_success": _iso(s.last_success),
                "stale": s.stale,
            }
            for s in state.sources
        ],
    }


def alerts_body(state: ApiState, states: Iterable[str], page: int, size: int, path: str) -> dict[str, Any]:
    wanted = set(states)
    today = date.today()
    chosen = [a for a in state.alert_list() if a.effective_state(today) in wanted]
    chosen.sort(key=lambda a: (-a.level, a.key))  # 督办 first; by key for stable pages
    rows = chosen[(page - 1) * size : page * size]
    extra = {} if wanted == set(UNRESOLVED) else {"state": ",".join(s for s in ALERT_STATES if s in wanted)}
    return {
        **_head(state),
        **_paging(len(chosen), page, size, path, extra),
        "alerts": [alert_record(a) for a in rows],
    }


def _paging(total: int, page: int, size: int, path: str, extra: dict[str, str]) -> dict[str, Any]:
    pages = max(1, -(-total // size))
    nxt = f"{path}?{urlencode({**extra, 'page': page + 1, 'size': size})}" if page < pages else None
    return {"page": page, "size": size, "total": total, "pages": pages, "next": nxt}


# -- requests ------------------------------------------------------------------------------
class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=strict_json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _error(exc: ApiError) -> web.Response:
    body = {"api": API, "schema": SCHEMA, "status": exc.status, "error": exc.message, "param": exc.param}
    headers = {"WWW-Authenticate": 'Bearer realm="dashboard"'} if exc.status == 401 else None
    return _json(body, exc.status, headers)


def _one(request: web.Request, name: str) -> str | None:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise ApiError(400, f"参数 {name} 出现了 {len(values)} 次，只能给一次 given more than once", name)
    return values[0] if values else None


def _int_param(request: web.Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = _one(request, name)
    if raw is None:
        return default
    shown = raw[:40]
    if not _DIGITS.match(raw) or int(raw) < 1:
        raise ApiError(400, f"参数 {name} 应为不小于 1 的整数，实为 {shown!r} must be an integer ≥ 1", name)
    value = int(raw)
    if maximum is not None and value > maximum:
        raise ApiError(400, f"参数 {name} 最大为 {maximum}，实为 {shown} must be at most {maximum}", name)
    return value


def _paging_params(request: web.Request) -> tuple[int, int]:
    return _int_param(request, "page", 1), _int_param(request, "size", DEFAULT_SIZE, MAX_SIZE)


def _states_param(request: web.Request) -> tuple[str, ...]:
    raw = _one(request, "state")
    if raw is None:
        return UNRESOLVED
    if raw == "all":
        return ALERT_STATES
    chosen = tuple(s.strip() for s in raw.split(","))
    bad = [s for s in chosen if s not in ALERT_STATES]
    if bad:
        raise ApiError(
            400,
            f"参数 state 不认识 {bad[0][:40]!r}，应为 {'、'.join(ALERT_STATES)} 或 all（可用逗号分隔）",
            "state",
        )
    return chosen


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


def check_token(request: web.Request, token: str | None) -> None:
    """With a token, every request must carry it (`Authorization: Bearer <token>`, as the REST
    source sends `token_env`, or `X-Dashboard-Token`): 401 without, 403 for a wrong one, as
    `dashboard serve`'s page (dashboard.webauth). Without a token only a connection made to a
    loopback address is answered: a server bound elsewhere with no token refuses everyone."""
    if not token:
        sock = request.transport.get_extra_info("sockname") if request.transport else None
        if not (isinstance(sock, tuple) and _is_loopback(str(sock[0]))):
            raise ApiError(
                401, "此服务器未设置访问令牌，只接受本机访问 no access token set: loopback only", "token"
            )
        return
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        given = request.headers.get(TOKEN_HEADER, "")
    if not given.strip():
        raise ApiError(
            401,
            f"需要访问令牌：Authorization: Bearer <令牌> 或 {TOKEN_HEADER} access token required",
            "token",
        )
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(403, "访问令牌不正确 wrong access token", "token")


Handler = Callable[[web.Request, ApiState], dict[str, Any]]


def _endpoint(get_state: StateGetter, token: str | None, guarded: bool, build: Handler) -> Callable[..., Any]:
    async def handle(request: web.Request) -> web.Response:
        try:
            if not guarded:
                check_token(request, token)
            body = build(request, await _read_state(get_state))
        except ApiError as exc:
            return _error(exc)
        return _json(body)

    return handle


async def _read_state(get_state: StateGetter) -> ApiState:
    """A plain function runs in a worker thread: evaluating 100,000 items must not stall the
    server's other sessions; a coroutine function is awaited."""
    if inspect.iscoroutinefunction(get_state):
        result: Any = await get_state()
    else:
        result = await asyncio.to_thread(get_state)
        if inspect.isawaitable(result):
            result = await result
    if not isinstance(result, ApiState):
        raise TypeError(f"get_state returned {type(result).__name__}, not ApiState")
    return result


def add_api_routes(
    app: web.Application,
    get_state: StateGetter | Runtime,
    *,
    token: str | None = None,
    guarded: bool = False,
) -> None:
    """Mount `GET /api/v1/items`, `/api/v1/summary`, `/api/v1/alerts` (and a JSON 404 for
    any other `/api/…` path) on `app`. `get_state` returns an ApiState (or an awaitable of
    one) and must not fetch sources; a Runtime is read through `runtime_state`. `token` is
    the access token (see `check_token`); `guarded=True` when `app` checks every request
    itself (dashboard serve's guard, with the page's token), so the API checks nothing more."""
    if not callable(get_state):
        get_state = runtime_state(get_state)
    state_of: StateGetter = get_state

    def items(request: web.Request, state: ApiState) -> dict[str, Any]:
        page, size = _paging_params(request)
        return items_body(state, page, size, request.path)

    def summary(request: web.Request, state: ApiState) -> dict[str, Any]:
        return summary_body(state)

    def alerts(request: web.Request, state: ApiState) -> dict[str, Any]:
        chosen = _states_param(request)
        page, size = _paging_params(request)
        return alerts_body(state, chosen, page, size, request.path)

    async def unknown(request: web.Request) -> web.Response:
        try:
            if not guarded:
                check_token(request, token)
        except ApiError as exc:
            return _error(exc)
        paths = "、".join(f"/api/{API}/{p}" for p in ("items", "summary", "alerts"))
        return _error(ApiError(404, f"没有这个接口 {request.path[:80]}，可用: {paths}"))

    app.router.add_get(f"/api/{API}/items", _endpoint(state_of, token, guarded, items))
    app.router.add_get(f"/api/{API}/summary", _endpoint(state_of, token, guarded, summary))
    app.router.add_get(f"/api/{API}/alerts", _endpoint(state_of, token, guarded, alerts))
    app.router.add_get("/api/{tail:.*}", unknown)


# -- running alone -------------------------------------------------------------------------
def make_api_app(
    config_path: str | None = None, *, token: str | None = None, refresh: bool = True
) -> web.Application:
    """An application serving only the API over the config's runtime: the store's last good
    items at once; with `refresh`, every source fetched once at start-up (no alerts are
    evaluated or sent here: that stays with `dashboard check` and the TUI)."""
    from dashboard.config import load_config
    from dashboard.runtime import Runtime

    runtime = Runtime(load_config(config_path))
    app = web.Application()
    add_api_routes(app, runtime_state(runtime), token=token)

    async def start(_: web.Application) -> None:
        if refresh:
            await runtime.refresh_all()

    async def stop(_: web.Application) -> None:
        runtime.close()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app


async def _serve(args: argparse.Namespace, token: str | None) -> None:
    app = make_api_app(args.config, token=token, refresh=not args.no_refresh)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    for host, port, *_ in runner.addresses:
        print(f"API 已启动 listening on http://{host}:{port}/api/{API}/", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m dashboard.webapi", description="只读接口 /api/v1 the read API"
    )
    p.add_argument("--config", metavar="PATH", help="dashboard.toml")
    p.add_argument("--host", default="127.0.0.1", help="监听地址，默认本机 127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="端口，0 为任选空闲端口")
    p.add_argument("--token-env", metavar="VAR", help="存放访问令牌的环境变量名（非本机地址时必需）")
    p.add_argument("--no-refresh", action="store_true", help="启动时不读取数据源，只用存储中的数据")
    args = p.parse_args(argv)
    token = None
    if args.token_env:
        token = os.environ.get(args.token_env) or None
        if token is None:
            print(f"配置错误: 环境变量 {args.token_env} 未设置或为空 (--token-env)", file=sys.stderr)
            return 2
    if token is None and not _is_loopback(args.host):
        print(
            f"配置错误: 监听非本机地址 {args.host} 需要访问令牌（--token-env VAR） "
            "a non-loopback host requires an access token",
            file=sys.stderr,
        )
        return 2
    from dashboard.contracts import ConfigError

    try:
        asyncio.run(_serve(args, token))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
