"""The types that cross the plugin boundary. A plugin imports from here and from
`dashboard.hookspecs`; nothing else in the app is part of the plugin contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from dashboard.core.items import DataWarning, Item
from dashboard.core.records import Cell, RowContext, table_to_items
from dashboard.core.sanitize import clean_text

# Keys every [[sources]] table may have; the rest belong to the source's plugin.
COMMON_SOURCE_KEYS = ("name", "type", "refresh", "enabled", "timeout", "max_shrink", "allow_shrink", "county")


class ConfigError(Exception):
    """A configuration problem: names the file, the key and what was expected."""

    def __init__(self, key: str, message: str, *, expected: str = "", file: Path | str | None = None) -> None:
        self.key = key
        self.message = message
        self.expected = expected
        self.file = str(file) if file else ""
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        hint = f"（应为 {self.expected}）" if self.expected else ""
        return f"配置错误 {where}键 `{self.key}`: {self.message}{hint}"


class SourceError(Exception):
    """A source could not be loaded at all (file missing, HTTP error, ...). Its text is
    shown, stored and sent to the robots, so control characters are stripped from it."""

    def __str__(self) -> str:
        return clean_text(super().__str__())


@dataclass(slots=True)
class FetchResult:
    """What a source returns: its items, the warnings about rows it could not read
    fully, and the data's own as-of date when the source states one."""

    items: list[Item]
    warnings: list[DataWarning] = field(default_factory=list)
    as_of: date | None = None
    # Set by `from_table` only: the shared row layer built every item (types, ranges and
    # text already checked), so the runtime's boundary check may skip them.
    checked: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def from_table(
        cls,
        rows: Iterable[Sequence[Cell]],
        aliases: Mapping[str, Sequence[str]],
        ctx: RowContext,
        scan: int = 10,
    ) -> FetchResult:
        """A whole table (title rows, header, data) through the shared parsing layer;
        a table without a recognisable header is a SourceError naming its location."""
        try:
            items, warnings = table_to_items(rows, aliases, ctx, scan)
        except ValueError as exc:
            raise SourceError(f"{ctx.location}: {exc}") from None
        return cls(items, warnings, ctx.as_of, checked=True)


@dataclass(slots=True)
class SourceSpec:
    """One `[[sources]]` table: the common keys, and the rest as `options` for the
    plugin to validate."""

    name: str
    type: str
    refresh: float  # seconds
    options: dict[str, Any]
    base_dir: Path  # relative paths resolve against the config file's folder
    config_file: Path | None = None
    key_prefix: str = "sources"  # e.g. `sources[0]`, for error messages
    timeout: float = 60.0
    # Shrink guard: a fetch that drops more than this share of the last good items
    # (or drops to zero) is refused and the last good items kept, unless allow_shrink.
    max_shrink: float = 0.5
    allow_shrink: bool = False
    # A city's roll-up: the county (县市区) this source's items belong to; "" for none.
    county: str = ""

    def path(self, key: str) -> Path:
        """An option that is a path, resolved against the config's folder."""
        value = self.options.get(key)
        if not isinstance(value, str) or not value:
            raise self.error(key, "缺少文件路径", "非空字符串")
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    def error(self, key: str, message: str, expected: str = "") -> ConfigError:
        return ConfigError(f"{self.key_prefix}.{key}", message, expected=expected, file=self.config_file)

    def check_options(self, known: Mapping[str, str]) -> None:
        """Reject unknown keys, suggesting the nearest known one."""
        for key in self.options:
            if key not in known:
                hint = difflib_close(key, [*known, *COMMON_SOURCE_KEYS])
                raise self.error(key, f"{self.type} 数据源不认识这个键{hint}", "、".join(known))

    def aliases(self) -> dict[str, tuple[str, ...]]:
        """Built-in header aliases extended by the source's `aliases` table."""
        from dashboard.core.records import FIELDS, merge_aliases

        extra = self.options.get("aliases", {})
        if not isinstance(extra, dict):
            raise self.error("aliases", "应为表，字段名 = [表头名, ...]", '{ unit = ["承办单位"] }')
        for key, names in extra.items():
            if key not in FIELDS:
                close = difflib_close(key, FIELDS)
                raise self.error(f"aliases.{key}", f"未知的字段{close}", "、".join(FIELDS))
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise self.error(f"aliases.{key}", "应为字符串列表", '["表头名"]')
        return merge_aliases({k: tuple(v) for k, v in extra.items()})


def difflib_close(key: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(known), n=1)
    return f"，是否想写 `{close[0]}`？" if close else ""


@runtime_checkable
class Source(Protocol):
    """A configured source. `fetch` may be called many times, never concurrently."""

    async def fetch(self) -> FetchResult: ...


@dataclass(frozen=True, slots=True)
class SourceType:
    """A kind of source a plugin offers, selected by `type = "<name>"` in the config.

    `factory` validates the spec's options (raising ConfigError) and returns a Source.
    `options` documents the keys it accepts (key → description), for validation
    with suggestions and for `dashboard plugins`.
    """

    name: str
    factory: Callable[[SourceSpec], Source]
    description: str = ""
    options: Mapping[str, str] = field(default_factory=dict)


def watch_paths(source: Source) -> list[Path]:
    """Files a source reads, for reload-on-change; sources without files have none."""
    getter = getattr(source, "watch_paths", None)
    return list(getter()) if callable(getter) else []
