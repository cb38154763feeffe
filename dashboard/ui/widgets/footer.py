"""`DashboardFooter`: Textual's footer with `? 全部按键`, `q 退出` and the command palette
kept at the right end, so an 80-column terminal that cuts the other keys still shows
how to get help and how to leave."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widget import Widget
from textual.widgets import Footer

# Actions whose keys never scroll out of the footer (`leave` is q, or Ctrl+Q read-only).
PINNED_ACTIONS = frozenset({"help", "leave", "quit", "command_palette"})


def _action_name(action: str) -> str:
    return action.split("(", 1)[0].rsplit(".", 1)[-1]


class DashboardFooter(Footer):
    """The keys of the screen, help, quit and the palette always in view at the right."""

    def compose(self) -> ComposeResult:
        pinned: list[Widget] = []
        rest: list[Widget] = []
        for widget in super().compose():
            # Footer keys carry their binding's action (FooterKey is not public in Textual 8).
            action = getattr(widget, "action", None)
            if isinstance(action, str) and _action_name(action) in PINNED_ACTIONS:
                widget.remove_class("-command-palette")  # its own dock would leave the group
                pinned.append(widget)
            else:
                rest.append(widget)
        # Side by side, not docked over the others: a wide (Chinese) character under
        # an overlapping widget's edge is drawn as blanks.
        yield HorizontalGroup(*rest, id="footer-keys")
        yield HorizontalGroup(*pinned, id="footer-pinned")
