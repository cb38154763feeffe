"""What a Textual contender provides to be timed by `bench.child_tui` (first paint, 1% refresh).

Every contender, the stock `DataTable` and ours alike, is timed by the same child with the same
definitions (see `bench.child_tui`); a contender only says how to build its app, what on screen
proves the rows are shown, and how to apply a refresh.

A target module exposes a factory `make_target(files: TargetFiles) -> TuiTarget`. The factory runs
inside the timed child, after Textual is imported: reading the data may happen there or in the
app, either way it counts towards first paint.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from textual.app import App

from bench.generate import Change

_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class TargetFiles:
    """The generated files of one size (`bench.generate.FILES` keys) and the refreshed bulletin."""

    data: dict[str, Path]
    mutated_csv: Path | None  # a copy of the UTF-8 bulletin with the changes applied
    # Contender-specific settings prepared by the parent, outside the timed child (e.g. the
    # path of a config file written beforehand); the stock DataTable needs none.
    options: dict[str, Any] = field(default_factory=dict)


class TuiTarget(Protocol):
    @property
    def app(self) -> App[Any]:
        """The app to run (headless, by `App.run_test`)."""
        ...

    def first_paint_text(self) -> str:
        """Text that is on screen once the first rows are shown (row 1's item name, say)."""
        ...

    def apply_refresh(self, changes: list[Change]) -> float | None:
        """Start the 1% refresh (called on the app's event loop; must not block on I/O waits).

        Return the seconds the UI thread spent on it if the target measures that itself, or None
        to have the time of this call counted as the UI-thread time.
        """
        ...

    def refresh_done(self, changes: list[Change]) -> bool:
        """Whether the app's state shows every change (checked after each settled frame)."""
        ...


# Optional, on a target whose refresh finishes on the UI thread later than `apply_refresh`
# returns (data loaded by a worker, then applied): `refresh_ui_time() -> float`, called once
# `refresh_done`, gives the seconds the UI thread spent applying the refresh; `bench.child_tui`
# uses it when `apply_refresh` returned None.


def screen_text(app: App[Any]) -> str:
    """The text of the app's current screen, as rendered (via the public SVG screenshot)."""
    svg = app.export_screenshot()
    return html.unescape(_TAG.sub("", svg)).replace("\xa0", " ")
