"""What a pilot-driven app shows, as text: the screen as Textual composes it
(`App.export_screenshot`), one string per terminal line. For the tests of issue 13
that ask what is *visible* (the footer at 80 columns, the header's kiosk state)."""

from __future__ import annotations

import html
import re
from typing import Any

_RUN = re.compile(r'<text [^>]*clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>([^<]*)</text>')


def screen_lines(app: Any) -> list[str]:
    """The composed screen's lines, top to bottom (blank lines are left out)."""
    lines: dict[int, list[str]] = {}
    for number, text in _RUN.findall(app.export_screenshot()):
        lines.setdefault(int(number), []).append(html.unescape(text).replace("\xa0", " "))
    return ["".join(lines[n]) for n in sorted(lines)]


async def loaded(app: Any, pilot: Any) -> None:
    """Until the first refresh and its alert evaluation are done."""
    await app.workers.wait_for_complete()
    await pilot.pause()
