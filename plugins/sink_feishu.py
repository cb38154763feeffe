"""飞书 custom bot (design §5): an interactive card with a markdown body; the hook
token from `token_env` (or the whole URL from `url_env`); with "签名校验",
`timestamp` (s) and `sign` = base64 of HMAC-SHA256(key = "{timestamp}\\n{secret}",
message = empty) in the JSON body, the secret from `secret_env`. `code` 0 means
delivered; 11232 (rate limit) is retried; 19021 (bad signature), 19022 (IP not
allowed), 19024 (keyword) and the rest are permanent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote

from dashboard_plugins.sink_webhook import (
    HTTP_OPTIONS,
    HttpDelivery,
    group_markdown,
    group_title,
    robot_reply,
    url_option,
)

from dashboard import hookimpl
from dashboard.core.alert_rules import rule_label
from dashboard.core.alerts import AlertEvent, event_markdown, event_title
from dashboard.sinks import SinkSpec, SinkType, secret_from_env

DEFAULT_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/"
RATE_LIMITED = {11232}  # "frequency limited"
TEMPLATES = {"critical": "red", "warning": "orange", "info": "blue"}
OPTIONS = {
    "token_env": "保存机器人 hook 令牌（地址最后一段）的环境变量名",
    "secret_env": "保存签名校验密钥的环境变量名；未开启签名校验时省略",
    "url": f"接口地址前缀，默认 {DEFAULT_URL}",
    "url_env": "保存完整 webhook 地址的环境变量名，代替 token_env",
    **HTTP_OPTIONS,
}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64 of HMAC-SHA256(key = "{timestamp}\\n{secret}", message = b"")."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_body(event: AlertEvent) -> dict[str, object]:
    label = rule_label(event.rule)
    template = "green" if event.kind == "resolved" else TEMPLATES.get(event.severity, "blue")
    return _card(event_title(event, label), template, event_markdown(event, label, heading=False))


def feishu_group_body(events: list[AlertEvent]) -> dict[str, object]:
    """One card for a group (routes' group_by): a line per item, every event's id below."""
    text, footer = group_markdown(events, heading=False)
    worst = "critical" if any(e.severity == "critical" for e in events) else events[0].severity
    template = "green" if all(e.kind == "resolved" for e in events) else TEMPLATES.get(worst, "blue")
    return _card(group_title(events), template, f"{text}\n\n{footer}")


def _card(title: str, template: str, content: str) -> dict[str, object]:
    return {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {
                "title": {"tag": "plain_text", "content": title},
                "template": template,
            },
            "elements": [{"tag": "markdown", "content": content}],
        },
    }


class FeishuSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.url, self.url_env = url_option(spec, DEFAULT_URL)
        self.token_env = spec.env_name("token_env")
        if not self.token_env and not self.url_env:
            raise spec.error("token_env", "需要 token_env（或 url_env）", "保存 hook 令牌的环境变量名")
        self.secret_env = spec.env_name("secret_env")
        self.http = HttpDelivery(spec, rate_per_minute=100)
        self.clock = time.time

    def deliver(self, event: AlertEvent) -> None:
        self._post(feishu_body(event))

    def deliver_group(self, events: list[AlertEvent]) -> None:
        """One card for the events of a group (routes' group_by)."""
        self._post(feishu_group_body(events))

    def _post(self, body: dict[str, object]) -> None:
        if self.url_env:
            url = secret_from_env(self.url_env, "飞书机器人地址")
            secrets: tuple[str, ...] = (url,)
        else:
            token = secret_from_env(self.token_env, "飞书机器人令牌")
            url = self.url.rstrip("/") + "/" + quote(token, safe="")
            secrets = (token,)
        if self.secret_env:
            secret = secret_from_env(self.secret_env, "飞书签名密钥")
            timestamp = int(self.clock())
            body = {"timestamp": str(timestamp), "sign": feishu_sign(secret, timestamp), **body}
            secrets += (secret,)
        self.http.post(url, body, robot_reply("code", RATE_LIMITED, alt_field="StatusCode"), secrets=secrets)


@hookimpl
def dashboard_sink_types() -> list[SinkType]:
    return [SinkType("feishu", FeishuSink, "飞书群机器人（消息卡片，支持签名校验）", OPTIONS)]
