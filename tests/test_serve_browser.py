"""The must-show of `dashboard serve`: the page in headless Chromium draws the app.

How the figures are checked: Chromium is driven over the Chrome DevTools Protocol; every
websocket frame the page receives (Network.webSocketFrameReceived, the bytes xterm.js
draws) is replayed into a terminal grid at the size the page asked for, and the
headline's large digits are read back from Textual's Digits glyphs. No OCR: exact.
The screenshot (Page.captureScreenshot) is written next to the test's files and its
path printed. Skipped where Chromium or textual-serve is missing (.ci/run installs both).
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import SAMPLE_CSV
from serve_helpers import Terminal, headline_figures, served

aiohttp = pytest.importorskip(
    "aiohttp", reason="dashboard serve 需要 textual-serve（pip install '.[serve]'）"
)
pytest.importorskip("textual_serve", reason="dashboard serve 需要 textual-serve（pip install '.[serve]'）")
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="没有 Chromium：apt-get install -y chromium（.ci/run 会安装）no Chromium on PATH"
)

HEADLINE = {"总数": "45", "已完成": "25", "正常": "19", "滞后": "0", "严重滞后": "1"}


class Page:
    """One Chromium tab over CDP, and the terminal its websocket frames draw."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.terminal: Terminal | None = None
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.reader = asyncio.create_task(self._read())

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[self.next_id] = fut
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        return await asyncio.wait_for(fut, 20)

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self.replies:
                self.replies.pop(data["id"]).set_result(data.get("result", {}))
                continue
            method, params = data.get("method"), data.get("params", {})
            if method == "Network.webSocketCreated" and "/ws" in params["url"]:
                q = parse_qs(urlparse(params["url"]).query)
                self.terminal = Terminal(int(q["width"][0]), int(q["height"][0]))
            elif method == "Network.webSocketFrameSent" and self.terminal is not None:
                payload = params["response"]["payloadData"]
                if payload.startswith('["resize"'):
                    size = json.loads(payload)[1]
                    self.terminal.resize(size["width"], size["height"])  # the app redraws all of it
            elif method == "Network.webSocketFrameReceived" and self.terminal is not None:
                frame = params["response"]
                if frame["opcode"] == 2:  # binary: terminal output (text frames are meta)
                    self.terminal.feed(self.decoder.decode(base64.b64decode(frame["payloadData"])))

    async def wait_for(self, check: Any, what: str, seconds: float = 25.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.terminal is not None and check(self.terminal):
                return
            await asyncio.sleep(0.2)
        shown = self.terminal.text() if self.terminal else "(no websocket)"
        raise AssertionError(f"{what} not shown within {seconds:g} s; the page shows:\n{shown}")

    async def press(self, key: str) -> None:
        await self.call(
            "Runtime.evaluate", expression="document.querySelector('.xterm-helper-textarea').focus()"
        )
        code = f"Key{key.upper()}"
        for kind in ("keyDown", "keyUp"):
            await self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                text=key if kind == "keyDown" else "",
                windowsVirtualKeyCode=ord(key.upper()),
            )


def chromium(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    profile = tmp_path / "chromium-profile"
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-dev-shm-usage",  # CI containers have a small /dev/shm
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "--window-size=1500,900",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    for _ in range(200):
        if port_file.exists() and port_file.read_text().strip():
            return proc, int(port_file.read_text().splitlines()[0])
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("Chromium did not open its DevTools port")


def alert_rows(store: Path) -> dict[str, list[tuple[Any, ...]]]:
    """What acknowledging or silencing would change: the alerts, the trail, silences, cases."""
    with sqlite3.connect(store) as conn:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in ("alert_state", "audit_trail", "silences", "cases")
        }


async def test_the_page_in_chromium_shows_the_headline_and_a_changes_nothing_read_only(
    tmp_path: Path,
) -> None:
    store = tmp_path / "store.sqlite3"
    sink = tmp_path / "alerts.jsonl"
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'as_of = "2024-09-30"\n[store]\npath = {json.dumps(str(store))}\n'
        f'[[sinks]]\ntype = "jsonl"\npath = {json.dumps(str(sink))}\n'
        f'[[sources]]\nname = "通报"\ntype = "csv"\npath = {json.dumps(str(SAMPLE_CSV))}\n',
        encoding="utf-8",
    )
    browser, cdp_port = chromium(tmp_path)
    try:
        with served(config) as (base, _):
            async with aiohttp.ClientSession() as http:
                targets = await (await http.get(f"http://127.0.0.1:{cdp_port}/json/list")).json()
                target = next(t for t in targets if t["type"] == "page")
                async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    page = Page(ws)
                    await page.call("Network.enable")
                    await page.call("Page.enable")
                    await page.call("Page.navigate", url=base + "/")
                    await page.wait_for(
                        lambda t: headline_figures(t.cells) == HEADLINE, "45 / 25 / 19 / 0 / 1"
                    )
                    shot = await page.call("Page.captureScreenshot", format="png")
                    png = tmp_path / "serve-browser.png"
                    png.write_bytes(base64.b64decode(shot["data"]))
                    print(f"\nscreenshot of dashboard serve in Chromium: {png}")
                    assert png.stat().st_size > 10_000  # a drawn page, not a blank one

                    # Read-only: `a` on the alerts screen is refused and the store stays as it was.
                    for _ in range(100):  # the refresher's cycle ends with the delivery
                        if sink.exists() and sink.read_text(encoding="utf-8").count("severe:45"):
                            break
                        await asyncio.sleep(0.1)
                    before = alert_rows(store)
                    assert [r for r in before["alert_state"] if "severe:45" in map(str, r)]
                    await page.press("w")
                    await page.wait_for(
                        lambda t: "预警 Alerts" in t.text() or "级别" in t.text(), "the alerts screen"
                    )
                    await page.press("a")
                    await page.wait_for(lambda t: "只读模式" in t.text(), "只读模式 (the refusal)")
                    assert alert_rows(store) == before
                    page.reader.cancel()
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
