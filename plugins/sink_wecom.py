"""企业微信 group robot (design §5): POST a markdown message to the robot's webhook;
its `key` is the secret, read from the environment variable `key_env` (or the whole
URL from `url_env`). Content at most 4096 bytes; at most 20 messages a minute;
`errcode` 0 means delivered, 45009 is "too fast" (retried), others are permanent.

@-mentions: markdown notifies user ids written `<@userid>`; a mobile number notifies
only in a text message (`mentioned_mobile_list`), so a message that @-mentions mobiles
(`mention_mobiles`, or the older `mentioned_mobiles`) goes as text, its markdown
marks taken out, at most 2048 bytes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

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
    render,
    template_option,
)

DEFAULT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
MAX_BYTES = 4096
TEXT_MAX_BYTES = 2048  # a text message's limit
RATE_LIMITED = {45009, -1}  # -1: "system busy"
OPTIONS = {
    "key_env": "保存机器人 key 的环境变量名",
    "url": f"接口地址，默认 {DEFAULT_URL}",
    "url_env": "保存完整 webhook 地址（含 key）的环境变量名，代替 key_env",
    **TEMPLATE_KEYS,
    **MENTION_KEYS,
    "mentioned_mobiles": "同 mention_mobiles（旧名）：@ 手机号时整条消息以文本消息发送",
    **HTTP_OPTIONS,
}
_MARKS = re.compile(r"^#{1,6}\s+|^>\s?|\*\*|</?font[^>]*>", re.MULTILINE)


def clip_utf8(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - len("…".encode())].decode("utf-8", errors="ignore") + "…"


def plain_text(markdown: str) -> str:
    """The markdown's text without its marks (`###`, `**`, `>`, `<font>`), for a text message."""
    return _MARKS.sub("", markdown)


def wecom_body(
    events: Sequence[AlertEvent],
    message: Message | None = None,
    own: MessageTemplate | None = None,
    mentions: Mentions = NO_MENTIONS,
) -> tuple[dict[str, object], str]:
    """(body, note) of one message for one event or a group; the body is clipped to the
    robot's limit, never the footer of ids nor the mentions. `note`: the template fell back."""
    message = message or Message()
    mentions = mentions | message.mentions
    if mentions.mobiles:
        rendered = render(events, message, own, "markdown")
        tail = "\n\n" + footer(events)
        room = TEXT_MAX_BYTES - len(tail.encode("utf-8"))
        text: dict[str, object] = {
            "content": clip_utf8(plain_text(rendered.text), max(room, 0)) + tail,
            "mentioned_mobile_list": list(mentions.mobiles),
        }
        if mentions.users:
            text["mentioned_list"] = list(mentions.users)
        return {"msgtype": "text", "text": text}, rendered.note
    markup = " ".join(f"<@{u}>" for u in mentions.users)
    rendered = render(events, message, own, "markdown", mentions=markup)
    tail = "".join(
        f"\n\n{part}" for part in (markup if not rendered.mentions_placed else "", _font(events)) if part
    )
    room = MAX_BYTES - len(tail.encode("utf-8"))
    content = clip_utf8(rendered.text, max(room, 0)) + tail
    return {"msgtype": "markdown", "markdown": {"content": content}}, rendered.note


def _font(events: Sequence[AlertEvent]) -> str:
    return f'<font color="comment">{footer(events)}</font>'


class WecomSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.url, self.url_env = url_option(spec, DEFAULT_URL)
        self.key_env = spec.env_name("key_env")
        if not self.key_env and not self.url_env:
            raise spec.error("key_env", "需要 key_env（或 url_env）", "保存机器人 key 的环境变量名")
        prefix, file = spec.key_prefix, spec.config_file
        self.mentions = mentions_option(
            spec.options, prefix, file, mobile_keys=("mention_mobiles", "mentioned_mobiles")
        )
        self.template = template_option(spec.options, prefix, spec.base_dir, file)
        self.http = HttpDelivery(spec, rate_per_minute=20)

    def deliver(self, event: AlertEvent) -> None:
        self.deliver_message([event], Message())

    def deliver_group(self, events: list[AlertEvent]) -> None:
        """One message for the events of a group (routes' group_by)."""
        self.deliver_message(events, Message())

    def deliver_message(self, events: list[AlertEvent], message: Message) -> str:
        """One message for one event or a group, with the route's template and mentions;
        returns a note when the template fell back to the default."""
        body, note = wecom_body(events, message, self.template, self.mentions)
        self._post(body)
        return note

    def _post(self, body: dict[str, object]) -> None:
        if self.url_env:
            url = secret_from_env(self.url_env, "企业微信机器人地址")
            secrets: tuple[str, ...] = (url,)
        else:
            key = secret_from_env(self.key_env, "企业微信机器人 key")
            url = f"{self.url}{'&' if '?' in self.url else '?'}key={quote(key, safe='')}"
            secrets = (key,)
        self.http.post(url, body, robot_reply("errcode", RATE_LIMITED), secrets=secrets)


@hookimpl
def dashboard_sink_types() -> list[SinkType]:
    return [SinkType("wecom", WecomSink, "企业微信群机器人（markdown）", OPTIONS)]
