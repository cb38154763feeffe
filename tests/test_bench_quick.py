"""The benchmark's data generator, and `python -m bench --quick` as CI runs it (no time asserted)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

REPO = Path(__file__).resolve().parents[1]
# `bench/` is a folder of the repository, not an installed package: make it importable under a
# plain `pytest` as under `python -m pytest`.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.generate import (  # noqa: E402
    BULLETIN_HEADER,
    MASHANGTONG_HEADER,
    generate,
    make_items,
    manifest,
    mutate,
    read_bulletin,
)

N = 200


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(N, seed=7, outdir=tmp_path_factory.mktemp("gen"))


def test_same_seed_gives_the_same_bytes(files: dict[str, Path], tmp_path: Path) -> None:
    again = generate(N, seed=7, outdir=tmp_path)
    for kind, path in files.items():
        assert again[kind].read_bytes() == path.read_bytes(), kind


def test_another_seed_gives_other_items(files: dict[str, Path], tmp_path: Path) -> None:
    other = generate(N, seed=8, outdir=tmp_path)
    assert other["csv_utf8"].read_bytes() != files["csv_utf8"].read_bytes()


def test_the_bulletin_has_a_header_and_n_items(files: dict[str, Path]) -> None:
    rows, encoding = read_bulletin(files["csv_utf8"])
    assert encoding == "utf-8"
    assert rows[0] == BULLETIN_HEADER
    assert len(rows) == N + 1
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, N + 1)]


def test_the_gb18030_bulletin_is_the_same_text_in_gb18030(files: dict[str, Path]) -> None:
    data = files["csv_gb18030"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gb18030")
    assert text == files["csv_utf8"].read_text(encoding="utf-8")
    assert len(list(csv.reader(io.StringIO(text)))) == N + 1


def test_the_xlsx_has_a_title_the_header_and_n_indicators(files: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(files["xlsx"], read_only=True)
    rows = list(wb.worksheets[0].iter_rows())
    title, header, body = rows[0], rows[1], rows[2:]
    assert str(title[0].value).startswith("湘乡市重点民生实事项目清单")
    assert [c.value for c in header] == MASHANGTONG_HEADER
    assert len(body) == N
    ratio = body[0][MASHANGTONG_HEADER.index("完成率")]
    assert isinstance(ratio.value, float) and ratio.number_format == "0.0%"
    wb.close()


def test_the_manifest_counts_every_item_once(files: dict[str, Path]) -> None:
    statuses = manifest(files)["statuses"]
    assert sum(statuses.values()) == N


def test_mix_of_statuses_is_like_a_bulletin() -> None:
    # About 55% done, 40% on track, 3% lagging, 2% severely lagging (on 5000 items).
    shares = {k: v / 5000 for k, v in Counter(i.status for i in make_items(5000, 1)).items()}
    assert shares["done"] == pytest.approx(0.55, abs=0.03)
    assert shares["on_track"] == pytest.approx(0.40, abs=0.03)
    assert shares["lagging"] == pytest.approx(0.03, abs=0.01)
    assert shares["severe"] == pytest.approx(0.02, abs=0.01)


def test_mutate_changes_one_percent_of_the_ratios_and_keeps_the_encoding(
    files: dict[str, Path], tmp_path: Path
) -> None:
    path = tmp_path / "bulletin.csv"
    path.write_bytes(files["csv_gb18030"].read_bytes())
    before, _ = read_bulletin(path)
    changed = mutate(path, 0.01, seed=3)
    after, encoding = read_bulletin(path)
    assert encoding == "gb18030"
    assert len(changed) == 2  # 1% of 200
    differ = [b[0] for b, a in zip(before, after, strict=True) if a != b]
    assert differ == changed
    for b, a in zip(before, after, strict=True):
        assert a[:6] == b[:6]  # only 完成比例 changes


def test_quick_run_measures_every_contender_and_writes_results(tmp_path: Path) -> None:
    # What CI runs: every contender, ours and the references, at 1,000 items, 1 run. No time is
    # asserted (the machine is shared); only that everything was measured and reported.
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ratio" in proc.stdout and "goals" in proc.stdout
    results = json.loads(out.read_text(encoding="utf-8"))
    for key in ("machine", "python", "packages", "settings", "figures", "table", "goals"):
        assert key in results, key
    assert results["settings"]["sizes"] == [1000]
    assert results["settings"]["runs"] == 1
    assert {"cpu_count", "cpu_model", "memory_bytes", "platform"} <= results["machine"].keys()
    assert {"textual", "httpx", "openpyxl", "visidata", "rich"} <= results["packages"].keys()
    figures = {f["figure"]: f for f in results["figures"]}
    from bench import ours, references

    declared = [f.id for c in (*references.CONTENDERS, *ours.CONTENDERS) for f in c.figures]
    # The tmux figures need tmux (`.ci/run` installs it where apt is there): without it, n/a.
    no_tmux = shutil.which("tmux") is None
    for name in declared:
        if no_tmux and ("tmux" in name or name == "vd_first_screen"):
            assert figures[name]["status"] == "n/a", figures[name]
            continue
        assert figures[name]["status"] == "ok", figures[name]
        assert figures[name]["median"] is not None
    assert figures["idle_window"]["median"] < 60  # shortened in --quick, and the table says so
    assert figures["store_rows_written"]["median"] == 10  # 1% of 1,000: only the changed rows
    assert [g["name"] for g in results["goals"]] == [g.name for g in ours.GOALS]
    for goal in results["goals"]:
        assert {"name", "value", "reference", "ratio", "target", "met"} <= goal.keys()
    # The goals measured at 1,000 items have a verdict; the others wait for a full run.
    assert any(g["met"] is not None for g in results["goals"])
    assert any(row["ratio"] is not None for row in results["table"])
