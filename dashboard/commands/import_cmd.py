"""`dashboard import PATH… [--as-of DATE]`: load past bulletins into the store's history.

Each file (or each CSV / xlsx file of a folder) is read by the same source plugins and
header aliases as the configured sources (`csv`; `.xlsx` through the 码上通 reader,
which reads a bulletin sheet by the same aliases) and recorded as one history point per
item at the file's as-of date: `--as-of`, else the date its title rows state, else the
month in its name (`2024-08.csv`, `xiangxiang-2024-08.xlsx` → 2024-08-31). History only:
the current data, its sources' state and the alerts are not touched. Every file is read
before anything is written, so a file that cannot be read or dated changes nothing.
"""

from __future__ import annotations

import argparse
import calendar
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from dashboard import strict_json
from dashboard.commands.common import CommandError, UsageError, as_of_arg
from dashboard.config import Config, load_config
from dashboard.contracts import SourceError, SourceSpec
from dashboard.core.aliases import apply_unit_aliases
from dashboard.core.items import Item
from dashboard.plugins import PluginManager
from dashboard.store import Store

EXIT_STORE = 4  # as `dashboard store check`: the store cannot be used
SUFFIX_TYPES = {".csv": "csv", ".xlsx": "mashangtong", ".xlsm": "mashangtong"}
# `2024-08`, `2024_8`, `2024年8月`, `2024-08-15` in a file name (the last one found counts).
_NAME_DATE_RE = re.compile(r"(?<!\d)(\d{4})\s*[-_.年]\s*(\d{1,2})(?:\s*[-_.月]\s*(\d{1,2}))?(?!\d)")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "import",
        parents=[common],
        help="导入往期通报到进度历史 load past bulletins into history",
        description=(
            "把往期通报（CSV / xlsx 文件，或存放月度文件的文件夹）按各自的截止日期载入进度历史："
            "截止日期取 --as-of，否则取标题行（如“截至2024年8月31日”），否则取文件名中的月份（2024-08.csv → 8月31日）。"
            "只写入历史，不改动当前数据，不触发也不解除预警；同一月份有两个文件时采用较新的一个并说明。"
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="通报文件或文件夹 file or folder")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="所有文件的截止日期 as-of date for every file")
    p.add_argument("--json", action="store_true", help="以 JSON 输出每个文件的导入结果")
    p.set_defaults(handler=run)


@dataclass(slots=True)
class Loaded:
    """One file read: its items, its as-of date and where that date came from."""

    path: Path
    items: list[Item]
    as_of: date
    as_of_from: str  # "--as-of" | "title" | "name"
    warnings: list[str] = field(default_factory=list)
    mtime: float = 0.0
    replaced_by: Path | None = None  # another file of the same month won

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "items": len(self.items),
            "as_of": self.as_of.isoformat(),
            "as_of_from": self.as_of_from,
            "warnings": self.warnings,
            "imported": self.replaced_by is None,
            "replaced_by": None if self.replaced_by is None else str(self.replaced_by),
        }


_FROM_LABEL = {"--as-of": "取自 --as-of", "title": "取自标题行 title", "name": "取自文件名 file name"}


def name_as_of(path: Path) -> date | None:
    """The as-of date a file's name states: `2024-08` → the month's last day, `2024-08-15` that day."""
    found = _NAME_DATE_RE.findall(path.stem)
    if not found:
        return None
    y, m, d = (int(x) if x else 0 for x in found[-1])
    if not 1 <= m <= 12 or y < 1900:
        return None
    try:
        return date(y, m, d) if d else date(y, m, calendar.monthrange(y, m)[1])
    except ValueError:
        return None


def expand(paths: list[str]) -> list[Path]:
    """The files named, and the CSV / xlsx files of the folders named (by name)."""
    files: list[Path] = []
    for text in paths:
        path = Path(text).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIX_TYPES)
            if not found:
                raise UsageError("PATH", f"文件夹 {path} 中没有 CSV 或 xlsx 文件")
            files += found
        elif path.is_file():
            if path.suffix.lower() not in SUFFIX_TYPES:
                raise UsageError(
                    "PATH",
                    f"{path}: 不支持的文件类型 {path.suffix or '（无扩展名）'}",
                    expected=".csv、.xlsx",
                )
            files.append(path)
        else:
            raise UsageError("PATH", f"{path}: 文件不存在")
    return files


def _aliases(config: Config, type_name: str) -> dict[str, Any]:
    """The configured source's `aliases` of the same type: a past bulletin's other header
    names are read as today's are."""
    for spec in config.sources:
        if spec.type == type_name and isinstance(spec.options.get("aliases"), dict):
            return {"aliases": spec.options["aliases"]}
    return {}


def load_file(path: Path, config: Config, plugins: PluginManager, as_of: date | None) -> Loaded:
    type_name = SUFFIX_TYPES[path.suffix.lower()]
    source_type = plugins.source_types().get(type_name)
    if source_type is None:
        raise UsageError("PATH", f"{path}: 没有插件能读取 {path.suffix} 文件（缺少数据源类型 {type_name}）")
    spec = SourceSpec(
        name=path.name,
        type=type_name,
        refresh=3600.0,
        options={"path": str(path.resolve()), **_aliases(config, type_name)},
        base_dir=path.parent,
        config_file=config.path,
    )
    try:
        result = source_type.factory(spec).load()  # the plugin's own reader, in this thread
    except SourceError as exc:
        raise UsageError("PATH", f"{path}: 无法读取: {exc}") from None
    if as_of is not None:
        day, origin = as_of, "--as-of"
    elif result.as_of is not None:
        day, origin = result.as_of, "title"
    else:
        named = name_as_of(path)
        if named is None:
            raise UsageError(
                "--as-of",
                f"{path}: 无法确定截止日期（标题行与文件名中都没有），请用 --as-of 指定",
                expected="YYYY-MM-DD",
            )
        day, origin = named, "name"
    items = list(apply_unit_aliases(result.items, config.unit_aliases))
    return Loaded(path, items, day, origin, [str(w) for w in result.warnings], path.stat().st_mtime)


def pick_per_month(loaded: list[Loaded]) -> list[str]:
    """Two files for one month: the later one (by its as-of date, then its mtime) wins;
    the others are marked `replaced_by`. Returns a line for each such choice."""
    by_month: dict[tuple[int, int], list[Loaded]] = {}
    for f in loaded:
        by_month.setdefault((f.as_of.year, f.as_of.month), []).append(f)
    notes: list[str] = []
    for (year, month), files in sorted(by_month.items()):
        if len(files) < 2:
            continue
        winner = max(files, key=lambda f: (f.as_of, f.mtime))
        for f in files:
            if f is not winner:
                f.replaced_by = winner.path
        losers = "、".join(f.path.name for f in files if f is not winner)
        notes.append(
            f"! {year}年{month}月有 {len(files)} 个文件：采用较新的 {winner.path.name}（截至 {winner.as_of:%Y-%m-%d}），"
            f"未导入 {losers} (two files for one month: the later wins)"
        )
    return notes


def run(args: argparse.Namespace) -> int:
    as_of = as_of_arg(args)
    config = load_config(args.config)
    files = expand(args.paths)
    plugins = PluginManager(config.plugins_dir)
    loaded = [load_file(path, config, plugins, as_of) for path in files]
    notes = pick_per_month(loaded)
    assert config.store_path is not None
    try:
        store = Store(config.store_path)
    except sqlite3.Error as exc:
        raise CommandError(f"存储不可用 store unavailable: {config.store_path}: {exc}", EXIT_STORE) from None
    try:
        points = 0
        for f in loaded:
            if f.replaced_by is None:
                points += store.record_points(f.items, f.as_of)
    except sqlite3.Error as exc:
        raise CommandError(f"存储不可用 store unavailable: {config.store_path}: {exc}", EXIT_STORE) from None
    finally:
        store.close()
    if args.json:
        out = {"files": [f.to_dict() for f in loaded], "points": points, "store": str(config.store_path)}
        print(strict_json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    for f in loaded:
        mark = "✓" if f.replaced_by is None else "–"
        print(
            f"{mark} {f.path.name}: {len(f.items)} 项，截至 {f.as_of:%Y-%m-%d}（{_FROM_LABEL[f.as_of_from]}），"
            f"警告 {len(f.warnings)} 条"
            + ("" if f.replaced_by is None else f"，未导入：采用 {f.replaced_by.name}")
        )
        for w in f.warnings[:10]:
            print(f"    ! {w}")
    for note in notes:
        print(note)
    imported = sum(1 for f in loaded if f.replaced_by is None)
    print(
        f"已导入 imported: {imported} 个文件，{points} 个历史点 → {config.store_path}"
        "（只写入进度历史：当前数据与预警未改动 history only）"
    )
    return 0
