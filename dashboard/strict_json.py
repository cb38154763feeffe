"""JSON as RFC 8259 has it: every file, store row and printout the project writes.

The FetchResult boundary keeps NaN and ±Infinity out of the data, so a non-finite number
here is a slip; it is written as `null`, never as the non-standard `NaN` that `jq`,
browsers and other parsers refuse, and never as a crash of the command that prints it.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """The value with every NaN / ±Infinity replaced by None (in dicts, lists and tuples)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps` that never writes NaN or Infinity (they become null); `ensure_ascii`
    defaults to False (Chinese text stays readable)."""
    kwargs.setdefault("ensure_ascii", False)
    try:
        return json.dumps(value, allow_nan=False, **kwargs)
    except ValueError:  # only non-finite floats make allow_nan=False raise
        return json.dumps(finite(value), allow_nan=False, **kwargs)
