"""Grouping (issue 14): with every rule on at as-of 2024-07-31, the 23 events of one run
reach a robot as one message per lead unit (10 units), each listing its items and
keeping every event's id, while the jsonl sink still holds one line per event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli, sample_rows, write_csv, write_every_rule_config
from pytest_httpserver import HTTPServer

# The 23 events of design §5 at 2024-07-31, by lead unit: 10 units.
UNITS = {
    "民政局": 5,
    "交通运输局": 4,
    "应急管理局": 3,
    "人社局": 2,
    "教育局": 2,
    "卫生健康局": 2,
    "水利局": 2,
    "住建局": 1,
    "司法局": 1,
    "公安局交警大队": 1,
}


# The generic webhook's JSON is a machine's contract: it groups only when a route says so.
GROUP_ROUTE = '[[routes]]\nsinks = ["robot", "file"]\ngroup_by = ["unit"]\n'


def every_rule(folder: Path, sinks: str, routes: str = "") -> Path:
    file_sink = (
        f'[[sinks]]\nname = "file"\ntype = "jsonl"\npath = {json.dumps(str(folder / "alerts.jsonl"))}\n'
    )
    return write_every_rule_config(folder, file_sink + sinks, routes)


def robot(url: str, type_: str = "webhook") -> str:
    extra = 'key_env = "WECOM_KEY"\n' if type_ == "wecom" else ""
    return f'[[sinks]]\nname = "robot"\ntype = "{type_}"\nurl = "{url}"\nretries = 0\n{extra}'


def lines(folder: Path) -> list[dict[str, object]]:
    text = (folder / "alerts.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def bodies(server: HTTPServer) -> list[dict[str, object]]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def check(config: Path) -> None:
    done = run_cli("check", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr


def test_the_webhook_gets_one_message_per_lead_unit_and_the_file_one_line_per_event(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    check(every_rule(tmp_path, robot(httpserver.url_for("/hook")), GROUP_ROUTE))
    sent = bodies(httpserver)
    assert len(sent) == 10  # not 23
    by_unit = {str(b.get("unit") or b.get("events", [{}])[0]["unit"]): b for b in sent}  # type: ignore[index]
    counts = {u: int(b.get("count", 1)) for u, b in by_unit.items()}  # type: ignore[call-overload]
    assert counts == UNITS
    civil = by_unit["民政局"]
    assert civil["kind"] == "group" and len(civil["ids"]) == 5  # type: ignore[arg-type]
    assert "民政局 · 5 项" in str(civil["title"])
    for event in civil["events"]:  # type: ignore[union-attr]
        assert f"[{event['item_id']}] {event['item_name']}" in str(civil["text"])
        assert event["id"] in str(civil["text"])  # the ids survive in the text, for dedup
    # A unit with one event gets today's single-event message, unchanged.
    assert by_unit["公安局交警大队"]["key"] == "severe:45"
    ids = [i for b in sent for i in (b["ids"] if b.get("kind") == "group" else [b["id"]])]  # type: ignore[union-attr]
    file_lines = lines(tmp_path)
    assert len(file_lines) == 23 and sorted(ids) == sorted(str(e["id"]) for e in file_lines)
    # The outbox is empty for both sinks: every row of every group left after its message.
    assert '"pending": 0' in run_cli("alerts", "--json", "--config", str(tmp_path / "dashboard.toml")).stdout


def test_without_grouping_a_wecom_robot_stops_at_its_20_a_minute(
    tmp_path: Path, httpserver: HTTPServer, wecom_env: None
) -> None:
    httpserver.expect_request("/send", method="POST").respond_with_json({"errcode": 0, "errmsg": "ok"})
    routes = '[[routes]]\nsinks = ["robot", "file"]\ngroup_by = []\n'
    config = every_rule(tmp_path, robot(httpserver.url_for("/send"), "wecom"), routes)
    check(config)
    assert len(bodies(httpserver)) == 20 and len(lines(tmp_path)) == 23
    listed = json.loads(run_cli("alerts", "--json", "--config", str(config)).stdout)
    assert next(s for s in listed["sinks"] if s["name"] == "robot")["pending"] == 3


def test_a_failed_group_message_keeps_all_its_events_and_is_resent_with_the_same_ids(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    config = every_rule(tmp_path, robot(httpserver.url_for("/hook")), GROUP_ROUTE)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_json({"ok": True})
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("down", status=503)
    check(config)
    first = bodies(httpserver)
    assert len(first) == 2  # the first group went out, the second failed: the sink stops there
    failed = first[1]
    pending = json.loads(run_cli("alerts", "--json", "--config", str(config)).stdout)
    robot_row = next(s for s in pending["sinks"] if s["name"] == "robot")
    assert robot_row["pending"] == 23 - int(first[0].get("count", 1))  # type: ignore[call-overload]

    httpserver.clear()
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    check(config)  # same data, same date: nothing new fires; the backlog goes out
    again = bodies(httpserver)
    assert len(again) == 9
    assert again[0] == failed  # the same message, with the same event ids
    assert len(lines(tmp_path)) == 23


@pytest.fixture
def wecom_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECOM_KEY", "k-test-0001")


def test_the_wecom_robot_gets_one_markdown_message_per_unit_listing_its_items(
    tmp_path: Path, httpserver: HTTPServer, wecom_env: None
) -> None:
    httpserver.expect_request("/send", method="POST").respond_with_json({"errcode": 0, "errmsg": "ok"})
    check(every_rule(tmp_path, robot(httpserver.url_for("/send"), "wecom")))
    texts = [str(b["markdown"]["content"]) for b in bodies(httpserver)]  # type: ignore[index]
    assert len(texts) == 10
    heads = sorted(t.splitlines()[0] for t in texts)
    assert len(set(heads)) == 10 and all(h.startswith("### 【") for h in heads)
    civil = next(t for t in texts if "提醒 · 民政局 · 5 项" in t.splitlines()[0])  # severity, level, unit
    assert civil.count("- **[") == 5 and civil.count("\n- **[") == 5
    # The footer keeps the five event ids (a re-send stays dedup-able per event).
    footer = civil.splitlines()[-1]
    assert footer.startswith('<font color="comment">') and len(footer.split("事件 ")[1].split()) == 5
    assert len(lines(tmp_path)) == 23


@pytest.mark.parametrize(
    ("type_", "path", "reply"),
    [("dingtalk", "/robot/send", {"errcode": 0}), ("feishu", "/hook/t-feishu-1", {"code": 0})],
)
def test_dingtalk_and_feishu_get_one_message_per_unit_with_every_event_id(
    tmp_path: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    type_: str,
    path: str,
    reply: dict,
) -> None:
    monkeypatch.setenv("ROBOT_TOKEN", "t-feishu-1")
    httpserver.expect_request(path, method="POST").respond_with_json(reply)
    url = httpserver.url_for("/robot/send" if type_ == "dingtalk" else "/hook")
    sink = f'[[sinks]]\nname = "robot"\ntype = "{type_}"\nurl = "{url}"\ntoken_env = "ROBOT_TOKEN"\nretries = 0\n'
    check(every_rule(tmp_path, sink))
    sent = [json.dumps(b, ensure_ascii=False) for b in bodies(httpserver)]
    assert len(sent) == 10
    civil = next(b for b in sent if "民政局 · 5 项" in b)
    file_lines = lines(tmp_path)
    civil_ids = [str(e["id"]) for e in file_lines if e["unit"] == "民政局"]
    assert len(civil_ids) == 5 and all(i in civil for i in civil_ids)
    # Every event went out: by its id in a group, or (alone in its unit) as today's message with its key.
    alone = {u for u, n in UNITS.items() if n == 1}
    assert all(
        any((str(e["key"]) if e["unit"] in alone else str(e["id"])) in b for b in sent) for e in file_lines
    )


def test_a_unit_with_45_severe_items_gets_two_messages_of_at_most_30(
    tmp_path: Path, httpserver: HTTPServer, wecom_env: None
) -> None:
    """Every item of the sample under one unit at 10.0%: 45 severe events, 30 + 15 per message,
    so every id fits a 企业微信 message (4096 bytes)."""
    rows = sample_rows()
    for row in rows[1:]:
        row[3], row[6] = "民政局", "10.0%"
    csv_path = write_csv(tmp_path / "bulletin.csv", rows)
    httpserver.expect_request("/send", method="POST").respond_with_json({"errcode": 0, "errmsg": "ok"})
    jsonl = json.dumps(str(tmp_path / "alerts.jsonl"))
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'as_of = "2024-09-30"\n[[sources]]\nname = "通报"\ntype = "csv"\npath = {json.dumps(str(csv_path))}\n'
        f'[[sinks]]\nname = "file"\ntype = "jsonl"\npath = {jsonl}\n'
        + robot(httpserver.url_for("/send"), "wecom"),
        encoding="utf-8",
    )
    check(config)
    texts = [str(b["markdown"]["content"]) for b in bodies(httpserver)]  # type: ignore[index]
    assert [t.splitlines()[0].rsplit(" · ", 1)[1] for t in texts] == ["30 项", "15 项"]
    assert all(len(t.encode("utf-8")) <= 4096 for t in texts)
    ids = [i for t in texts for i in t.splitlines()[-1].split("事件 ")[1].removesuffix("</font>").split()]
    assert sorted(ids) == sorted(str(e["id"]) for e in lines(tmp_path)) and len(ids) == 45
