"""HTML exporter: a standalone page (inline CSS, no scripts, no external files) with
the table coloured by status as on screen and in the XLSX export."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from dashboard import hookimpl
from dashboard.exporting import STATUS_COLOURS, Exporter, cell_text
from dashboard.views import TableView

_NUMERIC = ("int", "number", "percent")
_NUM = ' class="num"'


def _css() -> str:
    rows = "\n".join(
        f"tr.status-{s.value} td {{ background: #{bg}; color: #{fg}; }}"
        for s, (bg, fg) in STATUS_COLOURS.items()
    )
    return f"""
body {{ font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 2em; }}
h1 {{ font-size: 1.4em; }} h2 {{ font-size: 1.2em; margin-top: 2em; }}
p.note {{ color: #595959; margin: 0.2em 0; }}
table {{ border-collapse: collapse; margin-top: 0.8em; }}
th {{ background: #1F4E78; color: #FFFFFF; position: sticky; top: 0; }}
th, td {{ border: 1px solid #BFBFBF; padding: 0.25em 0.6em; vertical-align: top; }}
td.num {{ text-align: right; white-space: nowrap; }}
{rows}
"""


def render_section(view: TableView, level: int = 1) -> str:
    parts = [f"<h{level}>{html.escape(view.title)}</h{level}>"]
    parts += [f'<p class="note">{html.escape(n)}</p>' for n in view.notes]
    parts.append("<table>")
    parts.append(
        "<thead><tr>" + "".join(f"<th>{html.escape(c.name)}</th>" for c in view.columns) + "</tr></thead>"
    )
    parts.append("<tbody>")
    for index, row in enumerate(view.rows):
        status = view.status_of(index)
        attr = f' class="status-{status.value}"' if status is not None else ""
        cells = "".join(
            f"<td{_NUM if c.kind in _NUMERIC else ''}>{html.escape(cell_text(v, c))}</td>"
            for v, c in zip(row, view.columns, strict=True)
        )
        parts.append(f"<tr{attr}>{cells}</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


def render_page(views: Sequence[TableView]) -> str:
    title = html.escape(views[0].title if views else "导出")
    body = "\n".join(render_section(v, 1 if i == 0 else 2) for i, v in enumerate(views))
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_css()}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def write(view: TableView, path: Path) -> None:
    path.write_text(render_page([view]), encoding="utf-8")


def write_many(views: Sequence[TableView], path: Path) -> None:
    path.write_text(render_page(views), encoding="utf-8")


@hookimpl
def dashboard_exporters() -> list[Exporter]:
    return [Exporter("html", "html", write, "独立 HTML 网页（按状态着色）", write_many)]
