"""The REST source: items from a JSON API over HTTP(S), with httpx (async).

The list of items sits at `items_path` in the JSON (e.g. `data.items`); each object
goes through the same parsing layer as a CSV row (`records_to_items`), so objects
keyed by the bulletin's column names (项目名称, 牵头单位, 完成比例, ...) load as they
are, and `fields` maps other JSON keys to item fields. Pagination by page/size
parameters or a next link; retries with backoff on connection errors, timeouts and
5xx (never on 4xx); a cap on the response size; TLS verification always on.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from dashboard import hookimpl
from dashboard.contracts import FetchResult, SourceError, SourceSpec, SourceType, difflib_close
from dashboard.core.items import DataWarning
from dashboard.core.records import FIELDS, RowContext, records_to_items

OPTIONS = {
    "url": "接口地址 http(s)://...",
    "method": "GET（默认）或 POST",
    "headers": '附加请求头，如 { Accept = "application/json" }',
    "params": "查询参数，如 { year = 2024 }",
    "body": "POST 时发送的 JSON 对象（可选）",
    "token_env": "存放 Bearer 令牌的环境变量名（令牌不写进配置）",
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
    """A failure worth another try: connection error, timeout, 5xx."""


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
        self.url = str(opts.get("url") or "")
        if not re.match(r"^https?://", self.url, re.IGNORECASE):
            raise spec.error("url", f"不是 http(s) 地址: {self.url!r}", "http://... 或 https://...")
        self.method = str(opts.get("method", "GET")).upper()
        if self.method not in ("GET", "POST"):
            raise spec.error("method", f"不支持的请求方法 {self.method}", "GET 或 POST")
        self.headers = _str_table(spec, "headers")
        self.params: dict[str, Any] = _table(spec, "params")
        self.body: dict[str, Any] | None = _table(spec, "body") if "body" in opts else None
        self.token_env = str(opts.get("token_env") or "")
        if "token_env" in opts:
            if not self.token_env:
                raise spec.error("token_env", "应为环境变量名", "如 MSSS_TOKEN")
            if not os.environ.get(self.token_env):
                raise spec.error(
                    "token_env", f"环境变量 {self.token_env} 未设置或为空", f"export {self.token_env}=..."
                )
        self.items_path = str(opts.get("items_path", ""))
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
        self.ratio_is_fraction = bool(opts.get("ratio_is_fraction", False))
        self.as_of = parse_as_of(opts.get("as_of"), f"{spec.key_prefix}.as_of", spec.config_file)
        self.timeout = spec.timeout  # per request, start to last byte
        per_page = self.timeout * (self.retries + 1) + self.backoff * (2**self.retries)
        pages = 1 if self.pagination.mode == "none" else self.pagination.max_pages
        # The runtime's own limit on a whole fetch: generous, so that our messages,
        # which name the URL, are the ones a user sees.
        self.fetch_timeout = min(per_page * pages, 3600.0) + 1.0

    async def fetch(self) -> FetchResult:
        headers = {"User-Agent": "zhuanban-dashboard", "Accept": "application/json", **self.headers}
        if self.token_env:
            token = os.environ.get(self.token_env)
            if not token:
                raise SourceError(f"{self.url}: 环境变量 {self.token_env} 未设置，无法取得令牌")
            headers["Authorization"] = f"Bearer {token}"
        warnings: list[DataWarning] = []
        import httpx  # here, not at the top: every plugin is imported at start-up, few use HTTP

        async with httpx.AsyncClient(
            verify=self.verify, follow_redirects=True, timeout=self.timeout, headers=headers
        ) as client:
            records = await self._all_pages(client, warnings)
        ctx = RowContext(
            source=self.name,
            location=self.url,
            as_of=self.as_of,
            numeric_ratio_is_fraction=self.ratio_is_fraction,
        )
        try:
            items, row_warnings = records_to_items(records, self.aliases, ctx) if records else ([], [])
        except ValueError as exc:
            raise SourceError(f"{self.url}: {exc}") from None
        return FetchResult(items, warnings + row_warnings, self.as_of)

    # -- pages ------------------------------------------------------------------------
    async def _all_pages(
        self, client: httpx.AsyncClient, warnings: list[DataWarning]
    ) -> list[dict[str, Any]]:
        p = self.pagination
        if p.mode == "none":
            url, data = await self._get_json(client, self.url, self.params)
            return self._records(url, data)
        records: list[dict[str, Any]] = []
        if p.mode == "page":
            for n in range(p.max_pages):
                params = {**self.params, p.page_param: p.start + n, p.size_param: p.size}
                url, data = await self._get_json(client, self.url, params)
                batch = self._records(url, data)
                records += batch
                total = _at_path(data, p.total_path) if p.total_path else None
                if len(batch) < p.size or (isinstance(total, int) and len(records) >= total):
                    return records
        else:
            next_url: str | None = self.url
            params: Mapping[str, Any] | None = self.params
            seen: set[str] = set()
            for _ in range(p.max_pages):
                assert next_url is not None
                url, data = await self._get_json(client, next_url, params)
                seen.add(url)
                records += self._records(url, data)
                link = _at_path(data, p.next_path)
                if not link or not isinstance(link, str):
                    return records
                next_url, params = urljoin(url, link), None  # a next link carries its own query
                if _origin(next_url) != _origin(self.url):
                    # The bearer token must not travel to another server.
                    raise SourceError(f"{url}: 下一页链接指向其他服务器 {next_url}，已停止")
                if next_url in seen:
                    raise SourceError(f"{url}: 下一页链接回到了已读过的页 {next_url}")
        warnings.append(
            DataWarning(
                self.name, f"已读取 {p.max_pages} 页（pagination.max_pages 上限），其余页未载入", self.url
            )
        )
        return records

    def _records(self, url: str, data: Any) -> list[dict[str, Any]]:
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
        self, client: httpx.AsyncClient, url: str, params: Mapping[str, Any] | None
    ) -> tuple[str, Any]:
        """(the URL as requested, the parsed JSON)."""
        request = client.build_request(self.method, url, params=params, json=self.body)
        shown = str(request.url)
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                body, charset = await asyncio.wait_for(self._send(client, request), self.timeout)
            except _Retryable as exc:
                last = str(exc)
                continue
            except asyncio.TimeoutError:
                last = f"{shown}: 超时（{self.timeout:g} 秒内未收完响应）"
                continue
            try:
                text = body.decode(charset) if charset else body
                return shown, json.loads(text)
            except (ValueError, LookupError) as exc:
                raise SourceError(f"{shown}: 响应不是合法的 JSON: {exc}") from None
        tried = f"（共尝试 {self.retries + 1} 次）" if self.retries else ""
        raise SourceError(last + tried)

    async def _send(self, client: httpx.AsyncClient, request: httpx.Request) -> tuple[bytes, str | None]:
        import httpx

        shown = str(request.url)
        try:
            response = await client.send(request, stream=True)
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
            if response.status_code >= 500:
                raise _Retryable(f"{shown}: {status}")
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
        if k.lower() == "authorization":
            raise spec.error(f"{key}.{k}", "令牌不要写进配置文件", 'token_env = "环境变量名"')
    return dict(table)


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
    return u.scheme, u.host, u.port


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


def _flatten(entry: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted keys (`progress.ratio`); lists stay as JSON text."""
    flat: dict[str, Any] = {}
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = json.dumps(value, ensure_ascii=False)
        else:
            flat[name] = value
    return flat


@hookimpl
def dashboard_source_types() -> list[SourceType]:
    return [SourceType("rest", RestSource, "REST/JSON 接口（省平台等）", OPTIONS)]
