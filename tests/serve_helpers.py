"""Helpers for the `dashboard serve` tests: a served process on a free loopback port,
a websocket session like the browser's, and the terminal it draws as text.

The terminal text is the app's own output replayed into a grid (cursor moves, text by
cell width); the headline's large figures are read back from Textual's Digits glyphs.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from rich.cells import get_character_cell_size

ROOT = Path(__file__).resolve().parents[1]

# The headline's cards, left to right: total, done, on track, lagging, severe (then alerts).
CARD_LABELS = ("总数", "已完成", "正常", "滞后", "严重滞后")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(
    config: Path, *args: str, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`python -m dashboard serve` on a free loopback port until the block ends; yields
    (base URL, process). The page answering (any status) means it is up."""
    port = port or free_port()
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "serve", "--config", str(config), "--port", str(port), *args],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # up to 30 s on a loaded CI machine
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"dashboard serve ended ({proc.returncode}): {out}{err}")
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                break
            except urllib.error.HTTPError:
                break  # 401: up, and guarded
            except OSError:
                time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_TOKEN = re.compile(
    r"\x1b\[([0-9;?<>=]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]|([\r\n\b])|([^\x1b\r\n\b]+)"
)


class Terminal:
    """Enough of a terminal for Textual's output: absolute moves, relative moves, erase."""

    def __init__(self, width: int, height: int) -> None:
        self.resize(width, height)

    def resize(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[" "] * width for _ in range(height)]
        self.x = self.y = 0

    def feed(self, text: str) -> None:
        for m in _TOKEN.finditer(text):
            params, final, control, chars = m.group(1), m.group(2), m.group(3), m.group(4)
            if final:
                self._csi(params or "", final)
            elif control == "\r":
                self.x = 0
            elif control == "\n":
                self.y = min(self.height - 1, self.y + 1)
            elif control == "\b":
                self.x = max(0, self.x - 1)
            elif chars:
                self._write(chars)

    def _csi(self, params: str, final: str) -> None:
        if params.startswith("?"):
            return  # modes (alternate screen, mouse, synchronized output)
        nums = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []
        first = nums[0] if nums else 0
        if final in "Hf":
            row = nums[0] if nums and nums[0] else 1
            col = nums[1] if len(nums) > 1 and nums[1] else 1
            self.y, self.x = min(self.height, row) - 1, min(self.width, col) - 1
        elif final == "A":
            self.y = max(0, self.y - (first or 1))
        elif final == "B":
            self.y = min(self.height - 1, self.y + (first or 1))
        elif final == "C":
            self.x = min(self.width - 1, self.x + (first or 1))
        elif final == "D":
            self.x = max(0, self.x - (first or 1))
        elif final == "G":
            self.x = min(self.width, first or 1) - 1
        elif final == "J" and first == 2:
            self.cells = [[" "] * self.width for _ in range(self.height)]
        elif final == "K":
            row = self.cells[self.y]
            start, end = (
                (self.x, self.width) if first == 0 else (0, self.x + 1) if first == 1 else (0, self.width)
            )
            for i in range(start, end):
                row[i] = " "

    def _write(self, chars: str) -> None:
        for ch in chars:
            size = get_character_cell_size(ch)
            if size == 0:
                continue
            if self.x + size > self.width:
                continue  # Textual never wraps; a stray character past the edge is dropped
            row = self.cells[self.y]
            row[self.x] = ch
            if size == 2:
                row[self.x + 1] = ""
            self.x += size

    def lines(self) -> list[str]:
        return ["".join(row) for row in self.cells]

    def text(self) -> str:
        return "\n".join(self.lines())


def _glyphs() -> dict[tuple[str, str, str], str]:
    """Textual's 3×3 digit glyphs (plain and bold) → the character they draw."""
    from textual.renderables import digits

    table: dict[tuple[str, str, str], str] = {}
    for name in ("DIGITS3X3", "DIGITS3X3_BOLD"):
        rows: list[str] = getattr(digits, name)
        for i, ch in enumerate(digits.DIGITS):
            glyph = tuple(row.ljust(3)[:3] for row in rows[i * 3 : i * 3 + 3])
            if len(glyph) == 3 and ch.isdigit():
                table[glyph] = ch  # type: ignore[index]
    return table


def _read_digits(rows: list[str], table: dict[tuple[str, str, str], str]) -> str | None:
    """The number drawn in three rows of a card's inside (wide characters take one cell each)."""
    width = max(len(r) for r in rows)
    rows = [r.ljust(width) for r in rows]
    used = [i for i in range(width) if any(r[i] != " " for r in rows)]
    if not used:
        return None
    for start in range(max(0, used[0] - 2), used[0] + 1):
        text, x = "", start
        while x + 3 <= width and any(r[x : x + 3].strip() for r in rows):
            glyph = tuple(r[x : x + 3] for r in rows)
            if glyph not in table:
                break
            text, x = text + table[glyph], x + 3
        if text and not any(r[x:].strip() for r in rows):
            return text
    return None


def headline_figures(lines: list[str] | list[list[str]]) -> dict[str, str]:
    """Card label → the figure its large digits show, read off the terminal's cells
    (`Terminal.cells`: one entry per cell, "" after a wide character)."""
    table = _glyphs()
    cells = [list(row) for row in lines]
    found: dict[str, str] = {}
    for y, row in enumerate(cells[:-3]):
        for label in CARD_LABELS:
            at = _find_label(row, label)
            if at < 0 or label in found:
                continue
            left = max((x for x in range(at) if row[x] == "╭"), default=-1)
            right = next((x for x in range(at, len(row)) if row[x] == "╮"), -1)
            if left < 0 or right < 0:
                continue
            inside = ["".join(c or " " for c in cells[y + k][left + 1 : right]) for k in (1, 2, 3)]
            number = _read_digits(inside, table)
            if number is not None:
                found[label] = number
    return found


def _find_label(row: list[str], label: str) -> int:
    """The cell where ` label ` starts in a border row (each CJK character two cells)."""
    want: list[str] = [" "]
    for ch in label:
        want += [ch, ""]
    want.append(" ")
    n = len(want)
    for x in range(len(row) - n + 1):
        if row[x : x + n] == want and x > 0 and row[x - 1] == "─":
            return x
    return -1
