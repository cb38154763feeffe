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
from collections.abc import Sequence
from urllib.parse import quote, quote_plus

from dashboard_plugins.sink_webhook import HTTP_OPTIONS, HttpDelivery, robot_reply, url_option

from dashboard import hookimpl
from dashboard.core.alerts import AlertEvent
from dashboard.sinks import SinkSpec, SinkType, secret_from_env
from dashboard.templates import (
    MENTION_KEYS,
    NO_MENTIONS,
    TEMPLATE_KEYS,
    Mentions,
    Message,
    MessageTemplate,
    footer,
    mentions_option,
    message_title,
    render,
    template_option,
)

DEFAULT_URL = "https://oapi.dingtalk.com/robot/send"
RATE_LIMITED = {130101, 660026}  # "send too fast" (per minute), "rate limited" (robot quota)
OPTIONS = {
    "token_env": "保存机器人 access_token 的环境变量名",
    "secret_env": "保存加签密钥（SEC 开头）的环境变量名；未开启加签时省略",
    "keyword": "机器人安全设置的自定义关键词，写进标题与正文",
    **TEMPLATE_KEYS,
    **MENTION_KEYS,
    "at_mobiles": "同 mention_mobiles（旧名）",
    "url": f"接口地址，默认 {DEFAULT_URL}",
    "url_env": "保存完整 webhook 地址（含 access_token）的环境变量名，代替 token_env",
    **HTTP_OPTIONS,
}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """URL-encoded base64 of HMAC-SHA256(secret, "{timestamp}\\n{secret}")."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def dingtalk_body(
    events: Sequence[AlertEvent],
    message: Message | None = None,
    own: MessageTemplate | None = None,
    mentions: Mentions = NO_MENTIONS,
    keyword: str = "",
) -> tuple[dict[str, object], str]:
    """(body, note) of one markdown message for one event or a group, every event's id in
    its footer. 钉钉 notifies an @ only when it is both in `at` and written `@…` in the text."""
    message = message or Message()
    mentions = mentions | message.mentions
    markup = " ".join(f"@{who}" for who in (*mentions.mobiles, *mentions.users))
    rendered = render(events, message, own, "markdown", mentions=markup)
    parts = [rendered.text, footer(events), markup if not rendered.mentions_placed else ""]
    title, text = message_title(events), "\n\n".join(p for p in parts if p)
    if keyword and keyword not in text:
        title, text = f"{keyword} {title}", f"{keyword}\n\n{text}"
    body: dict[str, object] = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    if mentions:
        body["at"] = {
            "atMobiles": list(mentions.mobiles),
            "atUserIds": list(mentions.users),
            "isAtAll": False,
        }
    return body, rendered.note


class DingtalkSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.url, self.url_env = url_option(spec, DEFAULT_URL)
        self.token_env = spec.env_name("token_env")
        if not self.token_env and not self.url_env:
            raise spec.error("token_env", "需要 token_env（或 url_env）", "保存 access_token 的环境变量名")
        self.secret_env = spec.env_name("secret_env")
        self.keyword = spec.string("keyword")
        prefix, file = spec.key_prefix, spec.config_file
        self.mentions = mentions_option(
            spec.options, prefix, file, mobile_keys=("mention_mobiles", "at_mobiles")
        )
        self.template = template_option(spec.options, prefix, spec.base_dir, file)
        self.http = HttpDelivery(spec, rate_per_minute=20)
        self.clock = time.time

    def deliver(self, event: AlertEvent) -> None:
        self.deliver_message([event], Message())

    def deliver_group(self, events: list[AlertEvent]) -> None:
        """One message for the events of a group (routes' group_by)."""
        self.deliver_message(events, Message())

    def deliver_message(self, events: list[AlertEvent], message: Message) -> str:
        """One message with the route's template and mentions; a note when the template fell back."""
        body, note = dingtalk_body(events, message, self.template, self.mentions, self.keyword)
        self._post(body)
        return note

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
