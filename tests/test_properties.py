"""Property-based tests (issue 12): the number, percent, target and date parsers and the
CSV loader never raise an uncaught exception; every data row becomes an item or a
warning naming its row (and column), or the whole file is a SourceError naming it."""

from __future__ import annotations

import csv
import io
import math
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.config import parse_as_of
from dashboard.contracts import ConfigError, SourceError, SourceSpec
from dashboard.core.parse import parse_int, parse_number, parse_percent, parse_target
from dashboard.core.sanitize import clean_text
from plugins.csv_source import CsvSource

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = ["序号", "实事类别", "项目名称", "牵头单位", "任务数", "进度情况", "完成比例"]

numberish = st.one_of(
    st.text(alphabet="0123456789.,%+-eE ．％１２３NaInfity_\u3000\x1b", max_size=30),
    st.sampled_from(
        ["NaN", "-inf", "1e999", "9" * 400, "-5%", "20000%", "７５．１％", "27. 904", "提升至90%以上"]
    ),
    st.text(max_size=20),
    st.integers(min_value=-(10**500), max_value=10**500),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
)


def finite_or_none(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isfinite(x))


@FAST
@given(numberish)
def test_number_parsers_never_raise_and_give_finite_numbers(value: object) -> None:
    assert finite_or_none(parse_number(value))
    assert finite_or_none(parse_percent(value))
    assert finite_or_none(parse_percent(value, bare_is_percent=False))
    n = parse_int(value)
    assert n is None or isinstance(n, int)
    target = parse_target(value)
    assert finite_or_none(target.value) and isinstance(target.text, str)


@FAST
@given(st.one_of(st.text(max_size=20), st.dates().map(date.isoformat), st.integers(), st.none()))
def test_as_of_dates_parse_or_are_config_errors(value: object) -> None:
    try:
        parsed = parse_as_of(value, "sources[0].as_of")
    except ConfigError as exc:
        assert exc.key == "sources[0].as_of"
    else:
        assert parsed is None or isinstance(parsed, date)


@FAST
@given(st.text())
def test_clean_text_leaves_only_printable_text(value: str) -> None:
    cleaned = clean_text(value)
    assert cleaned.isprintable() or all(c.isprintable() or c.isspace() or ord(c) >= 0xA0 for c in cleaned)
    assert "\x1b" not in cleaned and "\x07" not in cleaned and "\u202e" not in cleaned
    assert clean_text(cleaned) == cleaned


def load(data: bytes) -> tuple[Path, object]:
    folder = Path(tempfile.mkdtemp(prefix="prop-"))
    path = folder / "p.csv"
    path.write_bytes(data)
    src = CsvSource(SourceSpec("p", "csv", 60.0, {"path": str(path), "settle": 0}, folder))
    try:
        return path, src.load()
    except SourceError as exc:
        assert str(path) in str(exc)  # every error names the file
        return path, exc


@FAST
@given(st.binary(max_size=600))
def test_random_bytes_load_or_fail_naming_the_file(data: bytes) -> None:
    _path, outcome = load(",".join(HEADER).encode() + b"\n" + data)
    if not isinstance(outcome, SourceError):
        for item in outcome.items:  # type: ignore[attr-defined]
            assert item.id.strip() and item.name.strip()
            assert item.ratio is None or 0 <= item.ratio <= 100


cell = st.one_of(numberish.map(lambda v: "" if v is None else str(v)), st.text(max_size=12))


@FAST
@given(st.lists(st.lists(cell, min_size=0, max_size=9), min_size=1, max_size=12))
def test_every_csv_row_is_an_item_or_a_warning_naming_it(rows: list[list[str]]) -> None:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([HEADER, *rows])  # quotes any \r or \n
    _path, outcome = load(buf.getvalue().encode("utf-8"))
    if isinstance(outcome, SourceError):
        return  # e.g. a cell holding a whole row of delimiters across lines: named, not taken
    result = outcome
    lines_with_items = {int(i.origin.rpartition(":")[2]) for i in result.items}  # type: ignore[attr-defined]
    warned = {w.row for w in result.warnings}  # type: ignore[attr-defined]
    # Rows are numbered as a spreadsheet shows them (a quoted multi-line cell is one row):
    # the header is row 1.
    for number, row in enumerate(rows, start=2):
        if not any(clean_text(c).strip() for c in row):
            continue  # a blank row (control characters only, too) is no data
        assert number in lines_with_items or number in warned, (row, number, result)
    for w in result.warnings:  # type: ignore[attr-defined]
        assert w.row is not None and w.location
    for item in result.items:  # type: ignore[attr-defined]
        assert finite_or_none(item.ratio) and (item.ratio is None or 0 <= item.ratio <= 100)
        assert finite_or_none(item.target) and finite_or_none(item.actual)
        assert clean_text(item.name) == item.name
