"""Fixtures for the city_json plugin's tests: the sample export and an isolated data folder.

The same isolation as the dashboard's own tests (its tests/conftest.py): each test gets its
own DASHBOARD_DATA_DIR, so no test reads or writes the user's store or alert files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLE_JSON = Path(__file__).resolve().parents[1] / "sample" / "xiangtan-city-2024-09.json"


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(state))
    return state
