"""钉钉 custom robot (design §5): markdown with a title; the `access_token` from the
environment variable `token_env` (or the whole URL from `url_env`); with "加签"
security, `timestamp` (ms) and `sign` = URL-encoded base64 of
HMAC-SHA256(key = secret, message = "{timestamp}\\n{secret}") added to the query,
the secret from `secret_env`. 20 messages a minute; errcode 130101 "too fast" is
retried, 310000 (signature or keyword) and the rest are permanent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote, quote_plus

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

DEFAULT_URL = "https://oapi.dingtalk.com/robot/send"
RATE_LIMITED = {130101}
OPTIONS = {
    "token_env": "保存机器人 access_token 的环境变量名",
    "secret_env": "保存加签密钥（SEC 开头）的环境变量名；未开启加签时省略",
    "keyword": "机器人安全设置的自定义关键词，写进标题与正文",
    "at_mobiles": "要 @ 的手机号列表",
    "url": f"接口地址，默认 {DEFAULT_URL}",
    "url_env": "保存完整 webhook 地址（含 access_token）的环境变量名，代替 token_env",
    **HTTP_OPTIONS,
}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """URL-encoded base64 of HMAC-SHA256(secret, "{timestamp}\\n{secret}")."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def dingtalk_body(
    event: AlertEvent, keyword: str = "", mobiles: list[str] | None = None
) -> dict[str, object]:
    label = rule_label(event.rule)
    return _markdown_body(event_title(event, label), event_markdown(event, label), keyword, mobiles)


def dingtalk_group_body(
    events: list[AlertEvent], keyword: str = "", mobiles: list[str] | None = None
) -> dict[str, object]:
    """One markdown message for a group (routes' group_by), with every event's id."""
    text, footer = group_markdown(events)
    return _markdown_body(group_title(events), f"{text}\n\n{footer}", keyword, mobiles)


def _markdown_body(title: str, text: str, keyword: str, mobiles: list[str] | None) -> dict[str, object]:
    if keyword and keyword not in text:
        title, text = f"{keyword} {title}", f"{keyword}\n\n{text}"
    body: dict[str, object] = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    if mobiles:
        body["markdown"] = {"title": title, "text": text + "\n\n" + " ".join(f"@{m}" for m in mobiles)}
        body["at"] = {"atMobiles": mobiles, "isAtAll": False}
    return body


class DingtalkSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.url, self.url_env = url_option(spec, DEFAULT_URL)
        self.token_env = spec.env_name("token_env")
        if not self.token_env and not self.url_env:
            raise spec.error("token_env", "需要 token_env（或 url_env）", "保存 access_token 的环境变量名")
        self.secret_env = spec.env_name("secret_env")
        self.keyword = spec.string("keyword")
        mobiles = spec.options.get("at_mobiles", [])
        if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
            raise spec.error("at_mobiles", "应为字符串列表", '["13800000000"]')
        self.mobiles = mobiles
        self.http = HttpDelivery(spec, rate_per_minute=20)
        self.clock = time.time

    def deliver(self, event: AlertEvent) -> None:
        self._post(dingtalk_body(event, self.keyword, self.mobiles))

    def deliver_group(self, events: list[AlertEvent]) -> None:
        """One message for the events of a group (routes' group_by)."""
        self._post(dingtalk_group_body(events, self.keyword, self.mobiles))

    def _post(self, body: dict[str, object]) -> None:
        if self.url_env:
            url = secret_from_env(self.url_env, "钉钉机器人地址")
            secrets: tuple[str, ...] = (url,)
        else:
            token = secret_from_env(self.token_env, "钉钉机器人 access_token")
            url = f"{self.url}{'&' if '?' in self.url else '?'}access_token={quote(token, safe='')}"
            secrets = (token,)
        if self.secret_env:
            secret = secret_from_env(self.secret_env, "钉钉加签密钥")
            timestamp = int(self.clock() * 1000)
            url += f"&timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"
            secrets += (secret,)
        self.http.post(url, body, robot_reply("errcode", RATE_LIMITED), secrets=secrets)


@hookimpl
def dashboard_sink_types() -> list[SinkType]:
    return [SinkType("dingtalk", DingtalkSink, "钉钉群机器人（markdown，支持加签）", OPTIONS)]
