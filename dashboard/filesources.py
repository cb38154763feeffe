"""What every source reading one table file shares: its options (`path`, `encoding`,
`delimiter`, `aliases`, `header_scan`, `as_of`), a fetch in a worker thread, watching
the file, and the table → items step. The CSV and 码上通 sources are built on it; a
plugin for another file format subclasses it and overrides `rows`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from dashboard.contracts import FetchResult, SourceSpec
from dashboard.core.records import Cell, RowContext
from dashboard.textfiles import iter_csv_rows


class TableFileSource:
    def __init__(self, spec: SourceSpec, options: Mapping[str, str]) -> None:
        """Validate `spec`'s options against `options` (name → help) and read the shared ones."""
        spec.check_options(options)
        self.name = spec.name
        self.path = spec.path("path")
        self.encoding = spec.options.get("encoding") or None
        self.delimiter = str(spec.options.get("delimiter", ","))
        self.aliases = spec.aliases()
        self.scan = int(spec.options.get("header_scan", 10))
        from dashboard.config import parse_as_of

        self.as_of = parse_as_of(spec.options.get("as_of"), f"{spec.key_prefix}.as_of", spec.config_file)

    def watch_paths(self) -> list[Path]:
        return [self.path]

    async def fetch(self) -> FetchResult:
        return await asyncio.to_thread(self.load)

    def rows(self) -> Iterable[Sequence[Cell]]:
        """The file's rows, title rows and header included (a CSV by default, row by row)."""
        return iter_csv_rows(self.path, self.encoding, self.delimiter)

    def load(self) -> FetchResult:
        ctx = RowContext(source=self.name, location=str(self.path), as_of=self.as_of)
        return FetchResult.from_table(self.rows(), self.aliases, ctx, self.scan)
