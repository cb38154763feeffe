"""A city's roll-up of its counties: two county API servers (real `python -m dashboard.webapi`
or `dashboard serve` processes on loopback, each over a county CSV made from the sample), and a
city dashboard whose two REST sources (no `fields` mapping, each with its `county`) read their
/api/v1/items."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import SAMPLE_COUNTS, SAMPLE_CSV, run_cli, sample_rows, write_csv

# 韶山市's bulletin: the sample less items 40–42, with 43 lagging (60%), 44 severe (40%), 45 done.
SHAOSHAN_COUNTS = {"done": 26, "on_track": 14, "lagging": 1, "severe": 1, "unknown": 0}


def shaoshan_csv(path: Path) -> Path:
    header, *rows = sample_rows()
    out = [header]
    for row in rows:
        if row[0] in ("40", "41", "42"):
            continue
        if row[0] == "43":
            row[6] = "60.0%"
        elif row[0] == "44":
            row[6] = "40.0%"
        elif row[0] == "45":
            row[5], row[6] = "已完成", "100.0%"
        out.append(row)
    return write_csv(path, out)


def county_config(folder: Path, csv_path: Path) -> Path:
    folder.mkdir()
    config = folder / "dashboard.toml"
    config.write_text(
        f'as_of = "2024-09-30"\n[[sources]]\nname = "通报"\ntype = "csv"\npath = {json.dumps(str(csv_path))}\n',
        encoding="utf-8",
    )
    return config


@contextmanager
def api_server(config: Path) -> Iterator[str]:
    """`python -m dashboard.webapi` on a free loopback port; yields its items URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.webapi", "--config", str(config), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the sources are loaded and the port is open
        if "listening on" not in line:
            proc.kill()
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"API server did not start: {line!r} {err}")
        yield line.split("listening on ", 1)[1].strip() + "items"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _summary(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return cast(dict[str, Any], json.loads(resp.read()))
    except OSError:
        return None


@contextmanager
def serve_process(config: Path) -> Iterator[str]:
    """`dashboard serve` on a free loopback port, once its first refresh has loaded the
    county's source (the API answers from the start, with no items until then)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard", "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}/api/v1/"
    try:
        for _ in range(600):  # readiness, not a timing assertion: up to a minute on a loaded machine
            if proc.poll() is not None:
                pytest.fail(f"dashboard serve ended ({proc.returncode}): {proc.communicate()[1]}")
            summary = _summary(base + "summary")
            if summary is not None and all(s["ok"] for s in summary["sources"]):
                break
            time.sleep(0.1)
        else:
            pytest.fail("dashboard serve did not load its source")
        yield base + "items"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


def _has_serve() -> bool:
    return importlib.util.find_spec("textual_serve") is not None and (
        importlib.util.find_spec("dashboard.serve") is not None
    )


def city_config(folder: Path, counties: dict[str, str], page_size: int = 20) -> Path:
    """No `as_of`: the city takes the counties' as-of date from the API (`as_of_path`)."""
    folder.mkdir()
    lines = []
    for county, url in counties.items():
        lines += [
            "[[sources]]",
            f'name = "{county}通报"',
            'type = "rest"',
            f"county = {json.dumps(county, ensure_ascii=False)}",
            f"url = {json.dumps(url)}",
            'items_path = "items"',
            'as_of_path = "as_of"',
            f'pagination = {{ mode = "page", size = {page_size} }}',
            "",
        ]
    config = folder / "dashboard.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return config


@pytest.mark.parametrize("server", ["webapi", "serve"])
def test_a_city_rolls_up_two_counties_apis_and_counts_each_county(tmp_path: Path, server: str) -> None:
    pytest.importorskip("aiohttp")
    if server == "serve" and not _has_serve():
        pytest.skip("dashboard serve needs textual-serve: pip install 'zhuanban-dashboard[serve]'")
    start = api_server if server == "webapi" else serve_process
    xiangxiang = county_config(tmp_path / "湘乡", SAMPLE_CSV)
    shaoshan = county_config(tmp_path / "韶山", shaoshan_csv(tmp_path / "shaoshan.csv"))
    with start(xiangxiang) as url_a, start(shaoshan) as url_b:
        city = city_config(tmp_path / "湘潭市", {"湘乡市": url_a, "韶山市": url_b})
        done = run_cli("check", "--config", str(city), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(s["name"], s["ok"], s["items"]) for s in report["sources"]] == [
        ("湘乡市通报", True, 45),
        ("韶山市通报", True, 42),
    ]
    # The counties' as-of date came with their data: the same expected progress, the same statuses.
    assert (report["as_of"], report["as_of_source"], report["expected"]) == ("2024-09-30", "data", 0.75)
    assert report["items"] == 45 + 42
    assert report["by_status"] == {k: SAMPLE_COUNTS[k] + SHAOSHAN_COUNTS[k] for k in SAMPLE_COUNTS}
    assert report["by_county"] == {
        "湘乡市": {"items": 45, "by_status": SAMPLE_COUNTS},
        "韶山市": {"items": 42, "by_status": SHAOSHAN_COUNTS},
    }
    # Item 45 is severe in 湘乡市 only; 44 in 韶山市 only (same names, two counties, two items).
    behind = sorted((b["id"], b["status"], round(b["ratio"], 6)) for b in report["behind"])
    assert behind == [
        ("45", "severe", 0.32),
        ("韶山市通报:43", "lagging", 0.6),
        ("韶山市通报:44", "severe", 0.4),
    ]


def test_two_counties_with_the_same_items_stay_two_items(tmp_path: Path) -> None:
    """The county key keeps two bulletins of the same projects apart; without it they merge."""
    both = [
        f'[[sources]]\nname = "{n}"\ntype = "csv"\npath = {json.dumps(str(SAMPLE_CSV))}\n{extra}'
        for n, extra in (("甲", 'county = "湘乡市"\n'), ("乙", 'county = "湘潭县"\n'))
    ]
    apart = tmp_path / "apart.toml"
    apart.write_text('as_of = "2024-09-30"\n' + "".join(both), encoding="utf-8")
    merged = tmp_path / "merged.toml"
    merged.write_text(
        'as_of = "2024-09-30"\n' + "".join(b.replace("county", "# county") for b in both), encoding="utf-8"
    )
    a = json.loads(run_cli("check", "--config", str(apart), "--json", "--no-alerts").stdout)
    m = json.loads(run_cli("check", "--config", str(merged), "--json", "--no-alerts").stdout)
    assert a["items"] == 90 and a["by_status"] == {k: 2 * v for k, v in SAMPLE_COUNTS.items()}
    assert a["by_county"] == {
        "湘乡市": {"items": 45, "by_status": SAMPLE_COUNTS},
        "湘潭县": {"items": 45, "by_status": SAMPLE_COUNTS},
    }
    assert m["items"] == 45 and m["by_county"] == {}
    text = run_cli("check", "--config", str(apart), "--no-alerts").stdout
    assert "县市区 by county:" in text
    assert "湘潭县  45 项  已完成 25  正常 19  滞后 0  严重滞后 1" in text


def test_a_county_that_is_not_a_name_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "dashboard.toml"
    config.write_text(
        f'[[sources]]\nname = "甲"\ntype = "csv"\ncounty = 3\npath = {json.dumps(str(SAMPLE_CSV))}\n',
        encoding="utf-8",
    )
    done = run_cli("check", "--config", str(config))
    assert done.returncode == 2 and "sources[0].county" in done.stderr
