"""Keep secrets out of the config, off the screen and out of the store (pure helpers, no I/O).

Two jobs: recognise what looks like a credential (a parameter or header name such as
`access_token` or `X-Api-Key`, a value such as `Bearer …` or a JWT, userinfo in a URL),
so that the config can refuse it and point to an `*_env` key; and redact URLs in any
text (errors, warnings, events) before it is shown, stored or pushed to a robot.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"

# Folded (lower case, `-` and `_` removed) names that carry a credential.
_EXACT = frozenset(
    {
        "key",
        "sign",
        "auth",
        "pwd",
        "passwd",
        "session",
        "sessionid",
        "cookie",
        "jwt",
        "appsecret",
        "accesskey",
        "privatekey",
    }
)
_SUFFIXES = (
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "signature",
    "authorization",
    "cookie",
    "credential",
    "credentials",
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_JWT = re.compile(r"^eyJ[A-Za-z0-9_-]{5,}(\.[A-Za-z0-9_-]*){1,2}$")
_SCHEME_VALUE = re.compile(r"^(bearer|basic|token|digest)\s+\S", re.IGNORECASE)
# A long run of letters and digits with no word breaks: a key, not a word.
_RANDOM = re.compile(r"^[A-Za-z0-9+/=_.~-]{20,}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Hook-style paths whose last segment is the robot's key.
_HOOK_HOSTS = ("feishu.cn", "larksuite.com", "hooks.slack.com", "discord.com", "office.com")
_URL_IN_TEXT = re.compile(r"""https?://[^\s"'<>`（）【】「」，。；、]+""", re.IGNORECASE)
_TRAILING = ".,:;!?)]}"
_PAIR_IN_TEXT = re.compile(r"(?<![A-Za-z0-9_-])([A-Za-z][A-Za-z0-9_-]{1,40})=([^&\s\"'<>，。；]+)")
_SCHEME_IN_TEXT = re.compile(r"\b(Bearer|Basic|Token|Digest)\s+[A-Za-z0-9._~+/=-]{4,}", re.IGNORECASE)


def fold(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "").strip()


def is_credential_name(name: str) -> bool:
    """`token`, `access_token`, `X-Api-Key`, `client_secret`, `Authorization`, … (case and
    `-`/`_` folded)."""
    folded = fold(name)
    return folded in _EXACT or folded.endswith(_SUFFIXES)


def looks_like_secret(value: str) -> bool:
    """A value that is a credential rather than a word: `Bearer …`, a JWT, a dingtalk
    `SEC…` secret, a UUID robot key, or a long random run of letters and digits."""
    text = value.strip()
    if _SCHEME_VALUE.match(text) or _JWT.match(text) or _UUID.match(text):
        return True
    if re.match(r"^SEC[0-9a-fA-F]{16,}$", text):
        return True
    if not _RANDOM.match(text):
        return False
    has_digit = any(c.isdigit() for c in text)
    has_alpha = any(c.isalpha() for c in text)
    # A random key mixes letters and digits and is not a dotted/underscored identifier.
    words = re.split(r"[._/~-]+", text)
    return has_digit and has_alpha and max(len(w) for w in words) >= 16


def is_env_name(value: str) -> bool:
    """Could `value` be the NAME of an environment variable (not a pasted secret)?"""
    return bool(_ENV_NAME.match(value)) and not looks_like_secret(value)


def url_credentials(url: str, *, paths: bool = False) -> list[str]:
    """What in `url` is a credential: `userinfo`, query names such as `access_token`, and
    (with `paths`) a path segment that is a key (a robot hook token, a UUID)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found: list[str] = []
    if "@" in parts.netloc:
        found.append("用户名:密码@")
    for pair in re.split(r"[&;]", parts.query):
        name = unquote(pair.split("=", 1)[0])
        if name and is_credential_name(name):
            found.append(f"?{name}=")
    if paths and _secret_path_segments(parts.hostname or "", parts.path):
        found.append("地址路径中的密钥")
    return found


def _secret_path_segments(host: str, path: str) -> set[int]:
    segments = path.split("/")
    secret = {i for i, s in enumerate(segments) if s and looks_like_secret(unquote(s))}
    if host.endswith(_HOOK_HOSTS):
        # `/hook/<token>`: whatever follows `hook` is the key, short or long.
        secret |= {i + 1 for i, s in enumerate(segments[:-1]) if s == "hook" and segments[i + 1]}
    return secret


def redact_url(url: str) -> str:
    """`url` with userinfo, credential query values and key-like path segments replaced
    by `***`; everything else as written, so the user still recognises the address."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_pairs(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    pairs = []
    for pair in re.split(r"([&;])", parts.query):
        name, eq, _ = pair.partition("=")
        if eq and (is_credential_name(unquote(name)) or looks_like_secret(unquote(_))):
            pair = f"{name}={MASK}"
        pairs.append(pair)
    segments = parts.path.split("/")
    for i in _secret_path_segments(parts.hostname or "", parts.path):
        segments[i] = MASK
    return urlunsplit((parts.scheme, netloc, "/".join(segments), "".join(pairs), parts.fragment))


def redact_pairs(text: str) -> str:
    """`token=abc` → `token=***` and `Bearer abc` → `Bearer ***` anywhere in `text`."""
    text = _SCHEME_IN_TEXT.sub(lambda m: f"{m.group(1)} {MASK}", text)

    def one(m: re.Match[str]) -> str:
        if not is_credential_name(m.group(1)):
            return m.group(0)
        value = m.group(2)
        return f"{m.group(1)}={MASK}{value[len(value.rstrip(_TRAILING)) :]}"

    return _PAIR_IN_TEXT.sub(one, text)


def redact_text(text: str) -> str:
    """Every URL in `text` through `redact_url`, and stray `token=…` / `Bearer …` masked:
    for errors, warnings and events before they are shown, stored or sent."""
    if not text:
        return text

    def one(m: re.Match[str]) -> str:
        url = m.group(0)
        tail = len(url) - len(url.rstrip(_TRAILING))
        core, rest = (url[:-tail], url[-tail:]) if tail else (url, "")
        return redact_url(core) + rest

    return redact_pairs(_URL_IN_TEXT.sub(one, text))


def env_name_problem(value: object, environ: Mapping[str, str]) -> str | None:
    """Why `value` is not usable as an `*_env` option (None: it is a variable's name).
    A value that may be a pasted secret is never repeated in the message."""
    if not isinstance(value, str) or not value.strip():
        return f"应为环境变量名，实为 {type(value).__name__}"
    if value in environ or is_env_name(value):
        return None
    return "应为环境变量名（值未显示）：这里写变量的名字，令牌本身放进环境变量"


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost: plain http there never leaves the machine."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
