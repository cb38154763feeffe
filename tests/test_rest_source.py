"""The REST source against a real HTTP server on 127.0.0.1 (pytest-httpserver)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_COUNTS, SAMPLE_CSV, run_cli, sample_rows
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from dashboard.config import load_config
from dashboard.contracts import ConfigError
from dashboard.runtime import Runtime

ITEM45 = "重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患(处)"


def bulletin_records() -> list[dict[str, str]]:
    """The 45 items as JSON objects keyed by the bulletin's own column names."""
    header, *rows = sample_rows()
    return [dict(zip(header, row, strict=True)) for row in rows]


def english_records() -> list[dict[str, Any]]:
    """The same items as an API with its own keys, nested figures and numeric percents."""
    out = []
    for r in bulletin_records():
        ratio = r["完成比例"].rstrip("%")
        out.append(
            {
                "no": r["序号"],
                "kind": r["实事类别"],
                "title": r["项目名称"],
                "dept": r["牵头单位"],
                "figures": {
                    "target": r["任务数"],
                    "progress": r["进度情况"],
                    "rate": float(ratio) if ratio else None,
                },
            }
        )
    return out


@pytest.fixture
def server(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    yield httpserver
    httpserver.clear()


async def csv_statuses(config_writer: Callable[..., Path]) -> dict[str, str]:
    runtime = Runtime(load_config(config_writer([{"name": "csv", "type": "csv", "path": str(SAMPLE_CSV)}])))
    snap = await runtime.cycle()
    runtime.close()
    return {e.item.name: e.status.value for e in snap.evaluated}


def rest(url: str, **options: Any) -> dict[str, Any]:
    return {"name": "省平台", "type": "rest", "url": url, "backoff": "0.01s", **options}


async def test_paginated_json_gives_the_same_statuses_as_the_csv(
    server: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    records = bulletin_records()
    pages: list[tuple[str, str]] = []

    def page(request: Request) -> Response:
        n, size = int(request.args["page"]), int(request.args["size"])
        pages.append((request.args["page"], request.args["size"]))
        body = {"code": 0, "data": {"items": records[(n - 1) * size : n * size], "total": len(records)}}
        return Response(json.dumps(body, ensure_ascii=False), content_type="application/json")

    server.expect_request("/api/items").respond_with_handler(page)
    expected = await csv_statuses(config_writer)
    cfg = config_writer(
        [
            rest(
                server.url_for("/api/items"),
                items_path="data.items",
                pagination={"mode": "page", "page_param": "page", "size_param": "size", "size": 10},
            )
        ]
    )
    runtime = Runtime(load_config(cfg))
    snap = await runtime.cycle()
    state = runtime.states["省平台"]
    assert state.ok, state.error
    assert pages == [("1", "10"), ("2", "10"), ("3", "10"), ("4", "10"), ("5", "10")]
    assert snap.by_status == SAMPLE_COUNTS
    assert {e.item.name: e.status.value for e in snap.evaluated} == expected
    assert snap.evaluated[0].item.name == ITEM45 and snap.evaluated[0].item.ratio == 0.32


async def test_next_links_field_map_and_bearer_token(
    server: HTTPServer, config_writer: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MSSS_TOKEN", "s3cret-token")
    records = english_records()
    seen_auth: set[str] = set()

    def page(request: Request) -> Response:
        seen_auth.add(request.headers.get("Authorization", ""))
        start = int(request.args.get("cursor", "0"))
        nxt = f"/v1/items?cursor={start + 20}" if start + 20 < len(records) else None
        body = {"result": {"list": records[start : start + 20]}, "links": {"next": nxt}}
        return Response(json.dumps(body, ensure_ascii=False), content_type="application/json")

    server.expect_request("/v1/items").respond_with_handler(page)
    expected = await csv_statuses(config_writer)
    cfg = config_writer(
        [
            rest(
                server.url_for("/v1/items"),
                token_env="MSSS_TOKEN",
                items_path="result.list",
                pagination={"mode": "next", "next_path": "links.next"},
                fields={
                    "no": "id",
                    "kind": "category",
                    "title": "name",
                    "dept": "unit",
                    "figures.target": "target",
                    "figures.progress": "progress",
                    "figures.rate": "ratio",
                },
            )
        ]
    )
    runtime = Runtime(load_config(cfg))
    snap = await runtime.cycle()
    assert runtime.states["省平台"].ok, runtime.states["省平台"].error
    assert seen_auth == {"Bearer s3cret-token"}
    assert snap.by_status == SAMPLE_COUNTS
    assert {e.item.name: e.status.value for e in snap.evaluated} == expected


async def test_500_twice_then_200_is_retried_and_loads(
    server: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    server.expect_ordered_request("/items").respond_with_data("down", status=500)
    server.expect_ordered_request("/items").respond_with_data("still down", status=503)
    server.expect_ordered_request("/items").respond_with_json(bulletin_records())
    runtime = Runtime(load_config(config_writer([rest(server.url_for("/items"), retries=2)])))
    snap = await runtime.cycle()
    state = runtime.states["省平台"]
    assert state.ok, state.error
    assert len(server.log) == 3
    assert snap.by_status == SAMPLE_COUNTS


async def test_4xx_is_not_retried_and_names_url_and_status(
    server: HTTPServer, config_writer: Callable[..., Path]
) -> None:
    server.expect_request("/items").respond_with_data("no", status=404)
    runtime = Runtime(load_config(config_writer([rest(server.url_for("/items"), retries=3)])))
    await runtime.cycle()
    state = runtime.states["省平台"]
    assert state.ok is False
    assert len(server.log) == 1
    assert server.url_for("/items") in state.error and "HTTP 404" in state.error


@pytest.mark.parametrize("failure", ["timeout", "garbage", "oversized", "server_error"])
async def test_a_failing_fetch_keeps_the_last_good_items_and_says_why(
    server: HTTPServer, config_writer: Callable[..., Path], failure: str
) -> None:
    records = bulletin_records()
    mode = {"now": "good"}
    release = threading.Event()

    def handler(request: Request) -> Response:
        if mode["now"] == "timeout":
            release.wait(5)  # longer than the source's timeout; released when the test is done
        if mode["now"] == "garbage":
            return Response('{"data": [1, 2', content_type="application/json")
        if mode["now"] == "server_error":
            return Response("oops", status=502)
        return Response(json.dumps(records, ensure_ascii=False), content_type="application/json")

    server.expect_request("/items").respond_with_handler(handler)
    url = server.url_for("/items")
    cfg = config_writer([rest(url, timeout="0.3s", retries=1, max_bytes=30_000)])
    runtime = Runtime(load_config(cfg))
    await runtime.cycle()
    assert runtime.states["省平台"].ok and len(runtime.states["省平台"].items) == 45

    mode["now"] = "good" if failure == "oversized" else failure
    if failure == "oversized":
        records = records * 3  # about 3 × 13 kB, over the 30 kB cap
    try:
        snap = await runtime.cycle()
    finally:
        release.set()
    state = runtime.states["省平台"]
    assert state.ok is False and state.is_stale()
    assert url in state.error
    reason = {"timeout": "超时", "garbage": "JSON", "oversized": "max_bytes", "server_error": "HTTP 502"}[
        failure
    ]
    assert reason in state.error, state.error
    assert len(state.items) == 45 and snap.by_status == SAMPLE_COUNTS


def test_missing_token_variable_is_a_config_error(config_writer: Callable[..., Path]) -> None:
    cfg = config_writer([rest("http://127.0.0.1:9/items", token_env="ZB_TEST_TOKEN_NOT_SET")])
    proc = run_cli("check", "--config", str(cfg), env={"ZB_TEST_TOKEN_NOT_SET": ""})
    assert proc.returncode == 2
    assert "sources[0].token_env" in proc.stderr and "ZB_TEST_TOKEN_NOT_SET" in proc.stderr


def test_the_token_is_never_shown(server: HTTPServer, config_writer: Callable[..., Path]) -> None:
    server.expect_request("/items").respond_with_data("denied", status=401)
    cfg = config_writer([rest(server.url_for("/items"), token_env="ZB_TEST_TOKEN")])
    proc = run_cli("check", "--config", str(cfg), "--json", env={"ZB_TEST_TOKEN": "tok-value-123"})
    assert proc.returncode == 3
    source = json.loads(proc.stdout)["sources"][0]
    assert "HTTP 401" in source["error"] and server.url_for("/items") in source["error"]
    assert "tok-value-123" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"url": "ftp://x"}, "sources[0].url"),
        ({"verify": False}, "sources[0].verify"),
        ({"verify": "missing-ca.pem"}, "sources[0].verify"),
        ({"pagination": {"mode": "page", "sise": 10}}, "sources[0].pagination.sise"),
        ({"fields": {"title": "nmae"}}, "sources[0].fields.title"),
        ({"headers": {"Authorization": "Bearer x"}}, "sources[0].headers.Authorization"),
    ],
)
def test_bad_options_are_config_errors(
    config_writer: Callable[..., Path], options: dict[str, Any], key: str
) -> None:
    cfg = config_writer([{**rest("http://127.0.0.1:9/items"), **options}])
    with pytest.raises(ConfigError) as error:
        Runtime(load_config(cfg))
    assert error.value.key == key and str(cfg) in str(error.value)


async def test_a_next_link_to_another_server_is_not_followed(
    server: HTTPServer, config_writer: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bearer token must never travel to a server the config did not name."""
    monkeypatch.setenv("MSSS_TOKEN", "s3cret-token")
    body = {"items": bulletin_records()[:5], "next": "http://198.51.100.7/steal?page=2"}
    server.expect_request("/items").respond_with_json(body)
    cfg = config_writer(
        [
            rest(
                server.url_for("/items"),
                token_env="MSSS_TOKEN",
                items_path="items",
                pagination={"mode": "next"},
            )
        ]
    )
    runtime = Runtime(load_config(cfg))
    await runtime.cycle()
    state = runtime.states["省平台"]
    assert state.ok is False and "198.51.100.7" in state.error
    assert len(server.log) == 1


def private_ca(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)

    def cert(subject: str, key: Any, issuer: Any, issuer_key: Any, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "专班测试 CA")])
    ca_cert = cert("专班测试 CA", ca_key, ca_name, ca_key, ca=True)
    server_cert = cert("127.0.0.1", server_key, ca_name, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(pem))
    paths[1].write_bytes(server_cert.public_bytes(pem))
    paths[2].write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


async def test_tls_is_verified_and_a_private_ca_can_be_named(
    tmp_path: Path, config_writer: Callable[..., Path]
) -> None:
    import ssl

    ca, cert, key = private_ca(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    tls = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    tls.start()
    try:
        tls.expect_request("/items").respond_with_json(bulletin_records())
        url = tls.url_for("/items")
        assert url.startswith("https://127.0.0.1:")

        runtime = Runtime(load_config(config_writer([rest(url)])))
        await runtime.cycle()
        state = runtime.states["省平台"]
        assert state.ok is False and url in state.error and "证书" in state.error

        runtime = Runtime(load_config(config_writer([rest(url, verify=ca.name)])))
        snap = await runtime.cycle()
        assert runtime.states["省平台"].ok, runtime.states["省平台"].error
        assert snap.by_status == SAMPLE_COUNTS
    finally:
        tls.clear()
        tls.stop()
