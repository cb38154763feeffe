"""Rate limits that hold across runs (issue 14): a robot's per-minute quota and a
server's "not before" are kept in the store, so separate `dashboard check` processes
share them. The clock is never waited on: where a minute has to pass, the test ages
the store's recorded send times instead."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import run_cli, write_every_rule_config
from pytest_httpserver import HTTPServer
from screen_text import loaded, screen_lines

from dashboard.config import load_config
from dashboard.ui.app import make_app

KEY = "k-5e4d3c2b1a"
# 23 events at 2024-07-31, grouped by lead unit for 企业微信: 10 messages (see test_grouping).
MESSAGES = 10


@pytest.fixture(autouse=True)
def wecom_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECOM_KEY", KEY)


def config(folder: Path, url: str, rate: int = 3, retries: int = 0) -> Path:
    sink = (
        f'[[sinks]]\nname = "单位群"\ntype = "wecom"\nurl = "{url}"\nkey_env = "WECOM_KEY"\n'
        f'retries = {retries}\nbackoff = "0s"\nrate_per_minute = {rate}\n'
    )
    return write_every_rule_config(folder, sink)


def check(cfg: Path) -> dict[str, object]:
    done = run_cli("check", "--json", "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def store(state: Path) -> sqlite3.Connection:
    [path] = state.glob("configs/*/dashboard.sqlite3")  # the config's own store
    return sqlite3.connect(path)


def age_sends(state: Path, seconds: float) -> None:
    """Move every recorded send (and hold) `seconds` into the past: a minute passing."""
    with store(state) as conn:
        conn.execute("UPDATE sink_sends SET at = at - ?", (seconds,))
        conn.execute("UPDATE sink_holds SET not_before = not_before - ?", (seconds,))


def restamp_sends(state: Path) -> None:
    """Stamp the recorded sends with the current time, so a slow machine's seconds
    between two runs never open a new minute."""
    with store(state) as conn:
        conn.execute("UPDATE sink_sends SET at = ?", (time.time(),))
        conn.execute("UPDATE sink_holds SET not_before = ?", (time.time() + 60,))


def pending(result: dict[str, object]) -> int:
    alerts = result["alerts"]
    assert isinstance(alerts, dict)
    return int(alerts["pending_delivery"])


def test_three_runs_in_a_minute_send_one_minutes_quota_in_total(
    tmp_path: Path, httpserver: HTTPServer, isolated_state: Path
) -> None:
    httpserver.expect_request("/cgi-bin/webhook/send", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    cfg = config(tmp_path, httpserver.url_for("/cgi-bin/webhook/send"), rate=3)
    first = check(cfg)
    assert len(httpserver.log) == 3  # a group message is one send: 3 messages, not 3 events
    assert pending(first) > 0
    for _ in range(2):
        restamp_sends(isolated_state)
        check(cfg)
    assert len(httpserver.log) == 3  # the second and third process found the minute used up
    with store(isolated_state) as conn:
        assert conn.execute("SELECT COUNT(*) FROM sink_sends WHERE sink = '单位群'").fetchone() == (3,)
    # Waiting is not a failure: no error on the sink, and `dashboard alerts` says 限流等待.
    sinks = first["alerts"]["sinks"]  # type: ignore[index]
    assert [s["error"] for s in sinks] == [None]  # type: ignore[union-attr]
    assert [s["waiting"] for s in sinks] == ["已达每分钟 3 条的发送上限"]  # type: ignore[union-attr]
    text = run_cli("check", "--config", str(cfg)).stdout
    assert "推送 单位群 (wecom) 待发 14: 限流等待 已达每分钟 3 条的发送上限" in text
    listing = run_cli("alerts", "--config", str(cfg))
    assert listing.returncode == 0 and "限流等待" in listing.stdout and "✗" not in listing.stdout
    # A minute later (by the store's times) the next run sends the next three, and so on.
    age_sends(isolated_state, 61)
    check(cfg)
    assert len(httpserver.log) == 6
    for _ in range(2):
        age_sends(isolated_state, 61)
        check(cfg)
    assert len(httpserver.log) == MESSAGES  # 3 + 3 + 3 + 1: every unit's message once
    texts = [json.loads(req.get_data())["markdown"]["content"] for req, _ in httpserver.log]
    assert len({t.split("\n", 1)[0] for t in texts}) == MESSAGES  # ten different units' headings
    with store(isolated_state) as conn:
        assert conn.execute("SELECT COUNT(*) FROM alert_outbox").fetchone() == (0,)


def test_a_429_with_retry_after_120_makes_the_next_run_send_nothing(
    tmp_path: Path, httpserver: HTTPServer, isolated_state: Path
) -> None:
    httpserver.expect_request("/cgi-bin/webhook/send", method="POST").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "120"}
    )
    # retries = 2: a Retry-After longer than a run should sleep is not retried in-process.
    cfg = config(tmp_path, httpserver.url_for("/cgi-bin/webhook/send"), rate=20, retries=2)
    before = time.time()
    first = check(cfg)
    assert len(httpserver.log) == 1 and pending(first) == 23
    with store(isolated_state) as conn:
        [(not_before, reason)] = conn.execute("SELECT not_before, reason FROM sink_holds").fetchall()
    assert before + 120 <= not_before <= time.time() + 120 and "429" in reason and "120" in reason
    second = check(cfg)  # another process: it waits as the server said
    assert len(httpserver.log) == 1 and pending(second) == 23
    # When the 120 s are over (by the store's times), the robot is asked again.
    httpserver.clear()
    httpserver.expect_request("/cgi-bin/webhook/send", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    age_sends(isolated_state, 121)
    third = check(cfg)
    assert len(httpserver.log) == MESSAGES and pending(third) == 0


@pytest.mark.parametrize(
    ("sink_type", "path", "reply"),
    [
        ("wecom", "/cgi-bin/webhook/send", {"errcode": 45009, "errmsg": "api freq out of limit"}),
        ("dingtalk", "/robot/send", {"errcode": 660026, "errmsg": "rate limited"}),
        ("feishu", f"/open-apis/bot/v2/hook/{KEY}", {"code": 9499, "msg": "too many request"}),
    ],
)
def test_the_robots_own_rate_limit_codes_hold_the_next_run_for_their_minute(
    tmp_path: Path,
    httpserver: HTTPServer,
    isolated_state: Path,
    monkeypatch: pytest.MonkeyPatch,
    sink_type: str,
    path: str,
    reply: dict[str, object],
) -> None:
    monkeypatch.setenv("ROBOT_TOKEN", KEY)
    httpserver.expect_request(path, method="POST").respond_with_json(reply)
    key = {"wecom": "key_env", "dingtalk": "token_env", "feishu": "token_env"}[sink_type]
    url = httpserver.url_for(path.removesuffix(KEY))
    sink = (
        f'[[sinks]]\nname = "robot"\ntype = "{sink_type}"\nurl = "{url}"\n{key} = "ROBOT_TOKEN"\n'
        'retries = 0\nbackoff = "0s"\n'
    )
    cfg = write_every_rule_config(tmp_path, sink)
    check(cfg)
    assert len(httpserver.log) == 1
    with store(isolated_state) as conn:
        [(not_before, reason)] = conn.execute("SELECT not_before, reason FROM sink_holds").fetchall()
    code = str(reply.get("errcode", reply.get("code")))
    assert not_before > time.time() + 50 and code in reason  # a robot code says no time: a minute
    assert KEY not in reason
    check(cfg)
    assert len(httpserver.log) == 1  # the next process waits too


async def test_the_tui_shares_the_quota_and_its_sinks_screen_says_waiting(
    tmp_path: Path, httpserver: HTTPServer, isolated_state: Path
) -> None:
    httpserver.expect_request("/cgi-bin/webhook/send", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    cfg = config(tmp_path, httpserver.url_for("/cgi-bin/webhook/send"), rate=3)
    check(cfg)
    assert len(httpserver.log) == 3
    restamp_sends(isolated_state)
    app = make_app(load_config(cfg))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        await pilot.press("d")  # the sources screen lists the sinks
        await pilot.pause()
        shown = "\n".join(screen_lines(app))
    assert "单位群 (wecom)  待发送 pending 14  限流等待 已达每分钟 3 条的发送上限" in shown
    assert len(httpserver.log) == 3  # the TUI's delivery found the minute used up by the cron run
