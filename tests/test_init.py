"""`dashboard init [DIR] [--from FILE]` (issue 16): a new user's first config, and one
written from a real bulletin, checked by running the commands as the user would."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import openpyxl
from conftest import SAMPLE_COUNTS, SAMPLE_CSV, run_cli, sample_rows

from dashboard.config import load_config


def check_json(cwd: Path) -> tuple[int, dict[str, object]]:
    done = run_cli("check", "--json", cwd=cwd)
    return done.returncode, json.loads(done.stdout)


def test_init_in_an_empty_folder_then_check_then_doctor(tmp_path: Path) -> None:
    """The newcomer's path: init asks nothing; check says the data file is missing
    (exit 3, naming data/通报.csv); doctor says the same and that the rest is fine; once
    the bulletin is saved there, check counts the sample and doctor passes."""
    done = run_cli("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    config = tmp_path / "dashboard.toml"
    assert config.is_file() and (tmp_path / "data").is_dir()
    assert list((tmp_path / "data").iterdir()) == []
    text = config.read_text(encoding="utf-8")
    assert text.startswith("# 专班看板配置")  # commented, Chinese first
    assert "data/通报.csv" in done.stdout
    loaded = load_config(config)  # the strict loader takes it
    assert [s.type for s in loaded.sources] == ["csv"]

    done = run_cli("check", cwd=tmp_path)
    assert done.returncode == 3
    assert "项目总数 items 0" in done.stdout
    missing = str(tmp_path / "data" / "通报.csv")
    assert f"{missing}: 文件不存在" in done.stdout

    done = run_cli("doctor", cwd=tmp_path)
    assert done.returncode == 3, done.stdout
    assert "还没有数据 no data yet" in done.stdout
    assert "1 项未通过" in done.stdout

    shutil.copy(SAMPLE_CSV, tmp_path / "data" / "通报.csv")
    (tmp_path / "dashboard.toml").write_text(
        text.replace('as_of = "auto"', 'as_of = "2024-09-30"'), encoding="utf-8"
    )
    code, report = check_json(tmp_path)
    assert code == 0
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS
    done = run_cli("doctor", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    doctor = json.loads(done.stdout)
    assert doctor["ok"] is True and doctor["counts"]["fail"] == 0
    source = next(c for c in doctor["checks"] if c["kind"] == "source")
    assert (source["name"], source["status"], source["items"]) == ("通报", "ok", 45)


def test_init_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    config = tmp_path / "dashboard.toml"
    config.write_text('title = "我们的看板"\n', encoding="utf-8")
    done = run_cli("init", str(tmp_path))
    assert done.returncode == 2
    assert str(config) in done.stderr and "已存在" in done.stderr
    assert config.read_text(encoding="utf-8") == 'title = "我们的看板"\n'
    done = run_cli("init", str(tmp_path), "--force")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "dashboard.toml.bak").read_text(encoding="utf-8") == 'title = "我们的看板"\n'
    assert "dashboard init" in config.read_text(encoding="utf-8")
    assert f"--config {config}" in done.stdout  # DIR is not the working folder: say how to point at it


def test_init_from_the_sample_bulletin_then_check(tmp_path: Path) -> None:
    """The bundled bulletin: every header found by the aliases, the as-of date from the
    file name (xiangxiang-2024-09 → 2024-09-30), and check gives 45 / 25 / 19 / 0 / 1."""
    done = run_cli("init", "--from", str(SAMPLE_CSV), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "表头在第 1 行" in done.stdout
    assert "试读 read: 45 项" in done.stdout
    assert "截止日期 as of 2024-09-30（取自文件名 xiangxiang-2024-09.csv" in done.stdout
    assert "未找到" not in done.stdout and "按关键词推断" not in done.stdout
    spec = load_config(tmp_path / "dashboard.toml").sources[0]
    assert spec.options["aliases"] == {
        "id": ["序号"],
        "name": ["项目名称"],
        "category": ["实事类别"],
        "unit": ["牵头单位"],
        "target": ["任务数"],
        "progress": ["进度情况"],
        "ratio": ["完成比例"],
    }
    code, report = check_json(tmp_path)
    assert code == 0
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS
    assert [(b["id"], b["unit"], b["ratio"]) for b in report["behind"]] == [("45", "公安局交警大队", 0.32)]


def _own_headers_gb18030(path: Path) -> Path:
    """The sample under a county's own header names, GB18030, with two title rows."""
    head = ["序号", "类别", "实事事项", "承办单位", "年度任务", "完成情况", "完成率%", "备注"]
    rows = [["湘乡市2024年重点民生实事进展情况通报"], ["（截至2024年9月30日）"], head]
    rows += [[*r, ""] for r in sample_rows()[1:]]
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode("gb18030"))
    return path


def test_init_from_a_table_with_its_own_headers(tmp_path: Path) -> None:
    """Title rows skipped, GB18030 named, headers the aliases do not know mapped by
    keyword and marked for checking, 备注 reported as not mapped; the written aliases
    read the file as the sample: 45 items, the as-of date from the title row."""
    bulletin = _own_headers_gb18030(tmp_path / "九月通报.csv")
    done = run_cli("init", "--from", str(bulletin), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "编码 encoding GB18030" in out
    assert "表头在第 3 行" in out and "跳过其上 2 行标题" in out
    assert "未识别的列 not mapped（保留为附加列 kept as extra columns）: 备注" in out
    assert "截止日期 as of 2024-09-30（取自表中" in out
    for header, field in [
        ("实事事项", "name"),
        ("承办单位", "unit"),
        ("年度任务", "target"),
        ("完成率%", "ratio"),
    ]:
        line = next(x for x in out.splitlines() if f" {header} " in x)
        assert field in line and "按关键词推断" in line
    spec = load_config(tmp_path / "dashboard.toml").sources[0]
    assert spec.options["path"] == "九月通报.csv"  # inside the config's folder: relative
    assert "as_of" not in spec.options  # the table states its date each month
    code, report = check_json(tmp_path)
    assert code == 0
    assert report["as_of"] == "2024-09-30" and report["as_of_source"] == "data"
    assert report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS


def test_init_from_an_xlsx_with_a_title_row(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024年重点民生实事进度表（截至2024年9月30日）"])
    for row in sample_rows():
        ws.append(row)
    wb.save(tmp_path / "台账.xlsx")
    done = run_cli("init", "--from", str(tmp_path / "台账.xlsx"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "表头在第 2 行" in done.stdout
    assert load_config(tmp_path / "dashboard.toml").sources[0].type == "mashangtong"
    code, report = check_json(tmp_path)
    assert code == 0 and report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS


def test_init_from_a_file_without_a_header_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "in.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    target = tmp_path / "new"
    done = run_cli("init", str(target), "--from", str(bad))
    assert done.returncode == 2
    assert "--from" in done.stderr and "没有找到表头" in done.stderr and "a、b" in done.stderr
    assert not target.exists()
    done = run_cli("init", str(target), "--from", str(tmp_path / "none.csv"))
    assert done.returncode == 2 and "文件不存在" in done.stderr
    assert not target.exists()


def test_init_from_a_tab_separated_file_writes_its_delimiter(tmp_path: Path) -> None:
    rows = "\r\n".join("\t".join(r) for r in sample_rows()) + "\r\n"
    (tmp_path / "通报-2024-09.tsv").write_text(rows, encoding="utf-8-sig")
    done = run_cli("init", "--from", "通报-2024-09.tsv", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "分隔符 delimiter '\\t'" in done.stdout and "编码 encoding UTF-8-SIG" in done.stdout
    assert load_config(tmp_path / "dashboard.toml").sources[0].options["delimiter"] == "\t"
    code, report = check_json(tmp_path)
    assert code == 0 and report["items"] == 45 and report["by_status"] == SAMPLE_COUNTS
    (tmp_path / "old.xls").write_bytes(b"")
    done = run_cli("init", "elsewhere", "--from", "old.xls", cwd=tmp_path)
    assert done.returncode == 2 and "不支持的文件类型 .xls" in done.stderr and "另存为 .xlsx" in done.stderr
