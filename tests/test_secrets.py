"""No secret in the config, on the screen, in the store or on the wire (issue 12, Security)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_CSV, sample_rows
from pytest_httpserver import HTTPServer

from dashboard.cli import main
from dashboard.config import load_config
from dashboard.contracts import ConfigError
from dashboard.redact import is_credential_name, looks_like_secret, redact_text, redact_url
from dashboard.runtime import Runtime

SECRET = "9f1c2b7e4a6d8f0b3c5e7a9d1f3b5c7e"  # a key as an API would issue one
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


def bulletin_records() -> list[dict[str, str]]:
    header, *rows = sample_rows()
    return [dict(zip(header, row, strict=True)) for row in rows]


def rest(url: str, **options: Any) -> dict[str, Any]:
    return {"name": "省平台", "type": "rest", "url": url, "backoff": "0.01s", **options}


def config_error(cfg: Path) -> ConfigError:
    with pytest.raises(ConfigError) as error:
        Runtime(load_config(cfg))
    return error.value


# -- credentials written into the config are refused, and not repeated -----------------------
@pytest.mark.parametrize(
    ("options", "key", "points_to"),
    [
        ({"headers": {"X-Api-Key": SECRET}}, "sources[0].headers.X-Api-Key", "headers_env"),
        ({"headers": {"x_api_key": "short"}}, "sources[0].headers.x_api_key", "headers_env"),
        ({"headers": {"Authorization": f"Bearer {SECRET}"}}, "sources[0].headers.Authorization", "token_env"),
        ({"headers": {"X-Whatever": f"Bearer {SECRET}"}}, "sources[0].headers.X-Whatever", "headers_env"),
        ({"params": {"token": SECRET}}, "sources[0].params.token", "params_env"),
        ({"params": {"Access-Token": "abc"}}, "sources[0].params.Access-Token", "params_env"),
        ({"params": {"q": JWT}}, "sources[0].params.q", "params_env"),
        ({"url": f"http://127.0.0.1:9/items?access_token={SECRET}"}, "sources[0].url", "params_env"),
        ({"url": f"http://svc:{SECRET}@127.0.0.1:9/items"}, "sources[0].url", "params_env"),
        ({"token_env": JWT}, "sources[0].token_env", "MSSS_TOKEN"),
        ({"token_env": SECRET}, "sources[0].token_env", "MSSS_TOKEN"),
        ({"headers_env": {"X-Api-Key": SECRET}}, "sources[0].headers_env.X-Api-Key", "MSSS_TOKEN"),
    ],
)
def test_a_credential_in_the_rest_config_is_refused_and_not_echoed(
    config_writer: Callable[..., Path], options: dict[str, Any], key: str, points_to: str
) -> None:
    cfg = config_writer([{**rest("http://127.0.0.1:9/items"), **options}])
    error = config_error(cfg)
    assert error.key == key and points_to in str(error)
    assert SECRET not in str(error) and JWT not in str(error) and "abc" not in error.message


def test_a_pasted_token_is_not_printed_by_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "dashboard.toml"
    cfg.write_text(
        f'[[sources]]\nname = "省平台"\ntype = "rest"\nurl = "https://api.example.org/items"\ntoken_env = "{JWT}"\n',
        encoding="utf-8",
    )
    assert main(["check", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "sources[0].token_env" in err and "值未显示" in err and "eyJ" not in err


def test_an_unset_variable_name_is_still_named(config_writer: Callable[..., Path]) -> None:
    """A plausible variable name is not a secret: the user needs to see which one is missing."""
    error = config_error(config_writer([rest("http://127.0.0.1:9/items", token_env="ZB_H4_NOT_SET")]))
    assert error.key == "sources[0].token_env" and "ZB_H4_NOT_SET" in str(error)


@pytest.mark.parametrize(
    ("sink", "key"),
    [
        ({"type": "dingtalk", "url": f"https://oapi.dingtalk.com/robot/send?access_token={SECRET}"}, "url"),
        ({"type": "wecom", "url": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={SECRET}"}, "url"),
        ({"type": "feishu", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/abc-123-def"}, "url"),
        ({"type": "webhook", "url": f"https://ops:{SECRET}@hooks.example.org/alerts"}, "url"),
        (
            {"type": "webhook", "url": "https://hooks.example.org/a", "headers": {"X-Api-Key": "k"}},
            "headers.X-Api-Key",
        ),
        ({"type": "dingtalk", "token_env": "DT_TOKEN", "secret_env": "SEC" + SECRET * 2}, "secret_env"),
        ({"type": "wecom", "key_env": "693a91f6-7b2c-4bc4-97a0-0ec2f1fa5aaa"}, "key_env"),
    ],
)
def test_a_robot_key_in_the_config_is_refused_and_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sink: dict[str, str], key: str
) -> None:
    lines = [f"{k} = {json.dumps(v) if not isinstance(v, dict) else _inline(v)}" for k, v in sink.items()]
    cfg = tmp_path / "dashboard.toml"
    source = f'[[sources]]\nname = "通报"\ntype = "csv"\npath = {json.dumps(str(SAMPLE_CSV))}\n'
    cfg.write_text(source + "[[sinks]]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert main(["check", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert f"sinks[0].{key}" in err and "_env" in err
    for secret in (SECRET, "abc-123-def", "693a91f6"):
        assert secret not in err


def _inline(table: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in table.items()) + " }"


# -- secrets from the environment reach the server, and nowhere else --------------------------
async def test_headers_env_and_params_env_send_the_secret_to_the_server(
    httpserver: HTTPServer, config_writer: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZB_H4_KEY", SECRET)
    monkeypatch.setenv("ZB_H4_TOKEN", "tok-42")
    httpserver.expect_request(
        "/items", headers={"X-Api-Key": SECRET}, query_string={"year": "2024", "access_token": "tok-42"}
    ).respond_with_json(bulletin_records())
    cfg = config_writer(
        [
            rest(
                httpserver.url_for("/items"),
                headers_env={"X-Api-Key": "ZB_H4_KEY"},
                params={"year": 2024},
                params_env={"access_token": "ZB_H4_TOKEN"},
            )
        ]
    )
    runtime = Runtime(load_config(cfg))
    snap = await runtime.cycle(alerts=False)
    runtime.close()
    assert runtime.states["省平台"].ok and len(snap.evaluated) == 45
    assert snap.by_status["severe"] == 1


async def test_a_token_in_the_url_never_reaches_the_error_the_store_or_the_robots(
    httpserver: HTTPServer, config_writer: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZB_H4_TOKEN", SECRET)
    httpserver.expect_request("/items").respond_with_data("gone", status=404)
    cfg = config_writer([rest(httpserver.url_for("/items"), params_env={"token": "ZB_H4_TOKEN"}, retries=0)])
    runtime = Runtime(load_config(cfg))
    snap = await runtime.cycle()
    state = runtime.states["省平台"]
    store_path = load_config(cfg).store_path
    runtime.close()
    # The server did get the token (that is how the API is called) ...
    assert httpserver.log and SECRET in httpserver.log[0][0].url
    # ... but the message names the URL with the value masked.
    assert state.ok is False and "HTTP 404" in state.error and "token=***" in state.error
    assert SECRET not in state.error
    # The source_stale event (what the robots receive) carries the masked message.
    stale = [e for e in snap.fired if e.rule == "source_stale"]
    assert stale and "token=***" in stale[0].message and SECRET not in stale[0].message
    assert store_path is not None
    with sqlite3.connect(store_path) as db:
        dump = "\n".join(db.iterdump())
    assert SECRET not in dump and "token=***" in dump


def test_token_env_over_plain_http_to_another_machine_needs_allow_insecure_http(
    config_writer: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZB_H4_TOKEN", SECRET)
    cfg = config_writer([rest("http://192.0.2.10/items", token_env="ZB_H4_TOKEN")])
    error = config_error(cfg)
    assert error.key == "sources[0].token_env" and "allow_insecure_http" in str(error)
    assert "192.0.2.10" in error.message and SECRET not in str(error)
    # Allowed when the user says so, and over https or to this machine without saying so.
    for url, extra in (
        ("http://192.0.2.10/items", {"allow_insecure_http": True}),
        ("https://192.0.2.10/items", {}),
        ("http://localhost:9/items", {}),
        ("http://127.0.0.2:9/items", {}),
        ("http://[::1]:9/items", {}),
    ):
        Runtime(load_config(config_writer([rest(url, token_env="ZB_H4_TOKEN", **extra)]))).close()


# -- the pure helpers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "shown", "hidden"),
    [
        (
            "http://h/items?token=s3cr3t&page=2: HTTP 404",
            "http://h/items?token=***&page=2: HTTP 404",
            "s3cr3t",
        ),
        ("连接 https://u:pw@h.example/x 失败", "连接 https://***@h.example/x 失败", "pw"),
        ("see https://open.feishu.cn/open-apis/bot/v2/hook/t0k3n.", "hook/***.", "t0k3n"),
        ("send?key=693a91f6-7b2c-4bc4-97a0-0ec2f1fa5aaa", "key=***", "693a91f6"),
        ("Authorization: Bearer abc.def.ghi", "Bearer ***", "abc.def"),
        (f"a=1&x-api-key={SECRET} done", "x-api-key=*** done", SECRET),
    ],
)
def test_redact_text_masks_credentials_and_keeps_the_rest(text: str, shown: str, hidden: str) -> None:
    out = redact_text(text)
    assert shown in out and hidden not in out


def test_credential_names_and_values() -> None:
    for name in (
        "token",
        "access_token",
        "X-Api-Key",
        "apikey",
        "key",
        "SECRET",
        "client_secret",
        "password",
        "passwd",
        "signature",
        "sign",
        "auth",
        "Authorization",
        "session",
        "Cookie",
        "refresh-token",
    ):
        assert is_credential_name(name), name
    for name in ("page", "size", "year", "Accept", "X-Team", "unit", "keyword", "design"):
        assert not is_credential_name(name), name
    assert looks_like_secret(JWT) and looks_like_secret(SECRET) and looks_like_secret("Bearer x")
    for word in ("application/json", "zhuanban", "2024", "MSSS_TOKEN", "湘乡市"):
        assert not looks_like_secret(word), word
    assert redact_url("https://h/p?page=1&size=100") == "https://h/p?page=1&size=100"
