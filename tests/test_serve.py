"""`dashboard serve` without a browser: the token on the page and the websocket, other
origins refused, one refresher for every tab, kiosk from the URL. Real processes on
free loopback ports, real websockets (aiohttp, as the page's own script speaks them)."""

from __future__ import annotations

import asyncio
import codecs
import json
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_CSV, run_cli, sample_rows, write_csv
from pytest_httpserver import HTTPServer
from serve_helpers import Terminal, headline_figures, served
from werkzeug import Request, Response

from dashboard.webauth import TokenCheck, Verdict, is_loopback, resolve_token

aiohttp = pytest.importorskip(
    "aiohttp", reason="dashboard serve 需要 textual-serve（pip install '.[serve]'）"
)
pytest.importorskip("textual_serve", reason="dashboard serve 需要 textual-serve（pip install '.[serve]'）")

HEADLINE = {"总数": "45", "已完成": "25", "正常": "19", "滞后": "0", "严重滞后": "1"}
TOKEN = "correct-horse-battery-staple"


class Session:
    """One browser tab's websocket: keys in, the terminal it draws out."""

    def __init__(self, ws: Any, width: int = 160, height: int = 45) -> None:
        self.ws = ws
        self.terminal = Terminal(width, height)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.pongs: list[Any] = []

    async def pump(self, seconds: float = 0.2) -> None:
        try:
            msg = await self.ws.receive(timeout=seconds)
        except asyncio.TimeoutError:
            return
        if msg.type == aiohttp.WSMsgType.BINARY:
            self.terminal.feed(self.decoder.decode(msg.data))
        elif msg.type == aiohttp.WSMsgType.TEXT and msg.data.startswith('["pong"'):
            self.pongs.append(json.loads(msg.data)[1])
        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
            raise AssertionError(f"session closed: {msg}")

    async def wait_for(self, check: Callable[[Terminal], bool], what: str, seconds: float = 25.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check(self.terminal):
                return
            await self.pump()
        raise AssertionError(f"{what} not shown within {seconds:g} s:\n{self.terminal.text()}")

    async def keys(self, text: str) -> None:
        await self.ws.send_str(json.dumps(["stdin", text]))


def ws_url(base: str, path: str = "/ws") -> str:
    return base.replace("http://", "ws://") + path + "?width=160&height=45"


def sample_config(folder: Path, source: str = "", sink: Path | None = None) -> Path:
    source = source or f'type = "csv"\npath = {json.dumps(str(SAMPLE_CSV))}'
    sinks = f'[[sinks]]\ntype = "jsonl"\npath = {json.dumps(str(sink))}\n' if sink else ""
    config = folder / "dashboard.toml"
    config.write_text(
        f'as_of = "2024-09-30"\n[store]\npath = {json.dumps(str(folder / "store.sqlite3"))}\n'
        f'{sinks}[[sources]]\nname = "通报"\n{source}\n',
        encoding="utf-8",
    )
    return config


def test_loopback_and_token_checks() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20") and not is_loopback("dashboard.lan")
    check = TokenCheck(TOKEN)
    assert check.check() is Verdict.MISSING
    assert check.check(query="nope") is Verdict.WRONG
    assert check.check(header=f"Bearer {TOKEN}") is Verdict.OK
    assert check.check(cookie=check.cookie_value) is Verdict.OK
    assert check.check(cookie=TOKEN) is Verdict.WRONG  # the cookie is derived, not the token
    assert resolve_token("127.0.0.1", None, {}) is None
    assert resolve_token("0.0.0.0", "ZB_T", {"ZB_T": TOKEN}) == TOKEN


def test_a_host_off_loopback_without_a_token_exits_2_naming_the_variable(tmp_path: Path) -> None:
    config = sample_config(tmp_path)
    env = {"DASHBOARD_SERVE_TOKEN": "", "ZB_SERVE_TOKEN": ""}
    result = run_cli("serve", "--config", str(config), "--host", "0.0.0.0", "--port", "9", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "需要访问令牌" in result.stderr and "DASHBOARD_SERVE_TOKEN" in result.stderr
    result = run_cli(
        "serve", "--config", str(config), "--host", "0.0.0.0", "--token-env", "ZB_SERVE_TOKEN", env=env
    )
    assert result.returncode == 2 and "ZB_SERVE_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_exits_2_with_the_address(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--config", str(sample_config(tmp_path)), "--port", str(port))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"无法监听 cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr


async def test_the_token_guards_page_and_websocket_and_other_origins_are_refused(tmp_path: Path) -> None:
    config = sample_config(tmp_path)
    with served(config, "--token-env", "ZB_SERVE_TOKEN", env={"ZB_SERVE_TOKEN": TOKEN}) as (base, proc):
        jar = aiohttp.DummyCookieJar()  # cookies by hand: each request says exactly what it carries
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            r = await http.get(base + "/", allow_redirects=False)
            assert r.status == 401 and "需要访问令牌" in await r.text()
            r = await http.get(base + "/?token=not-the-token", allow_redirects=False)
            assert r.status == 403 and "访问令牌不正确" in await r.text()
            r = await http.get(base + "/static/js/textual.js", allow_redirects=False)
            assert r.status == 401
            r = await http.get(base + f"/?token={TOKEN}&fontsize=18", allow_redirects=False)
            assert r.status == 303 and r.headers["Location"] == "/?fontsize=18"  # the token leaves the URL
            cookie = r.cookies["zhuanban_session"]
            assert cookie.value != TOKEN and cookie["httponly"]
            cookies = {"Cookie": f"zhuanban_session={cookie.value}"}
            r = await http.get(base + "/", headers=cookies)
            assert r.status == 200 and f'"{ws_url(base).split("?")[0]}"' in await r.text()

            # A good session first: it must stay untouched by the refusals that follow.
            good = Session(await http.ws_connect(ws_url(base), headers={**cookies, "Origin": base}))
            await good.wait_for(lambda t: headline_figures(t.cells) == HEADLINE, "the headline")
            refusals = [
                ({}, 401, "需要访问令牌"),
                ({"Authorization": "Bearer not-the-token"}, 403, "访问令牌不正确"),
                ({**cookies, "Origin": "http://evil.example"}, 403, "来源不符"),
                ({"Authorization": f"Bearer {TOKEN}", "Origin": "http://127.0.0.1:1"}, 403, "来源不符"),
            ]
            for headers, status, text in refusals:
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(ws_url(base), headers=headers)
                assert refused.value.status == status, headers
                r = await http.get(
                    ws_url(base),
                    headers={**headers, "Connection": "Upgrade", "Upgrade": "websocket"},
                )
                assert text in await r.text()
            # A script with the header and no Origin (not a browser) is let in by the token.
            script = await http.ws_connect(ws_url(base), headers={"Authorization": f"Bearer {TOKEN}"})
            await script.close()

            await good.ws.send_str(json.dumps(["ping", "after-refusals"]))
            await good.wait_for(lambda t: bool(good.pongs), "the pong")
            assert good.pongs == ["after-refusals"] and not good.ws.closed
            await good.keys("u")  # and it still answers keys: the lead units screen
            await good.wait_for(lambda t: "牵头单位" in t.text() and "公安局交警大队" in t.text(), "牵头单位")
            await good.ws.close()
    out = proc.stdout.read() if proc.stdout else ""
    assert "需要访问令牌" in out and "ZB_SERVE_TOKEN" in out
    assert TOKEN not in out + (proc.stderr.read() if proc.stderr else "")


def alert_state(store: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(store) as conn:
        return conn.execute("SELECT * FROM alert_state ORDER BY key").fetchall()


async def test_two_tabs_fetch_once_and_deliver_once(httpserver: HTTPServer, tmp_path: Path) -> None:
    header, *rows = sample_rows()
    records = [dict(zip(header, row, strict=True)) for row in rows]
    requests: list[str] = []

    def items(request: Request) -> Response:
        requests.append(request.path)
        return Response(json.dumps(records, ensure_ascii=False), content_type="application/json")

    httpserver.expect_request("/api/items").respond_with_handler(items)
    sink = tmp_path / "alerts.jsonl"
    source = f'type = "rest"\nurl = {json.dumps(httpserver.url_for("/api/items"))}\nrefresh = "1h"'
    config = sample_config(tmp_path, source, sink)
    with served(config) as (base, _):
        for _ in range(300):  # the refresher's first cycle ends with the delivery
            if sink.exists() and "severe:45" in sink.read_text(encoding="utf-8"):
                break
            await asyncio.sleep(0.1)
        lines = sink.read_text(encoding="utf-8").splitlines()
        assert len(requests) == 1 and [json.loads(x)["key"] for x in lines] == ["severe:45"]
        async with aiohttp.ClientSession() as http:
            # No token: only loopback names (a rebound DNS name pointing here is refused).
            r = await http.get(base + "/", headers={"Host": "evil.example"})
            assert r.status == 403 and "只接受本机地址" in await r.text()
            page = await (await http.get(base + "/?kiosk=1")).text()
            assert f'"{ws_url(base, "/ws/kiosk").split("?")[0]}"' in page
            tabs = [
                Session(await http.ws_connect(ws_url(base), headers={"Origin": base})),
                Session(await http.ws_connect(ws_url(base, "/ws/kiosk"), headers={"Origin": base})),
            ]
            for tab in tabs:
                await tab.wait_for(lambda t: headline_figures(t.cells) == HEADLINE, "the headline")
            await tabs[1].wait_for(lambda t: "轮播 ▶" in t.text(), "轮播 ▶ (kiosk from the URL)")
            # `r` in each tab: a TUI would fetch every source again; a tab re-reads the store.
            for tab in tabs:
                await tab.keys("r")
            for tab in tabs:
                await tab.wait_for(lambda t: "已刷新 1 个数据源" in t.text(), "已刷新")
            # Read-only: `a` on the alerts screen is refused; the alert stays open.
            before = alert_state(tmp_path / "store.sqlite3")
            await tabs[0].keys("w")
            await tabs[0].wait_for(lambda t: "级别" in t.text(), "the alerts screen")
            await tabs[0].keys("a")
            await tabs[0].wait_for(lambda t: "只读模式" in t.text(), "只读模式")
            assert alert_state(tmp_path / "store.sqlite3") == before
            for tab in tabs:
                await tab.ws.close()
        assert len(requests) == 1  # two tabs and two `r`: still the one fetch of the refresher
        assert sink.read_text(encoding="utf-8").splitlines() == lines  # and the one delivery


async def test_allow_actions_lets_a_tab_acknowledge_in_the_shared_store(
    tmp_path: Path,
) -> None:
    sink = tmp_path / "alerts.jsonl"
    store = tmp_path / "store.sqlite3"
    config = sample_config(tmp_path, sink=sink)
    with served(config, "--allow-actions") as (base, _):
        async with aiohttp.ClientSession() as http:
            tab = Session(await http.ws_connect(ws_url(base), headers={"Origin": base}))
            await tab.wait_for(lambda t: headline_figures(t.cells) == HEADLINE, "the headline")
            for _ in range(300):  # the alert is in the store once the refresher has delivered it
                if sink.exists() and "severe:45" in sink.read_text(encoding="utf-8"):
                    break
                await asyncio.sleep(0.1)
            await tab.keys("w")
            await tab.wait_for(lambda t: "级别" in t.text(), "the alerts screen")
            await tab.keys("a")
            await tab.wait_for(lambda t: "确认人" in t.text(), "the acknowledge dialog")
            await tab.keys("\r")  # Enter: acknowledged by the default author
            deadline = time.monotonic() + 20
            states = [r[6] for r in alert_state(store) if r[0] == "severe:45"]
            while states != ["acknowledged"] and time.monotonic() < deadline:
                await tab.pump()
                states = [r[6] for r in alert_state(store) if r[0] == "severe:45"]
            assert states == ["acknowledged"]
            await tab.ws.close()


async def test_a_tab_follows_the_refresher_when_the_bulletin_changes(tmp_path: Path) -> None:
    rows = sample_rows()
    bulletin = write_csv(tmp_path / "通报.csv", rows)
    sink = tmp_path / "alerts.jsonl"
    config = sample_config(tmp_path, f'type = "csv"\npath = {json.dumps(str(bulletin))}', sink)
    with served(config) as (base, _):
        async with aiohttp.ClientSession() as http:
            tab = Session(await http.ws_connect(ws_url(base), headers={"Origin": base}))
            await tab.wait_for(lambda t: headline_figures(t.cells) == HEADLINE, "the headline")
            for _ in range(300):  # the first cycle's delivery: severe:45 is not new to the tab
                if sink.exists() and "severe:45" in sink.read_text(encoding="utf-8"):
                    break
                await asyncio.sleep(0.1)
            # Item 44 (应急管理局) falls to 10%: the refresher sees the file, the tab the store.
            changed = [[*row[:-1], "10.0%"] if row[0] == "44" else row for row in rows]
            write_csv(bulletin, changed)
            severe_two = {**HEADLINE, "正常": "18", "严重滞后": "2"}
            await tab.wait_for(
                lambda t: headline_figures(t.cells) == severe_two, "19 → 18 on track, 2 severe"
            )
            await tab.wait_for(lambda t: "新预警" in t.text() and "[44]" in t.text(), "新预警 … [44]")
            await tab.ws.close()
    keys = [json.loads(line)["key"] for line in sink.read_text(encoding="utf-8").splitlines()]
    assert keys == ["severe:45", "severe:44"]  # each delivered once, by the refresher
