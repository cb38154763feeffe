"""The REST source: items from a JSON API over HTTP(S), with httpx (async).

The list of items sits at `items_path` in the JSON (e.g. `data.items`); each object
goes through the same parsing layer as a CSV row (`records_to_items`), so objects
keyed by the bulletin's column names (项目名称, 牵头单位, 完成比例, ...) load as they
are, and `fields` maps other JSON keys to item fields. Pagination by page/size
parameters or a next link; retries with backoff on connection errors, timeouts and
5xx (never on 4xx), and on 429 after the server's `Retry-After`; a cap on the response
size; TLS verification always on.

Credentials come only from environment variables (`token_env`, `headers_env`,
`params_env`): the config refuses credential-looking headers, parameters and URLs.
Redirects are followed by hand, only within the configured origin, so a header or
token never travels to another server; every error has its URLs redacted.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from dashboard import hookimpl, strict_json
from dashboard.contracts import FetchResult, SourceError, SourceSpec, SourceType, difflib_close
from dashboard.core.items import DataWarning
from dashboard.core.records import FIELDS, RowContext, records_to_items
from dashboard.redact import (
    env_name_problem,
    is_credential_name,
    is_loopback_host,
    looks_like_secret,
    redact_text,
    redact_url,
    url_credentials,
)
from dashboard.retry_after import retry_after_seconds

OPTIONS = {
    "url": "接口地址 http(s)://...",
    "method": "GET（默认）或 POST",
    "headers": '附加请求头，如 { Accept = "application/json" }（不要写密钥）',
    "headers_env": '从环境变量取值的请求头，如 { X-Api-Key = "MY_API_KEY" }',
    "params": "查询参数，如 { year = 2024 }（不要写密钥）",
    "params_env": '从环境变量取值的查询参数，如 { access_token = "MY_TOKEN" }',
    "body": "POST 时发送的 JSON 对象（可选）",
    "token_env": "存放 Bearer 令牌的环境变量名（令牌不写进配置）",
    "allow_insecure_http": "允许经明文 http:// 向非本机地址发送令牌，默认 false",
    "items_path": "JSON 中项目列表的位置，如 data.items；省略时响应本身应为列表",
    "fields": 'JSON 键 → 项目字段，如 { title = "name", dept = "unit" }；省略时按内置表头别名识别',
    "aliases": "表头别名，同 CSV 数据源",
    "pagination": '分页: { mode = "page", page_param = "page", size_param = "size", size = 100 }'
    ' 或 { mode = "next", next_path = "links.next" }',
    "retries": "连接失败、超时、5xx 时的重试次数，默认 2",
    "backoff": "首次重试前的等待，之后每次加倍，默认 0.5s",
    "max_bytes": "响应大小上限，默认 20MB",
    "verify": "TLS 校验: true（默认）或私有 CA 证书文件路径",
    "ratio_is_fraction": "JSON 数字形式的完成比例是小数（0.32）而非百分数（32），默认 false",
    "as_of": "数据截止日期 YYYY-MM-DD（可选）",
    "as_of_path": "JSON 中数据截止日期（YYYY-MM-DD）的位置，如 as_of（读另一看板的 /api/v1/items）；as_of 优先",
}
PAGINATION_KEYS = (
    "mode",
    "page_param",
    "size_param",
    "size",
    "start",
    "max_pages",
    "total_path",
    "next_path",
)
MAX_REDIRECTS = 5
RETRY_AFTER_CAP = 60.0  # longest Retry-After waited for within one fetch
MAX_INT_DIGITS = 300  # beyond float's range: not a figure, and int() of 4300+ digits raises
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    None: 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
}


if TYPE_CHECKING:
    import httpx


class _Retryable(Exception):
    """A failure worth another try: connection error, timeout, 5xx, 429."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(slots=True, frozen=True)
class Pagination:
    mode: str  # "none" | "page" | "next"
    page_param: str = "page"
    size_param: str = "size"
    size: int = 100
    start: int = 1
    max_pages: int = 1000
    total_path: str = ""
    next_path: str = "next"


class RestSource:
    def __init__(self, spec: SourceSpec) -> None:
        spec.check_options(OPTIONS)
        opts = spec.options
        self.name = spec.name
        url = opts.get("url")
        self.url = url if isinstance(url, str) else ""
        if not re.match(r"^https?://", self.url, re.IGNORECASE):
            raise spec.error(
                "url", f"不是 http(s) 地址: {redact_text(repr(url))}", "http://... 或 https://..."
            )
        found = url_credentials(self.url)
        if found:
            raise spec.error(
                "url",
                f"地址中含有凭据（{'、'.join(found)}）：令牌不要写进配置文件",
                'params_env = { access_token = "环境变量名" }，或 token_env',
            )
        method = opts.get("method", "GET")
        if not isinstance(method, str) or method.upper() not in ("GET", "POST"):
            raise spec.error("method", f"不支持的请求方法 {method!r}", "GET 或 POST")
        self.method = method.upper()
        self.headers = _str_table(spec, "headers")
        self.params: dict[str, Any] = _plain_params(spec)
        self.body: dict[str, Any] | None = _table(spec, "body") if "body" in opts else None
        self.headers_env = _env_table(spec, "headers_env")
        self.params_env = _env_table(spec, "params_env")
        self.token_env = ""
        if "token_env" in opts:
            self.token_env = _env_var(spec, "token_env", opts["token_env"])
        insecure = opts.get("allow_insecure_http", False)
        if not isinstance(insecure, bool):
            raise spec.error("allow_insecure_http", f"应为 true 或 false，实为 {insecure!r}", "true | false")
        parts = urlsplit(self.url)
        sends_secret = [k for k in ("token_env", "headers_env", "params_env") if opts.get(k)]
        plain = parts.scheme.lower() == "http" and not is_loopback_host(parts.hostname or "")
        if sends_secret and plain and not insecure:
            raise spec.error(
                sends_secret[0],
                f"令牌会经明文 http:// 发往 {parts.hostname}，可被窃听，已拒绝",
                "https:// 地址，或确需时设 allow_insecure_http = true",
            )
        self.items_path = opts.get("items_path", "")
        if not isinstance(self.items_path, str):
            raise spec.error("items_path", f"应为字符串，实为 {self.items_path!r}", "如 data.items")
        self.aliases = _field_aliases(spec, spec.aliases())
        self.pagination = _pagination(spec)
        self.retries = _int(spec, "retries", 2, minimum=0)
        from dashboard.config import parse_as_of, parse_duration

        backoff = parse_duration(opts.get("backoff", "0.5s"))
        if backoff is None or backoff < 0:
            raise spec.error("backoff", f"无法识别的时间间隔 {opts.get('backoff')!r}", "如 0.5s、2s")
        self.backoff = backoff
        self.max_bytes = _size(spec, opts.get("max_bytes", "20MB"))
        self.verify = _verify(spec)
        self.ratio_is_fraction = opts.get("ratio_is_fraction", False)
        if not isinstance(self.ratio_is_fraction, bool):
            raise spec.error(
                "ratio_is_fraction", f"应为 true 或 false，实为 {self.ratio_is_fraction!r}", "true | false"
            )
        self.as_of = parse_as_of(opts.get("as_of"), f"{spec.key_prefix}.as_of", spec.config_file)
        self.as_of_path = opts.get("as_of_path", "")
        if not isinstance(self.as_of_path, str):
            raise spec.error("as_of_path", f"应为字符串，实为 {self.as_of_path!r}", "如 as_of")
        self._data_as_of: date | None = None  # found at `as_of_path` by the running fetch
        self.timeout = spec.timeout  # per request, start to last byte
        per_page = self.timeout * (self.retries + 1) + self.backoff * (2**self.retries)
        pages = 1 if self.pagination.mode == "none" else self.pagination.max_pages
        # The runtime's own limit on a whole fetch: generous, so that our messages,
        # which name the URL, are the ones a user sees.
        self.fetch_timeout = min(per_page * pages, 3600.0) + 1.0
        self.request_params: dict[str, Any] = dict(self.params)  # with params_env, per fetch
        self._deadline = 0.0  # monotonic end of the running fetch's budget

    async def fetch(self) -> FetchResult:
        """Every error it raises has its URLs redacted (it reaches the screen, the store
        and, inside `source_stale`, every robot)."""
        try:
            return await self._fetch()
        except SourceError as exc:
            raise SourceError(redact_text(str(exc))) from None
        except RecursionError:
            raise SourceError(f"{redact_url(self.url)}: 响应 JSON 嵌套过深，无法处理") from None

    async def _fetch(self) -> FetchResult:
        self._deadline = time.monotonic() + self.fetch_timeout - 1.0
        headers = {"User-Agent": "zhuanban-dashboard", "Accept": "application/json", **self.headers}
        for header, var in self.headers_env.items():
            headers[header] = _env_value(self.url, var)
        if self.token_env:
            headers["Authorization"] = f"Bearer {_env_value(self.url, self.token_env)}"
        self.request_params = {
            **self.params,
            **{k: _env_value(self.url, v) for k, v in self.params_env.items()},
        }
        warnings: list[DataWarning] = []
        import httpx  # here, not at the top: every plugin is imported at start-up, few use HTTP

        # Redirects by hand (see _send): httpx would carry our headers to any host.
        self._data_as_of = None
        async with httpx.AsyncClient(
            verify=self.verify, follow_redirects=False, timeout=self.timeout, headers=headers
        ) as client:
            records = await self._all_pages(client, warnings)
        as_of = self.as_of or self._data_as_of
        ctx = RowContext(
            source=self.name,
            location=redact_url(self.url),
            as_of=as_of,
            numeric_ratio_is_fraction=self.ratio_is_fraction,
        )
        try:
            items, row_warnings = records_to_items(records, self.aliases, ctx) if records else ([], [])
        except ValueError as exc:
            raise SourceError(f"{self.url}: {exc}") from None
        return FetchResult(items, warnings + row_warnings, as_of)

    # -- pages ------------------------------------------------------------------------
    async def _all_pages(
        self, client: httpx.AsyncClient, warnings: list[DataWarning]
    ) -> list[dict[str, Any]]:
        p = self.pagination
        if p.mode == "none":
            url, data = await self._get_json(client, self.url, self.request_params, warnings)
            return self._records(url, data)
        records: list[dict[str, Any]] = []
        if p.mode == "page":
            for n in range(p.max_pages):
                params = {**self.request_params, p.page_param: p.start + n, p.size_param: p.size}
                url, data = await self._get_json(client, self.url, params, warnings)
                batch = self._records(url, data)
                records += batch
                total = _at_path(data, p.total_path) if p.total_path else None
                if len(batch) < p.size or (isinstance(total, int) and len(records) >= total):
                    return records
        else:
            next_url: str | None = self.url
            params: Mapping[str, Any] | None = self.request_params
            seen: set[str] = set()
            for _ in range(p.max_pages):
                assert next_url is not None
                url, data = await self._get_json(client, next_url, params, warnings)
                seen.add(url)
                records += self._records(url, data)
                link = _at_path(data, p.next_path)
                if not link or not isinstance(link, str):
                    return records
                next_url, params = urljoin(url, link), None  # a next link carries its own query
                if _origin(next_url) != _origin(self.url):
                    # The bearer token must not travel to another server.
                    raise SourceError(f"{url}: 下一页链接指向其他服务器 {next_url}，已停止")
                if redact_url(next_url) in seen:
                    raise SourceError(f"{url}: 下一页链接回到了已读过的页 {next_url}")
        warnings.append(
            DataWarning(
                self.name,
                f"已读取 {p.max_pages} 页（pagination.max_pages 上限），其余页未载入",
                redact_url(self.url),
            )
        )
        return records

    def _records(self, url: str, data: Any) -> list[dict[str, Any]]:
        if self.as_of_path and self._data_as_of is None:
            self._data_as_of = _date_at(url, data, self.as_of_path)
        found = _at_path(data, self.items_path) if self.items_path else data
        if found is None:
            keys = "、".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
            raise SourceError(f"{url}: JSON 中没有 items_path「{self.items_path}」（顶层有: {keys}）")
        if not isinstance(found, list):
            where = f"items_path「{self.items_path}」" if self.items_path else "响应顶层"
            raise SourceError(f"{url}: {where} 应为列表，实为 {type(found).__name__}（可设置 items_path）")
        records = []
        for index, entry in enumerate(found):
            if not isinstance(entry, dict):
                raise SourceError(f"{url}: 第 {index + 1} 项应为 JSON 对象，实为 {type(entry).__name__}")
            records.append(_flatten(entry))
        return records

    # -- one request, with retries ------------------------------------------------------
    async def _get_json(
        self,
        client: httpx.AsyncClient,
        url: str,
        params: Mapping[str, Any] | None,
        warnings: list[DataWarning],
    ) -> tuple[str, Any]:
        """(the URL as requested, redacted; the parsed JSON)."""
        request = client.build_request(self.method, url, params=params, json=self.body)
        shown = redact_url(str(request.url))
        last = ""
        wait: float | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1) if wait is None else wait)
            try:
                body, charset = await asyncio.wait_for(self._send(client, request), self.timeout)
            except _Retryable as exc:
                last, wait = str(exc), exc.retry_after
                if wait is not None and attempt < self.retries:
                    self._check_wait(last, wait)
                continue
            except asyncio.TimeoutError:
                last, wait = f"{shown}: 超时（{self.timeout:g} 秒内未收完响应）", None
                continue
            try:
                text = body.decode(charset) if charset else body
            except (ValueError, LookupError) as exc:
                raise SourceError(f"{shown}: 响应不是合法的 JSON: {exc}") from None
            return shown, self._loads(shown, text, warnings)
        tried = f"（共尝试 {self.retries + 1} 次）" if self.retries else ""
        later = f"，服务器要求 {wait:g} 秒后再试" if wait is not None else ""
        raise SourceError(last + later + tried)

    def _check_wait(self, error: str, wait: float) -> None:
        """A Retry-After is waited for only up to the cap and within this fetch's budget
        (leaving room for the request itself); beyond that the fetch fails saying when."""
        room = min(RETRY_AFTER_CAP, self._deadline - time.monotonic() - self.timeout)
        if wait <= room:
            return
        when = (datetime.now() + timedelta(seconds=wait)).strftime("%H:%M:%S")
        raise SourceError(
            f"{error}，服务器要求 {wait:g} 秒后再试（{when} 以后），超过本次可等待的 {max(room, 0):.0f} 秒，"
            "已放弃，下次刷新时再试"
        )

    def _loads(self, shown: str, text: str | bytes, warnings: list[DataWarning]) -> Any:
        """Strict numbers: NaN / Infinity / 1e999 and integers beyond float's range become
        null with one warning (json.loads would take NaN as a number)."""
        bad: list[str] = []

        def constant(name: str) -> None:
            bad.append(name)

        def integer(digits: str) -> int | None:
            if len(digits.lstrip("-")) > MAX_INT_DIGITS:
                bad.append(f"{len(digits)} 位整数")
                return None
            return int(digits)

        def number(literal: str) -> float | None:
            value = float(literal)
            if math.isfinite(value):
                return value
            bad.append(literal[:20])
            return None

        try:
            data = json.loads(text, parse_constant=constant, parse_int=integer, parse_float=number)
        except RecursionError:
            raise SourceError(f"{shown}: 响应 JSON 嵌套过深，无法解析") from None
        except (ValueError, LookupError) as exc:
            raise SourceError(f"{shown}: 响应不是合法的 JSON: {exc}") from None
        if bad:
            examples = "、".join(dict.fromkeys(bad[:5]))
            warnings.append(
                DataWarning(
                    self.name,
                    f"响应 JSON 中有 {len(bad)} 个非有限或超大的数值（{examples}），已按空值处理",
                    shown,
                )
            )
        return data

    async def _send(self, client: httpx.AsyncClient, request: httpx.Request) -> tuple[bytes, str | None]:
        import httpx

        shown = redact_url(str(request.url))
        try:
            response = await self._follow(client, request, shown)
        except httpx.TimeoutException:
            raise _Retryable(f"{shown}: 超时（{self.timeout:g} 秒）") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise SourceError(
                    f'{shown}: TLS 证书校验失败（私有 CA 请用 verify = "CA 文件"）: {exc}'
                ) from None
            raise _Retryable(f"{shown}: 连接失败: {exc or type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"{shown}: 请求失败: {exc or type(exc).__name__}") from None
        try:
            status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            if response.status_code == 429 or response.status_code >= 500:
                raise _Retryable(
                    f"{shown}: {status}", retry_after_seconds(response.headers.get("retry-after"))
                )
            if response.status_code >= 400:
                hint = "（令牌无效或无权限？）" if response.status_code in (401, 403) else ""
                raise SourceError(f"{shown}: {status}{hint}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise SourceError(f"{shown}: 响应 {declared} 字节，超过上限 max_bytes = {self.max_bytes}")
            body = bytearray()
            try:
                async for chunk in response.aiter_bytes():  # decompressed: the cap holds for gzip too
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise SourceError(f"{shown}: 响应超过上限 max_bytes = {self.max_bytes} 字节，已中止")
            except httpx.TimeoutException:
                raise _Retryable(f"{shown}: 读取响应超时（{self.timeout:g} 秒）") from None
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise _Retryable(f"{shown}: 读取响应时连接中断: {exc}") from None
            except httpx.DecodingError as exc:
                raise SourceError(f"{shown}: 无法解压响应: {exc}") from None
            return bytes(body), response.charset_encoding
        finally:
            await response.aclose()

    async def _follow(self, client: httpx.AsyncClient, request: httpx.Request, shown: str) -> httpx.Response:
        """Send, following at most MAX_REDIRECTS redirects within the request's origin; a
        redirect to another host, scheme or port is refused before anything is sent there."""
        for _ in range(MAX_REDIRECTS + 1):
            response = await client.send(request, stream=True)
            if not response.is_redirect:
                return response
            await response.aclose()
            target = request.url.join(response.headers["location"])
            if _origin(str(target)) != _origin(str(request.url)):
                raise SourceError(
                    f"{shown}: 重定向到其他服务器 {redact_url(str(target))}（原服务器 {_host(request.url)}），"
                    "已拒绝，未向其发送请求头与令牌；如接口已迁移，请改 url"
                )
            # 307/308 repeat the request as it was; 301/302/303 become a GET (as browsers do).
            keep = response.status_code in (307, 308)
            method = request.method if keep else "GET"
            request = client.build_request(method, target, json=self.body if keep else None)
        raise SourceError(f"{shown}: 重定向超过 {MAX_REDIRECTS} 次，已停止")


# -- options ------------------------------------------------------------------------------
def _table(spec: SourceSpec, key: str) -> dict[str, Any]:
    value = spec.options.get(key, {})
    if not isinstance(value, dict):
        raise spec.error(key, f"应为表，实为 {type(value).__name__}", f"{key} = {{ ... }}")
    return value


def _str_table(spec: SourceSpec, key: str) -> dict[str, str]:
    table = _table(spec, key)
    for k, v in table.items():
        if not isinstance(v, str):
            raise spec.error(f"{key}.{k}", f"应为字符串，实为 {type(v).__name__}", "字符串")
        _refuse_secret(spec, key, k, v)
    return dict(table)


def _plain_params(spec: SourceSpec) -> dict[str, Any]:
    table = _table(spec, "params")
    for k, v in table.items():
        if isinstance(v, (dict, list)):
            raise spec.error(f"params.{k}", f"应为字符串或数字，实为 {type(v).__name__}", "字符串或数字")
        _refuse_secret(spec, "params", k, str(v))
    return dict(table)


def _refuse_secret(spec: SourceSpec, key: str, name: str, value: str) -> None:
    """A credential in the config would sit in backups and screenshots: point to `*_env`."""
    if is_credential_name(name) or looks_like_secret(value):
        if key == "headers" and name.lower() == "authorization":
            expected = 'token_env = "环境变量名"'
        else:
            expected = f'{key}_env = {{ {name} = "环境变量名" }}'
        raise spec.error(f"{key}.{name}", "看起来是令牌或密钥（值未显示）：不要写进配置文件", expected)


def _env_var(spec: SourceSpec, key: str, value: object) -> str:
    """An environment variable's name, set now; a pasted secret is never echoed."""
    problem = env_name_problem(value, os.environ)
    if problem:
        raise spec.error(key, problem, "如 MSSS_TOKEN")
    assert isinstance(value, str)
    if not os.environ.get(value):
        raise spec.error(key, f"环境变量 {value} 未设置或为空", f"export {value}=...")
    return value


def _env_table(spec: SourceSpec, key: str) -> dict[str, str]:
    """`headers_env` / `params_env`: name → environment variable holding its value."""
    return {name: _env_var(spec, f"{key}.{name}", var) for name, var in _table(spec, key).items()}


def _env_value(url: str, var: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise SourceError(f"{redact_url(url)}: 环境变量 {var} 未设置，无法取得令牌")
    return value


def _int(spec: SourceSpec, key: str, default: int, minimum: int) -> int:
    value = spec.options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise spec.error(key, f"应为不小于 {minimum} 的整数，实为 {value!r}", "整数")
    return value


def _size(spec: SourceSpec, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    m = _SIZE_RE.match(str(value))
    if not m or float(m.group(1)) <= 0:
        raise spec.error("max_bytes", f"无法识别的大小 {value!r}", "字节数，或如 20MB、500KB")
    return int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").lower() or None])


def _verify(spec: SourceSpec) -> ssl.SSLContext | bool:
    value = spec.options.get("verify", True)
    if value is True:
        return True
    if isinstance(value, str) and value:
        ca = spec.path("verify")
        if not ca.is_file():
            raise spec.error("verify", f"找不到 CA 证书文件 {ca}", "PEM 格式的 CA 证书文件路径")
        try:
            return ssl.create_default_context(cafile=str(ca))
        except (ssl.SSLError, OSError) as exc:
            raise spec.error("verify", f"无法读取 CA 证书 {ca}: {exc}", "PEM 格式的 CA 证书文件") from None
    # Turning verification off is deliberately not offered: use a private CA file.
    raise spec.error("verify", f"不支持的值 {value!r}", "true 或 CA 证书文件路径")


def _pagination(spec: SourceSpec) -> Pagination:
    table = _table(spec, "pagination")
    if not table:
        return Pagination("none")
    for key in table:
        if key not in PAGINATION_KEYS:
            raise spec.error(
                f"pagination.{key}",
                f"未知的键{difflib_close(key, PAGINATION_KEYS)}",
                "、".join(PAGINATION_KEYS),
            )
    mode = table.get("mode", "page")
    if mode not in ("page", "next"):
        raise spec.error("pagination.mode", f"未知的分页方式 {mode!r}", "page 或 next")
    kwargs: dict[str, Any] = {"mode": mode}
    for key in ("page_param", "size_param", "total_path", "next_path"):
        if key in table:
            if not isinstance(table[key], str) or not table[key]:
                raise spec.error(f"pagination.{key}", "应为非空字符串", "字符串")
            kwargs[key] = table[key]
    for key, minimum in (("size", 1), ("start", 0), ("max_pages", 1)):
        if key in table:
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise spec.error(f"pagination.{key}", f"应为不小于 {minimum} 的整数，实为 {value!r}", "整数")
            kwargs[key] = value
    return Pagination(**kwargs)


def _field_aliases(spec: SourceSpec, aliases: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """`fields` (JSON key → item field; nested keys dotted) on top of the header aliases.
    A mapped JSON key belongs to its field only, so no other field's alias can claim it first."""
    # TOML reads an unquoted `figures.rate = "ratio"` as a nested table: same meaning.
    fields = _flatten(_table(spec, "fields"))
    for json_key, field_name in fields.items():
        if not isinstance(field_name, str) or field_name not in FIELDS:
            raise spec.error(
                f"fields.{json_key}",
                f"未知的项目字段 {field_name!r}{difflib_close(str(field_name), FIELDS)}",
                "、".join(FIELDS),
            )
    if not fields:
        return aliases
    mapped = set(fields)
    out = {f: tuple(a for a in names if a not in mapped) for f, names in aliases.items()}
    for json_key, field_name in fields.items():
        out[field_name] = (json_key, *out[field_name])
    return out


def _origin(url: str) -> tuple[str, str, int | None]:
    import httpx

    u = httpx.URL(url)
    default = {"http": 80, "https": 443}.get(u.scheme)
    return u.scheme, u.host, u.port or default


def _host(url: httpx.URL) -> str:
    return f"{url.host}:{url.port}" if url.port else url.host


# -- JSON helpers ---------------------------------------------------------------------------
def _at_path(data: Any, path: str) -> Any:
    """`data.items` → data["data"]["items"]; a number in the path indexes a list."""
    for part in path.split(".") if path else []:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _date_at(url: str, data: Any, path: str) -> date:
    """The as-of date at `path` (YYYY-MM-DD); a missing or malformed one fails the fetch,
    since the expected progress, and so every status, would silently move to today."""
    value = _at_path(data, path)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise SourceError(f"{url}: as_of_path「{path}」处应为日期 YYYY-MM-DD，实为 {str(value)[:40]!r}")


def _flatten(entry: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys (`progress.ratio`); lists stay as JSON text."""
    flat: dict[str, Any] = {}
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = strict_json.dumps(value, ensure_ascii=False)
        else:
            flat[name] = value
    return flat


@hookimpl
def dashboard_source_types() -> list[SourceType]:
    return [SourceType("rest", RestSource, "REST/JSON 接口（省平台等）", OPTIONS)]
