"""Silences by matcher with who and why (issue 14): `dashboard silence --rule missing_update`
keeps every matching event out of the sinks while the alerts themselves still move, and
the silence with its author shows in `dashboard alerts --json` and in the export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE_CSV, run_cli, write_every_rule_config

AUTHOR, WHY = "张三", "7月动态已报省平台，待同步"


@pytest.fixture
def every_rule(tmp_path: Path) -> Path:
    """Design §5 with every rule on, at as-of 2024-07-31: on the sample 18 provincial
    items miss their July update, 2 lag in acceptance, 2 have unanswered comments, and
    item 45 is severe — 23 events, one line each in the jsonl sink."""
    file_sink = (
        f'[[sinks]]\nname = "file"\ntype = "jsonl"\npath = {json.dumps(str(tmp_path / "alerts.jsonl"))}\n'
    )
    return write_every_rule_config(tmp_path, file_sink)


def cli(config: Path, *args: str) -> tuple[int, str, str]:
    done = run_cli(*args, "--config", str(config))
    return done.returncode, done.stdout, done.stderr


def sent(config: Path) -> list[dict[str, object]]:
    path = config.parent / "alerts.jsonl"
    return (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )


def test_without_a_silence_every_rule_sends_23_events(every_rule: Path) -> None:
    code, out, err = cli(every_rule, "check", "--json")
    assert code == 0, err
    fired = json.loads(out)["alerts"]["fired"]
    assert sum(e["rule"] == "missing_update" for e in fired) == 18 and len(fired) == 23
    assert len(sent(every_rule)) == 23


def test_a_silence_by_rule_sends_none_of_the_18_and_shows_with_its_author(every_rule: Path) -> None:
    code, out, err = cli(
        every_rule, "silence", "--rule", "missing_update", "--for", "7d", "--by", AUTHOR, "--comment", WHY
    )
    assert code == 0, err
    assert "#1" in out
    code, out, err = cli(every_rule, "check", "--json")
    assert code == 0, err
    fired = json.loads(out)["alerts"]["fired"]
    assert sum(e["rule"] == "missing_update" for e in fired) == 18  # decided and recorded all the same
    lines = sent(every_rule)
    assert len(lines) == 5 and not [e for e in lines if e["rule"] == "missing_update"]
    assert sorted(str(e["key"]) for e in lines)[-1] == "severe:45"

    listed = json.loads(cli(every_rule, "alerts", "--json")[1])
    held = [a for a in listed["alerts"] if a["silenced_by"] == 1]
    assert len(held) == 18 and {a["rule"] for a in held} == {"missing_update"}
    assert {a["state"] for a in held} == {"open"}  # the team still sees them, marked
    assert listed["pending_delivery"] == 0
    (silence,) = listed["silences"]
    assert (silence["id"], silence["matchers"], silence["author"], silence["comment"]) == (
        1,
        {"rule": "missing_update"},
        AUTHOR,
        WHY,
    )
    assert silence["expired_at"] is None
    text = cli(every_rule, "alerts")[1]
    assert text.count("静默 #1") == 18

    code, out, err = cli(every_rule, "export", "--view", "silences", "-o", "-")
    assert code == 0, err
    header, row = out.lstrip("\ufeff").splitlines()
    assert header.startswith("编号,条件,开始,静默至,静默人,原因")
    assert row.startswith("1,rule=missing_update,") and f",{AUTHOR},{WHY}," in row

    # A second run sends nothing more; expiring the silence is in the trail with its author.
    assert cli(every_rule, "check")[0] == 0 and len(sent(every_rule)) == 5
    code, out, err = cli(every_rule, "silence", "--expire", "1", "--by", "李四", "--comment", "已同步")
    assert code == 0, err
    assert json.loads(cli(every_rule, "silence", "--list", "--json")[1])["silences"][0]["expired_at"]
    assert cli(every_rule, "silence", "--expire", "1", "--by", "李四")[0] == 1  # already ended
    trail = json.loads(cli(every_rule, "export", "--view", "trail", "--format", "json", "-o", "-")[1])["rows"]
    people = [(r["kind"], r["actor"], r["subject"]) for r in trail if r["actor"] != "system"]
    assert people == [("silence_added", AUTHOR, "silence:1"), ("silence_expired", "李四", "silence:1")]
    suppressed = [r for r in trail if r["actor"] == "system" and '"silence_id": 1' in r["after"]]
    assert len(suppressed) == 18


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--rule", "missing_update", "--for", "7d", "--comment", WHY], "--by"),
        (["--rule", "missing_update", "--for", "7d", "--by", AUTHOR], "--comment"),
        (["--rule", "missing_update", "--for", "7d", "--by", " ", "--comment", WHY], "--by"),
        (["--for", "7d", "--by", AUTHOR, "--comment", WHY], "--rule"),
        (["--rule", "missing_update", "--by", AUTHOR, "--comment", WHY], "--until"),
        (["--rule", "missing_udate", "--for", "7d", "--by", AUTHOR, "--comment", WHY], "missing_update"),
        (["--rule", "missing_update", "--until", "2020-01-01", "--by", AUTHOR, "--comment", WHY], "--until"),
    ],
)
def test_a_silence_without_author_comment_or_matcher_is_a_usage_error(
    every_rule: Path, args: list[str], named: str
) -> None:
    code, _out, err = cli(every_rule, "silence", *args)
    assert code == 2 and named in err and "Traceback" not in err
    listed = json.loads(cli(every_rule, "silence", "--list", "--json")[1])
    assert listed["silences"] == []  # nothing changed


def test_every_event_is_in_the_trail_even_over_max_per_cycle(every_rule: Path) -> None:
    text = every_rule.read_text(encoding="utf-8")
    every_rule.write_text(
        text.replace("[[sources]]", "[alerts]\nmax_per_cycle = 5\n\n[[sources]]", 1), encoding="utf-8"
    )
    code, out, err = cli(every_rule, "check", "--json")
    assert code == 0, err
    assert len(json.loads(out)["alerts"]["fired"]) == 23
    assert len(sent(every_rule)) == 6  # 5 one by one, and one summary of the other 18
    trail = json.loads(cli(every_rule, "export", "--view", "trail", "--format", "json", "-o", "-")[1])["rows"]
    fired = [r for r in trail if r["kind"] == "fired" and r["subject"] != "summary:cycle"]
    assert len(fired) == 23 and len({r["subject"] for r in fired}) == 23
    assert sum('"not_pushed": true' in r["after"] for r in fired) == 18


def test_a_silence_by_level_holds_the_reminder_back_but_not_the_warning(tmp_path: Path) -> None:
    """Item 45 unchanged: at 2024-09-30 it fires at 提醒 (silenced: nothing sent); at
    2024-10-07 it climbs to 预警, which the silence does not match, so that is sent."""

    def config(as_of: str) -> Path:
        path = tmp_path / "dashboard.toml"
        path.write_text(
            f'as_of = "{as_of}"\n[[sources]]\nname = "通报"\ntype = "csv"\npath = {json.dumps(str(SAMPLE_CSV))}\n'
            f'[[sinks]]\nname = "file"\ntype = "jsonl"\npath = {json.dumps(str(tmp_path / "alerts.jsonl"))}\n',
            encoding="utf-8",
        )
        return path

    cfg = config("2024-09-30")
    code, _out, err = cli(cfg, "silence", "--level", "提醒", "--for", "7d", "--by", AUTHOR, "--comment", WHY)
    assert code == 0, err
    listed = json.loads(cli(cfg, "silence", "--list", "--json")[1])["silences"]
    assert [s["matchers"] for s in listed] == [{"level": "remind"}]
    assert cli(cfg, "check")[0] == 0
    assert sent(cfg) == []
    assert json.loads(cli(cfg, "alerts", "--json")[1])["alerts"][0]["silenced_by"] == 1
    cfg = config("2024-10-07")
    assert cli(cfg, "check")[0] == 0
    assert [(e["key"], e["kind"], e["level"]) for e in sent(cfg)] == [("severe:45", "escalated", "warn")]
    assert json.loads(cli(cfg, "alerts", "--json")[1])["alerts"][0]["silenced_by"] is None
    assert cli(cfg, "silence", "--level", "紧急", "--for", "7d", "--by", AUTHOR, "--comment", WHY)[0] == 2
