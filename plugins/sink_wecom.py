"""企业微信 group robot (design §5): POST a markdown message to the robot's webhook;
its `key` is the secret, read from the environment variable `key_env` (or the whole
URL from `url_env`). Content at most 4096 bytes; at most 20 messages a minute;
`errcode` 0 means delivered, 45009 is "too fast" (retried), others are permanent."""

from __future__ import annotations

from urllib.parse import quote

from dashboard_plugins.sink_webhook import HTTP_OPTIONS, HttpDelivery, group_markdown, robot_reply, url_option

from dashboard import hookimpl
from dashboard.core.alert_rules import rule_label
from dashboard.core.alerts import AlertEvent, event_markdown
from dashboard.sinks import SinkSpec, SinkType, secret_from_env

DEFAULT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
MAX_BYTES = 4096
RATE_LIMITED = {45009, -1}  # -1: "system busy"
OPTIONS = {
    "key_env": "保存机器人 key 的环境变量名",
    "url": f"接口地址，默认 {DEFAULT_URL}",
    "url_env": "保存完整 webhook 地址（含 key）的环境变量名，代替 key_env",
    "mentioned_mobiles": "要 @ 的手机号列表（仅文本消息支持，markdown 中写入正文）",
    **HTTP_OPTIONS,
}


def clip_utf8(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut on a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - len("…".encode())].decode("utf-8", errors="ignore") + "…"


def wecom_body(event: AlertEvent, mobiles: list[str] | None = None) -> dict[str, object]:
    text = event_markdown(event, rule_label(event.rule), footer_tag="font")
    if mobiles:
        text += "\n\n" + " ".join(f"<@{m}>" for m in mobiles)
    return {"msgtype": "markdown", "markdown": {"content": clip_utf8(text, MAX_BYTES)}}


def wecom_group_body(events: list[AlertEvent], mobiles: list[str] | None = None) -> dict[str, object]:
    """One markdown message for a group; the items are clipped, never the footer of ids."""
    text, footer = group_markdown(events, footer_tag="font")
    if mobiles:
        footer += "\n\n" + " ".join(f"<@{m}>" for m in mobiles)
    room = MAX_BYTES - len(("\n\n" + footer).encode("utf-8"))
    return {"msgtype": "markdown", "markdown": {"content": f"{clip_utf8(text, max(room, 0))}\n\n{footer}"}}


class WecomSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.url, self.url_env = url_option(spec, DEFAULT_URL)
        self.key_env = spec.env_name("key_env")
        if not self.key_env and not self.url_env:
            raise spec.error("key_env", "需要 key_env（或 url_env）", "保存机器人 key 的环境变量名")
        mobiles = spec.options.get("mentioned_mobiles", [])
        if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
            raise spec.error("mentioned_mobiles", "应为字符串列表", '["13800000000"]')
        self.mobiles = mobiles
        self.http = HttpDelivery(spec, rate_per_minute=20)

    def deliver(self, event: AlertEvent) -> None:
        self._post(wecom_body(event, self.mobiles))

    def deliver_group(self, events: list[AlertEvent]) -> None:
        """One message for the events of a group (routes' group_by)."""
        self._post(wecom_group_body(events, self.mobiles))

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
