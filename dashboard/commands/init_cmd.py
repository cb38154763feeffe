"""`dashboard init [DIR] [--from FILE] [--force]`: a commented starter dashboard.toml and
an empty data folder, asking nothing. With `--from` the source is written for a real
bulletin: its header row, the column of each field (as the header aliases read it) and
its as-of date, each said on screen, with what could not be mapped."""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from dashboard import starter
from dashboard.commands.common import CommandError, UsageError, table_lines
from dashboard.config import CONFIG_NAME, load_config
from dashboard.contracts import SourceError
from dashboard.plugins import PluginManager

EXIT_SOURCE_FAILED = 3


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "init",
        help="写出带注释的起步配置 write a starter dashboard.toml",
        description=(
            "在 DIR（默认当前文件夹）写出带注释的 dashboard.toml 与空的 data 数据文件夹，不提问。"
            "已有 dashboard.toml 时不覆盖（退出码 2），除非 --force（旧文件另存为 dashboard.toml.bak）。"
            "--from FILE：读取一份通报表（CSV / xlsx），按检测到的表头写出数据源。"
        ),
    )
    p.add_argument("dir", nargs="?", default=".", metavar="DIR", help="写入的文件夹 folder (默认 .)")
    p.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="按这份通报表（CSV / xlsx）的表头写出数据源 detect the source from this file",
    )
    p.add_argument("--force", action="store_true", help="覆盖已有的 dashboard.toml overwrite")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    folder = Path(args.dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError("DIR", f"{folder} 不是文件夹 not a folder")
    config_path = folder / CONFIG_NAME
    if config_path.exists() and not args.force:
        raise CommandError(
            f"配置文件已存在，未改动 already exists: {config_path}（用 --force 覆盖，旧文件另存为 {CONFIG_NAME}.bak）"
        )
    lines: list[str] = []
    code = 0
    if args.from_file:
        block, lines, code = _from_file(Path(args.from_file).expanduser(), folder)
    else:
        block = starter.starter_source()
    text = starter.starter_config(block)
    data_dir = folder / starter.DATA_DIR
    created = not data_dir.is_dir()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        if config_path.exists():
            os.replace(config_path, config_path.with_name(CONFIG_NAME + ".bak"))
        tmp = config_path.with_name(f".{CONFIG_NAME}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, config_path)
    except OSError as exc:
        raise CommandError(f"无法写入 cannot write {config_path}: {exc.strerror or exc}") from None
    load_config(config_path)  # what we wrote must pass the strict loader (a bug otherwise: exit 2)
    print(f"已写入 wrote {config_path}")
    print(f"数据文件夹 data folder {data_dir}{os.sep}（{'新建 created' if created else '已存在 exists'}）")
    for line in lines:
        print(line)
    print(_next_steps(folder, bool(args.from_file)))
    return code


def _from_file(file: Path, folder: Path) -> tuple[str, list[str], int]:
    """(the detected `[[sources]]` block, lines saying what was found, exit code)."""
    if not file.is_file():
        raise UsageError("--from", f"{file}: 文件不存在 no such file")
    source_types = PluginManager(None).source_types()
    try:
        detected = starter.detect(file, source_types)
    except ValueError as exc:
        raise UsageError("--from", f"{file}: {exc}") from None
    options = starter.source_options(detected)
    code = 0
    items = warnings = 0
    as_of: date | None = None
    as_of_from = failure = ""
    try:
        result = starter.try_load(detected, options, source_types)
        items, warnings = len(result.items), len(result.warnings)
        stated = result.as_of
    except SourceError as exc:
        stated, code = None, EXIT_SOURCE_FAILED
        failure = str(exc)
    if stated is None:
        from dashboard.commands.import_cmd import name_as_of  # the same reading of `2024-09` in a name

        as_of = name_as_of(file)
        as_of_from = f"取自文件名 {file.name}" if as_of else ""
    block = starter.detected_source(detected, folder, as_of, as_of_from, items)
    lines = [f"检测 detected {file}:"]
    if detected.encoding:
        lines.append(f"  编码 encoding {detected.encoding.upper().replace('_', '-')}")
    if detected.delimiter != ",":
        lines.append(f"  分隔符 delimiter {detected.delimiter!r}")
    above = (
        f"（跳过其上 {detected.header_row - 1} 行标题 title rows skipped）" if detected.header_row > 1 else ""
    )
    lines.append(f"  表头在第 {detected.header_row} 行 header on row {detected.header_row}{above}")
    rows = [["列 column", "表头 header", "字段 field"]]
    for field_name, col in sorted(detected.columns.items(), key=lambda kv: kv[1]):
        guess = "  ? 按关键词推断，请核对 guessed" if field_name in detected.guessed else ""
        rows.append([str(col + 1), detected.headers[col], f"{starter.label(field_name)} {field_name}{guess}"])
    lines += table_lines(rows, ">", indent="  ")
    if detected.months:
        months = "、".join(f"{m}月" for m in sorted(detected.months))
        lines.append(f"  月度动态 monthly updates: {months}")
    if detected.unmapped:
        lines.append(
            f"  未识别的列 not mapped（保留为附加列 kept as extra columns）: {'、'.join(detected.unmapped)}"
        )
    missing = detected.missing
    if missing:
        named = "、".join(f"{starter.label(f)} {f}" for f in missing)
        lines.append(
            f"  未找到 not found: {named}（可在 [sources.aliases] 中补写 add under [sources.aliases]）"
        )
        if "ratio" in missing and {"target", "progress"} <= set(detected.columns):
            lines.append("    完成比例将按 进度情况 ÷ 任务数 计算 ratio from progress / target")
    if code:
        lines.append(f"  ✗ 试读失败 could not read: {failure}")
    else:
        lines.append(f"  试读 read: {items} 项 items，数据警告 {warnings} 行 warnings")
    if stated is not None:
        lines.append(f"  截止日期 as of {stated.isoformat()}（取自表中 from the table；as_of = auto）")
    elif as_of is not None:
        lines.append(f"  截止日期 as of {as_of.isoformat()}（{as_of_from}；已写入数据源的 as_of）")
    else:
        lines.append('  截止日期：表中与文件名中都没有，按今天计算；可在数据源写 as_of = "YYYY-MM-DD"')
    return block, lines, code


def _next_steps(folder: Path, has_source: bool) -> str:
    here = folder.resolve() == Path.cwd().resolve()
    config = "" if here else f" --config {folder / CONFIG_NAME}"
    steps = ["下一步 next:"]
    if not has_source:
        steps.append(
            f"  1. 把通报表另存为 save the bulletin as {folder / starter.DATA_DIR / starter.STARTER_FILE}"
            "（或用 dashboard init --from 文件 --force 按它的表头写出数据源）"
        )
    steps.append(f"  {len(steps)}. dashboard doctor{config}    检查配置 check the config")
    steps.append(f"  {len(steps)}. dashboard check{config}     载入并汇总一次 load once")
    steps.append(f"  {len(steps)}. dashboard{config}           打开看板 open the dashboard")
    return "\n".join(steps)
