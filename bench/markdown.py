"""Print a results file's table and goals as Markdown (for docs/performance.md).

python -m bench.markdown [bench/results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.report import format_value


def _cell(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "—"
    if cell["status"] != "ok":
        return cell["status"]
    unit = cell["unit"]
    text = format_value(cell["median"], unit)
    if cell["runs"] > 1:
        text += f" [{format_value(cell['min'], unit)}–{format_value(cell['max'], unit)}]"
    return text


def table(results: dict[str, Any]) -> str:
    lines = ["| figure | n | ours | reference | ratio |", "| --- | ---: | ---: | ---: | ---: |"]
    for row in results["table"]:
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}×"
        label = row["label"].replace("|", "\\|")
        lines.append(
            f"| {label} | {row['size']:,} | {_cell(row['ours'])} | {_cell(row['reference'])} | {ratio} |"
        )
    return "\n".join(lines)


def goals(results: dict[str, Any]) -> str:
    lines = [
        "| goal | n | value | reference | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for g in results["goals"]:
        unit = g["unit"]
        value = format_value(g["value"], unit)
        ref_unit = unit
        reference = "—" if g["reference"] is None else format_value(g["reference"], ref_unit)
        ratio = "—" if g["ratio"] is None else f"{g['ratio']:.3g}×"
        target = (
            f"≤ {g['target']:g}×" if g["target_kind"] == "ratio" else "≤ " + format_value(g["target"], unit)
        )
        met = {True: "yes", False: "**no**", None: g["status"]}[g["met"]]
        size = "—" if g["size"] is None else f"{g['size']:,}"
        lines.append(f"| {g['name']} | {size} | {value} | {reference} | {ratio} | {target} | {met} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path(__file__).resolve().parent / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    print(table(results))
    print()
    print(goals(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
