"""Exporters: the descriptor plugins return from `dashboard_exporters`, the lookup by
format, and writing a view into the export folder without ever leaving it.

Part of the plugin contract for exporters, with `dashboard.views.TableView`.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from dashboard.core.items import Status
from dashboard.core.parse import format_percent
from dashboard.views import Cell, Column, TableView

# Row colours shared by the XLSX and HTML exporters (background, text), as the TUI colours them.
STATUS_COLOURS: dict[Status, tuple[str, str]] = {
    Status.DONE: ("C6EFCE", "006100"),
    Status.ON_TRACK: ("FFFFFF", "000000"),
    Status.LAGGING: ("FFEB9C", "7F6000"),
    Status.SEVERE: ("FFC7CE", "9C0006"),
    Status.UNKNOWN: ("E7E6E6", "595959"),
}


@dataclass(frozen=True, slots=True)
class Exporter:
    """One export format.

    `write(view, path)` writes one view to `path` (the caller picks the path and
    makes sure its folder exists). `write_many(views, path)`, when offered, writes
    several views into one file (a workbook with a sheet per view, a document with a
    section per view); `dashboard report` uses it for the bulletin annexes.
    """

    format: str
    extension: str
    write: Callable[[TableView, Path], None]
    description: str = ""
    write_many: Callable[[Sequence[TableView], Path], None] | None = None


class ExportError(Exception):
    """An export that cannot be done: unknown format, refused path, failed write."""


class _HasDescriptors(Protocol):
    def descriptors(self, hook_name: str, kind: type[Exporter], key: str = ...) -> dict[str, Exporter]: ...


def exporters(plugins: _HasDescriptors) -> dict[str, Exporter]:
    """Format name → exporter, from every plugin's `dashboard_exporters` (the first
    plugin to offer a format keeps it; see `PluginManager.descriptors`)."""
    return plugins.descriptors("dashboard_exporters", Exporter, "format")


# -- where files go ----------------------------------------------------------------

_UNSAFE_NAME_RE = re.compile(r"[^\w.-]+")


def default_file_name(view_name: str, ext: str, now: datetime) -> str:
    """`items-20240930-101500.xlsx`: the view and the time, nothing a shell minds."""
    stem = _UNSAFE_NAME_RE.sub("-", view_name).strip("-.") or "export"
    return f"{stem}-{now:%Y%m%d-%H%M%S}.{ext.lstrip('.')}"


def _refuse(requested: str, folder: Path) -> ExportError:
    return ExportError(
        f"导出路径「{requested}」不在导出文件夹 {folder} 内，已拒绝。"
        "请只填写文件名（可含子文件夹），不要使用 .. 或绝对路径。"
        f" (export path outside the export folder refused: {requested})"
    )


def safe_export_path(
    folder: Path, requested: str | None, view_name: str, ext: str, now: datetime | None = None
) -> Path:
    """The file to write for an export started from the TUI: inside `folder`, always.

    No name: `<view>-<YYYYmmdd-HHMMSS>.<ext>`. A name (a sub-path is fine) gets `.ext`
    unless it already ends with it. Raises `ExportError` with a Chinese message when the path
    would resolve outside the folder: `..`, an absolute path elsewhere, or a symlink
    pointing out.
    """
    now = now or datetime.now()
    base = Path(folder).expanduser().resolve()
    text = (requested or "").strip()
    if not text:
        return base / default_file_name(view_name, ext, now)
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = base / candidate
    # resolve() follows symlinks, so a link inside the folder pointing out is caught too.
    try:
        resolved = candidate.resolve()
    except (OSError, ValueError) as exc:  # a NUL byte, a symlink loop
        raise ExportError(f"无效的导出文件名「{text}」: {exc} (invalid export name)") from None
    if resolved == base or resolved.is_dir() or text.endswith(("/", os.sep)):
        resolved = resolved / default_file_name(view_name, ext, now)
    elif resolved.suffix.lower() != f".{ext.lstrip('.').lower()}":
        # `2024.09` or `清单.csv` for an xlsx export: the format decides the extension.
        resolved = resolved.with_name(f"{resolved.name}.{ext.lstrip('.')}")
    if not resolved.is_relative_to(base) or resolved == base:
        raise _refuse(text, base)
    return resolved


def _unique(path: Path) -> Path:
    """Two exports in the same second must not overwrite each other."""
    n = 2
    result = path
    while result.exists():
        result = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return result


def lookup(plugins: _HasDescriptors | Mapping[str, Exporter], fmt: str) -> Exporter:
    table = plugins if isinstance(plugins, Mapping) else exporters(plugins)
    fmt = fmt.lower().lstrip(".")
    aliases = {"markdown": "md", "htm": "html"}
    exporter = table.get(fmt) or table.get(aliases.get(fmt, ""))
    if exporter is None:
        known = "、".join(sorted(table)) or "（无导出插件）"
        raise ExportError(f"不支持的导出格式 {fmt!r}，可用: {known} (unknown export format)")
    return exporter


def current_umask() -> int:
    """The process's umask, read without changing it where Linux allows (setting it,
    even for a moment, would race with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, writer: Callable[[Path], None]) -> Path:
    """Write through a temporary file in the same folder, so a failed or half-done
    export never leaves a broken file under the final name. Any failure, a full disk
    or a plugin's bug, becomes an `ExportError` the caller can show. The file gets
    the mode any other new file would (`0o666 & ~umask`), not mkstemp's private 0600."""
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".export-", suffix=path.suffix, dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        writer(tmp)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except Exception as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, ExportError):
            raise
        if isinstance(exc, OSError):
            raise ExportError(f"无法写入 {path}: {exc} (cannot write)") from exc
        raise ExportError(f"导出失败 {path.name}: {type(exc).__name__}: {exc} (export failed)") from exc
    return path


def export_view(
    view: TableView, fmt: str, path: Path, plugins: _HasDescriptors | Mapping[str, Exporter]
) -> Path:
    """Write `view` to exactly `path` (the command line's `-o`; no folder check)."""
    exporter = lookup(plugins, fmt)
    return write_atomic(Path(path), lambda p: exporter.write(view, p))


def export_bytes(view: TableView, fmt: str, plugins: _HasDescriptors | Mapping[str, Exporter]) -> bytes:
    """`view` in `fmt` as bytes (for `export -o -`): the exporter writes a private
    temporary file, as exporters only know how to write to a path."""
    exporter = lookup(plugins, fmt)
    with tempfile.TemporaryDirectory(prefix="dashboard-export-") as folder:
        path = Path(folder) / f"export.{exporter.extension.lstrip('.')}"
        try:
            exporter.write(view, path)
            return path.read_bytes()
        except OSError as exc:
            raise ExportError(f"导出失败 export failed: {exc}") from exc
        except Exception as exc:
            raise ExportError(f"导出失败 {fmt}: {type(exc).__name__}: {exc} (export failed)") from exc


def is_binary(data: bytes) -> bool:
    """Bytes a terminal cannot show (an XLSX workbook is a zip): NULs, or not UTF-8."""
    if b"\0" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def export_to_folder(
    view: TableView,
    fmt: str,
    folder: Path,
    plugins: _HasDescriptors | Mapping[str, Exporter],
    name: str | None = None,
) -> Path:
    """Export `view` into `folder` (created if missing) and return the file written.

    What the TUI's `e` key calls: `name` is what the user typed, or None for
    `<view>-<timestamp>.<ext>`. Raises `ExportError` (message in Chinese, ready to
    show) for an unknown format or a name that would leave the folder.
    """
    exporter = lookup(plugins, fmt)
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"无法创建导出文件夹 {folder}: {exc}") from exc
    path = safe_export_path(folder, name, view.name, exporter.extension)
    if not name:
        path = _unique(path)
    return write_atomic(path, lambda p: exporter.write(view, p))


# -- helpers for writers ------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell that a spreadsheet would run as a formula gets a leading `'`."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def format_number(value: float | int) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.2f}"


def cell_text(value: Cell, column: Column) -> str:
    """A cell as a person reads it: percents as `32.0%`, dates ISO, empty as ``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return format_percent(value) if column.kind == "percent" else format_number(value)
    return str(value)


def display_width(text: str) -> int:
    """Columns a text takes on screen or in a spreadsheet: CJK characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
