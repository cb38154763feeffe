"""The working-day calendar (issue 15, issue 14): 序时进度 by official working days, from
the chinesecalendar package or from `[calendar]` lists in the config; a year known to
neither is a named configuration error; `mute = ["holidays"]` holds events over the
calendar's days off. Expected figures are counted here, day by day, independently of
the code under test."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from conftest import SAMPLE_CSV, run_cli
from screen_text import loaded, screen_lines
from textual.widgets import Static

from dashboard.config import load_config
from dashboard.contracts import ConfigError
from dashboard.core.progress import Period, expected_progress
from dashboard.core.workcal import CalendarGap, WorkCalendar
from dashboard.routes import parse_routes
from dashboard.runtime import Runtime
from dashboard.ui.app import make_app
from dashboard.workcal import load_calendar, mute_days_off, workday_expected

GOLDEN_WEEK = ["2024-09-30", "2024-10-07", "2024-10-12"]

# The package's years (2004–2026 in 1.11.0): NEXT is the first it lacks (2027 today), so the
# tests stay true when a newer release adds a year.
FIRST, LAST = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
NEXT = LAST + 1
LIBRARY = f"chinesecalendar {chinese_calendar.__version__}（{FIRST}–{LAST}）"


def national_day_lists(year: int) -> tuple[list[str], list[str]]:
    """Lists for `year` as a config would add them from the State Council's notice (the
    test's own: New Year, a National Day week, and the weekend days either side of it
    worked instead)."""
    holidays = [date(year, 1, 1), *(date(year, 10, d) for d in range(1, 8))]
    before = max(d for d in (date(year, 9, 30) - timedelta(n) for n in range(7)) if d.weekday() >= 5)
    after = min(d for d in (date(year, 10, 8) + timedelta(n) for n in range(7)) if d.weekday() >= 5)
    return [d.isoformat() for d in holidays], [before.isoformat(), after.isoformat()]


def config(folder: Path, body: str = "", as_of: str = "2024-09-30", tail: str = "") -> Path:
    path = folder / "dashboard.toml"
    path.write_text(
        f'as_of = "{as_of}"\n[progress]\nmethod = "workdays"\n{body}\n'
        f'[[sources]]\nname = "通报"\ntype = "csv"\npath = {json.dumps(str(SAMPLE_CSV))}\n{tail}',
        encoding="utf-8",
    )
    return path


def counted(day: date, is_workday: object) -> float:
    """Working days of the year up to `day` over the year's working days, counted here."""
    year = [date(day.year, 1, 1) + timedelta(n) for n in range(366 if day.year % 4 == 0 else 365)]
    works = [d for d in year if is_workday(d)]  # type: ignore[operator]
    return sum(1 for d in works if d <= day) / len(works)


def check_json(cfg: Path, *args: str) -> dict[str, object]:
    done = run_cli("check", "--json", "--no-alerts", "--config", str(cfg), *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_expected_progress_by_working_days_around_national_day_2024(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    by_month = [expected_progress(date.fromisoformat(d), Period.for_year(2024)) for d in GOLDEN_WEEK]
    assert by_month == [0.75, 0.75, 0.75]  # three dates in one month-count step
    got = {d: check_json(cfg, "--as-of", d) for d in GOLDEN_WEEK}
    figures = [float(got[d]["expected"]) for d in GOLDEN_WEEK]  # type: ignore[arg-type]
    want = [counted(date.fromisoformat(d), chinese_calendar.is_workday) for d in GOLDEN_WEEK]
    assert figures == pytest.approx(want, abs=1e-6)
    assert want == pytest.approx([189 / 251, 189 / 251, 194 / 251])  # 251 working days in 2024
    sep30, oct7, oct12 = figures
    assert sep30 > 0.75  # 29 Sep was a make-up Sunday: more of the year's work is behind
    assert oct7 == sep30  # the Golden Week adds no working day...
    assert oct12 == pytest.approx(sep30 + 5 / 251)  # ...and 8–12 Oct (Saturday 12th worked) add five
    calendar = got["2024-09-30"]["calendar"]
    assert calendar == {
        "method": "workdays",
        "calendar": LIBRARY,
        "warning": None,
    }
    # At 75.3% the sample's seven items at 75.0% are behind by working days.
    assert got["2024-09-30"]["by_status"] == {
        "done": 25,
        "on_track": 12,
        "lagging": 7,
        "severe": 1,
        "unknown": 0,
    }
    text = run_cli("check", "--no-alerts", "--config", str(cfg)).stdout
    assert "序时进度 expected 75.3%" in text and "按工作日 by working days：chinesecalendar" in text


def test_a_year_the_library_lacks_counts_the_config_supplied_holidays(tmp_path: Path) -> None:
    holidays, workdays = national_day_lists(NEXT)
    lists = f"[calendar]\nholidays = {json.dumps(holidays)}\nworkdays = {json.dumps(workdays)}\n"
    cfg = config(tmp_path, lists, as_of=f"{NEXT}-10-12")
    loaded = load_config(cfg)
    calendar = load_calendar(loaded.calendar, cfg)
    off, on = {date.fromisoformat(d) for d in holidays}, {date.fromisoformat(d) for d in workdays}

    def listed(d: date) -> bool:
        return d in on or (d.weekday() < 5 and d not in off)

    period = Period.for_year(NEXT)
    for day in [f"{NEXT}-09-30", f"{NEXT}-10-07", f"{NEXT}-10-12"]:
        expected, warning = workday_expected(date.fromisoformat(day), period, calendar, cfg)
        assert expected == pytest.approx(counted(date.fromisoformat(day), listed)) and warning == ""
    sep30 = workday_expected(date(NEXT, 9, 30), period, calendar)[0]
    assert workday_expected(date(NEXT, 10, 7), period, calendar)[0] == sep30  # the holiday week
    assert expected_progress(date(NEXT, 9, 30), period) == 0.75  # the month count does not see it
    # The header says where the calendar comes from, the config's year included.
    report = check_json(cfg)
    assert report["calendar"]["calendar"] == f"{LIBRARY}，配置补充 {NEXT}"  # type: ignore[index]
    assert float(report["expected"]) == pytest.approx(counted(date(NEXT, 10, 12), listed), abs=1e-6)  # type: ignore[arg-type]


def test_2027_without_a_calendar_is_a_named_error_or_calendar_days_with_a_warning(tmp_path: Path) -> None:
    cfg = config(tmp_path, as_of=f"{NEXT}-03-31")
    done = run_cli("check", "--no-alerts", "--config", str(cfg))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    message = done.stdout + done.stderr
    assert (
        "键 `calendar`" in message
        and f"没有 {NEXT} 年" in message
        and 'fallback = "calendar_days"' in message
    )
    # Likewise when the date is the source's own (found at the first evaluation, not at start).
    dated = config(tmp_path).read_text(encoding="utf-8").replace('as_of = "2024-09-30"\n', "")
    (tmp_path / "dated.toml").write_text(
        dated + f'as_of = "{NEXT}-03-31"\n', encoding="utf-8"
    )  # [[sources]]'
    done = run_cli("check", "--no-alerts", "--config", str(tmp_path / "dated.toml"))
    assert (
        done.returncode == 2
        and f"没有 {NEXT} 年" in done.stdout + done.stderr
        and "Traceback" not in done.stderr
    )
    # With the fallback: calendar days, and the run says so.
    fallback = config(tmp_path, '[calendar]\nfallback = "calendar_days"\n', as_of=f"{NEXT}-03-31")
    report = check_json(fallback)
    days_to_mar31 = (date(NEXT, 3, 31) - date(NEXT, 1, 1)).days + 1  # 90 in a common year
    days_in_year = (date(NEXT, 12, 31) - date(NEXT, 1, 1)).days + 1
    assert float(report["expected"]) == pytest.approx(days_to_mar31 / days_in_year, abs=1e-6)  # type: ignore[arg-type]
    assert "按自然日" in str(report["calendar"]["warning"])  # type: ignore[index]
    text = run_cli("check", "--no-alerts", "--config", str(fallback)).stdout
    assert f"! 工作日历中没有 {NEXT} 年：序时进度按自然日计算" in text


def test_lagging_below_is_the_tolerance_under_the_working_day_line(tmp_path: Path) -> None:
    # 0.3 points at 75.3% turned seven items at 75.0% into 滞后; half a point of tolerance keeps them on track.
    cfg = config(tmp_path, "lagging_below = 0.5")
    report = check_json(cfg)
    assert report["by_status"] == {"done": 25, "on_track": 19, "lagging": 0, "severe": 1, "unknown": 0}


def test_bad_calendar_tables_name_their_key(tmp_path: Path) -> None:
    for body, key in [
        ('[calendar]\nholidays = ["2027-02-30"]\n', "calendar.holidays"),
        ('[calendar]\nworkdays = "2027-02-07"\n', "calendar.workdays"),
        ('[calendar]\nholidays = ["2027-02-07"]\nworkdays = ["2027-02-07"]\n', "calendar.workdays"),
        ('[calendar]\nfallback = "weekdays"\n', "calendar.fallback"),
        ("[calendar]\nholiday = []\n", "calendar.holiday"),
    ]:
        with pytest.raises(ConfigError) as info:
            load_config(config(tmp_path, body))
        assert info.value.key == key, body
    assert "holidays" in str(info.value)  # the unknown key's nearest valid one
    # TOML dates work as well as strings.
    loaded = load_config(config(tmp_path, "[calendar]\nholidays = [2027-01-01]\n"))
    assert loaded.calendar.holidays == {date(2027, 1, 1)}


def test_the_config_days_win_over_the_librarys() -> None:
    sunday, monday = date(2024, 10, 13), date(2024, 10, 14)
    calendar = WorkCalendar.build(
        chinese_calendar.holidays,
        chinese_calendar.workdays,
        range(FIRST, LAST + 1),
        holidays=[monday],
        workdays=[sunday],
    )
    assert calendar.is_workday(sunday) and not calendar.is_workday(monday)
    assert calendar.is_workday(date(2024, 10, 12)) and calendar.is_day_off(date(2024, 10, 3))
    with pytest.raises(CalendarGap, match=str(NEXT)):
        calendar.is_workday(date(NEXT, 1, 4))
    assert calendar.known_years() == f"{FIRST}–{LAST}"


def test_a_holidays_mute_covers_whole_days_off_by_the_calendar(tmp_path: Path) -> None:
    [route] = parse_routes([{"sinks": ["file"], "mute": ["holidays"]}], ["file"])
    day_off = mute_days_off([route], load_config(config(tmp_path)).calendar, None, date(2024, 10, 1))
    assert day_off is not None
    at = [datetime(2024, 10, d, h) for d, h in [(3, 0), (3, 23), (8, 10), (12, 10), (13, 10), (29, 10)]]
    # 3 Oct holiday (all day), 8 Oct Tuesday, 12 Oct make-up Saturday, 13 Oct Sunday, 29 Oct Tuesday.
    assert [route.muted(t, day_off) for t in at] == [True, True, False, False, True, False]
    assert "免打扰 mute holidays" in route.describe()
    # A year the calendar lacks is a named error for such a route, unless the fallback is set.
    with pytest.raises(ConfigError) as info:
        mute_days_off([route], load_config(config(tmp_path)).calendar, None, date(NEXT, 1, 4))
    assert info.value.key == "calendar" and str(NEXT) in str(info.value)
    fallback = load_config(config(tmp_path, '[calendar]\nfallback = "calendar_days"\n')).calendar
    weekends = mute_days_off([route], fallback, None, date(NEXT, 1, 4))
    saturday = next(date(NEXT, 1, d) for d in range(1, 8) if date(NEXT, 1, d).weekday() == 5)
    monday = next(date(NEXT, 1, d) for d in range(1, 8) if date(NEXT, 1, d).weekday() == 0)
    assert weekends is not None and weekends(saturday) and not weekends(monday)  # weekends only


async def test_events_wait_over_a_holiday_and_go_out_on_the_next_working_day(tmp_path: Path) -> None:
    jsonl = tmp_path / "alerts.jsonl"
    sinks = f'[[sinks]]\nname = "file"\ntype = "jsonl"\npath = {json.dumps(str(jsonl))}\n'
    routes = '[[routes]]\nrule = "severe"\nsinks = ["file"]\nmute = ["holidays"]\n'
    path = config(tmp_path, tail=sinks + routes)
    runtime = Runtime(load_config(path))
    try:
        await runtime.refresh_all()
        snap = runtime.snapshot()
        runtime.evaluate_alerts(snap, now=datetime(2024, 10, 3, 10, 0).astimezone())  # National Day
        # By working days (75.3%) seven items lag: no route takes them, so they never wait.
        assert sorted(e.rule for e in snap.fired) == ["lagging"] * 7 + ["severe"]

        def keys() -> list[str]:
            return [json.loads(line)["key"] for line in jsonl.read_text(encoding="utf-8").splitlines()]

        assert len(keys()) == 7 and "severe:45" not in keys() and runtime.alerts.pending_count() == 1
        runtime.alerts.deliver(datetime(2024, 10, 6, 10, 0).astimezone())  # a Sunday in the holiday
        assert "severe:45" not in keys()
        runtime.alerts.deliver(datetime(2024, 10, 12, 9, 0).astimezone())  # the make-up Saturday
        assert keys()[-1] == "severe:45" and len(keys()) == 8 and runtime.alerts.pending_count() == 0
    finally:
        runtime.close()


def test_routes_test_shows_the_holidays_mute(tmp_path: Path) -> None:
    routes = '[[routes]]\nrule = "severe"\nsinks = ["file"]\nmute = ["22:00-08:00", "holidays"]\n'
    sinks = f'[[sinks]]\nname = "file"\ntype = "jsonl"\npath = {json.dumps(str(tmp_path / "a.jsonl"))}\n'
    # The fallback keeps this test true in a year the package does not know yet.
    path = config(tmp_path, '[calendar]\nfallback = "calendar_days"\n', tail=sinks + routes)
    done = run_cli("routes", "--test", "--rule", "severe", "--config", str(path))
    assert done.returncode == 0, done.stderr
    assert "routes[0] rule = severe → file · 免打扰 mute 22:00-08:00,holidays" in done.stdout
    assert "今天 today" in done.stdout and "工作日历 chinesecalendar" in done.stdout
    listed = json.loads(run_cli("routes", "--json", "--config", str(path)).stdout)
    assert listed["routes"][0]["mute"] == ["22:00-08:00", "holidays"]


async def test_the_header_says_which_calendar_counts_the_expected_progress(tmp_path: Path) -> None:
    app = make_app(load_config(config(tmp_path)))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        line = str(app.screen.query_one("#asof-line", Static).render())
        assert "截止 2024-09-30" in line and "序时进度 expected 75%" in line
        assert f"（按工作日 {LIBRARY}）" in line


async def test_a_year_without_a_calendar_found_in_the_data_is_a_named_error_on_screen(tmp_path: Path) -> None:
    # The as-of date is the source's own, seen only once it loads: the TUI says so and keeps running.
    text = config(tmp_path).read_text(encoding="utf-8").replace('as_of = "2024-09-30"\n', "")
    path = tmp_path / "dashboard.toml"
    path.write_text(text + f'as_of = "{NEXT}-03-31"\n', encoding="utf-8")  # in [[sources]]
    app = make_app(load_config(path))
    async with app.run_test(size=(160, 45)) as pilot:
        await loaded(app, pilot)
        shown = "\n".join(screen_lines(app))
        assert f"配置错误 calendar: 工作日历中没有 {NEXT} 年" in shown
        assert app.is_running
