"""SVG snapshots of the office screen (pytest-textual-snapshot): overview, lead
units, item detail and sources at 160×45, and the overview at 80×24.

Every clock on screen is frozen: the app's clock is injected, and the runtime's
and the alert engine's "now" are pinned, so the SVGs are the same on every run.
Regenerate with `pytest tests/test_snapshots.py --snapshot-update`, then look at them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from conftest import DEFAULT_CONFIG

from dashboard.config import load_config
from dashboard.ui.app import DashboardApp, make_app

FROZEN = datetime(2024, 9, 30, 17, 30, 0)
CST = timezone(timedelta(hours=8))


class FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> FrozenDatetime:  # type: ignore[override]
        value = cls.fromisoformat(FROZEN.isoformat())
        return value.replace(tzinfo=tz) if tz else value


@pytest.fixture
def frozen_app(monkeypatch: pytest.MonkeyPatch) -> DashboardApp:
    import dashboard.runtime as runtime_module

    monkeypatch.setattr(runtime_module, "datetime", FrozenDatetime)
    if hasattr(runtime_module, "now_local"):
        monkeypatch.setattr(runtime_module, "now_local", lambda: FROZEN.replace(tzinfo=CST))
    return make_app(load_config(DEFAULT_CONFIG), clock=lambda: FROZEN)


async def settle(pilot: Any) -> None:
    app = pilot.app
    await app.workers.wait_for_complete()
    await pilot.pause()
    app.clear_notifications()  # the "new alert" toast of the first load
    await pilot.pause()


def test_overview_160x45(snap_compare: Any, frozen_app: DashboardApp) -> None:
    assert snap_compare(frozen_app, terminal_size=(160, 45), run_before=settle)


def test_overview_80x24(snap_compare: Any, frozen_app: DashboardApp) -> None:
    assert snap_compare(frozen_app, terminal_size=(80, 24), run_before=settle)


def test_lead_units_160x45(snap_compare: Any, frozen_app: DashboardApp) -> None:
    async def units(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("u")
        await pilot.pause()

    assert snap_compare(frozen_app, terminal_size=(160, 45), run_before=units)


def test_item_detail_160x45(snap_compare: Any, frozen_app: DashboardApp) -> None:
    async def detail(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("enter")  # item 45, first in the table
        await pilot.pause()

    assert snap_compare(frozen_app, terminal_size=(160, 45), run_before=detail)


def test_sources_160x45(snap_compare: Any, frozen_app: DashboardApp) -> None:
    async def sources(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(frozen_app, terminal_size=(160, 45), run_before=sources)
