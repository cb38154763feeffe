"""`dashboard store check|repair`: a healthy store says so (exit 0); a poisoned row, a
missing table or a file that is not a database is found (exit 4); repair backs the file
up first, keeps every row that still decodes and says what it dropped."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import DEFAULT_CONFIG, run_cli


def store(*args: str) -> tuple[int, dict[str, object]]:
    done = run_cli("store", *args, "--json", "--config", str(DEFAULT_CONFIG))
    return done.returncode, json.loads(done.stdout)


def test_check_a_healthy_store_then_one_with_a_bad_row_and_a_missing_table(isolated_state: Path) -> None:
    assert run_cli("check", "--config", str(DEFAULT_CONFIG)).returncode == 0
    code, report = store("check")
    assert code == 0 and report["ok"] is True and report["integrity"] == ["ok"]
    assert report["rows"]["source_items"] == 45 + 34 and report["rows"]["alert_state"] == 1
    path = isolated_state / "dashboard.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            'UPDATE source_items SET data = \'{"ratio":"fifty"}\' WHERE pos = 3 AND source = ?',
            ("湘乡市9月通报",),
        )
        conn.execute("DROP TABLE alert_sinks")
    code, report = store("check")
    assert code == 4 and report["ok"] is False
    assert report["bad_rows"] == {"source_items": 1} and report["missing_tables"] == ["alert_sinks"]
    text = run_cli("store", "check", "--config", str(DEFAULT_CONFIG))
    assert (
        text.returncode == 4 and "source_items: 1 行无法解码" in text.stdout and "alert_sinks" in text.stdout
    )


def test_repair_backs_up_keeps_what_decodes_and_reports_the_loss(isolated_state: Path) -> None:
    assert run_cli("check", "--config", str(DEFAULT_CONFIG)).returncode == 0
    path = isolated_state / "dashboard.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE source_items SET data = 'not json' WHERE pos = 0 AND source = ?", ("湘乡市9月通报",)
        )
        conn.execute("DROP TABLE item_latest")
    code, report = store("repair")
    assert code == 0 and report["ok"] is True
    backup = Path(str(report["backup"]))
    assert backup.exists()
    with sqlite3.connect(backup) as conn:  # the backup is the file as it was, bad row included
        assert conn.execute("SELECT COUNT(*) FROM source_items WHERE data = 'not json'").fetchone()[0] == 1
    assert report["dropped"]["source_items"] == 1 and report["kept"]["source_items"] == 45 + 34 - 1
    assert report["recreated"] == ["item_latest"] and report["alert_state_intact"] is True
    code, health = store("check")
    assert code == 0 and health["rows"]["source_items"] == 45 + 34 - 1 and health["rows"]["alert_state"] == 1
    # The repaired store serves the next check: 45 items, item 45's alert not sent again.
    again = run_cli("check", "--json", "--config", str(DEFAULT_CONFIG))
    assert again.returncode == 0 and json.loads(again.stdout)["alerts"]["fired"] == []
    lines = (isolated_state / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    code, health = store("check")  # the dropped row is written again by that check's fetch
    assert code == 0 and health["rows"]["source_items"] == 45 + 34


def test_a_file_that_is_not_a_database(isolated_state: Path) -> None:
    path = isolated_state / "dashboard.sqlite3"
    path.write_bytes(b"\xff" * 5000)
    code, report = store("check")
    assert code == 4 and "not a database" in str(report["error"])
    code, report = store("repair")
    assert code == 0 and Path(str(report["backup"])).read_bytes() == b"\xff" * 5000
    assert report["alert_state_intact"] is False and sum(report["kept"].values()) == 0  # type: ignore[union-attr]
    assert store("check")[0] == 0


def test_check_of_no_store_at_all(isolated_state: Path) -> None:
    code, report = store("check")
    assert code == 4 and report["exists"] is False
