"""A half-read file is never the truth (issue 12): header only, a 合计 row only, a file cut
mid-row, an unclosed quote, a file rewritten while it is read, a path that is not a
regular file, mixed encodings, a BOM over a GBK body, bad source options."""

from __future__ import annotations

import codecs
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SAMPLE_CSV, run_cli, sample_rows, write_csv

from dashboard.contracts import ConfigError, SourceError, SourceSpec
from plugins.csv_source import CsvSource

HEADER = "序号,实事类别,项目名称,牵头单位,任务数,进度情况,完成比例"


def source(path: Path, **options: object) -> CsvSource:
    return CsvSource(SourceSpec("s", "csv", 60.0, {"path": str(path), **options}, path.parent))


def load_error(path: Path, **options: object) -> str:
    with pytest.raises(SourceError) as info:
        source(path, **options).load()
    return str(info.value)


def test_header_only_is_zero_items_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(HEADER + "\n", encoding="utf-8")
    result = source(path).load()
    assert result.items == [] and result.warnings == []


def test_only_a_total_row_is_zero_items_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(HEADER + "\n合计,,,,455,535,\n", encoding="utf-8")
    result = source(path).load()
    assert result.items == []
    assert [(w.row, "合计" in w.message) for w in result.warnings] == [(2, True)]


def test_file_cut_mid_row_is_an_error_naming_the_line(tmp_path: Path) -> None:
    text = SAMPLE_CSV.read_text(encoding="utf-8").rstrip("\n")
    cut = text[: text.rindex(",")]  # the last row loses its last cell, no final line break
    path = tmp_path / "cut.csv"
    path.write_text(cut, encoding="utf-8")
    message = load_error(path)
    assert "第46行不完整" in message and str(path) in message
    # The same file complete but without a final line break is fine: 45 items.
    path.write_text(text, encoding="utf-8")
    assert len(source(path).load().items) == 45


def simple_lines(n: int = 30) -> list[str]:
    return [HEADER] + [f"{i},县实事,项目{i},某局,10,5,50%" for i in range(1, n + 1)]


def test_unclosed_quote_at_end_of_file_names_its_line(tmp_path: Path) -> None:
    lines = simple_lines()
    lines[10] = lines[10].replace(",项目", ',"项目')  # line 11 opens a quote nobody closes
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "第11行的引号没有闭合" in load_error(path)


def test_unclosed_quote_that_swallows_rows_names_its_line(tmp_path: Path) -> None:
    lines = simple_lines()
    lines[4] = lines[4].replace(",项目", ',"项目')  # opens on line 5 ...
    lines[20] = lines[20].replace(",某局", '",某局')  # ... and a stray quote on line 21 closes it
    path = tmp_path / "q.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = load_error(path)
    assert "第5行的引号没有闭合" in message and "吞掉了后面的 16 行" in message


def test_a_quoted_multi_line_note_is_still_one_cell(tmp_path: Path) -> None:
    rows = sample_rows()
    rows[1][5] = "已完成\n第二行说明，没有逗号"
    path = write_csv(tmp_path / "m.csv", rows)
    items = source(path).load().items
    assert len(items) == 45 and items[0].progress_text == "已完成\n第二行说明，没有逗号"


def test_file_rewritten_during_reads_is_never_taken_half_read(tmp_path: Path) -> None:
    """A writer rewrites the file in place, chunk by chunk, again and again: every load
    gives the whole 3,000 rows or fails `文件在读取过程中被改写`, never a partial set."""
    rows = [HEADER.split(",")] + [
        [str(i), "县实事", f"项目{i}", "某局", "10", "5", "50%"] for i in range(1, 3001)
    ]
    path = write_csv(tmp_path / "moving.csv", rows)
    data = path.read_bytes()
    stop = threading.Event()

    def rewrite() -> None:
        while not stop.is_set():
            with path.open("r+b") as f:
                f.truncate(0)
                for start in range(0, len(data), 8192):
                    f.write(data[start : start + 8192])
                    f.flush()
                    time.sleep(0.002)
            time.sleep(0.01)

    writer = threading.Thread(target=rewrite, daemon=True)
    writer.start()
    outcomes: list[str | int] = []
    try:
        src = source(path, settle=0.05)
        for _ in range(12):
            try:
                outcomes.append(len(src.load().items))
            except SourceError as exc:
                outcomes.append(str(exc))
    finally:
        stop.set()
        writer.join()
    assert all(o == 3000 or (isinstance(o, str) and "文件在读取过程中被改写" in o) for o in outcomes), (
        outcomes
    )
    # Once the writer is done the file stands still and loads whole.
    assert len(src.load().items) == 3000


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFO")
def test_fifo_directory_and_device_are_refused_before_opening(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert "不是普通文件" in load_error(fifo) and "FIFO" in load_error(fifo)
    assert time.monotonic() - started < 2  # refused, not blocked in open()
    assert "不是普通文件（是目录）" in load_error(tmp_path)
    if Path("/dev/null").exists():
        assert "不是普通文件" in load_error(Path("/dev/null"))


def test_mixed_utf8_and_gbk_names_the_lines(tmp_path: Path) -> None:
    text = SAMPLE_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    data = "".join(text[:20]).encode("utf-8") + "".join(text[20:]).encode("gbk")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    message = load_error(path)
    assert "无法识别文件编码" in message and "UTF-8 第21行" in message and "GB18030 第" in message


def test_utf8_bom_over_a_gbk_body_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + SAMPLE_CSV.read_text(encoding="utf-8").encode("gbk"))
    message = load_error(path)
    assert "UTF-8 BOM" in message and "第1行不是 UTF-8" in message and 'encoding = "gb18030"' in message
    # Following the hint loads the file.
    assert len(source(path, encoding="gb18030").load().items) == 45


@pytest.mark.parametrize(
    ("key", "value"),
    [("header_scan", "ten"), ("encoding", "klingon"), ("delimiter", ",,"), ("max_rows", 0), ("settle", "x")],
)
def test_bad_source_options_are_config_errors(
    tmp_path: Path, config_writer: Callable[..., Path], key: str, value: object
) -> None:
    with pytest.raises(ConfigError) as info:
        source(SAMPLE_CSV, **{key: value})
    assert info.value.key == f"sources.{key}"
    cfg = config_writer([{"name": "s", "type": "csv", "path": str(SAMPLE_CSV), key: value}])
    proc = run_cli("check", "--config", str(cfg))
    assert proc.returncode == 2 and key in proc.stderr, proc.stderr
