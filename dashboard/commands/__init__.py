"""Subcommands of `dashboard`: each module has `register(subparsers, common)` which
adds its parser and sets `handler` to a function `(args) -> exit code`.

A module is imported only when its command runs, or when the whole command line is
needed (`dashboard --help`, a mistake): `dashboard check` does not pay for `export`'s
or `serve`'s imports (issue 17). A new command adds its module to MODULES and its names
to NAMES; tests/test_startup.py checks both against what each module registers.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# Every command module, in the order `dashboard --help` lists their commands.
MODULES = (
    "check",
    "plugins_cmd",
    "export_cmd",
    "report_cmd",
    "alerts_cmd",
    "cases_cmd",
    "routes_cmd",
    "store_cmd",
    "quality_cmd",
    "serve_cmd",  # issue 16: the app in a browser
    "digest_cmd",  # issue 15: what changed since the previous bulletin
    "import_cmd",  # issue 15: past bulletins into history
    "init_cmd",  # issue 16: a new user's first steps
    "doctor_cmd",
)

# Command name → the module that registers it (one module may register several).
NAMES = {
    "check": "check",
    "plugins": "plugins_cmd",
    "export": "export_cmd",
    "report": "report_cmd",
    "alerts": "alerts_cmd",
    "ack": "alerts_cmd",
    "silence": "alerts_cmd",
    "case": "cases_cmd",
    "cases": "cases_cmd",
    "routes": "routes_cmd",
    "store": "store_cmd",
    "quality": "quality_cmd",
    "serve": "serve_cmd",
    "digest": "digest_cmd",
    "import": "import_cmd",
    "init": "init_cmd",
    "doctor": "doctor_cmd",
}


def load(module: str) -> ModuleType:
    """The command module `module` (a name from MODULES), imported now."""
    return importlib.import_module(f"{__name__}.{module}")
