"""What every source reading one table file shares: its options (`path`, `encoding`,
`delimiter`, `aliases`, `header_scan`, `as_of`, and the limits `max_bytes`, `max_rows`,
`max_cell`, `settle`), a fetch in a worker thread, watching the file, and the table →
items step. The CSV and 码上通 sources are built on it; a plugin for another file
format subclasses it and overrides `rows`.

A half-read file is never the truth: the path must be a regular file (a FIFO would
block the open), within `max_bytes`, and unchanged (size, mtime, inode) across the
read and a short settle; a file rewritten meanwhile is read again, and after a few
tries the source fails with `文件在读取过程中被改写`.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import re
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from dashboard.contracts import FetchResult, SourceError, SourceSpec
from dashboard.core.records import Cell, RowContext
from dashboard.core.sanitize import clean_text
from dashboard.textfiles import DEFAULT_MAX_CELL, iter_csv_rows

DEFAULT_MAX_BYTES = 200 * 1024**2
DEFAULT_MAX_ROWS = 500_000
DEFAULT_SETTLE = 0.2  # seconds a file must have stood still before its rows are taken
READ_ATTEMPTS = 3

# The limit options every table file source accepts (merged into each plugin's OPTIONS).
LIMIT_OPTIONS = {
    "max_bytes": '文件大小上限，默认 200MB（整数字节数或如 "50MB"）',
    "max_rows": f"行数上限，默认 {DEFAULT_MAX_ROWS}",
    "max_cell": f"单元格字符数上限，默认 {DEFAULT_MAX_CELL}",
    "settle": f"文件须静止的秒数（大小与修改时间不变），默认 {DEFAULT_SETTLE}",
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(value: object, spec: SourceSpec, key: str) -> int:
    """An option that is a size: an int (bytes) or text such as `200MB`, `1.5 GiB`."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and (m := _SIZE_RE.match(value)):
        size = int(float(m.group(1)) * _UNITS[m.group(2)[:1].lower()])
        if size > 0:
            return size
    raise spec.error(key, f"无效的大小 {value!r}", '正整数字节数，或如 "200MB"')


def positive_int(value: object, spec: SourceSpec, key: str, *, high: int = 10**9) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= high:
        return value
    raise spec.error(key, f"无效的值 {value!r}", f"1 到 {high} 之间的整数")


class TableFileSource:
    def __init__(self, spec: SourceSpec, options: Mapping[str, str]) -> None:
        """Validate `spec`'s options against `options` (name → help) and read the shared ones;
        a bad value is a ConfigError naming the key, not a failed source later."""
        spec.check_options(options)
        opts = spec.options
        self.name = spec.name
        self.path = spec.path("path")
        self.encoding = _encoding(opts.get("encoding"), spec)
        self.delimiter = _delimiter(opts.get("delimiter", ","), spec)
        self.aliases = spec.aliases()
        self.scan = positive_int(opts.get("header_scan", 10), spec, "header_scan", high=1000)
        self.max_bytes = parse_size(opts.get("max_bytes", DEFAULT_MAX_BYTES), spec, "max_bytes")
        self.max_rows = positive_int(opts.get("max_rows", DEFAULT_MAX_ROWS), spec, "max_rows")
        self.max_cell = positive_int(opts.get("max_cell", DEFAULT_MAX_CELL), spec, "max_cell", high=10**8)
        settle = opts.get("settle", DEFAULT_SETTLE)
        if isinstance(settle, bool) or not isinstance(settle, (int, float)) or not 0 <= settle <= 60:
            raise spec.error("settle", f"无效的值 {settle!r}", "0 到 60 之间的秒数")
        self.settle = float(settle)
        from dashboard.config import parse_as_of

        self.as_of = parse_as_of(opts.get("as_of"), f"{spec.key_prefix}.as_of", spec.config_file)

    def watch_paths(self) -> list[Path]:
        return [self.path]

    async def fetch(self) -> FetchResult:
        return await asyncio.to_thread(self.load)

    def rows(self) -> Iterable[Sequence[Cell]]:
        """The file's rows, title rows and header included (a CSV by default, row by row)."""
        return iter_csv_rows(self.path, self.encoding, self.delimiter, self.max_cell)

    def is_text(self) -> bool:
        """Whether `rows` reads the file as text lines (so a missing final line break means
        the last row may be cut). Subclasses reading other formats return False."""
        return True

    def load(self) -> FetchResult:
        """The file's items, read from a file that stood still while it was read."""
        for attempt in range(READ_ATTEMPTS):
            before = self.stat()
            try:
                result = self._load_once(before)
            except SourceError:
                if self._unchanged(before):
                    raise
                # A parse error in a file being rewritten says nothing: read it again.
            else:
                if self._unchanged(before):
                    return result
            if attempt + 1 < READ_ATTEMPTS:
                time.sleep(self.settle)  # give the writer time to finish
        raise SourceError(
            f"{self.path}: 文件在读取过程中被改写（连续 {READ_ATTEMPTS} 次读取期间大小或修改时间都变了），"
            "本次不采用 file changed while being read"
        )

    def stat(self) -> os.stat_result:
        """The file's stat, refusing what cannot be read safely: a FIFO (opening it
        blocks), a device, a directory, or a file beyond `max_bytes`."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise SourceError(f"{self.path}: 文件不存在") from None
        except OSError as exc:
            raise SourceError(f"{self.path}: 无法读取: {exc.strerror or exc}") from None
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "目录"
                if stat.S_ISDIR(st.st_mode)
                else "命名管道 FIFO"
                if stat.S_ISFIFO(st.st_mode)
                else "设备或套接字"
            )
            raise SourceError(f"{self.path}: 不是普通文件（是{kind}），不能作为数据源 not a regular file")
        if st.st_size > self.max_bytes:
            raise SourceError(
                f"{self.path}: 文件大小 {format_size(st.st_size)} 超过上限 {format_size(self.max_bytes)}（max_bytes），未读取"
            )
        return st

    def _load_once(self, before: os.stat_result) -> FetchResult:
        ends_with_newline = True
        if self.is_text() and before.st_size:
            ends_with_newline = _ends_with_newline(self.path)
        table = self.rows()
        ctx = RowContext(
            source=self.name,
            location=clean_text(str(self.path)),
            as_of=self.as_of,
            ends_with_newline=ends_with_newline,
            cells_printable=getattr(table, "printable", False),
        )
        rows = iter(table)
        try:
            # islice keeps the row cap out of the per-row path (it is C); the row after
            # the cap tells that the file had more.
            result = FetchResult.from_table(islice(rows, self.max_rows), self.aliases, ctx, self.scan)
            if next(rows, None) is not None:
                raise SourceError(f"{self.path}: 行数超过上限 {self.max_rows}（max_rows），未采用")
        except SourceError:
            raise
        except Exception as exc:
            # Whatever a reader raises (an XML ParseError in a sheet, RecursionError,
            # OverflowError), the user is told which file; it is a failed read, not a bug.
            raise SourceError(f"{self.path}: 无法读取（{type(exc).__name__}: {exc}）") from None
        finally:
            close = getattr(table, "close", None) or getattr(rows, "close", None)
            if callable(close):
                close()  # an xlsx reader holds the workbook open until closed
        return result

    def _unchanged(self, before: os.stat_result) -> bool:
        """Same size, mtime and inode after the read, and still so once the file has
        stood still for `settle` seconds (no wait for a file last written long ago)."""
        after = _quiet_stat(self.path)
        if after is None or _signature(after) != _signature(before):
            return False
        quiet = time.time() - after.st_mtime
        if 0 <= quiet < self.settle or quiet < 0:  # recent, or a clock ahead of ours
            time.sleep(self.settle - quiet if quiet >= 0 else self.settle)
            again = _quiet_stat(self.path)
            return again is not None and _signature(again) == _signature(before)
        return True


def _signature(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def _quiet_stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _ends_with_newline(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1) in (b"\n", b"\r")
    except OSError as exc:
        raise SourceError(f"{path}: 无法读取: {exc.strerror or exc}") from None


def format_size(size: int) -> str:
    """`3.2 KB`, `200.0 MB`: for messages about the size caps."""
    if size < 1024**2:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024**2:.1f} MB" if size < 1024**3 else f"{size / 1024**3:.2f} GB"


def _encoding(value: Any, spec: SourceSpec) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise spec.error("encoding", f"应为编码名称，得到 {value!r}", '"utf-8"、"gb18030" 等')
    try:
        codecs.lookup(value)
    except LookupError:
        raise spec.error("encoding", f"未知的编码 {value!r}", '"utf-8"、"gb18030"、"gbk" 等') from None
    return value


def _delimiter(value: Any, spec: SourceSpec) -> str:
    if not isinstance(value, str) or len(value) != 1 or value in '\r\n"':
        raise spec.error("delimiter", f"无效的分隔符 {value!r}", '一个字符，如 "," 或 "\\t"')
    return value
