"""Build the bundled sample export of the provincial 民生实事码上通 system (design §4).

Usage: python tools/make_mashangtong_sample.py [SHARED_DATA_DIR]   (default: ../shared/data)

Writes dashboard/data/mashangtong-2024-09.xlsx and .csv (UTF-8 with BOM), same content.

Real figures: 指标名称, 实事类别, 责任单位, 目标值, 计量单位, 完成值 and 完成率
come from the September 2024 bulletin (xiangxiang-2024-09.csv, its 34 省实事 items);
项目名称 and the 3月–9月动态 marks come from its annex 4 (xiangxiang-2024-monthly-updates.csv).
项目编码 is ours (HN2024-01 … in annex-4 order).

SYNTHETIC, clearly made up (no public source exists): 验收状态, 验收率, 政策文件, 建设内容,
项目详情, 群众评价, 满意度, 意见建议, 已回复, 更新时间. They are derived from the item id by
fixed arithmetic (no randomness), with two deliberate anomalies each for the "acceptance behind
progress" and "comments unanswered" alerts (see LAGGING_ACCEPTANCE and UNANSWERED below).

The output is byte-for-byte reproducible: the xlsx zip entries and document timestamps are pinned.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO_ROOT.parent / "shared" / "data"
OUT_DIR = REPO_ROOT / "dashboard" / "data"
BULLETIN = "xiangxiang-2024-09.csv"
ANNEX4 = "xiangxiang-2024-monthly-updates.csv"
STEM = "mashangtong-2024-09"

EXPORTED_AT = datetime(2024, 9, 27, 10, 21)
TITLE = f"湘乡市重点民生实事项目清单 导出时间：{EXPORTED_AT:%Y-%m-%d %H:%M}"

MONTHS = list(range(3, 13))  # 3月动态 … 12月动态
ANNEX_MONTHS = list(range(3, 10))  # annex 4 covers March–September; later months are future
HEADER = [
    "项目编码",
    "项目名称",
    "指标名称",
    "实事类别",
    "责任单位",
    "目标值",
    "计量单位",
    "完成值",
    "完成率",
    "验收状态",
    "验收率",
    "政策文件",
    "建设内容",
    "项目详情",
    *[f"{m}月动态" for m in MONTHS],
    "群众评价",
    "满意度",
    "意见建议",
    "已回复",
    "更新时间",
]
PERCENT_COLUMNS = ("完成率", "验收率", "满意度")

# Annex-4 row (序号, = project number) → bulletin item ids, decided by meaning.
PROJECT_INDICATORS: dict[int, list[int]] = {
    1: [10, 11, 26],  # 促进高质量充分就业: 就业用工社保"三合一", "三合一"事项, 城镇新增就业
    2: [27],  # 社会保障卡居民服务"一卡通": 加载交通出行功能的社保卡持卡人数
    3: [21],  # 建成县域普通高中"徐特立项目"
    4: [22],  # 提质改造"爱晚"老年学校
    5: [1, 2],  # 提高城乡低保标准: 城市低保标准, 农村低保标准
    6: [3],  # 提高残疾人"两项补贴"标准
    7: [4],  # 提高孤儿和事实无人抚养儿童基本生活最低保障
    8: [5],  # 建设老年助餐服务点
    9: [6],  # 实施特殊困难老年人家庭适老化改造
    10: [35, 36, 37, 38],  # 数字政务提质增效惠民工程: the four 数据局 items
    11: [24, 34, 43],  # 农村"三路"建设及农村公路安防: 提质改造, 安防建设, 国省道安全设施
    12: [14],  # 困难重度残疾人家庭无障碍改造
    13: [16],  # 康复救助残疾儿童
    14: [31],  # 新生儿疾病免费筛查与诊断服务
    15: [23],  # 普惠性托育"护蕾"行动
    16: [17, 18],  # 家庭教育指导服务"向阳花"行动: 服务家长人数, 指导服务和实践活动
    17: [19],  # 农村适龄及城镇低保适龄妇女"两癌"免费检查
    18: [39],  # 法律援助
    19: [40, 41],  # 基层防灾能力提升: 救援装备-市级, 救援装备-乡镇、街道
    20: [13],  # 开工改造城镇老旧小区
    21: [12],  # 保障性租赁住房建设
    22: [20],  # 市县两级应急广播建设工程
    23: [29, 30],  # 农村水源保障及灌溉能力提升: 新增蓄水能力, 恢复和改善灌溉面积
}

# Synthetic anomalies. Item id → (验收状态, 验收率 in percent):
# acceptance lags progress by more than 10 points.
LAGGING_ACCEPTANCE: dict[int, tuple[str, Decimal]] = {
    26: ("验收中", Decimal("70.0")),  # 城镇新增就业: 87.4% done, 70.0% accepted
    40: ("未验收", Decimal("0.0")),  # 救援装备-市级: 75.0% done, nothing accepted yet
}
# Item id → (意见建议, 已回复): comments received but not all answered.
UNANSWERED: dict[int, tuple[int, int]] = {
    27: (6, 4),  # 社保卡持卡人数
    43: (3, 2),  # 普通国省道安全设施精细化提升
}

_PLAIN_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_TRAILING_UNIT = re.compile(r"\(([^()]*)\)$")


@dataclass(frozen=True)
class Project:
    number: int
    unit: str
    name: str
    marks: dict[int, int]  # month → 1 if annex 4 has a mark, else 0

    @property
    def code(self) -> str:
        return f"HN2024-{self.number:02d}"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def read_projects(path: Path) -> list[Project]:
    return [
        Project(
            number=int(row["序号"]),
            unit=row["主要责任单位"],
            name=row["考核项目"],
            marks={m: 1 if row[f"{m}月份"].strip() else 0 for m in ANNEX_MONTHS},
        )
        for row in read_csv(path)
    ]


def number_or_text(text: str) -> int | float | str:
    """A plain number as int/float (for xlsx), anything else as the text it is."""
    if not _PLAIN_NUMBER.match(text):
        return text
    return float(text) if "." in text else int(text)


def percent(text: str) -> Decimal | None:
    """`87.4%` → Decimal('87.4'); blank → None."""
    return Decimal(text.strip().removesuffix("%")) if text.strip() else None


def synthetic(item_id: int, salt: int, modulo: int) -> int:
    """A fixed, well-spread small number for one item (no randomness)."""
    return (item_id * 37 + salt * 11) % modulo


def build_rows(shared: Path) -> list[dict[str, Any]]:
    """One dict per indicator; percents as Decimal (percent points), numbers as int/float."""
    items = {int(r["序号"]): r for r in read_csv(shared / BULLETIN) if "省实事" in r["实事类别"]}
    projects = read_projects(shared / ANNEX4)

    mapped = sorted(i for ids in PROJECT_INDICATORS.values() for i in ids)
    if mapped != sorted(items):
        raise SystemExit(f"mapping does not cover the 省实事 items exactly: {mapped} vs {sorted(items)}")
    if sorted(PROJECT_INDICATORS) != [p.number for p in projects]:
        raise SystemExit("mapping does not cover the annex-4 projects exactly")

    rows: list[dict[str, Any]] = []
    for project in projects:
        for item_id in PROJECT_INDICATORS[project.number]:
            item = items[item_id]
            name = item["项目名称"]
            unit = _TRAILING_UNIT.search(name)
            target = number_or_text(item["任务数"])
            progress = number_or_text(item["进度情况"])
            actual = None if isinstance(progress, str) else progress  # a sentence is no 完成值
            ratio = percent(item["完成比例"])
            # The ratio the synthetic acceptance is based on (item 23 has none: compute it).
            base = ratio
            if base is None and isinstance(target, (int, float)) and actual is not None:
                base = (Decimal(str(actual)) / Decimal(str(target)) * 100).quantize(Decimal("0.1"))

            if item_id in LAGGING_ACCEPTANCE:
                status, accepted = LAGGING_ACCEPTANCE[item_id]
            elif base is not None and base >= 100:
                status, accepted = "已验收", base
            else:
                # In acceptance, 0–4 points behind progress.
                status = "验收中"
                accepted = (base or Decimal(0)) - Decimal(synthetic(item_id, 1, 9)) / 2

            received = synthetic(item_id, 2, 9)
            comments, answered = UNANSWERED.get(item_id, (received, received))
            updated = datetime(
                2024,
                9,
                2 + synthetic(item_id, 3, 25),
                8 + synthetic(item_id, 4, 10),
                synthetic(item_id, 5, 60),
            )
            rows.append(
                {
                    "项目编码": project.code,
                    "项目名称": project.name,
                    "指标名称": name,
                    "实事类别": item["实事类别"],
                    "责任单位": item["牵头单位"],
                    "目标值": target,
                    "计量单位": unit.group(1) if unit else "",
                    "完成值": actual,
                    "完成率": ratio,
                    "验收状态": status,
                    "验收率": accepted,
                    "政策文件": 1 + synthetic(item_id, 6, 3),
                    "建设内容": 1 + synthetic(item_id, 7, 5),
                    "项目详情": 1 + synthetic(item_id, 8, 4),
                    **{f"{m}月动态": project.marks.get(m) for m in MONTHS},
                    "群众评价": 40 + synthetic(item_id, 9, 260),
                    "满意度": Decimal(950 + synthetic(item_id, 10, 50)) / 10,
                    "意见建议": comments,
                    "已回复": answered,
                    "更新时间": f"{updated:%Y-%m-%d %H:%M}",
                }
            )
    return rows


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.1f}%"
    return str(value)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow([TITLE] + [""] * (len(HEADER) - 1))  # as Excel exports a merged title
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow([csv_cell(row[h]) for h in HEADER])


def write_xlsx(rows: list[dict[str, Any]], path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "项目清单"
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append(HEADER)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([float(row[h] / 100) if isinstance(row[h], Decimal) else row[h] for h in HEADER])
    for name in PERCENT_COLUMNS:
        column = HEADER.index(name) + 1
        for r in range(3, ws.max_row + 1):
            ws.cell(row=r, column=column).number_format = "0.0%"
    widths = {
        "项目名称": 36,
        "指标名称": 48,
        "实事类别": 16,
        "责任单位": 12,
        "目标值": 16,
        "更新时间": 17,
    }
    for i, name in enumerate(HEADER, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(name, 10)
    ws.freeze_panes = "D3"
    wb.properties.creator = "民生实事码上通 (sample)"
    wb.properties.created = EXPORTED_AT

    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(pin_zip(buffer.getvalue()))


def pin_zip(data: bytes) -> bytes:
    """Rewrite the xlsx with fixed entry dates and modified time, so reruns give identical bytes."""
    stamp = EXPORTED_AT.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=EXPORTED_AT.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, content)
    return out.getvalue()


def main(argv: list[str]) -> int:
    shared = Path(argv[1]) if len(argv) > 1 else DEFAULT_SHARED
    rows = build_rows(shared)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_xlsx(rows, OUT_DIR / f"{STEM}.xlsx")
    write_csv(rows, OUT_DIR / f"{STEM}.csv")
    print(f"wrote {len(rows)} indicators to {OUT_DIR / STEM}.xlsx and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
