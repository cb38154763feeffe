"""Weeks of refreshes, shortened: `python -m bench.soak --short` as CI runs it (issue 12).

The TUI (on a pseudo-terminal, refreshed with its own `r`) and `Runtime.cycle()` (what
`dashboard check` runs) each refresh 100 times at 1,000 items with 1% of the ratios changing and
10 items dropping to 严重滞后 and back every time (alerts fire and resolve each cycle). Memory
must be flat over the second half (the median RSS slope under bench.soak.FLAT_MIB_PER_100 MiB
per 100 cycles; the toast leak of issue 12 measured 2.97 here), and open files and threads must
not grow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.soak import FLAT_MIB_PER_100, SHORT_CYCLES, grows  # noqa: E402


@pytest.fixture(scope="module")
def soaks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    out = tmp_path_factory.mktemp("soak") / "soak.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--short", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.exists(), proc.stderr[-2000:]
    results = {r["mode"]: r for r in json.loads(out.read_text(encoding="utf-8"))}
    results["_proc"] = {"returncode": proc.returncode, "stdout": proc.stdout}
    return results


@pytest.mark.parametrize("mode", ["tui", "runtime"])
def test_memory_files_and_threads_stay_flat_over_100_refreshes(
    soaks: dict[str, dict[str, object]], mode: str
) -> None:
    r = soaks[mode]
    assert r["cycles"] == SHORT_CYCLES
    assert r["items"] == 1000  # every refresh loaded the whole bulletin, no source failed
    assert r["slope_mib_per_100"] < FLAT_MIB_PER_100, r["samples"]
    assert r["fds_end"] <= r["fds_start"], r["fd_samples"]
    assert not grows(r["thread_samples"], SHORT_CYCLES), r["thread_samples"]
    assert r["store_bytes"] > 0  # the refreshes were recorded in the store


def test_the_soak_prints_its_figures_and_exits_0_when_flat(soaks: dict[str, dict[str, object]]) -> None:
    proc = soaks["_proc"]
    assert proc["returncode"] == 0, proc["stdout"]
    lines = str(proc["stdout"]).splitlines()
    assert [line.split()[0] for line in lines] == ["runtime", "tui"]
    for line in lines:
        assert "100 cycles × 1000 items" in line and "flat 平稳" in line
        assert "RSS" in line and "fds" in line and "threads" in line and "store" in line


def test_a_count_that_keeps_rising_is_growth_and_a_pool_that_fills_once_is_not() -> None:
    # What the fds/threads bound means: the second half's highest above the first half's.
    assert grows([(10, 5), (50, 5), (60, 6), (100, 7)], 100)
    assert not grows([(10, 5), (20, 7), (60, 7), (100, 7)], 100)
