"""Sizes (issue 12): a file beyond `max_bytes`, more rows than `max_rows`, a cell longer
than `max_cell`, an xlsx zip bomb and a corrupt sheet: each a named error, fast, with
bounded memory; the file is always named."""

from __future__ import annotations

import shutil
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from conftest import SAMPLE_CSV, SAMPLE_MST_XLSX, sample_rows, write_csv

from dashboard.contracts import ConfigError, SourceError, SourceSpec
from plugins.csv_source import CsvSource
from plugins.mashangtong_source import MashangtongSource


def csv_source(path: Path, **options: object) -> CsvSource:
    return CsvSource(SourceSpec("s", "csv", 60.0, {"path": str(path), **options}, path.parent))


def mst_source(path: Path, **options: object) -> MashangtongSource:
    return MashangtongSource(
        SourceSpec("m", "mashangtong", 60.0, {"path": str(path), **options}, path.parent)
    )


def error_of(src: CsvSource | MashangtongSource) -> str:
    with pytest.raises(SourceError) as info:
        src.load()
    return str(info.value)


def test_file_beyond_max_bytes_is_not_read() -> None:
    message = error_of(csv_source(SAMPLE_CSV, max_bytes="4KB"))
    assert "文件大小 5.9 KB 超过上限 4.0 KB（max_bytes）" in message
    assert str(SAMPLE_CSV) in message
    assert len(csv_source(SAMPLE_CSV, max_bytes="1MB").load().items) == 45


def test_more_rows_than_max_rows_is_refused() -> None:
    message = error_of(csv_source(SAMPLE_CSV, max_rows=40))
    assert "行数超过上限 40（max_rows）" in message
    assert len(csv_source(SAMPLE_CSV, max_rows=46).load().items) == 45  # header + 45 rows


def test_cell_longer_than_max_cell_names_its_line(tmp_path: Path) -> None:
    rows = sample_rows()
    rows[7][5] = "很" * 40_000
    path = write_csv(tmp_path / "long.csv", rows)
    message = error_of(csv_source(path))
    assert "第8行有单元格超过 32768 个字符（max_cell）" in message
    # A source may allow more; a smaller cap of another source is still its own.
    assert len(csv_source(path, max_cell=50_000).load().items) == 45
    assert "超过 1000 个字符" in error_of(csv_source(path, max_cell=1000))


@pytest.mark.parametrize(
    ("key", "value"), [("max_bytes", "lots"), ("max_cell", -1), ("max_unzipped", 0), ("sheet", 5)]
)
def test_bad_limits_are_config_errors(key: str, value: object) -> None:
    with pytest.raises(ConfigError) as info:
        mst_source(SAMPLE_MST_XLSX, **{key: value})
    assert info.value.key == f"sources.{key}"


def zip_bomb(path: Path, inflated: int) -> Path:
    """The sample xlsx with its first sheet replaced by `inflated` bytes of one repeated
    byte, streamed through ZIP_DEFLATED (the file stays about 1/1000 of that)."""
    with zipfile.ZipFile(SAMPLE_MST_XLSX) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with out.open(info.filename, "w", force_zip64=True) as sheet:
                    sheet.write(b'<?xml version="1.0"?><worksheet><sheetData><row r="1"><c><v>')
                    block = b"9" * (1 << 20)
                    for _ in range(inflated >> 20):
                        sheet.write(block)
                    sheet.write(b"</v></c></row></sheetData></worksheet>")
            else:
                out.writestr(info, src.read(info.filename))
    return path


def test_xlsx_zip_bomb_is_refused_fast_with_bounded_memory(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "bomb.xlsx", 64 << 20)
    assert bomb.stat().st_size < 1 << 20  # 64 MiB of sheet in under 1 MB
    tracemalloc.start()
    started = time.monotonic()
    try:
        message = error_of(mst_source(bomb))
        elapsed = time.monotonic() - started
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "疑似压缩炸弹" in message and "xl/worksheets/sheet1.xml" in message and str(bomb) in message
    assert elapsed < 1.0
    assert peak < 20 << 20  # nothing was inflated


def test_xlsx_beyond_max_unzipped_is_refused(tmp_path: Path) -> None:
    message = error_of(mst_source(SAMPLE_MST_XLSX, max_unzipped="10KB"))
    assert "超过上限 10.0 KB（max_unzipped）" in message and str(SAMPLE_MST_XLSX) in message
    assert len(mst_source(SAMPLE_MST_XLSX).load().items) > 0


def test_corrupt_sheet_xml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.xlsx"
    with zipfile.ZipFile(SAMPLE_MST_XLSX) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # cut mid-element
            out.writestr(info, data)
    message = error_of(mst_source(path))
    assert f"{path}: 工作表第" in message and "ParseError" in message


def test_not_a_zip_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    shutil.copy(SAMPLE_CSV, path)
    assert f"{path}: 不是有效的 xlsx 文件" in error_of(mst_source(path))
