"""The built-in message templates (Jinja2 source, in the bulletin's wording) and the
sample events every template is tried against at start (see dashboard/templates.py)."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from dashboard.core.alerts import AlertEvent

# The bulletin's sentence for one event: 督办 with its deadline, 预警 and 提醒 gentler.
_BULLETIN = """{% macro bulletin(e) -%}
{% if e.ratio is not none and e.points_behind is not none and e.points_behind > 0 -%}
{% if e.kind == "resolved" -%}
【已解除】{{ e.unit or e.item_name }}：{{ e.item_name }}已不再{{ e.rule_label }}，当前完成{{ e.ratio|percent }}
{%- elif e.level == "supervise" -%}
【督办】{{ e.unit }}：{{ e.item_name }}完成{{ e.ratio|percent }}，低于序时进度{{ e.points_behind }}个百分点，\
{% if e.deadline %}请于{{ e.deadline }}前书面反馈整改情况{% else %}请尽快书面反馈整改情况{% endif %}
{%- elif e.level == "warn" -%}
【预警】{{ e.unit }}：{{ e.item_name }}完成{{ e.ratio|percent }}，低于序时进度{{ e.points_behind }}个百分点，\
请加快推进，尽快达到序时进度
{%- else -%}
【提醒】{{ e.unit }}：{{ e.item_name }}完成{{ e.ratio|percent }}，低于序时进度{{ e.points_behind }}个百分点，\
请关注推进
{%- endif %}
{%- elif e.kind == "resolved" -%}
【已解除】{{ e.unit or e.item_name }}：{{ e.item_name or e.key }}已不再{{ e.rule_label }}
{%- endif %}
{%- endmacro %}"""

# One event: its sentence, then the figures; a group: a line per item.
_BODY = """
{% if count == 1 %}
{{ bulletin(event) }}

{% if event.item_id %}
**项目**：[{{ event.item_id }}] {{ event.item_name }}

**牵头单位**：{{ event.unit or "—" }}

{% elif event.item_name %}
**数据源**：{{ event.item_name }}

{% endif %}
{% if event.ratio is not none %}
**完成比例**：{{ event.ratio|percent }}

**序时进度**：{{ event.expected|percent }}

{% if event.gap_text %}
**差距**：{{ event.gap_text }}

{% endif %}
{% endif %}
> {{ event.message }}
{% else %}
{% for e in events %}
- **{% if e.item_id %}[{{ e.item_id }}] {{ e.item_name }}{% else %}{{ e.item_name or e.key }}{% endif %}**\
（{{ e.rule_label }}）：{{ e.message }}
{% endfor %}
{% set due = events|selectattr("deadline")|map(attribute="deadline")|list %}
{% if due %}

请于{{ due|first }}前书面反馈整改情况
{% endif %}
{% endif %}
"""

# Per kind of robot: markdown with a `###` heading (企业微信, 钉钉, webhook), or a card
# whose header is the title (飞书).
DEFAULT_SOURCES = {
    "markdown": _BULLETIN + "### {{ title }}\n\n" + _BODY,
    "card": _BULLETIN + _BODY,
}

# The deadline of item 45's 督办 case in the sample (as-of 2024-10-14 + 10 days).
SAMPLE_DEADLINES = {"severe:45": date(2024, 10, 24)}


@cache
def sample_events() -> tuple[tuple[AlertEvent, ...], ...]:
    """Item 45 at 督办 alone, and in a group with item 44 at 提醒 (the bundled sample's figures)."""
    at = datetime(2024, 10, 14, 9, 0)
    severe = AlertEvent(
        id="0" * 20,
        key="severe:45",
        rule="severe",
        item_id="45",
        severity="critical",
        kind="escalated",
        message="【督办】严重滞后：[45] 重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)，完成 32.0%",
        figures={"ratio": 0.32, "expected": 0.75, "gap": 0.43},
        at=at,
        item_name="重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)",
        unit="公安局交警大队",
        level="supervise",
    )
    lagging = AlertEvent(
        id="1" * 20,
        key="lagging:44",
        rule="lagging",
        item_id="44",
        severity="warning",
        kind="fired",
        message="滞后：[44] 示例项目，完成 60.0%",
        figures={"ratio": 0.6, "expected": 0.75, "gap": 0.15},
        at=at,
        item_name="示例项目",
        unit="公安局交警大队",
        level="remind",
    )
    return (severe,), (severe, lagging)
