"""`stale` is measured from the END of the last good load (issue 12): a load that took
longer than three refresh periods is not stale the moment it arrives."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from dashboard.config import load_config
from dashboard.runtime import Runtime

SLOW_SOURCE = """
import asyncio
from datetime import datetime
from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceType
from dashboard.core.items import Item

RETURNED = []


class Slow:
    def __init__(self, spec):
        pass

    async def fetch(self):
        await asyncio.sleep(0.5)
        RETURNED.append(datetime.now())
        return FetchResult([Item(id="s1", name="慢接口项目", unit="某单位", ratio=0.5)])


@hookimpl
def dashboard_source_types():
    return [SourceType("slow", Slow)]
"""


async def test_age_counts_from_the_end_of_a_slow_load(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    (tmp_path / "lp").mkdir()
    (tmp_path / "lp" / "slow.py").write_text(SLOW_SOURCE, encoding="utf-8")
    cfg = config_writer([{"name": "慢接口", "type": "slow", "refresh": "1s"}], extra='plugins_dir = "lp"')
    runtime = Runtime(load_config(cfg))
    plugin = sys.modules["dashboard_local_plugins.slow"]
    try:
        [state] = await runtime.refresh_all()
        [returned] = plugin.RETURNED
        assert state.ok and state.last_success is not None and state.last_attempt is not None
        assert state.last_success >= returned > state.last_attempt + timedelta(seconds=0.5)
        # 2.7 s after the data arrived, 3.2 s after the load began: three periods are 3 s.
        assert not state.is_stale(returned + timedelta(seconds=2.7))
        assert state.is_stale(returned + timedelta(seconds=3.1))
    finally:
        runtime.close()
