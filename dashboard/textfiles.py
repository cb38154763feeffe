"""Reading text files whose encoding nobody wrote down (design §1), and refusing to
take a broken one as data: every error names the file and, where known, the line."""

from __future__ import annotations

import codecs
import csv
import io
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from dashboard.contracts import SourceError

# The statistical detector may only choose among Chinese encodings: on short GBK
# files it otherwise guesses Korean.
_CHINESE = ("gb18030", "gbk", "gb2312", "big5", "utf_8")
DEFAULT_MAX_CELL = 32_768  # characters in one CSV cell
# What dashboard.core.sanitize.clean_text removes, tab aside (a TSV's delimiter): one
# search per decoded chunk tells whether any cell of the file needs cleaning at all.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


class TableRows:
    """A file's rows, and whether every cell is printable (no control characters):
    then the row layer need not clean each cell. Iterating gives the rows once."""

    def __init__(self, rows: Iterator[list[str]], printable: bool) -> None:
        self.rows = rows
        self.printable = printable

    def __iter__(self) -> Iterator[list[str]]:
        return self.rows

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if callable(close):
            close()


def has_controls(text: str, delimiter: str = ",") -> bool:
    """Whether `text` holds a character `clean_text` would remove (line breaks aside)."""
    return _CONTROL_RE.search(text) is not None or (delimiter != "\t" and "\t" in text)


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, max(offset, 0)) + 1


def decode_bytes(data: bytes, location: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode in the order: explicit encoding, BOM, strict UTF-8, strict GB18030,
    charset-normalizer limited to Chinese encodings. Returns (text, encoding)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            line = _line_of(data, exc.start)
            raise SourceError(f"{location}: 第{line}行无法按指定编码 {encoding} 解码: {exc.reason}") from None
        except LookupError as exc:
            raise SourceError(f"{location}: 无法按指定编码 {encoding} 解码: {exc}") from None
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8) :]
        try:
            return body.decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _bom_error(location, _line_of(data, exc.start + 3), _decodes(body, "gb18030")) from None
    failures: list[str] = []
    for candidate in ("utf-8", "gb18030"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError as exc:
            failures.append(f"按 {candidate.upper()} 第{_line_of(data, exc.start)}行无法解码")
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(_CHINESE)).best()
    if best is not None:
        return str(best), best.encoding
    raise SourceError(
        f"{location}: 无法识别文件编码（{'，'.join(failures)}；文件可能混用了 UTF-8 与 GBK）；"
        "请统一另存为 UTF-8，或在数据源中设置 encoding"
    )


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _bom_error(location: str, line: int, gb: bool) -> SourceError:
    """A UTF-8 BOM over a body that is not UTF-8: decoding it anyway gives a garbled
    header (`找不到表头`), so say what is wrong and where."""
    body = "正文看起来是 GB18030/GBK；" if gb else ""
    return SourceError(
        f"{location}: 文件以 UTF-8 BOM 开头，但第{line}行不是 UTF-8（{body}请把文件另存为 UTF-8"
        + ('，或在数据源中设置 encoding = "gb18030"' if gb else "")
        + "）"
    )


def read_text(path: Path, encoding: str | None = None) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _read_error(path, exc) from None
    if encoding and data.startswith(codecs.BOM_UTF8) and not _is_utf8(encoding):
        data = data[len(codecs.BOM_UTF8) :]  # a BOM an editor added over a GBK body
    return decode_bytes(data, str(path), encoding)


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _read_error(path: Path, exc: OSError) -> SourceError:
    """What a user is told when a file cannot be opened or read."""
    if isinstance(exc, FileNotFoundError):
        return SourceError(f"{path}: 文件不存在")
    return SourceError(f"{path}: 无法读取: {exc.strerror or exc}")


def read_csv_rows(
    path: Path, encoding: str | None = None, delimiter: str = ",", max_cell: int = DEFAULT_MAX_CELL
) -> list[list[str]]:
    """A CSV file of unknown encoding as rows of cells (the header is found later)."""
    return list(iter_csv_rows(path, encoding, delimiter, max_cell))


def iter_csv_rows(
    path: Path, encoding: str | None = None, delimiter: str = ",", max_cell: int = DEFAULT_MAX_CELL
) -> TableRows:
    """Like `read_csv_rows`, one row at a time: a loader that turns each row into an item
    never holds every row (60 MiB of cell strings at 100,000 rows), nor, for UTF-8 and
    GB18030 files, the decoded text: the encoding is checked over the whole file first
    (so a bad file fails here, before any row is given), then the rows are read from it.

    An unclosed quote is a SourceError naming the line where it opened; so is a cell
    longer than `max_cell` characters."""
    found, printable = _stream_encoding(path, encoding, delimiter)
    if found is not None:
        skip = len(codecs.BOM_UTF8) if _skips_bom(path, found) else 0
        return TableRows(
            _csv_rows(lambda: _open_text(path, found, skip), path, delimiter, max_cell), printable
        )
    text, _encoding = read_text(path, encoding)  # only the statistical detector can tell
    rows = _csv_rows(lambda: io.StringIO(text, newline=""), path, delimiter, max_cell)
    return TableRows(rows, not has_controls(text, delimiter))


_CHUNK = 1 << 20


def _skips_bom(path: Path, encoding: str) -> bool:
    """An explicit non-UTF-8 encoding over a file that starts with a UTF-8 BOM."""
    if _is_utf8(encoding):
        return False
    try:
        with path.open("rb") as f:
            return f.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
    except OSError as exc:
        raise _read_error(path, exc) from None


def _open_text(path: Path, encoding: str, skip: int) -> IO[str]:
    raw = path.open("rb")
    raw.seek(skip)
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


def _stream_encoding(path: Path, encoding: str | None, delimiter: str = ",") -> tuple[str | None, bool]:
    """The encoding `decode_bytes` would choose, found by decoding the file in chunks
    without keeping the text (None when neither UTF-8 nor GB18030 decodes it), and
    whether the text is free of control characters."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise _read_error(path, exc) from None
    with f:
        bom = f.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
        if encoding:
            candidates: tuple[str, ...] = (encoding,)
        elif bom:
            candidates = ("utf-8-sig",)
        else:
            candidates = ("utf-8", "gb18030")
        for candidate in candidates:
            f.seek(
                len(codecs.BOM_UTF8) if bom and (candidate == "utf-8-sig" or not _is_utf8(candidate)) else 0
            )
            lines = 1
            chunk = b""
            printable = True
            try:
                decoder = codecs.getincrementaldecoder(candidate)()
                while chunk := f.read(_CHUNK):
                    if printable and has_controls(decoder.decode(chunk), delimiter):
                        printable = False
                    elif not printable:
                        decoder.decode(chunk)
                    lines += chunk.count(b"\n")
                decoder.decode(b"", final=True)
                return candidate, printable
            except UnicodeDecodeError as exc:
                line = lines + chunk.count(b"\n", 0, max(exc.start, 0))
                if encoding:
                    raise SourceError(
                        f"{path}: 第{line}行无法按指定编码 {encoding} 解码: {exc.reason}"
                    ) from None
                if bom:
                    raise _bom_error(str(path), line, _stream_decodes(f, "gb18030")) from None
            except LookupError as exc:
                raise SourceError(f"{path}: 无法按指定编码 {encoding} 解码: {exc}") from None
            except OSError as exc:
                raise _read_error(path, exc) from None
    return None, False


def _stream_decodes(f: IO[bytes], encoding: str) -> bool:
    f.seek(len(codecs.BOM_UTF8))
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := f.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_limit_lock = threading.Lock()
_limit = [0]


def _allow_cells(max_cell: int) -> None:
    """csv's own field limit (checked in C, free) is process-wide: it is the largest
    `max_cell` of any source; each source checks its own below only when it is lower."""
    with _limit_lock:
        if max_cell > _limit[0]:
            _limit[0] = max_cell
            csv.field_size_limit(max_cell)


def _csv_rows(
    open_stream: Callable[[], IO[str]], path: Path, delimiter: str, max_cell: int
) -> Iterator[list[str]]:
    """The rows of a CSV stream. Parsed strictly first, so that end-of-file inside a
    quoted field is an error (`第N行的引号没有闭合`) rather than one cell holding the
    rest of the file; a file with stray text after a closing quote (`"a"b`), which
    strict parsing refuses, is re-read leniently from that row on, as before."""
    _allow_cells(max_cell)
    own_limit = max_cell < _limit[0]
    resume = 0  # in the lenient pass: the first line not yet given
    for strict in (True, False):
        try:
            with open_stream() as f:
                reader = csv.reader(f, delimiter=delimiter, strict=strict)
                start = 1  # the line the next row begins on
                last: list[str] = []
                try:
                    for row in reader:
                        end = reader.line_num
                        if end < resume:
                            start = end + 1
                            continue
                        if end != start:  # the row spans lines: a quoted cell holds line breaks
                            _check_spanning(row, last, start, end, path, delimiter)
                        if own_limit and max(map(len, row), default=0) > max_cell:
                            raise _cell_error(path, start, max_cell)
                        yield row
                        last = row
                        start = end + 1
                    return
                except csv.Error as exc:
                    message = str(exc)
                    if "unexpected end of data" in message:
                        raise SourceError(f"{path}: 第{start}行的引号没有闭合（一直到文件末尾）") from None
                    if "field larger than field limit" in message:
                        raise _cell_error(path, start, max_cell) from None
                    if strict and "expected after" in message:
                        resume = start
                        continue
                    raise SourceError(f"{path}: 第{reader.line_num}行不是合法的 CSV: {exc}") from None
        except UnicodeDecodeError as exc:  # checked before: the file changed while it was read
            raise SourceError(f"{path}: 文件在读取过程中被改写，无法解码: {exc.reason}") from None
        except OSError as exc:
            raise _read_error(path, exc) from None


def _cell_error(path: Path, line: int, max_cell: int) -> SourceError:
    return SourceError(
        f"{path}: 第{line}行有单元格超过 {max_cell} 个字符（max_cell）；可能是这一行的引号没有闭合"
    )


def _check_spanning(
    row: list[str], last: list[str], start: int, end: int, path: Path, delimiter: str
) -> None:
    """A quoted cell that holds whole rows (a line with as many delimiters as a row has)
    is an unclosed quote that swallowed them, not a multi-line note."""
    width = max(len(last), 3)
    for cell in row:
        if "\n" not in cell and "\r" not in cell:
            continue
        lines = cell.splitlines()[1:]
        swallowed = sum(1 for line in lines if line.count(delimiter) >= width - 1)
        if swallowed:
            raise SourceError(
                f"{path}: 第{start}行的引号没有闭合（该单元格吞掉了后面的 {end - start} 行，"
                f"其中 {swallowed} 行像是数据行）"
            )
