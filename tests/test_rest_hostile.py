"""The REST source against a hostile server: redirects, 429, deep JSON, NaN and huge numbers."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_COUNTS, sample_rows
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from dashboard.config import load_config
from dashboard.retry_after import retry_after_seconds
from dashboard.runtime import Runtime, SourceState

SECRET = "9f1c2b7e4a6d8f0b3c5e7a9d1f3b5c7e"


def bulletin_records() -> list[dict[str, str]]:
    header, *rows = sample_rows()
    return [dict(zip(header, row, strict=True)) for row in rows]


def rest(url: str, **options: Any) -> dict[str, Any]:
    return {"name": "省平台", "type": "rest", "url": url, "backoff": "0.01s", **options}


@pytest.fixture
def other() -> Iterator[HTTPServer]:
    """A second server on another port: another origin, which records what reached it."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/items").respond_with_json(bulletin_records())
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


async def run(cfg: Path) -> tuple[SourceState, Any]:
    runtime = Runtime(load_config(cfg))
    snap = await runtime.cycle(alerts=False)
    runtime.close()
    return runtime.states["省平台"], snap


# -- redirects ----------------------------------------------------------------------------------
async def test_a_redirect_to_another_server_is_refused_and_nothing_reaches_it(
    httpserver: HTTPServer,
    other: HTTPServer,
    config_writer: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZB_H4_KEY", SECRET)
    monkeypatch.setenv("ZB_H4_TOKEN", "tok-42")
    target = other.url_for("/items")
    httpserver.expect_request("/items").respond_with_response(
        Response(status=302, headers={"Location": target})
    )
    cfg = config_writer(
        [rest(httpserver.url_for("/items"), headers_env={"X-Api-Key": "ZB_H4_KEY"}, token_env="ZB_H4_TOKEN")]
    )
    state, _ = await run(cfg)
    assert state.ok is False and "重定向到其他服务器" in state.error and "已拒绝" in state.error
    # Both servers named: where it wanted to go and where it came from.
    assert (
        f"{other.host}:{other.port}" in state.error and f"{httpserver.host}:{httpserver.port}" in state.error
    )
    assert other.log == []  # not one request, so no header and no token either
    assert len(httpserver.log) == 1 and httpserver.log[0][0].headers.get("X-Api-Key") == SECRET


async def test_a_redirect_within_the_server_keeps_the_headers_and_loads(
    httpserver: HTTPServer, config_writer: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZB_H4_KEY", SECRET)
    httpserver.expect_request("/old").respond_with_response(
        Response(status=301, headers={"Location": "/v2/items"})
    )
    httpserver.expect_request("/v2/items", headers={"X-Api-Key": SECRET}).respond_with_json(
        bulletin_records()
    )
    state, snap = await run(
        config_writer([rest(httpserver.url_for("/old"), headers_env={"X-Api-Key": "ZB_H4_KEY"})])
    )
    assert state.ok, state.error
    assert len(snap.evaluated) == 45 and snap.by_status == SAMPLE_COUNTS
    assert [r.path for r, _ in httpserver.log] == ["/old", "/v2/items"]


async def test_a_307_repeats_the_post_with_its_body(
    httpserver: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    httpserver.expect_request("/q", method="POST").respond_with_response(
        Response(status=307, headers={"Location": "/q2"})
    )
    httpserver.expect_request("/q2", method="POST", json={"year": 2024}).respond_with_json(bulletin_records())
    state, snap = await run(
        config_writer([rest(httpserver.url_for("/q"), method="POST", body={"year": 2024})])
    )
    assert state.ok, state.error
    assert len(snap.evaluated) == 45


async def test_a_redirect_loop_stops_after_five_hops(
    httpserver: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    httpserver.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )
    state, _ = await run(config_writer([rest(httpserver.url_for("/loop"), retries=0)]))
    assert state.ok is False and "重定向超过 5 次" in state.error
    assert len(httpserver.log) == 6


# -- 429 and Retry-After -------------------------------------------------------------------------
async def test_429_is_retried_after_the_time_the_server_says(
    httpserver: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    seen: list[float] = []

    def handler(request: Request) -> Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return Response(json.dumps(bulletin_records()), content_type="application/json")

    httpserver.expect_request("/items").respond_with_handler(handler)
    state, snap = await run(config_writer([rest(httpserver.url_for("/items"), timeout="3s", retries=1)]))
    assert state.ok, state.error
    assert len(snap.evaluated) == 45 and snap.by_status == SAMPLE_COUNTS
    assert len(seen) == 2 and seen[1] - seen[0] >= 0.9  # waited the Retry-After, not the 0.01 s backoff


@pytest.mark.parametrize("retries", [0, 2])
async def test_a_retry_after_beyond_the_budget_fails_at_once_saying_when(
    httpserver: HTTPServer, config_writer: Callable[..., Path], retries: int
) -> None:
    httpserver.expect_request("/items").respond_with_response(
        Response("quota", status=429, headers={"Retry-After": "3600"})
    )
    state, _ = await run(config_writer([rest(httpserver.url_for("/items"), retries=retries)]))
    assert state.ok is False and "HTTP 429" in state.error and "3600 秒后再试" in state.error
    assert len(httpserver.log) == 1  # no second request, and no hour-long wait


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2024, 9, 30, 8, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert retry_after_seconds(format_datetime(now - timedelta(days=1), usegmt=True), now) == 0
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


# -- hostile JSON ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("[" * 100_000 + "]" * 100_000, "嵌套过深"),
        ('{"items": ' + '{"a": ' * 5000 + "1" + "}" * 5001, "嵌套过深"),
        ('[{"x": 1}', "不是合法的 JSON"),
    ],
    ids=["100k-deep", "5000-deep-objects", "truncated"],
)
async def test_json_that_cannot_be_read_is_a_source_error_naming_the_url(
    httpserver: HTTPServer, config_writer: Callable[..., Path], body: str, said: str
) -> None:
    httpserver.expect_request("/items").respond_with_data(body, content_type="application/json")
    state, _ = await run(config_writer([rest(httpserver.url_for("/items"))]))
    assert state.ok is False and said in state.error and httpserver.url_for("/items") in state.error


async def test_nan_infinity_and_huge_numbers_are_not_taken_as_figures(
    httpserver: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    records = bulletin_records()
    text = json.dumps(records, ensure_ascii=False)
    # Extra keys with the literals json.loads would accept as numbers.
    hostile = text.replace(
        '"序号": "1",', '"序号": "1", "x": NaN, "y": -Infinity, "z": 1e999, "w": ' + "9" * 5000 + ",", 1
    )
    assert hostile != text
    httpserver.expect_request("/items").respond_with_data(hostile, content_type="application/json")
    state, snap = await run(config_writer([rest(httpserver.url_for("/items"))]))
    assert state.ok, state.error
    assert len(snap.evaluated) == 45 and snap.by_status == SAMPLE_COUNTS
    warning = [w for w in state.warnings if "非有限或超大" in w.message]
    assert len(warning) == 1 and "4 个" in warning[0].message
