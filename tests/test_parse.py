"""Tolerant parsing of the figures found in real bulletins (design §1)."""

from __future__ import annotations

import pytest

from dashboard.core.parse import compute_ratio, is_na, is_total_row, parse_number, parse_percent, parse_target


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("75. 1%", 0.751),
        ("165. 4%", 1.654),
        ("７５％", 0.75),
        ("87.4", 0.874),
        ("100.0%", 1.0),
        (" 32% ", 0.32),
    ],
)
def test_messy_percents(text: str, expected: float) -> None:
    assert parse_percent(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"), [("27. 904", 27.904), ("１２０", 120.0), ("1,500", 1500.0), ("455", 455.0)]
)
def test_messy_numbers(text: str, expected: float) -> None:
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["—", "-", "无", "暂无", "/", "", "  "])
def test_no_value_is_not_zero(text: str) -> None:
    assert is_na(text)
    assert parse_percent(text) is None
    assert parse_number(text) is None


def test_sentences_are_not_numbers() -> None:
    assert parse_number("已完成607户") is None
    assert parse_number("进度数据取自省重点民生实事项目信息管理平台") is None


def test_text_targets() -> None:
    assert parse_target("不低于700元/月").value is None
    assert parse_target("全覆盖/30%").value is None
    rate = parse_target("提升至90%以上")
    assert rate.is_rate and rate.value == 90
    assert parse_target("达到95%").value == 95


def test_ratio_computed_from_target_and_actual() -> None:
    assert compute_ratio(parse_target("455"), 535) == pytest.approx(1.1758, abs=1e-4)
    # 92% against "90%以上" is done
    assert compute_ratio(parse_target("提升至90%以上"), 92) > 1
    assert compute_ratio(parse_target("不低于700元/月"), 800) is None


def test_total_rows() -> None:
    assert is_total_row("合计")
    assert is_total_row("", "小计")
    assert is_total_row("全省")
    assert not is_total_row("45", "全市线上线下开展家庭教育指导服务和实践活动(场)")
