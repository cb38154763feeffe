"""序时进度 and the five statuses (design §2)."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.core.items import Status
from dashboard.core.progress import Period, Thresholds, expected_progress


def test_september_bulletin_expects_75_percent() -> None:
    assert expected_progress(date(2024, 9, 30), Period.for_year(2024)) == 0.75


def test_mid_month_counts_whole_months_only() -> None:
    assert expected_progress(date(2024, 9, 15), Period.for_year(2024)) == pytest.approx(8 / 12)


def test_period_ending_30_november() -> None:
    assert expected_progress(date(2024, 9, 30), Period.for_year(2024, (11, 30))) == pytest.approx(9 / 11)
    assert expected_progress(date(2024, 12, 15), Period.for_year(2024, (11, 30))) == 1.0


def test_by_days() -> None:
    value = expected_progress(date(2024, 7, 1), Period.for_year(2024), "days")
    assert value == pytest.approx(183 / 366)


def test_statuses_with_default_thresholds() -> None:
    t = Thresholds()
    assert t.status(1.0, 0.75) is Status.DONE
    assert t.status(0.75, 0.75) is Status.ON_TRACK
    assert t.status(0.6, 0.75) is Status.LAGGING
    assert t.status(0.5, 0.75) is Status.LAGGING
    assert t.status(0.32, 0.75) is Status.SEVERE
    assert t.status(None, 0.75) is Status.UNKNOWN


def test_team_thresholds_10_and_30_points() -> None:
    t = Thresholds("points", 0.10, 0.30)
    assert t.status(0.70, 0.75) is Status.ON_TRACK
    assert t.status(0.60, 0.75) is Status.LAGGING
    assert t.status(0.40, 0.75) is Status.SEVERE


def test_share_thresholds() -> None:
    t = Thresholds("share", 0.0, 0.5)
    assert t.status(0.40, 0.75) is Status.LAGGING
    assert t.status(0.30, 0.75) is Status.SEVERE
