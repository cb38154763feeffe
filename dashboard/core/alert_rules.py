"""The built-in alert rules of design §5, pure. Each is tunable under
`[alerts.rules.<name>]` in dashboard.toml; plugins add more through the
`dashboard_alert_rules` hook with the same `Rule` type."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from dashboard.core.alerts import (
    AlertContext,
    Condition,
    Rule,
    RuleConfig,
    describe_item,
    item_figures,
    last_full_month,
    progress_phrase,
)
from dashboard.core.items import UPDATE_MONTHS, Evaluated, Status
from dashboard.core.parse import format_percent

_EPS = 1e-9


def _item_condition(rule: str, e: Evaluated, message: str, **extra: object) -> Condition:
    return Condition(
        rule=rule,
        subject=e.item.id,
        message=message,
        item_id=e.item.id,
        item_name=e.item.name,
        unit=e.item.unit,
        figures={**item_figures(e), **extra},
    )


def check_severe(ctx: AlertContext, cfg: RuleConfig) -> Iterator[Condition]:
    for e in ctx.evaluated:
        if e.status is Status.SEVERE:
            yield _item_condition(
                "severe", e, f"严重滞后：{describe_item(e)}{progress_phrase(item_figures(e))}"
            )


def check_lagging(ctx: AlertContext, cfg: RuleConfig) -> Iterator[Condition]:
    for e in ctx.evaluated:
        if e.status is Status.LAGGING:
            yield _item_condition("lagging", e, f"滞后：{describe_item(e)}{progress_phrase(item_figures(e))}")


def stalled_since(points: Sequence[tuple[date, float]], current: float) -> date | None:
    """The first date of the latest unbroken run of observations equal to `current`."""
    since: date | None = None
    for day, ratio in sorted(points, key=lambda p: p[0], reverse=True):
        if abs(ratio - current) > _EPS:
            break
        since = day
    return since


def check_stalled(ctx: AlertContext, cfg: RuleConfig) -> Iterator[Condition]:
    days = int(cfg.params.get("days", 30))
    if not ctx.history:
        return
    for e in ctx.evaluated:
        ratio = e.item.ratio
        points = ctx.history.get(e.item.id)
        if not points or ratio is None or e.status is Status.DONE:
            continue
        since = stalled_since(points, ratio)
        if since is None or (ctx.day - since).days < days:
            continue
        idle = (ctx.day - since).days
        yield _item_condition(
            "stalled",
            e,
            f"进度停滞：{describe_item(e)}自 {since:%Y-%m-%d} 起 {idle} 天完成比例未变（{format_percent(ratio)}）",
            since=since.isoformat(),
            days=idle,
        )


def check_missing_update(ctx: AlertContext, cfg: RuleConfig) -> Iterator[Condition]:
    year, month = last_full_month(ctx.as_of)
    if month not in UPDATE_MONTHS or year != ctx.as_of.year:
        return
    for e in ctx.evaluated:
        item = e.item
        # Only items whose source reports monthly updates at all: no data is not "no update".
        if not item.is_provincial or not item.monthly_updates:
            continue
        if item.monthly_updates.get(month, 0) > 0:
            continue
        yield _item_condition(
            "missing_update",
            e,
            f"月度动态未更新：{describe_item(e)}{month}月未在省平台发布工作动态",
            month=month,
        )


def check_acceptance_behind(ctx: AlertContext, cfg: RuleConfig) -> Iterator[Condition]:
    points = float(cfg.params.get("points", 10)) / 100
    for e in ctx.evaluated:
        ratio, accepted = e.item.ratio, e.item.acceptance_ratio
        if ratio is None or accepted is None or ratio - accepted <= points + _EPS:
            continue
        yield _item_condition(
            "acceptance_behind",
            e,
            f"验收滞后：{describe_item(e)}完成 {format_percent(ratio)}，验收仅 {format_percent(accepted)}"
            f"（相差 {(ratio - accepted) * 100:.1f} 个百分点）",
            acceptance=round(accepted, 6),
        )


def check_comments_unanswered(ctx: AlertContext, cfg: RuleConfig) -> Iterator[Condition]:
    least = int(cfg.params.get("min_unanswered", 1))
    for e in ctx.evaluated:
        received, answered = e.item.comments_received, e.item.comments_answered
        if received is None or answered is None or received - answered < least:
            continue
        yield _item_condition(
            "comments_unanswered",
            e,
            f"意见建议未回复：{describe_item(e)}收到 {received} 条，已回复 {answered} 条",
            received=received,
            answered=answered,
        )


def check_source_stale(ctx: AlertContext, cfg: RuleConfig) -> Iterator[Condition]:
    periods = float(cfg.params.get("periods", 3))
    failures = int(cfg.params.get("failures", 2))
    for s in ctx.sources:
        if s.ok is None:
            continue
        window = timedelta(seconds=s.refresh * periods)
        stale = s.last_success is not None and ctx.now - s.last_success >= window
        if s.ok and not stale:
            continue
        failing = not s.ok and s.failures >= failures
        if not s.ok and s.last_success is not None and not stale and not failing and not s.refused:
            continue  # one passing failure: wait for the next (a refused shrink does not wait)
        if s.refused:
            why = s.error
        elif s.last_success is None:
            why = f"载入失败：{s.error}" if s.error else "载入失败"
        elif failing and not stale:
            why = f"连续 {s.failures} 次载入失败" + (f"（{s.error}）" if s.error else "")
        else:
            why = f"自 {s.last_success:%Y-%m-%d %H:%M} 起没有成功载入" + (f"（{s.error}）" if s.error else "")
        yield Condition(
            rule="source_stale",
            subject=s.name,
            message=f"数据源故障或过期：「{s.name}」{why}",
            item_name=s.name,
            figures={
                "last_success": s.last_success.isoformat(timespec="seconds") if s.last_success else None
            },
        )


BUILTIN_RULES: tuple[Rule, ...] = (
    Rule(
        "severe",
        "严重滞后",
        check_severe,
        severity="critical",
        repeat="1d",
        description="完成比例低于序时进度的严重滞后线（默认 25 个百分点）",
        per_item=True,
    ),
    Rule(
        "lagging",
        "滞后",
        check_lagging,
        severity="warning",
        repeat="7d",
        description="完成比例低于序时进度，但未到严重滞后",
        per_item=True,
    ),
    Rule(
        "stalled",
        "进度停滞",
        check_stalled,
        severity="warning",
        repeat="7d",
        params={"days": 30},
        help={"days": "完成比例连续多少天未变（未完成的项目）"},
        description="未完成的项目完成比例 N 天未变化（依据存储中的历史）",
    ),
    Rule(
        "missing_update",
        "月度动态未更新",
        check_missing_update,
        severity="warning",
        repeat="7d",
        description="省实事在上一个完整月份没有在省平台发布工作动态",
        per_item=True,
    ),
    Rule(
        "acceptance_behind",
        "验收滞后于进度",
        check_acceptance_behind,
        severity="info",
        repeat="7d",
        params={"points": 10.0},
        help={"points": "完成比例超过验收率多少个百分点"},
        description="完成比例减验收率超过阈值",
        per_item=True,
    ),
    Rule(
        "comments_unanswered",
        "意见建议未回复",
        check_comments_unanswered,
        severity="info",
        repeat="7d",
        params={"min_unanswered": 1},
        help={"min_unanswered": "未回复条数达到多少时预警"},
        description="群众意见建议有未回复的",
        per_item=True,
    ),
    Rule(
        "source_stale",
        "数据源故障或过期",
        check_source_stale,
        severity="warning",
        repeat="1d",
        params={"periods": 3, "failures": 2},
        help={
            "periods": "连续多少个刷新周期没有成功载入",
            "failures": "连续多少次载入失败（从未成功过的数据源第一次失败即预警）",
        },
        description="数据源连续 failures 次（默认 2）载入失败，或超过 periods 个刷新周期（默认 3）没有成功载入",
    ),
)

RULE_LABELS: dict[str, str] = {r.name: r.label for r in BUILTIN_RULES}


def rule_label(name: str) -> str:
    """The Chinese label of a built-in rule; a plugin's rule reads as its name."""
    return RULE_LABELS.get(name, name)
