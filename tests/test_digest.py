"""The change digest (issue 15): `dashboard digest` and the report's opening paragraph,
变化 annex and 红黑榜 annex. Must show: a digest between the September sample and an
October file made from it with three items changed lists exactly those three, with old
and new status and ratio, and item 45 behind for four consecutive months (July, August
and September imported with `dashboard import`, October checked)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
from conftest import SAMPLE_CSV, run_cli, sample_rows, write_config, write_csv, write_every_rule_config

from dashboard.core.digest import Bulletin, build_digest
from dashboard.core.items import Item, Status
from dashboard.core.progress import Thresholds, evaluate

RATIO = 6  # 完成比例 in the sample's columns
# October: 26 done, 34 falls below the line, 44 moves up and stays on track; 45 unchanged.
OCTOBER = {"26": "100.0%", "34": "60.0%", "44": "90.0%"}
# A tolerance of 10 points: on October's line (83.3%) the sample's 75% items stay on track,
# so only the three items above change status or ratio.
TOLERANCE = "[progress]\nlagging_below = 10"


def moved(changes: dict[str, str]) -> list[list[str]]:
    rows = sample_rows()
    for row in rows[1:]:
        if row[0] in changes:
            row[RATIO] = changes[row[0]]
    return rows


def ratio_of(row: list[str]) -> float:
    text = row[RATIO].rstrip("%")
    return float(text) / 100 if text else float(row[5]) / float(row[4])  # item 23: 535 of 455


def past_months(folder: Path) -> Path:
    """July and August (a few items moved, 45 behind in each) and the September sample."""
    folder.mkdir(exist_ok=True)
    write_csv(folder / "2024-07.csv", moved({"26": "60.0%", "28": "70.0%"}))
    write_csv(folder / "2024-08.csv", moved({"26": "70.0%", "45": "30.0%"}))
    write_csv(folder / "2024-09.csv", sample_rows())
    return folder


def october_config(tmp_path: Path) -> Path:
    october = write_csv(tmp_path / "2024-10.csv", moved(OCTOBER))
    return write_config(
        tmp_path, [{"name": "通报", "type": "csv", "path": str(october)}], TOLERANCE, "2024-10-31"
    )


def imported_then_checked(tmp_path: Path) -> Path:
    cfg = october_config(tmp_path)
    proc = run_cli("import", str(past_months(tmp_path / "bulletins")), "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    assert "135 个历史点" in proc.stdout, proc.stdout
    checked = run_cli("check", "--config", str(cfg), "--no-alerts")
    assert checked.returncode == 0, checked.stderr
    return cfg


def test_digest_lists_exactly_the_three_changed_items_and_item_45s_four_months(tmp_path: Path) -> None:
    cfg = imported_then_checked(tmp_path)
    proc = run_cli("digest", "--config", str(cfg), "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert (d["since"], d["until"], d["compared"]) == ("2024-09-30", "2024-10-31", True)
    assert abs(d["since_expected"] - 9 / 12) < 1e-6 and abs(d["expected"] - 10 / 12) < 1e-6

    def brief(section: str) -> list[tuple[object, ...]]:
        return [
            (c["id"], c["old_status"], c["old_ratio"], c["new_status"], c["new_ratio"]) for c in d[section]
        ]

    assert brief("newly_done") == [("26", "on_track", 0.874, "done", 1.0)]
    assert brief("worse") == [("34", "on_track", 0.751, "lagging", 0.6)]
    assert brief("better") == []
    assert brief("moved") == [("44", "on_track", 0.753, "on_track", 0.9)]
    assert d["new_items"] == [] and d["vanished"] == []

    # Not done and not moved: computed here from the two files.
    sept = {r[0]: ratio_of(r) for r in sample_rows()[1:]}
    octo = {r[0]: ratio_of(r) for r in moved(OCTOBER)[1:]}
    still = {i for i, r in octo.items() if r < 1 and abs(r - sept[i]) < 1e-9}
    assert {e["id"] for e in d["unmoved"]} == still and len(still) == 17  # 16 on track and 45

    # Behind now: 45 in each of July..October, 34 since October.
    assert [(b["id"], b["status"], b["ratio"], b["months"]) for b in d["behind"]] == [
        ("45", "severe", 0.32, 4),
        ("34", "lagging", 0.6, 1),
    ]
    assert d["paragraph"] == (
        "截至2024年10月31日（与2024年9月30日相比），新增完成1项，1项转为进度滞后"
        "（交通运输局「" + octo_name("34") + "」60.0%），17项未完成的项目完成比例没有变化；"
        "连续四个月滞后的有公安局交警大队「" + octo_name("45") + "」32.0%。"
    )

    text = run_cli("digest", "--config", str(cfg))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("变化摘要 Digest  2024-09-30（序时进度 75%） → 2024-10-31（序时进度 83%）")
    assert lines[1] == d["paragraph"]
    assert "新增完成 newly done（1）" in lines and "状态变差 worse（1）" in lines
    assert any(line.startswith("  [34] 交通运输局") and "正常 75.1% → 滞后 60.0%" in line for line in lines)
    assert any(line.startswith("  [45] 公安局交警大队") and "（连续4个月滞后）" in line for line in lines)


def octo_name(item_id: str) -> str:
    return next(r[2] for r in sample_rows() if r[0] == item_id)


def test_since_picks_the_older_bulletin_and_until_a_past_one(tmp_path: Path) -> None:
    cfg = imported_then_checked(tmp_path)
    proc = run_cli("digest", "--config", str(cfg), "--since", "2024-07-31", "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert (d["since"], d["until"]) == ("2024-07-31", "2024-10-31")
    # Since July (26 at 60%, 28 at 70%): 26 is done, 28 moved on track, besides 34 and 44.
    assert [(c["id"], c["old_ratio"]) for c in d["newly_done"]] == [("26", 0.6)]
    assert [c["id"] for c in d["worse"]] == ["34"]
    assert {c["id"] for c in d["moved"]} == {"28", "44"}

    # --until a past month reads it from history: August against July.
    proc = run_cli("digest", "--config", str(cfg), "--since", "2024-07-31", "--until", "2024-08-31", "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert (d["since"], d["until"]) == ("2024-07-31", "2024-08-31")
    assert d["newly_done"] == d["worse"] == d["better"] == []
    assert {(c["id"], c["old_ratio"], c["new_ratio"]) for c in d["moved"]} == {
        ("26", 0.6, 0.7),
        ("28", 0.7, 0.95),
        ("45", 0.32, 0.3),
    }
    assert [(b["id"], b["months"]) for b in d["behind"]] == [("45", 2)]

    bad = run_cli("digest", "--config", str(cfg), "--since", "2024-11-30")
    assert bad.returncode == 2 and "--since" in bad.stderr and "Traceback" not in bad.stderr


def test_without_an_earlier_bulletin_the_digest_says_so_and_exits_0(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [{"name": "通报", "type": "csv", "path": str(SAMPLE_CSV)}])
    proc = run_cli("digest", "--config", str(cfg), "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["compared"] is False and d["since"] is None and d["newly_done"] == []
    assert d["paragraph"] == "截至2024年9月30日，进度历史中没有更早的通报，无法比较变化。"
    assert any("dashboard import" in n for n in d["notes"])
    assert [(b["id"], b["months"]) for b in d["behind"]] == [("45", 1)]


def evaluated(ratios: dict[str, float], expected: float) -> Bulletin:
    items = [Item(i, f"项目{i}", unit="单位", ratio=r) for i, r in ratios.items()]
    return Bulletin(
        date(2024, 1, 31), expected, dict(zip(ratios, evaluate(items, expected, Thresholds()), strict=True))
    )


def test_a_month_missing_or_on_track_ends_the_run_of_months_behind() -> None:
    def at(day: date, ratios: dict[str, float], expected: float = 0.75) -> Bulletin:
        b = evaluated(ratios, expected)
        return Bulletin(day, b.expected, b.items)

    june, july = at(date(2024, 6, 30), {"a": 0.1, "b": 0.1}), at(date(2024, 7, 31), {"a": 0.1, "b": 0.9})
    september = at(date(2024, 9, 30), {"a": 0.1, "b": 0.1, "c": 0.1})
    october = at(date(2024, 10, 31), {"a": 0.1, "b": 0.1, "c": 0.1, "d": 0.9})
    digest = build_digest(october, september, [june, july, september])
    # August is missing: a's run is September and October only; c is new in September.
    assert {e.key: e.months for e in digest.behind} == {"a": 2, "b": 2, "c": 2}
    assert [e.key for e in digest.new_items] == ["d"]
    digest = build_digest(july, june, [june])
    assert {e.key: e.months for e in digest.behind} == {"a": 2}
    assert [(c.key, c.old_status, c.new_status) for c in digest.better] == [
        ("b", Status.SEVERE, Status.ON_TRACK)
    ]


def test_units_without_a_monthly_update_are_the_missing_update_rules(tmp_path: Path) -> None:
    cfg = write_every_rule_config(tmp_path)  # the bulletin and the 码上通 export at 2024-07-31
    checked = run_cli("check", "--config", str(cfg), "--json")
    assert checked.returncode == 0, checked.stderr
    expected: dict[str, list[str]] = {}
    for e in json.loads(checked.stdout)["alerts"]["fired"]:
        if e["rule"] == "missing_update":
            expected.setdefault(e["unit"], []).append(e["key"].split(":")[1])
    assert sum(map(len, expected.values())) == 18
    proc = run_cli("digest", "--config", str(cfg), "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["update_month"] == 7
    assert {u["unit"]: sorted(u["items"], key=int) for u in d["no_update"]} == {
        unit: sorted(ids, key=int) for unit, ids in expected.items()
    }
    assert "个单位7月未更新动态：" in d["paragraph"]


def test_report_opens_with_the_changes_and_adds_the_change_and_league_annexes(tmp_path: Path) -> None:
    cfg = imported_then_checked(tmp_path)
    out = tmp_path / "out"
    proc = run_cli("report", "--config", str(cfg), "--month", "2024-10", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    digest = json.loads(run_cli("digest", "--config", str(cfg), "--json").stdout)
    assert figures["opening"] == digest["paragraph"] and figures["opening"].startswith(
        "截至2024年10月31日（与"
    )
    assert figures["changes"]["since"] == "2024-09-30"
    assert [c["id"] for c in figures["changes"]["newly_done"]] == ["26"]
    # 附件1–3 are October's (the report compares with the line itself, no tolerance).
    octo = [ratio_of(r) for r in moved(OCTOBER)[1:]]
    below = sum(1 for r in octo if r < 10 / 12)
    assert (figures["done"], figures["below"]) == (sum(1 for r in octo if r >= 1), below) == (26, 11)

    wb = openpyxl.load_workbook(out / "bulletin-2024-10.xlsx")
    assert wb.sheetnames[5:] == ["附件5 督办事项", "附件6 变化", "附件7 红黑榜"]
    rows = [list(r) for r in wb["附件6 变化"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "变化")
    body = [r for r in rows[header + 1 :] if r[0] is not None]
    changed = [
        (r[0], r[1], r[4], round(r[5], 6), r[6], round(r[7], 6))
        for r in body
        if r[0] in ("新增完成", "状态变差", "比例变动")
    ]
    assert changed == [
        ("新增完成", "26", "正常", 0.874, "已完成", 1.0),
        ("状态变差", "34", "正常", 0.751, "滞后", 0.6),
        ("比例变动", "44", "正常", 0.753, "正常", 0.9),
    ]
    assert [(r[0], r[1], r[8]) for r in body if r[0] == "连续滞后"] == [("连续滞后", "45", "连续4个月滞后")]

    league = [list(r) for r in wb["附件7 红黑榜"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(league) if r[0] == "名次")
    last = [r for r in league[header + 1 :] if r[0] is not None][-1]
    # 公安局交警大队: one item, none done or on schedule, 83.3 − 32.0 points behind.
    assert (last[2], last[1], last[3]) == ("公安局交警大队", "黑榜", round(-(10 / 12 - 0.32) * 100, 1))
    md = (out / "bulletin-2024-10.md").read_text(encoding="utf-8")
    assert "## 附件6：变化（与上期通报相比）" in md and "## 附件7：牵头单位红黑榜（截至2024年10月31日）" in md
    assert md.index(figures["opening"]) < md.index("## 附件1")

    # A past month from history: September against August (26 and 45 moved), 45 behind three months.
    proc = run_cli("report", "--config", str(cfg), "--month", "2024-09", "-o", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    changes = json.loads(proc.stdout)["changes"]
    assert (changes["since"], changes["until"]) == ("2024-08-31", "2024-09-30")
    assert {c["id"] for c in changes["moved"]} == {"26", "45"} and changes["newly_done"] == []
    assert [(b["id"], b["months"]) for b in changes["behind"]] == [("45", 3)]


def scheduled_config(tmp_path: Path, digest: str) -> Path:
    october = write_csv(tmp_path / "2024-10.csv", moved(OCTOBER))
    extra = f"""{TOLERANCE}
[[sinks]]
name = "专班"
type = "jsonl"
path = {json.dumps(str(tmp_path / "zhuanban.jsonl"))}
[[sinks]]
name = "值班"
type = "jsonl"
path = {json.dumps(str(tmp_path / "duty.jsonl"))}
[digest]
{digest}
"""
    return write_config(
        tmp_path, [{"name": "通报", "type": "csv", "path": str(october)}], extra, "2024-10-31"
    )


def digest_lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [e for e in events if e["rule"] == "digest"]


def test_the_scheduled_digest_goes_out_once_per_slot_through_the_outbox(tmp_path: Path) -> None:
    import asyncio
    from datetime import datetime

    from dashboard.config import load_config
    from dashboard.runtime import Runtime

    cfg = scheduled_config(tmp_path, 'schedule = "MON 09:00"\nsinks = ["专班"]')
    assert run_cli("import", str(past_months(tmp_path / "bulletins")), "--config", str(cfg)).returncode == 0

    def evaluate_at(now: datetime) -> None:
        runtime = Runtime(load_config(cfg))  # a new process each time: the slot is kept in the store
        try:
            asyncio.run(runtime.refresh_all())
            runtime.evaluate_alerts(runtime.snapshot(), now=now)
        finally:
            runtime.close()

    zhuanban, duty = tmp_path / "zhuanban.jsonl", tmp_path / "duty.jsonl"
    evaluate_at(datetime(2024, 11, 4, 8, 59))  # before Monday's slot; last Monday's is a week old
    assert digest_lines(zhuanban) == []
    evaluate_at(datetime(2024, 11, 4, 9, 30))
    evaluate_at(datetime(2024, 11, 4, 10, 0))
    evaluate_at(datetime(2024, 11, 5, 8, 0))  # within a day of the slot, but it went out already
    [sent] = digest_lines(zhuanban)
    assert digest_lines(duty) == []  # `[digest] sinks` names only 专班
    assert sent["key"] == "digest:2024-11-04T09:00" and sent["kind"] == "fired"
    message = str(sent["message"])
    assert message.startswith("截至2024年10月31日（与2024年9月30日相比），新增完成1项，1项转为进度滞后")
    assert "连续四个月滞后的有公安局交警大队" in message
    assert "新增完成：[26]" in message and "状态变差：[34]" in message
    assert sent["figures"] == {
        "since": "2024-09-30",
        "until": "2024-10-31",
        "newly_done": 1,
        "worse": 1,
        "better": 0,
        "streaks": ["45"],
    }
    evaluate_at(datetime(2024, 11, 11, 9, 0))  # the next Monday
    assert [e["key"] for e in digest_lines(zhuanban)] == [
        "digest:2024-11-04T09:00",
        "digest:2024-11-11T09:00",
    ]


def test_a_bad_digest_schedule_or_sink_is_a_named_config_error(tmp_path: Path) -> None:
    cfg = scheduled_config(tmp_path, 'schedule = "MONDAY 9"')
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2 and "digest.schedule" in proc.stderr and "Traceback" not in proc.stderr
    cfg = scheduled_config(tmp_path, 'schedule = "MON 09:00"\nsinks = ["领导群"]')
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2 and "digest.sinks" in proc.stderr and "领导群" in proc.stderr


def test_export_view_digest_has_a_row_per_changed_item(tmp_path: Path) -> None:
    import csv
    import io

    cfg = imported_then_checked(tmp_path)
    proc = run_cli("export", "--config", str(cfg), "--view", "digest", "--format", "csv", "-o", "-")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout.lstrip("\ufeff"))))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "变化")
    body = [r for r in rows[header + 1 :] if r]
    assert [(r[0], r[1]) for r in body] == [
        ("新增完成", "26"),
        ("状态变差", "34"),
        ("比例变动", "44"),
        ("连续滞后", "45"),
    ]
    assert "已导出 4 行" in proc.stderr


def test_vanished_items_and_a_long_list_of_names_in_the_paragraph() -> None:
    old_ratios = {f"i{n}": 0.8 for n in range(12)} | {"gone": 0.5}
    old = evaluated(old_ratios, 0.75)
    new = evaluated({f"i{n}": 0.6 for n in range(12)}, 0.75)  # twelve items fall behind
    digest = build_digest(new, old)
    assert [e.key for e in digest.vanished] == ["gone"] and digest.vanished[0].ratio == 0.5
    assert [c.new_status for c in digest.worse] == [Status.LAGGING] * 12
    # The clause names ten and counts all twelve; the section lists every one.
    assert "12项转为进度滞后（" in digest.paragraph() and "」60.0%等12项）" in digest.paragraph()
    assert digest.paragraph().count("「项目") == 10
    assert len(dict(digest.sections())["状态变差 worse"]) == 12
    assert "新增项目0项，减少1项" in digest.paragraph()
