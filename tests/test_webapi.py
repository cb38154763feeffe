"""The read API /api/v1 (dashboard.webapi) over the bundled sample, on a real aiohttp server
on loopback (aiohttp's test server), a real store and, for the token, a real non-loopback
address of this machine."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiohttp")

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient, TestServer
from conftest import SAMPLE_COUNTS, SAMPLE_CSV, run_cli, sample_rows, write_csv
from pytest_httpserver import HTTPServer

from dashboard.config import load_config
from dashboard.runtime import Runtime
from dashboard.webapi import MAX_SIZE, ApiState, add_api_routes, items_body, make_api_app, runtime_state

ITEM45 = "重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)"


def sample_config(config_writer: Callable[..., Path]) -> Path:
    return config_writer([{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])


async def get_json(client: TestClient, path: str) -> tuple[int, dict[str, Any]]:
    resp = await client.get(path)
    assert resp.headers["Content-Type"].startswith("application/json")
    return resp.status, json.loads(await resp.text())  # strict JSON: json.loads takes it as is


async def test_items_are_the_bulletins_columns_in_pages_the_rest_source_reads(
    config_writer: Callable[..., Path],
) -> None:
    async with TestClient(TestServer(make_api_app(str(sample_config(config_writer))))) as client:
        pages = []
        path: str | None = "/api/v1/items?size=20"
        while path:
            status, body = await get_json(client, path)
            assert status == 200
            pages.append(body)
            path = body["next"]
    assert [len(p["items"]) for p in pages] == [20, 20, 5]
    first = pages[0]
    assert (first["api"], first["schema"], first["total"], first["pages"]) == ("v1", 1, 45, 3)
    assert (first["as_of"], first["expected"]) == ("2024-09-30", 0.75)
    items = [i for p in pages for i in p["items"]]
    assert [i["序号"] for i in items] == [str(n) for n in range(1, 46)]  # the bulletin's order
    statuses = [i["status"] for i in items]
    assert {s: statuses.count(s) for s in SAMPLE_COUNTS} == SAMPLE_COUNTS
    item45 = items[44]
    assert item45 == {
        "序号": "45",
        "实事类别": "湘潭市实事",
        "项目名称": ITEM45,
        "牵头单位": "公安局交警大队",
        "任务数": 22,
        "计量单位": "",
        "进度情况": "已完成隐患整改7处",
        "完成比例": 32.0,
        "序时进度": 75.0,
        "状态": "严重滞后",
        "status": "severe",
        "截止日期": "2024-09-30",
        "县市区": "",
    }
    # A rate target stays as written; the header names are the CSV's own.
    assert items[0]["任务数"] == "不低于700元/月"
    assert set(sample_rows()[0]) <= set(item45)


async def test_summary_has_the_headline_counts_and_the_worst_unit_first(
    config_writer: Callable[..., Path],
) -> None:
    async with TestClient(TestServer(make_api_app(str(sample_config(config_writer))))) as client:
        status, body = await get_json(client, "/api/v1/summary")
    assert status == 200
    assert (body["api"], body["schema"], body["items"], body["by_status"]) == ("v1", 1, 45, SAMPLE_COUNTS)
    assert body["by_unit"][0] == {
        "unit": "公安局交警大队",
        "items": 1,
        "done": 0,
        "on_track": 0,
        "lagging": 0,
        "severe": 1,
        "unknown": 0,
        "open_alerts": 0,
    }
    assert sum(u["items"] for u in body["by_unit"]) == 45
    assert body["by_county"] == {}
    assert body["sources"][0]["name"] == "通报" and body["sources"][0]["items"] == 45


async def test_alerts_lists_the_stores_open_alerts_with_their_level(
    config_writer: Callable[..., Path],
) -> None:
    config = sample_config(config_writer)
    done = run_cli("check", "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    fired = [e["key"] for e in json.loads(done.stdout)["alerts"]["fired"]]
    assert "severe:45" in fired
    # refresh=False: the API shows what the store holds, no fetch.
    async with TestClient(TestServer(make_api_app(str(config), refresh=False))) as client:
        status, body = await get_json(client, "/api/v1/alerts")
        _, summary = await get_json(client, "/api/v1/summary")
        _, resolved = await get_json(client, "/api/v1/alerts?state=resolved")
    assert status == 200 and body["api"] == "v1"
    assert sorted(a["key"] for a in body["alerts"]) == sorted(fired) and body["total"] == len(fired)
    severe = next(a for a in body["alerts"] if a["key"] == "severe:45")
    assert (severe["level"], severe["level_label"], severe["state"]) == ("remind", "提醒", "open")
    assert (severe["unit"], severe["item_id"], severe["severity"]) == ("公安局交警大队", "45", "critical")
    assert summary["open_alerts"] == len(fired) and summary["alerts_by_level"]["提醒"] == len(fired)
    assert summary["by_unit"][0]["open_alerts"] >= 1  # 公安局交警大队's severe:45
    assert resolved["alerts"] == [] and resolved["total"] == 0


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("size=10^9", "size"),
        ("size=1000000000", "size"),
        (f"size={MAX_SIZE + 1}", "size"),
        ("page=1&page=2", "page"),
    ],
)
async def test_a_malformed_query_is_a_400_naming_the_parameter(
    config_writer: Callable[..., Path], query: str, param: str
) -> None:
    async with TestClient(TestServer(make_api_app(str(sample_config(config_writer))))) as client:
        status, body = await get_json(client, f"/api/v1/items?{query}")
        ok, whole = await get_json(client, f"/api/v1/items?size={MAX_SIZE}")  # the server is unharmed
    assert status == 400
    assert body["param"] == param and f"参数 {param}" in body["error"] and body["api"] == "v1"
    assert ok == 200 and len(whole["items"]) == 45


async def test_unknown_state_and_unknown_path_are_json_errors(config_writer: Callable[..., Path]) -> None:
    async with TestClient(TestServer(make_api_app(str(sample_config(config_writer))))) as client:
        status, body = await get_json(client, "/api/v1/alerts?state=gone")
        missing, nothing = await get_json(client, "/api/v2/items")
    assert status == 400 and body["param"] == "state" and "gone" in body["error"]
    assert missing == 404 and "/api/v1/items" in nothing["error"]


async def test_reading_the_api_never_fetches_a_source(
    httpserver: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    header, *rows = sample_rows()
    httpserver.expect_request("/bulletin").respond_with_json(
        [dict(zip(header, r, strict=True)) for r in rows]
    )
    config = config_writer([{"name": "省平台", "type": "rest", "url": httpserver.url_for("/bulletin")}])
    async with TestClient(TestServer(make_api_app(str(config)))) as client:
        fetched = len(httpserver.log)
        for path in ("/api/v1/items", "/api/v1/summary", "/api/v1/alerts", "/api/v1/items?page=2"):
            status, _ = await get_json(client, path)
            assert status == 200
        _, body = await get_json(client, "/api/v1/summary")
    assert fetched == 1  # the one fetch at start-up
    assert len(httpserver.log) == 1
    assert body["by_status"] == SAMPLE_COUNTS


def _lan_address() -> str | None:
    """This machine's own non-loopback IPv4 address (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
        except OSError:
            return None
        address = str(s.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


async def _lan_server(token: str | None) -> tuple[web.AppRunner, str]:
    address = _lan_address()
    if address is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    app = web.Application()
    add_api_routes(app, lambda: ApiState(as_of=date(2024, 9, 30), expected=0.75, evaluated=[]), token=token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, address, 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://{address}:{port}/api/v1/summary"


async def test_a_non_loopback_server_without_a_token_answers_401() -> None:
    runner, url = await _lan_server(token=None)
    try:
        async with ClientSession() as session, session.get(url) as resp:
            body = await resp.json()
    finally:
        await runner.cleanup()
    assert resp.status == 401 and body["param"] == "token" and "本机" in body["error"]


async def test_the_token_is_required_and_checked() -> None:
    runner, url = await _lan_server(token="s3cret-token-16")
    try:
        async with ClientSession() as session:
            answers = []
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": "Bearer s3cret-token-16"},
                {"X-Dashboard-Token": "s3cret-token-16"},
            ):
                async with session.get(url, headers=headers) as resp:
                    answers.append((resp.status, await resp.json()))
    finally:
        await runner.cleanup()
    assert [status for status, _ in answers] == [401, 403, 200, 200]
    assert "需要访问令牌" in answers[0][1]["error"] and "不正确" in answers[1][1]["error"]
    assert answers[2][1]["items"] == 0 and answers[2][1]["as_of"] == "2024-09-30"


async def test_mounted_on_a_guarded_app_with_its_runtime_as_dashboard_serve_does(
    config_writer: Callable[..., Path],
) -> None:
    """`dashboard serve` passes its Runtime and guards every route itself (guarded=True)."""
    runtime = Runtime(load_config(sample_config(config_writer)))
    await runtime.refresh_all()
    seen: list[str] = []

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request.path)  # the host app's own check would sit here
        return await handler(request)

    app = web.Application(middlewares=[guard])
    add_api_routes(app, runtime, guarded=True)
    # Off loopback with no token of its own: the host app's guard is the one that decides.
    address = _lan_address() or "127.0.0.1"
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, address, 0).start()
        url = f"http://{address}:{runner.addresses[0][1]}/api/v1/summary"
        async with ClientSession() as session, session.get(url) as resp:
            status, body = resp.status, await resp.json()
    finally:
        await runner.cleanup()
        runtime.close()
    assert status == 200 and body["by_status"] == SAMPLE_COUNTS and seen == ["/api/v1/summary"]


def test_running_alone_on_a_non_loopback_host_needs_a_token(config_writer: Callable[..., Path]) -> None:
    config = str(sample_config(config_writer))
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.webapi", "--config", config, "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "需要访问令牌" in done.stderr and "--token-env" in done.stderr


async def test_the_state_follows_each_fetch_and_is_reused_between_them(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    """Pages of one state are sorted once; a fetch that changes the items shows at once."""
    header, *rows = sample_rows()
    bulletin = write_csv(tmp_path / "通报.csv", [header, *rows])
    runtime = Runtime(load_config(config_writer([{"name": "通报", "type": "csv", "path": str(bulletin)}])))
    try:
        await runtime.refresh_all()
        get = runtime_state(runtime)
        first, second = get(), get()
        assert first.ordered() is second.ordered()  # nothing fetched in between: the same evaluation
        assert count_statuses(second) == SAMPLE_COUNTS
        rows[44][5:7] = ["已完成", "100.0%"]  # item 45 catches up
        write_csv(bulletin, [header, *rows])
        await runtime.refresh_all()
        third = get()
    finally:
        runtime.close()
    assert third.ordered() is not first.ordered()
    assert count_statuses(third) == {**SAMPLE_COUNTS, "done": 26, "severe": 0}
    assert items_body(third, 3, 20, "/api/v1/items")["items"][-1]["状态"] == "已完成"


def count_statuses(state: ApiState) -> dict[str, int]:
    statuses = [e.status.value for e in state.evaluated]
    return {s: statuses.count(s) for s in SAMPLE_COUNTS}


async def test_a_bad_as_of_at_as_of_path_fails_the_rest_source_saying_where(
    httpserver: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    header, *rows = sample_rows()
    records = [dict(zip(header, r, strict=True)) for r in rows]
    httpserver.expect_request("/good").respond_with_json({"as_of": "2024-09-30", "items": records})
    httpserver.expect_request("/bad").respond_with_json({"as_of": "九月底", "items": records})
    source = {"type": "rest", "items_path": "items", "as_of_path": "as_of"}
    config = config_writer(
        [
            {"name": "好", "url": httpserver.url_for("/good"), **source},
            {"name": "坏", "url": httpserver.url_for("/bad"), **source},
        ]
    )
    runtime = Runtime(load_config(config))
    try:
        good, bad = await runtime.refresh_all()
    finally:
        runtime.close()
    assert good.ok and good.as_of == date(2024, 9, 30) and len(good.items) == 45
    assert not bad.ok and "as_of_path「as_of」" in bad.error and "九月底" in bad.error
