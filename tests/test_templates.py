"""Message templates and @-mentions (issue 14): the default Chinese wording of the
bulletin per level, a route's own template (inline or from a file), @-mentions in each
robot's body (from the config, never the data), a bad template refused at start naming
the file, the key and the line, and a template failing at delivery falling back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import (
    SAMPLE_CSV,
    run_cli,
    sample_rows,
    toml_value,
    write_config,
    write_csv,
    write_every_rule_config,
)
from pytest_httpserver import HTTPServer

from dashboard.config import load_config
from dashboard.runtime import Runtime

SOURCE = [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}]
ITEM_45 = "重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)"
DUBAN_45 = (
    f"【督办】公安局交警大队：{ITEM_45}完成32.0%，低于序时进度43个百分点，请于10月15日前书面反馈整改情况"
)


@pytest.fixture(autouse=True)
def robot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ROBOT_KEY", "robot-key-0123")


def robot(type_: str, url: str, **options: object) -> str:
    secret = "key_env" if type_ == "wecom" else "token_env"
    lines = ["[[sinks]]", 'name = "机器人"', f'type = "{type_}"', f"url = {toml_value(url)}"]
    lines += [f'{secret} = "TEST_ROBOT_KEY"', "retries = 0"]
    lines += [f"{k} = {toml_value(v)}" for k, v in options.items()]
    return "\n".join(lines) + "\n"


def bodies(server: HTTPServer) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def check(config: Path) -> dict:
    done = run_cli("check", "--json", "--config", str(config))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_the_default_wecom_text_words_each_level_as_the_bulletin_does(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Item 45 unchanged at 09-30, 10-07, 10-14: 提醒, 预警, then 督办 with the case's
    deadline (as-of 10-14 + case_deadline_days = 1: 10月15日)."""
    httpserver.expect_request("/send", method="POST").respond_with_json({"errcode": 0, "errmsg": "ok"})
    extra = "[alerts]\ncase_deadline_days = 1\n" + robot("wecom", httpserver.url_for("/send"))
    for as_of in ("2024-09-30", "2024-10-07", "2024-10-14"):
        runtime = Runtime(load_config(write_config(tmp_path, SOURCE, extra, as_of)))
        try:
            await runtime.cycle()
        finally:
            runtime.close()
    texts = [str(b["markdown"]["content"]) for b in bodies(httpserver)]
    assert len(texts) == 3
    remind, warn, supervise = (t.split("\n\n")[1] for t in texts)
    assert remind == f"【提醒】公安局交警大队：{ITEM_45}完成32.0%，低于序时进度43个百分点，请关注推进"
    assert warn.startswith("【预警】公安局交警大队：") and warn.endswith("请加快推进，尽快达到序时进度")
    assert supervise == DUBAN_45
    # The heading, the figures and the footer with the alert's key are still there.
    assert texts[2].splitlines()[0] == "### 【严重】督办·严重滞后 · 公安局交警大队"
    assert "**差距**：落后 43.0 个百分点" in texts[2]
    assert texts[2].splitlines()[-1].endswith(" · severe:45</font>")


def test_a_route_template_inline_and_from_a_file_is_rendered(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/robot/send", method="POST").respond_with_json({"errcode": 0})
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "督办.md").write_text(
        "{{ unit }} 共 {{ count }} 项：{{ event.item_name|clip(8) }} {{ event.ratio|percent }}"
        "（差 {{ event.points_behind }} 点，{{ event.severity_label }}）",
        encoding="utf-8",
    )
    routes = (
        '[[routes]]\nrule = "severe"\nsinks = ["机器人"]\ntemplate_file = "tpl/督办.md"\n'
        '[[routes]]\nsinks = ["机器人"]\ntemplate = "其他：{{ event.message }}"\n'
    )
    config = write_config(tmp_path, SOURCE, robot("dingtalk", httpserver.url_for("/robot/send")) + routes)
    check(config)
    [body] = bodies(httpserver)
    text = body["markdown"]["text"]
    assert text.split("\n\n")[0] == "公安局交警大队 共 1 项：重点治理农村道… 32.0%（差 43 点，严重）"
    assert text.split("\n\n")[-1].endswith(" · severe:45")  # the footer is not the template's to drop
    assert "严重滞后" in body["markdown"]["title"]


@pytest.mark.parametrize("type_", ["wecom", "dingtalk", "feishu"])
def test_mentions_from_the_route_reach_each_robot_in_its_own_syntax(
    tmp_path: Path, httpserver: HTTPServer, type_: str
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_json({"errcode": 0, "code": 0})
    mobiles = "" if type_ == "feishu" else 'mention_mobiles = ["13800000000"]\n'
    routes = f'[[routes]]\nsinks = ["机器人"]\n{mobiles}mention_users = ["zhangsan"]\n'
    check(write_config(tmp_path, SOURCE, robot(type_, httpserver.url_for("/hook")) + routes))
    [body] = bodies(httpserver)
    if type_ == "wecom":
        # A mobile notifies only in a text message: the whole message goes as text.
        assert body["msgtype"] == "text"
        assert body["text"]["mentioned_mobile_list"] == ["13800000000"]
        assert body["text"]["mentioned_list"] == ["zhangsan"]
        assert DUBAN_45.split("：")[0] not in body["text"]["content"]  # a 提醒 at 09-30
        assert "【提醒】公安局交警大队：" in body["text"]["content"] and "**" not in body["text"]["content"]
    elif type_ == "dingtalk":
        assert body["at"] == {"atMobiles": ["13800000000"], "atUserIds": ["zhangsan"], "isAtAll": False}
        assert "@13800000000 @zhangsan" in body["markdown"]["text"]  # 钉钉 also wants them in the text
    else:
        content = body["card"]["elements"][0]["content"]
        assert "<at id=zhangsan></at>" in content and "【提醒】公安局交警大队：" in content


def test_wecom_markdown_mentions_user_ids_between_the_text_and_the_footer(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/send", method="POST").respond_with_json({"errcode": 0})
    routes = '[[routes]]\nsinks = ["机器人"]\nmention_users = ["lisi"]\n'
    check(write_config(tmp_path, SOURCE, robot("wecom", httpserver.url_for("/send")) + routes))
    [body] = bodies(httpserver)
    assert body["msgtype"] == "markdown" and "\n\n<@lisi>\n\n<font" in body["markdown"]["content"]


def test_the_old_wecom_mentioned_mobiles_option_still_mentions(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/send", method="POST").respond_with_json({"errcode": 0})
    sink = robot("wecom", httpserver.url_for("/send"), mentioned_mobiles=["13900000000"])
    check(write_config(tmp_path, SOURCE, sink))
    [body] = bodies(httpserver)
    assert body["msgtype"] == "text" and body["text"]["mentioned_mobile_list"] == ["13900000000"]
    assert body["text"]["content"].endswith(" · severe:45")


def test_mention_markup_in_the_data_notifies_no_one(tmp_path: Path, httpserver: HTTPServer) -> None:
    rows = sample_rows()
    rows[45][2] = "<@all>临水临崖隐患整治"
    csv_path = write_csv(tmp_path / "bulletin.csv", rows)
    httpserver.expect_request("/send", method="POST").respond_with_json({"errcode": 0})
    source = [{"name": "通报", "type": "csv", "path": str(csv_path)}]
    check(write_config(tmp_path, source, robot("wecom", httpserver.url_for("/send"))))
    [body] = bodies(httpserver)
    content = body["markdown"]["content"]
    assert "临水临崖隐患整治" in content and "<@all>" not in content


@pytest.mark.parametrize(
    ("template", "line", "why"),
    [
        ("第一行\n{% if %}\n", 2, "语法错误"),
        ("{{ unit }}\n\n{{ unit|nosuch }}", 3, "No filter named 'nosuch'"),
        ("{{ unit }}\n{{ nosuch.field }}", 2, "'nosuch' is undefined"),
    ],
)
def test_a_bad_route_template_is_exit_2_naming_file_route_and_line(
    tmp_path: Path, template: str, line: int, why: str
) -> None:
    routes = (
        f'[[routes]]\nsinks = ["机器人"]\n[[routes]]\nsinks = ["机器人"]\ntemplate = {toml_value(template)}\n'
    )
    config = write_config(tmp_path, SOURCE, robot("wecom", "http://127.0.0.1:9/send") + routes)
    done = run_cli("check", "--json", "--config", str(config))
    assert done.returncode == 2, done.stderr
    assert str(config) in done.stderr and "routes[1].template" in done.stderr
    assert f"第 {line} 行" in done.stderr and why in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_sink_template_file_names_the_template_file_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text(
        "{{ unit }}\n{% for e in events %}\n{{ e.item_name }}\n", encoding="utf-8"
    )
    sink = robot("feishu", "http://127.0.0.1:9/hook", template_file="bad.md")
    done = run_cli("check", "--config", str(write_config(tmp_path, SOURCE, sink)))
    assert done.returncode == 2
    assert "sinks[0].template_file" in done.stderr and str(tmp_path / "bad.md") in done.stderr
    assert "第 3 行" in done.stderr and "endfor" in done.stderr  # the unclosed for, at its end


def test_mobiles_through_a_feishu_robot_are_refused_at_start(tmp_path: Path) -> None:
    routes = '[[routes]]\nsinks = ["机器人"]\nmention_mobiles = ["13800000000"]\n'
    config = write_config(tmp_path, SOURCE, robot("feishu", "http://127.0.0.1:9/hook") + routes)
    done = run_cli("check", "--config", str(config))
    assert (
        done.returncode == 2 and "routes[0].mention_mobiles" in done.stderr and "mention_users" in done.stderr
    )


def test_a_group_message_from_a_template_keeps_every_event_id(tmp_path: Path, httpserver: HTTPServer) -> None:
    """Every rule on at 2024-07-31 (23 events, 10 lead units): a template listing only item
    ids still sends one message per unit with each event's id in its footer."""
    httpserver.expect_request("/send", method="POST").respond_with_json({"errcode": 0})
    jsonl = tmp_path / "alerts.jsonl"
    sinks = f'[[sinks]]\nname = "file"\ntype = "jsonl"\npath = {toml_value(str(jsonl))}\n'
    sinks += robot("wecom", httpserver.url_for("/send"))
    routes = (
        '[[routes]]\nsinks = ["机器人", "file"]\n'
        'template = "{{ unit }} {{ count }} 项：{% for e in events %}{{ e.item_id }} {% endfor %}"\n'
    )
    check(write_every_rule_config(tmp_path, sinks, routes))
    texts = [str(b["markdown"]["content"]) for b in bodies(httpserver)]
    assert len(texts) == 10
    civil = next(t for t in texts if t.startswith("民政局 5 项："))
    events = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(events) == 23
    civil_ids = sorted(str(e["id"]) for e in events if e["unit"] == "民政局")
    footer = civil.splitlines()[-1].removesuffix("</font>")
    assert sorted(footer.split("事件 ")[1].split()) == civil_ids and len(civil_ids) == 5


def test_a_template_failing_at_delivery_falls_back_to_the_default_and_says_so(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A branch the sample (item 45) never takes fails on a real event: the message goes out
    with the default template and `dashboard alerts` shows why in the sink's error."""
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    template = (
        '{{ event.item_name }}{% if event.rule == "missing_update" %}{{ event.figures.nosuch }}{% endif %}'
    )
    sinks = robot("webhook", httpserver.url_for("/hook"), template=template).replace(
        'token_env = "TEST_ROBOT_KEY"\n', ""
    )
    config = write_every_rule_config(tmp_path, sinks)
    result = check(config)
    assert len(result["alerts"]["fired"]) == 23
    sent = bodies(httpserver)
    assert len(sent) == 23 and result["alerts"]["pending_delivery"] == 0
    severe = next(b for b in sent if b["key"] == "severe:45")
    assert severe["text"].split("\n\n")[0] == ITEM_45  # the sink's own template
    missing = [b for b in sent if b["rule"] == "missing_update"]
    assert len(missing) == 18 and all(b["text"].startswith("### 【") for b in missing)  # the default
    done = run_cli("alerts", "--json", "--config", str(config))
    [sink] = json.loads(done.stdout)["sinks"]
    assert "sinks[0].template" in sink["error"] and "已改用默认模板" in sink["error"]


def test_a_route_template_beats_the_sinks_which_beats_the_default(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    for path in ("/a", "/b", "/c"):
        httpserver.expect_request(path, method="POST").respond_with_data("", status=204)

    def hook(name: str, **options: object) -> str:
        extra = "".join(f"{k} = {toml_value(v)}\n" for k, v in options.items())
        return (
            f'[[sinks]]\nname = "{name}"\ntype = "webhook"\nurl = "{httpserver.url_for("/" + name)}"\n{extra}'
        )

    sinks = hook("a", template="推送 a：{{ unit }}") + hook("b", template="推送 b：{{ unit }}") + hook("c")
    routes = (
        '[[routes]]\nsinks = ["a"]\ncontinue = true\ntemplate = "路由：{{ unit }} {{ count }} 项"\n'
        'mention_users = ["wangwu"]\n[[routes]]\nsinks = ["b", "c"]\n'
    )
    check(write_config(tmp_path, SOURCE, sinks + routes))
    sent = {request.path: json.loads(request.get_data()) for request, _ in httpserver.log}
    assert sent["/a"]["text"].split("\n\n")[0] == "路由：公安局交警大队 1 项"
    assert sent["/a"]["mentions"] == {"mobiles": [], "users": ["wangwu"]}
    assert sent["/b"]["text"].split("\n\n")[0] == "推送 b：公安局交警大队" and "mentions" not in sent["/b"]
    assert sent["/c"]["text"].startswith(
        "### 【严重】提醒·严重滞后 · 公安局交警大队\n\n【提醒】公安局交警大队："
    )
    assert all(body["text"].endswith(" · severe:45") for body in sent.values())


def test_template_and_template_file_together_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "t.md").write_text("{{ unit }}", encoding="utf-8")
    routes = '[[routes]]\nsinks = ["机器人"]\ntemplate = "{{ unit }}"\ntemplate_file = "t.md"\n'
    config = write_config(tmp_path, SOURCE, robot("wecom", "http://127.0.0.1:9/send") + routes)
    done = run_cli("check", "--config", str(config))
    assert done.returncode == 2 and "routes[0].template_file" in done.stderr and "只能写一个" in done.stderr


def test_dashboard_routes_says_which_route_has_a_template_and_mentions(tmp_path: Path) -> None:
    routes = '[[routes]]\nlevel = "督办"\nsinks = ["机器人"]\ntemplate = "{{ unit }}"\nmention_users = ["a", "b"]\n'
    config = write_config(tmp_path, SOURCE, robot("dingtalk", "http://127.0.0.1:9/hook") + routes)
    done = run_cli("routes", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "routes[0] level = 督办 → 机器人 · 自定模板 template · @ 2 人"
