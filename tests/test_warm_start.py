"""A warm start (issue 17): the morning's TUI on a store a previous run wrote shows the stored
headline and the first rows of the worst-first view before its source has answered, then the
fresh fetch when it lands. The source is a REST API on 127.0.0.1 that holds its answer."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import SAMPLE_COUNTS, run_cli, sample_rows
from pytest_httpserver import HTTPServer
from textual.widgets import Digits
from werkzeug import Request, Response

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app
from dashboard.ui.widgets.table import VirtualTable

ITEM45 = "重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)"
FAILSAFE = 15.0  # only against a hung test


def bulletin_records() -> list[dict[str, str]]:
    header, *rows = sample_rows()
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def server(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    yield httpserver
    httpserver.clear()


def cards(app: DashboardApp) -> dict[str, str]:
    return {k: app.screen.query_one(f"#card-{k}", Digits).value for k in ("total", "done", "severe")}


def first_row(app: DashboardApp) -> str:
    return app.screen.query_one("#items", VirtualTable).render_line(1).text


async def until(pilot: object, condition: Callable[[], bool]) -> None:
    async def wait() -> None:
        while not condition():
            await pilot.pause(0.05)  # type: ignore[attr-defined]

    await asyncio.wait_for(wait(), FAILSAFE)


async def test_a_warm_start_shows_the_stored_first_screen_before_the_source_answers(
    server: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    hold = threading.Event()  # set: the API holds its answer until `release`
    asked, release = threading.Event(), threading.Event()

    def handler(request: Request) -> Response:
        if hold.is_set():
            asked.set()
            release.wait(FAILSAFE)
        return Response(json.dumps(bulletin_records(), ensure_ascii=False), content_type="application/json")

    server.expect_request("/items").respond_with_handler(handler)
    url = server.url_for("/items")
    config = config_writer([{"name": "省平台", "type": "rest", "url": url, "timeout": "30s"}])
    # Last night's run (cron's `dashboard check`) wrote the store.
    check = run_cli("check", "--config", str(config), "--json")
    assert json.loads(check.stdout)["by_status"]["severe"] == 1, check.stderr

    hold.set()
    app = make_app(load_config(config))
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, asked.is_set)  # the source is asked, and has not answered
            await until(pilot, lambda: app.snapshot is not None)
            await pilot.pause()
            assert not release.is_set() and app.runtime.states["省平台"].restored
            # The complete first screen, from the store: the headline's figures and the worst item first.
            assert cards(app) == {"total": "45", "done": str(SAMPLE_COUNTS["done"]), "severe": "1"}
            assert ITEM45[:10] in first_row(app) and "32" in first_row(app)

            release.set()  # the fresh fetch lands and replaces the stored data
            await until(pilot, lambda: not app.runtime.states["省平台"].restored)
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert cards(app) == {"total": "45", "done": "25", "severe": "1"}
            assert ITEM45[:10] in first_row(app)
    finally:
        release.set()
