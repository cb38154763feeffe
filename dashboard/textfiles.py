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
    except FileNotFoundError:
        raise SourceError(f"{path}: 文件不存在") from None
    except OSError as exc:
        raise SourceError(f"{path}: 无法读取: {exc.strerror or exc}") from None
    return decode_bytes(data, str(path), encoding)


def read_csv_rows(path: Path, encoding: str | None = None, delimiter: str = ",") -> list[list[str]]:
    """A CSV file of unknown encoding as rows of cells (the header is found later)."""
    return list(iter_csv_rows(path, encoding, delimiter))


def iter_csv_rows(path: Path, encoding: str | None = None, delimiter: str = ",") -> Iterator[list[str]]:
    """Like `read_csv_rows`, one row at a time: a loader that turns each row into an item
    never holds every row (60 MiB of cell strings at 100,000 rows). The file is read and
    decoded first, so a bad file fails here, before any row is given."""
    text, _encoding = read_text(path, encoding)
    # Lines sliced from the text as the reader asks, not `io.StringIO(text)`: that copies
    # the whole text into a 4-byte-per-character buffer (20 MiB at 100,000 rows).
    if text.count("\r") != text.count("\r\n"):  # old Mac line ends: let io split them
        return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return csv.reader(_lines(text), delimiter=delimiter)


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` (ending in LF or CRLF) with their endings, as a file opened
    with newline="" gives them to the csv module (which joins a quoted field's lines)."""
    find, start, size = text.find, 0, len(text)
    while start < size:
        end = find("\n", start) + 1 or size
        yield text[start:end]
        start = end
