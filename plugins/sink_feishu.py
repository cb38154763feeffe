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
from collections.abc import Sequence
from urllib.parse import quote

from dashboard_plugins.sink_webhook import HTTP_OPTIONS, HttpDelivery, robot_reply, url_option

from dashboard import hookimpl
from dashboard.core.alerts import AlertEvent
from dashboard.sinks import SinkSpec, SinkType, secret_from_env
from dashboard.templates import (
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

DEFAULT_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/"
RATE_LIMITED = {11232, 9499}  # "frequency limited", "too many request"
TEMPLATES = {"critical": "red", "warning": "orange", "info": "blue"}
OPTIONS = {
    "token_env": "保存机器人 hook 令牌（地址最后一段）的环境变量名",
    "secret_env": "保存签名校验密钥的环境变量名；未开启签名校验时省略",
    "url": f"接口地址前缀，默认 {DEFAULT_URL}",
    "url_env": "保存完整 webhook 地址的环境变量名，代替 token_env",
    **TEMPLATE_KEYS,
    "mention_users": '要 @ 的用户 open_id 列表，如 ["ou_xxx"]（飞书机器人不能按手机号 @）',
    **HTTP_OPTIONS,
}


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64 of HMAC-SHA256(key = "{timestamp}\\n{secret}", message = b"")."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def feishu_body(
    events: Sequence[AlertEvent],
    message: Message | None = None,
    own: MessageTemplate | None = None,
    mentions: Mentions = NO_MENTIONS,
) -> tuple[dict[str, object], str]:
    """(body, note) of one card for one event or a group: the title in its header, the
    markdown with `<at id=…></at>` mentions and every event's id below."""
    message = message or Message()
    mentions = mentions | message.mentions
    markup = " ".join(f"<at id={u}></at>" for u in mentions.users)
    rendered = render(events, message, own, "card", mentions=markup)
    worst = "critical" if any(e.severity == "critical" for e in events) else events[0].severity
    template = "green" if all(e.kind == "resolved" for e in events) else TEMPLATES.get(worst, "blue")
    parts = [rendered.text, markup if not rendered.mentions_placed else "", footer(events)]
    return _card(message_title(events), template, "\n\n".join(p for p in parts if p)), rendered.note


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
        prefix, file = spec.key_prefix, spec.config_file
        self.mentions = mentions_option(spec.options, prefix, file, mobile_keys=())
        self.template = template_option(spec.options, prefix, spec.base_dir, file)
        self.http = HttpDelivery(spec, rate_per_minute=100)
        self.clock = time.time

    def deliver(self, event: AlertEvent) -> None:
        self.deliver_message([event], Message())

    def deliver_group(self, events: list[AlertEvent]) -> None:
        """One card for the events of a group (routes' group_by)."""
        self.deliver_message(events, Message())

    def deliver_message(self, events: list[AlertEvent], message: Message) -> str:
        """One card with the route's template and mentions; a note when the template fell back."""
        body, note = feishu_body(events, message, self.template, self.mentions)
        self._post(body)
        return note

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
