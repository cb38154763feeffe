"""Who may open `dashboard serve`: loopback detection, the access token and the check of
one request's credentials. No web framework here: `dashboard.serve` asks, this answers.

The token is read from an environment variable (`[serve] token_env` or `--token-env`),
never from the config file or the command line, and never printed. The browser shows
it once (`/?token=…`); from then on it holds a cookie derived from the token, so the
token itself is neither kept in the address bar nor in the cookie jar.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

COOKIE_NAME = "zhuanban_session"
TOKEN_HEADER = "X-Dashboard-Token"
DEFAULT_TOKEN_ENV = "DASHBOARD_SERVE_TOKEN"
# A token shorter than this is guessable over an office network in an afternoon.
MIN_TOKEN_LENGTH = 12


class Verdict(enum.Enum):
    OK = "ok"
    MISSING = "missing"  # no credentials at all: 401
    WRONG = "wrong"  # credentials that do not match: 403


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach: 127.0.0.0/8, ::1, `localhost`.
    `0.0.0.0`, `::`, a LAN address or any other name reaches the network."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


class TokenProblem(Exception):
    """Serving off loopback without a usable token: the message says what to set."""


def resolve_token(host: str, env_name: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The access token to require, or None when none is needed.

    Off loopback a token is required: from the variable `env_name` (the flag, else
    `[serve] token_env`), else DASHBOARD_SERVE_TOKEN. On loopback a token is required
    only when such a variable names one. Raises TokenProblem naming the variable,
    never its value."""
    env = os.environ if environ is None else environ
    name = env_name or DEFAULT_TOKEN_ENV
    value = env.get(name, "").strip()
    if not value:
        if is_loopback(host):
            return None
        raise TokenProblem(
            f"参数错误 usage error: --host {host} 不是本机地址，浏览器访问需要访问令牌 token required off loopback: "
            f"请设置环境变量 {name}（或用 --token-env NAME / [serve] token_env 指定变量名），"
            "或去掉 --host 只在本机访问"
        )
    if len(value) < MIN_TOKEN_LENGTH:
        raise TokenProblem(
            f"参数错误 usage error: 环境变量 {name} 中的访问令牌太短（少于 {MIN_TOKEN_LENGTH} 个字符）token too short"
        )
    return value


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """Checks one request's credentials against the token, in constant time."""

    token: str

    @property
    def cookie_value(self) -> str:
        """What the browser keeps after `?token=`: derived from the token, not the token."""
        return hmac.new(self.token.encode(), b"zhuanban-serve-cookie", hashlib.sha256).hexdigest()

    def check(
        self, *, query: str | None = None, cookie: str | None = None, header: str | None = None
    ) -> Verdict:
        """`query` is `?token=`, `header` the Authorization (`Bearer …`) or X-Dashboard-Token
        value, `cookie` the session cookie. Any one that matches admits the request."""
        given = False
        for value, expected in (
            (query, self.token),
            (_bearer(header), self.token),
            (cookie, self.cookie_value),
        ):
            if value is None or value == "":
                continue
            given = True
            if hmac.compare_digest(value.encode(), expected.encode()):
                return Verdict.OK
        return Verdict.WRONG if given else Verdict.MISSING


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest else header.strip()


def same_origin(origin: str | None, scheme: str, host: str) -> bool:
    """A websocket's Origin is the page's own (`http://host:port`). No Origin at all is a
    client that is not a browser (curl, a script): the token, not the origin, guards it."""
    if origin is None:
        return True
    return origin.strip().lower() == f"{scheme}://{host}".lower()
