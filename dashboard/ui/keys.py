"""Names of the app's key bindings: the Chinese one is the binding's description,
the English one lives here (by binding id), so the command palette finds both
`导出` and `export`. No Textual widgets here: the names are tested on their own."""

from __future__ import annotations

from textual.binding import Binding

ENGLISH: dict[str, str] = {
    "app.overview": "Overview",
    "app.units": "Lead units",
    "app.behind": "Behind schedule",
    "app.projects": "Projects",
    "app.sources": "Sources",
    "app.alerts": "Alerts",
    "app.quality": "Data quality",
    "units.league": "League table",
    "units.months": "Units by month",
    "units.counties": "Counties (roll-up)",
    "app.reload": "Refresh",
    "app.help": "Keys / help",
    "app.theme": "Light/dark theme",
    "app.cases": "Cases",
    "app.changes": "Changes since the last bulletin",
    "app.kiosk": "Kiosk rotation",
    "app.quit": "Quit",
    "app.ctrl_quit": "Quit",
    "app.palette": "Command palette",
    "screen.export": "Export",
    "screen.export_as": "Export as…",
    "table.select": "Open",
    "table.sort_next": "Sort",
    "table.sort_reverse": "Reverse sort",
    "items.filter": "Filter",
    "items.all": "Show all",
    "items.escape": "Back / clear",
    "groups.filter": "Filter",
    "groups.clear": "Clear filter",
    "detail.back": "Back",
    "source.back": "Back",
    "alerts.acknowledge": "Acknowledge",
    "alerts.silence": "Silence…",
    "alerts.silences": "Silences list",
    "silences.expire": "Expire silence early",
    "silences.back": "Back",
    "alerts.all": "Show all",
    "help.close": "Close",
    "items.open_case": "Open a case",
    "detail.open_case": "Open a case",
    "cases.filter": "Filter",
    "cases.all": "Show all",
    "cases.escape": "Clear filter",
    "case.note": "Add a note",
    "case.close": "Close the case",
    "case.reopen": "Reopen the case",
    "case.back": "Back",
    "case_dialog.cancel": "Cancel",
}
# Filter keys named after what they show (`items.status_severe` → "Show severe").
SHOW_PREFIXES = ("items.status_", "alerts.show_", "cases.show_")
# Moving the cursor is for keys, not for the palette.
NOT_COMMANDS = frozenset(
    {
        "table.up",
        "table.down",
        "table.page_up",
        "table.page_down",
        "table.first",
        "table.last",
        "table.left",
        "table.right",
        "app.palette",  # the palette is open already
    }
)


def english_name(binding: Binding) -> str:
    """The English name of a binding ("" when it has none)."""
    bid = binding.id or ""
    if bid in ENGLISH:
        return ENGLISH[bid]
    for prefix in SHOW_PREFIXES:
        if bid.startswith(prefix):
            return "Show " + bid[len(prefix) :].replace("_", " ")
    return ""


def command_title(binding: Binding) -> str:
    """`导出 Export`: both names, each searchable in the palette; the English one
    is left out when the description already carries it (`全部 All`)."""
    zh = binding.description or binding.action
    en = english_name(binding)
    return f"{zh} {en}" if en and en.lower() not in zh.lower() else zh
