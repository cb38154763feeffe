"""The generic JSON webhook sink, and the HTTP delivery the chat robots build on
(`HttpDelivery`): retry with backoff on connection errors, timeouts, HTTP 429 and
5xx; other 4xx are permanent; a client-side rate limit keeps a robot's quota. A
robot is a webhook with its own body, signing and reply check (design §5).

Secrets (tokens, robot keys, signing secrets) come only from environment variables
named by `*_env` options, are read at delivery time, and never appear in errors: a
literal `url` holding a key (`?access_token=`, `?key=`, `/hook/<token>`, `user:pass@`)
is refused, and every error is masked and has its URLs redacted.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from dashboard import hookimpl
from dashboard.core.alert_rules import rule_label
from dashboard.core.alerts import AlertEvent
from dashboard.redact import is_credential_name, looks_like_secret, redact_text, url_credentials
from dashboard.retry_after import retry_after_seconds
from dashboard.sink_quota import RATE_HOLD, QuotaWait, StoreQuota
from dashboard.sinks import DeliveryError, SinkSpec, SinkType, secret_from_env
from dashboard.templates import (
    TEMPLATE_KEYS,
    Message,
    MessageTemplate,
    footer,
    message_title,
    render,
    template_option,
)

if TYPE_CHECKING:
    import httpx

HTTP_OPTIONS = {
    "timeout": "单次请求超时，默认 10s",
    "retries": "连接失败、超时、429、5xx、限流时的重试次数，默认 2",
    "backoff": "第一次重试前等待的时间，之后每次加倍，默认 1s",
    "rate_per_minute": "每分钟最多发送多少条（机器人默认 20，0 为不限）",
}
OPTIONS = {
    "url": "接收地址（不含密钥时可直接写）",
    "url_env": "保存完整接收地址的环境变量名（地址含密钥时用）",
    "token_env": "保存令牌的环境变量名，以 Authorization: Bearer 发送",
    "headers": '附加的请求头，如 { X-Team = "zhuanban" }（不要写密钥）',
    **TEMPLATE_KEYS,
    **HTTP_OPTIONS,
}
MAX_BACKOFF = 30.0

# A reply check: raises DeliveryError for a reply that means "not delivered".
ReplyCheck = Callable[["httpx.Response"], None]


def url_option(spec: SinkSpec, default: str = "") -> tuple[str, str]:
    """(url, url_env): exactly one of a literal `url` and `url_env` (a default URL
    counts as given)."""
    url, url_env = spec.string("url", default), spec.env_name("url_env")
    if not url and not url_env:
        raise spec.error("url", "需要 url 或 url_env", "http(s) 地址，或保存地址的环境变量名")
    if url and not url.startswith(("http://", "https://")):
        raise spec.error("url", f"不是 http(s) 地址: {redact_text(repr(url))}", "http(s)://...")
    found = url_credentials(url, paths=True)
    if found:
        env_keys = [k for k in spec.options if k.endswith("_env") or k == "url_env"]
        hint = "、".join(sorted({"url_env", *env_keys}))
        raise spec.error(
            "url",
            f"地址中含有密钥（{'、'.join(found)}）：不要写进配置文件",
            f"把完整地址放进环境变量，用 {hint} 写变量名",
        )
    return url, url_env


class RobotError(DeliveryError):
    pass


def robot_reply(code_field: str, rate_limited: set[int], ok: int = 0, *, alt_field: str = "") -> ReplyCheck:
    """A check for robots that answer HTTP 200 with `{"<code_field>": 0}`: rate-limit
    codes are retried, any other non-zero code is permanent (signing, key, keyword)."""

    def check(resp: httpx.Response) -> None:
        try:
            body = resp.json()
        except ValueError:
            raise DeliveryError(f"回复不是 JSON（HTTP {resp.status_code}）", permanent=True) from None
        code = (
            body.get(code_field, body.get(alt_field) if alt_field else None)
            if isinstance(body, dict)
            else None
        )
        if code is None:
            raise DeliveryError(f"回复中没有 {code_field}", permanent=True)
        if code == ok:
            return
        message = str(body.get("errmsg") or body.get("msg") or body.get("StatusMessage") or "")[:200]
        permanent = code not in rate_limited
        what = "限流" if not permanent else "错误"
        raise RobotError(f"机器人返回{what} {code_field}={code} {message}".strip(), permanent=permanent)

    return check


class HttpDelivery:
    """POST JSON with retries and a rate limit; the secrets it is given are masked
    in every error message."""

    def __init__(self, spec: SinkSpec, *, rate_per_minute: float = 0) -> None:
        self.timeout = spec.duration("timeout", "10s")
        retries = spec.options.get("retries", 2)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise spec.error("retries", f"应为 0 到 10 的整数，实为 {retries!r}", "整数，如 2")
        self.retries = retries
        self.backoff = spec.duration("backoff", "1s")
        self.rate = spec.number("rate_per_minute", rate_per_minute)
        if not 0 <= self.rate < float("inf"):
            raise spec.error("rate_per_minute", f"应为不小于 0 的数，实为 {self.rate!r}", "如 20，0 为不限")
        if self.timeout < 0.1:
            raise spec.error("timeout", f"{spec.options.get('timeout')!r} 太短", "不小于 0.1 秒（如 10s）")
        self.sent: deque[float] = deque()
        self.sleep: Callable[[float], None] = time.sleep
        # The store's quota, shared by every process (bound by the alert engine before
        # each pass); None: this process counts alone, as a sink used outside the engine.
        self.quota: StoreQuota | None = None

    def use_quota(self, quota: StoreQuota) -> None:
        self.quota = quota

    def _take_quota(self) -> None:
        if self.quota is not None and self.quota.take(self.rate):
            return  # a QuotaWait from take() leaves the event queued, not failed
        if self.rate <= 0:
            return
        now = time.monotonic()
        while self.sent and now - self.sent[0] >= 60:
            self.sent.popleft()
        if len(self.sent) >= self.rate:
            # Wait for the next cycle rather than blocking: the event stays queued.
            raise DeliveryError(f"已达每分钟 {self.rate:g} 条的发送上限，稍后继续")
        self.sent.append(now)

    def post(
        self,
        url: str,
        body: Mapping[str, Any],
        check: ReplyCheck | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        try:
            self._post(url, body, check, headers=headers, secrets=secrets)
        except QuotaWait:
            raise  # holds no secret; its type tells the engine it is a wait
        except DeliveryError as exc:
            # The message reaches the outbox, the alerts screen and `dashboard alerts`.
            clean = redact_text(_mask(str(exc), secrets))
            if clean == str(exc):
                raise
            raise DeliveryError(clean, permanent=exc.permanent) from None

    def _post(
        self,
        url: str,
        body: Mapping[str, Any],
        check: ReplyCheck | None,
        *,
        headers: Mapping[str, str] | None,
        secrets: tuple[str, ...],
    ) -> None:
        self._take_quota()
        error = DeliveryError("未发送")
        limited = ""  # why the server said "too fast" on the last attempt, if it did
        for attempt in range(self.retries + 1):
            if attempt:
                delay = min(MAX_BACKOFF, self.backoff * 2 ** (attempt - 1))
                retry_after = getattr(error, "retry_after", None)
                self.sleep(max(delay, min(MAX_BACKOFF, retry_after or 0)))
            limited = ""
            import httpx  # here, not at the top: every plugin is imported at start-up

            try:
                resp = httpx.post(url, json=dict(body), headers=dict(headers or {}), timeout=self.timeout)
            except httpx.TimeoutException:
                error = DeliveryError(f"超时：{self.timeout:g} 秒内没有回复")
                continue
            except httpx.HTTPError as exc:
                error = DeliveryError(_mask(f"连接失败: {type(exc).__name__}: {exc}", secrets))
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                error = DeliveryError(f"HTTP {resp.status_code}，稍后重试")
                retry_after = _retry_after(resp)
                error.retry_after = retry_after  # type: ignore[attr-defined]
                if resp.status_code == 429:
                    limited = "HTTP 429" + (f"（Retry-After {retry_after:g} 秒）" if retry_after else "")
                    if self.quota is not None and (retry_after or 0) > MAX_BACKOFF:
                        # Longer than a run should sleep: every process waits, from the store.
                        raise self.quota.hold(retry_after or 0, limited)
                continue
            if not 200 <= resp.status_code < 300:
                raise DeliveryError(f"HTTP {resp.status_code}：地址或参数有误", permanent=True)
            if check is None:
                return
            try:
                check(resp)
            except DeliveryError as exc:
                if exc.permanent:
                    raise DeliveryError(_mask(str(exc), secrets), permanent=True) from None
                error = DeliveryError(_mask(str(exc), secrets))
                limited = redact_text(str(error)) if isinstance(exc, RobotError) else ""
                continue
            return
        if limited and self.quota is not None:
            # Still "too fast" after the retries: the next run waits as the server said.
            raise self.quota.hold(getattr(error, "retry_after", None) or RATE_HOLD, limited)
        raise error


def _retry_after(resp: httpx.Response) -> float | None:
    return retry_after_seconds(resp.headers.get("retry-after"))


def _mask(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


def event_body(event: AlertEvent, text: str | None = None) -> dict[str, Any]:
    """The generic webhook's JSON: the event, plus a Chinese title and markdown text
    (`text`: already rendered by a template; else the default template's)."""
    if text is None:
        text = f"{render([event], Message(), None, 'markdown').text}\n\n{footer([event])}"
    return {
        **event.to_dict(),
        "rule_label": rule_label(event.rule),
        "title": message_title([event]),
        "text": text,
    }


# A group's title, as the robots show it (kept under its old name for plugins importing it).
group_title = message_title


def group_body(events: list[AlertEvent], text: str | None = None) -> dict[str, Any]:
    """The generic webhook's JSON for a group: every event in full, their ids, a title and text."""
    if text is None:
        text = f"{render(events, Message(), None, 'markdown').text}\n\n{footer(events)}"
    return {
        "kind": "group",
        "ids": [e.id for e in events],
        "unit": events[0].unit,
        "count": len(events),
        "title": message_title(events),
        "text": text,
        "events": [event_body(e) for e in events],
    }


def webhook_body(
    events: list[AlertEvent], message: Message | None = None, own: MessageTemplate | None = None
) -> tuple[dict[str, Any], str]:
    """(body, note): one event's JSON or a group's, the text from the route's template (or
    the sink's, or the default) with the footer of ids; `mentions` only when a route names some."""
    message = message or Message()
    rendered = render(events, message, own, "markdown")
    text = f"{rendered.text}\n\n{footer(events)}"
    body = event_body(events[0], text) if len(events) == 1 else group_body(events, text)
    if message.mentions:
        body["mentions"] = {"mobiles": list(message.mentions.mobiles), "users": list(message.mentions.users)}
    return body, rendered.note


class WebhookSink:
    def __init__(self, spec: SinkSpec) -> None:
        spec.check_options(OPTIONS)
        self.url, self.url_env = url_option(spec)
        self.token_env = spec.env_name("token_env")
        headers = spec.options.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise spec.error("headers", '应为表，名 = "值"', '{ X-Team = "zhuanban" }')
        for name, value in headers.items():
            if is_credential_name(name) or looks_like_secret(value):
                raise spec.error(
                    f"headers.{name}",
                    "看起来是令牌或密钥（值未显示）：不要写进配置文件",
                    'token_env = "环境变量名"（以 Authorization: Bearer 发送），或把地址放进 url_env',
                )
        self.headers = {str(k): v for k, v in headers.items()}
        self.template = template_option(spec.options, spec.key_prefix, spec.base_dir, spec.config_file)
        self.http = HttpDelivery(spec)

    def deliver(self, event: AlertEvent) -> None:
        self.deliver_message([event], Message())

    def deliver_group(self, events: list[AlertEvent]) -> None:
        """One POST for the events of a group (routes' group_by), all or nothing."""
        self.deliver_message(events, Message())

    def deliver_message(self, events: list[AlertEvent], message: Message) -> str:
        """One POST with the route's template; a note when the template fell back."""
        body, note = webhook_body(events, message, self.template)
        self._post(body)
        return note

    def _post(self, body: dict[str, Any]) -> None:
        url = secret_from_env(self.url_env, "接收地址") if self.url_env else self.url
        headers = dict(self.headers)
        secrets: tuple[str, ...] = (url,) if self.url_env else ()
        if self.token_env:
            token = secret_from_env(self.token_env, "令牌")
            headers["Authorization"] = f"Bearer {token}"
            secrets += (token,)
        self.http.post(url, body, headers=headers, secrets=secrets)


@hookimpl
def dashboard_sink_types() -> list[SinkType]:
    return [SinkType("webhook", WebhookSink, "通用 JSON Webhook（POST 事件 JSON）", OPTIONS)]
