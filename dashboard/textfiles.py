"""Reading text files whose encoding nobody wrote down (design §1)."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path

from dashboard.contracts import SourceError

# The statistical detector may only choose among Chinese encodings: on short GBK
# files it otherwise guesses Korean.
_CHINESE = ("gb18030", "gbk", "gb2312", "big5", "utf_8")


def decode_bytes(data: bytes, location: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode in the order: explicit encoding, BOM, strict UTF-8, strict GB18030,
    charset-normalizer limited to Chinese encodings. Returns (text, encoding)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError(f"{location}: 无法按指定编码 {encoding} 解码: {exc}") from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    for candidate in ("utf-8", "gb18030"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(_CHINESE)).best()
    if best is not None:
        return str(best), best.encoding
    raise SourceError(f"{location}: 无法识别文件编码（已尝试 UTF-8、GB18030）；请在数据源中设置 encoding")


def read_text(path: Path, encoding: str | None = None) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _read_error(path, exc) from None
    return decode_bytes(data, str(path), encoding)


def _read_error(path: Path, exc: OSError) -> SourceError:
    """What a user is told when a file cannot be opened or read."""
    if isinstance(exc, FileNotFoundError):
        return SourceError(f"{path}: 文件不存在")
    return SourceError(f"{path}: 无法读取: {exc.strerror or exc}")


def read_csv_rows(path: Path, encoding: str | None = None, delimiter: str = ",") -> list[list[str]]:
    """A CSV file of unknown encoding as rows of cells (the header is found later)."""
    return list(iter_csv_rows(path, encoding, delimiter))


def iter_csv_rows(path: Path, encoding: str | None = None, delimiter: str = ",") -> Iterator[list[str]]:
    """Like `read_csv_rows`, one row at a time: a loader that turns each row into an item
    never holds every row (60 MiB of cell strings at 100,000 rows), nor, for UTF-8 and
    GB18030 files, the decoded text: the encoding is checked over the whole file first
    (so a bad file fails here, before any row is given), then the rows are read from it."""
    found = _stream_encoding(path, encoding)
    if found is not None:
        return _stream_rows(path, found, delimiter)
    text, _encoding = read_text(path, encoding)  # only the statistical detector can tell
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


_CHUNK = 1 << 20


def _stream_encoding(path: Path, encoding: str | None) -> str | None:
    """The encoding `decode_bytes` would choose, found by decoding the file in chunks
    without keeping the text; None when neither UTF-8 nor GB18030 decodes it."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise _read_error(path, exc) from None
    with f:
        if not encoding and f.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
            return "utf-8-sig"  # decoded with errors="replace", as decode_bytes does
        for candidate in (encoding,) if encoding else ("utf-8", "gb18030"):
            f.seek(0)
            try:
                decoder = codecs.getincrementaldecoder(candidate)()
                while chunk := f.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
                return candidate
            except (UnicodeDecodeError, LookupError) as exc:
                if encoding:
                    raise SourceError(f"{path}: 无法按指定编码 {encoding} 解码: {exc}") from None
            except OSError as exc:
                raise _read_error(path, exc) from None
    return None


def _stream_rows(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    errors = "replace" if encoding == "utf-8-sig" else "strict"
    try:
        with path.open(encoding=encoding, errors=errors, newline="") as f:
            reader = csv.reader(f, delimiter=delimiter)
            try:
                yield from reader
            except csv.Error as exc:
                raise SourceError(f"{path}: 第{reader.line_num}行不是合法的 CSV: {exc}") from None
    except UnicodeDecodeError as exc:  # replaced since it was checked: the next refresh reads it again
        raise SourceError(f"{path}: 文件在读取时被改写，无法按 {encoding} 解码: {exc}") from None
    except OSError as exc:
        raise _read_error(path, exc) from None
