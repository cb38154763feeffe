"""Alert sinks against a real HTTP server on 127.0.0.1 playing each robot: message
bodies, the signing of 钉钉 and 飞书, retries, permanent errors kept without
hammering, and an outbox that delivers everything, once and in order, after an
outage. Plus the JSONL and CSV files."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import json
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from conftest import SAMPLE_CSV, sample_rows, toml_value, write_csv
from pytest_httpserver import HTTPServer

from dashboard.config import load_config
from dashboard.runtime import Runtime, Snapshot
from dashboard.sinks import SinkStatus

SECRET = "SECtest0123456789abcdef+/="
TOKEN = "tok-9f8e7d6c5b4a"


def sinks_toml(*sinks: dict[str, object]) -> str:
    parts = []
    for sink in sinks:
        parts.append("[[sinks]]")
        parts += [f"{k} = {toml_value(v)}" for k, v in sink.items()]
    return "\n".join(parts)


async def run_once(cfg: Path) -> tuple[Snapshot, list[SinkStatus]]:
    """One headless run, as `dashboard check` does it: a fresh runtime each time."""
    runtime = Runtime(load_config(cfg))
    try:
        snap = await runtime.cycle()
        return snap, runtime.sink_status()
    finally:
        runtime.close()


def posts(server: HTTPServer) -> list[tuple[dict[str, list[str]], dict[str, object]]]:
    return [(parse_qs(req.query_string.decode()), json.loads(req.get_data())) for req, _ in server.log]


def bulletin(folder: Path, **ratios: str) -> Path:
    rows = sample_rows()
    for row in rows:
        if row and row[0] in ratios:
            row[6] = ratios[row[0]]
    return write_csv(folder / "bulletin.csv", rows)


@pytest.fixture
def robot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ROBOT_TOKEN", TOKEN)
    monkeypatch.setenv("TEST_ROBOT_SECRET", SECRET)


def assert_readable(text: str) -> None:
    for part in ("临水临崖", "公安局交警大队", "32.0%", "75.0%", "落后 43.0 个百分点", "严重滞后"):
        assert part in text, part


async def test_wecom_robot_gets_a_markdown_message_with_its_key(
    httpserver: HTTPServer, config_writer: Callable[..., Path], robot_env: None
) -> None:
    httpserver.expect_request("/cgi-bin/webhook/send", method="POST").respond_with_json(
        {"errcode": 0, "errmsg": "ok"}
    )
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml(
            {
                "type": "wecom",
                "url": httpserver.url_for("/cgi-bin/webhook/send"),
                "key_env": "TEST_ROBOT_TOKEN",
            }
        ),
    )
    snap, sinks = await run_once(cfg)
    assert [e.key for e in snap.fired] == ["severe:45"]
    [(query, body)] = posts(httpserver)
    assert query["key"] == [TOKEN]
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]  # type: ignore[index]
    assert_readable(content)
    assert len(content.encode()) <= 4096
    assert sinks[0].pending == 0


async def test_dingtalk_request_carries_a_timestamp_and_sign_that_verify(
    httpserver: HTTPServer, config_writer: Callable[..., Path], robot_env: None
) -> None:
    httpserver.expect_request("/robot/send", method="POST").respond_with_json({"errcode": 0, "errmsg": "ok"})
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml(
            {
                "type": "dingtalk",
                "url": httpserver.url_for("/robot/send"),
                "token_env": "TEST_ROBOT_TOKEN",
                "secret_env": "TEST_ROBOT_SECRET",
            }
        ),
    )
    await run_once(cfg)
    [(query, body)] = posts(httpserver)
    assert query["access_token"] == [TOKEN]
    timestamp = query["timestamp"][0]
    assert timestamp.isdigit() and len(timestamp) == 13  # milliseconds
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256).digest()
    ).decode()
    assert query["sign"] == [expected]
    assert body["msgtype"] == "markdown"
    assert "严重滞后" in body["markdown"]["title"]  # type: ignore[index]
    assert_readable(body["markdown"]["text"])  # type: ignore[index]


async def test_feishu_body_carries_a_timestamp_and_sign_that_verify(
    httpserver: HTTPServer, config_writer: Callable[..., Path], robot_env: None
) -> None:
    httpserver.expect_request(f"/open-apis/bot/v2/hook/{TOKEN}", method="POST").respond_with_json(
        {"code": 0, "msg": "success", "data": {}}
    )
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml(
            {
                "type": "feishu",
                "url": httpserver.url_for("/open-apis/bot/v2/hook/"),
                "token_env": "TEST_ROBOT_TOKEN",
                "secret_env": "TEST_ROBOT_SECRET",
            }
        ),
    )
    _snap, sinks = await run_once(cfg)
    [(_query, body)] = posts(httpserver)
    timestamp = str(body["timestamp"])
    assert timestamp.isdigit() and len(timestamp) == 10  # seconds
    expected = base64.b64encode(
        hmac.new(f"{timestamp}\n{SECRET}".encode(), b"", hashlib.sha256).digest()
    ).decode()
    assert body["sign"] == expected
    assert body["msg_type"] == "interactive"
    card = body["card"]
    assert "严重滞后" in card["header"]["title"]["content"]  # type: ignore[index]
    assert_readable(card["elements"][0]["content"])  # type: ignore[index]
    assert sinks[0].pending == 0


async def test_generic_webhook_posts_the_event_with_a_bearer_token(
    httpserver: HTTPServer, config_writer: Callable[..., Path], robot_env: None
) -> None:
    httpserver.expect_request(
        "/hook", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
    ).respond_with_data("", status=204)
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml(
            {"type": "webhook", "url": httpserver.url_for("/hook"), "token_env": "TEST_ROBOT_TOKEN"}
        ),
    )
    await run_once(cfg)
    [(_query, body)] = posts(httpserver)
    assert (body["key"], body["rule"], body["item_id"], body["severity"], body["kind"]) == (
        "severe:45",
        "severe",
        "45",
        "critical",
        "fired",
    )
    assert body["figures"] == {"ratio": 0.32, "expected": 0.75, "gap": 0.43}
    assert_readable(str(body["text"]))


async def test_rate_limit_and_server_errors_are_retried_within_the_run(
    httpserver: HTTPServer, config_writer: Callable[..., Path], robot_env: None
) -> None:
    httpserver.expect_oneshot_request("/robot/send").respond_with_json(
        {"errcode": 130101, "errmsg": "send too fast"}
    )
    httpserver.expect_oneshot_request("/robot/send").respond_with_data("busy", status=503)
    httpserver.expect_request("/robot/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml(
            {
                "type": "dingtalk",
                "url": httpserver.url_for("/robot/send"),
                "token_env": "TEST_ROBOT_TOKEN",
                "retries": 3,
                "backoff": "0s",
            }
        ),
    )
    _snap, sinks = await run_once(cfg)
    assert len(httpserver.log) == 3
    assert [r.status_code for _, r in httpserver.log] == [200, 503, 200]
    assert sinks[0].pending == 0


async def test_a_permanent_robot_error_keeps_the_event_and_does_not_hammer(
    httpserver: HTTPServer, config_writer: Callable[..., Path], robot_env: None
) -> None:
    # The robot echoes the token back: the error shown must not.
    httpserver.expect_request("/robot/send").respond_with_json(
        {"errcode": 310000, "errmsg": f"sign not match, token {TOKEN}"}
    )
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml(
            {
                "name": "专班群",
                "type": "dingtalk",
                "url": httpserver.url_for("/robot/send"),
                "token_env": "TEST_ROBOT_TOKEN",
                "secret_env": "TEST_ROBOT_SECRET",
                "retries": 3,
                "backoff": "0s",
            }
        ),
    )
    _snap, sinks = await run_once(cfg)
    assert len(httpserver.log) == 1  # permanent: not retried
    [status] = sinks
    assert (status.name, status.type, status.pending, status.permanent) == ("专班群", "dingtalk", 1, True)
    assert (
        "310000" in status.last_error and TOKEN not in status.last_error and SECRET not in status.last_error
    )
    assert status.next_attempt is not None
    snap, sinks = await run_once(cfg)  # the next run leaves the robot alone
    assert snap.fired == [] and len(httpserver.log) == 1
    assert sinks[0].pending == 1
    # A changed sink table (the team fixed the robot's settings) is tried at once.
    httpserver.clear_all_handlers()
    httpserver.expect_request("/robot/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml(
            {
                "name": "专班群",
                "type": "dingtalk",
                "url": httpserver.url_for("/robot/send"),
                "token_env": "TEST_ROBOT_TOKEN",
                "secret_env": "TEST_ROBOT_SECRET",
                "keyword": "预警",
            }
        ),
    )
    _snap, sinks = await run_once(cfg)
    assert len(httpserver.log) == 2 and sinks[0].pending == 0 and not sinks[0].last_error
    assert "预警" in json.loads(httpserver.log[1][0].get_data())["markdown"]["title"]


async def test_a_missing_secret_is_reported_by_name_and_delivered_once_it_is_set(
    httpserver: HTTPServer, config_writer: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    monkeypatch.delenv("LATE_ROBOT_KEY", raising=False)
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml({"type": "wecom", "url": httpserver.url_for("/send"), "key_env": "LATE_ROBOT_KEY"}),
    )
    _snap, sinks = await run_once(cfg)
    [status] = sinks
    assert status.pending == 1 and "LATE_ROBOT_KEY" in status.last_error and not httpserver.log
    monkeypatch.setenv("LATE_ROBOT_KEY", TOKEN)
    _snap, sinks = await run_once(cfg)
    assert sinks[0].pending == 0 and not sinks[0].last_error
    assert [q["key"] for q, _ in posts(httpserver)] == [[TOKEN]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_server_down_for_two_runs_then_up_gets_every_event_once_in_order(
    tmp_path: Path, config_writer: Callable[..., Path], isolated_state: Path
) -> None:
    port = free_port()
    jsonl = tmp_path / "alerts.jsonl"
    cfg = config_writer(
        [{"name": "通报", "type": "csv", "path": str(bulletin(tmp_path))}],
        extra=sinks_toml(
            {"type": "jsonl", "path": str(jsonl)},
            {"name": "值班", "type": "webhook", "url": f"http://127.0.0.1:{port}/hook", "retries": 0},
        ),
    )
    snap, sinks = await run_once(cfg)  # down: connection refused
    assert [e.key for e in snap.fired] == ["severe:45"]
    status = {s.name: s for s in sinks}
    assert status["值班"].pending == 1 and status["值班"].last_error and status["jsonl"].pending == 0

    bulletin(tmp_path, **{"45": "80.0%", "44": "40.0%"})
    snap, sinks = await run_once(cfg)  # still down
    assert [(e.kind, e.key) for e in [*snap.fired, *snap.resolved]] == [
        ("fired", "severe:44"),
        ("resolved", "severe:45"),
    ]
    assert sinks[1].pending == 3

    server = HTTPServer(host="127.0.0.1", port=port)
    server.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    server.start()
    try:
        snap, sinks = await run_once(cfg)  # up: the outbox drains, oldest first
        assert snap.fired == [] and snap.resolved == []
        await run_once(cfg)  # and nothing more on the next run
        received = [json.loads(req.get_data()) for req, _ in server.log]
    finally:
        server.clear()
        server.stop()
    written = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [(e["kind"], e["key"]) for e in written] == [
        ("fired", "severe:45"),
        ("fired", "severe:44"),
        ("resolved", "severe:45"),
    ]
    assert [e["id"] for e in received] == [e["id"] for e in written]
    assert all(s.pending == 0 and not s.last_error for s in sinks)


async def test_csv_sink_writes_excel_friendly_rows(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    out = tmp_path / "alerts.csv"
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml({"type": "csv", "path": str(out)}),
    )
    await run_once(cfg)
    await run_once(cfg)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["键 key"] == "severe:45" and row["牵头单位 unit"] == "公安局交警大队"
    assert (row["完成比例 ratio"], row["序时进度 expected"], row["差距 gap"]) == ("32.0%", "75.0%", "43.0%")
    assert row["级别 severity"] == "严重" and row["类型 kind"] == "预警"


def test_unknown_sink_type_and_key_are_config_errors(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    from dashboard.contracts import ConfigError

    for sink, key, hint in (
        ({"type": "dingtlak", "token_env": "X"}, "sinks[0].type", "dingtalk"),
        ({"type": "dingtalk", "secret": "SEC123"}, "sinks[0].secret", "secret_env"),
        ({"type": "wecom"}, "sinks[0].key_env", "key_env"),
    ):
        cfg = config_writer([{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}], extra=sinks_toml(sink))
        with pytest.raises(ConfigError) as info:
            Runtime(load_config(cfg))
        assert info.value.key == key and hint in str(info.value)


@pytest.mark.parametrize(
    ("sink_type", "path", "reply", "code"),
    [
        ("wecom", "/cgi-bin/webhook/send", {"errcode": 93000, "errmsg": "invalid webhook url"}, "93000"),
        ("feishu", f"/open-apis/bot/v2/hook/{TOKEN}", {"code": 19021, "msg": "sign match fail"}, "19021"),
    ],
)
async def test_robot_key_and_signature_errors_are_permanent(
    httpserver: HTTPServer,
    config_writer: Callable[..., Path],
    robot_env: None,
    sink_type: str,
    path: str,
    reply: dict[str, object],
    code: str,
) -> None:
    httpserver.expect_request(path).respond_with_json(reply)
    key = {"wecom": "key_env", "feishu": "token_env"}[sink_type]
    base = path.removesuffix(TOKEN)
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(SAMPLE_CSV)}],
        extra=sinks_toml(
            {"type": sink_type, "url": httpserver.url_for(base), key: "TEST_ROBOT_TOKEN", "backoff": "0s"}
        ),
    )
    _snap, sinks = await run_once(cfg)
    assert len(httpserver.log) == 1
    assert sinks[0].pending == 1 and sinks[0].permanent and code in sinks[0].last_error


async def test_the_robot_quota_holds_the_rest_for_the_next_run(
    httpserver: HTTPServer,
    tmp_path: Path,
    config_writer: Callable[..., Path],
    robot_env: None,
    isolated_state: Path,
) -> None:
    httpserver.expect_request("/robot/send").respond_with_json({"errcode": 0, "errmsg": "ok"})
    three_severe = bulletin(tmp_path, **{"43": "10.0%", "44": "20.0%"})
    cfg = config_writer(
        [{"name": "s", "type": "csv", "path": str(three_severe)}],
        extra=sinks_toml(
            {
                "type": "dingtalk",
                "url": httpserver.url_for("/robot/send"),
                "token_env": "TEST_ROBOT_TOKEN",
                "rate_per_minute": 2,
            }
        ),
    )
    snap, sinks = await run_once(cfg)
    assert len(snap.fired) == 3 and len(httpserver.log) == 2
    # Waiting for the quota is not a failure (限流等待), and the quota is the store's:
    assert sinks[0].pending == 1 and "每分钟" in sinks[0].waiting and not sinks[0].last_error
    _snap, sinks = await run_once(cfg)  # a new run in the same minute sends nothing more
    assert len(httpserver.log) == 2 and sinks[0].pending == 1
    [store] = isolated_state.glob("configs/*/dashboard.sqlite3")
    with sqlite3.connect(store) as conn:  # a minute later, by the store's times
        conn.execute("UPDATE sink_sends SET at = at - 61")
        conn.execute("UPDATE sink_holds SET not_before = not_before - 61")
    _snap, sinks = await run_once(cfg)
    assert len(httpserver.log) == 3 and sinks[0].pending == 0
    keys = [json.loads(req.get_data())["markdown"]["text"] for req, _ in httpserver.log]
    assert ["[43]" in keys[0], "[44]" in keys[1], "[45]" in keys[2]] == [True, True, True]


def test_file_sinks_remember_a_bounded_tail_of_ids(tmp_path: Path) -> None:
    """A sink left running for weeks must not remember every event it ever wrote:
    the ids that matter after a crash are those of the file's last lines."""
    from dashboard.sinks import RecentIds, tail_lines

    ids = RecentIds(limit=3)
    ids.add(["a", "b", "c", "d"])
    assert "a" not in ids and all(x in ids for x in "bcd") and len(ids) == 3

    path = tmp_path / "alerts.jsonl"
    path.write_text("".join(f'{{"id": "e{i:04d}"}}\n' for i in range(1000)), encoding="utf-8")
    lines = tail_lines(path, tail_bytes=200)
    assert lines[-1] == '{"id": "e0999"}'
    assert all(line.startswith('{"id": "e') and line.endswith('"}') for line in lines)  # no partial line
    assert len(lines) < 20
