"""Deterministic test data for the benchmark: N items as a bulletin CSV and a 码上通 export.

`generate(n, seed)` writes three files holding the same items (design §1 and §4):

- `bulletin-utf8.csv`: the bulletin layout of `shared/data/xiangxiang-2024-09.csv`
  (序号,实事类别,项目名称,牵头单位,任务数,进度情况,完成比例), UTF-8, LF line ends;
- `bulletin-gb18030.csv`: the same text encoded as GB18030;
- `mashangtong.xlsx`: the 码上通 export (title row, then the §4 header), 完成率 as a fraction
  with a `0.0%` number format, written in openpyxl's write-only mode.

The mix follows the September bulletin as of the end of September (expected 75%): about 55% done,
40% on track, 3% lagging (50–75%) and 2% severely lagging (<50%). Like real exports, about 1% of the
figures are messy (`75. 1%`, full-width digits), 1% of the ratios are missing where the target and
the actual are numbers, and a few lead units and categories are blank where the row above has the
same one (merged cells). Same `n` and `seed` give the same bytes.

`mutate(path, fraction, seed)` changes the ratio of a fraction of a bulletin's rows in place, for
the refresh measurements.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import unicodedata
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# Bump when the output changes, so cached files under bench/.data are regenerated.
GENERATOR_VERSION = 1

DATA_DIR = Path(__file__).resolve().parent / ".data"
MANIFEST = "manifest.json"
FILES = {
    "csv_utf8": "bulletin-utf8.csv",
    "csv_gb18030": "bulletin-gb18030.csv",
    "xlsx": "mashangtong.xlsx",
}

BULLETIN_HEADER = ["序号", "实事类别", "项目名称", "牵头单位", "任务数", "进度情况", "完成比例"]
MONTHS = range(3, 13)
AS_OF_MONTH = 9  # the data is as of the end of September: 3月–9月动态 are filled, later ones empty
MASHANGTONG_HEADER = [
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
EXPORTED_AT = datetime(2024, 9, 27, 10, 21)
TITLE = f"湘乡市重点民生实事项目清单 导出时间：{EXPORTED_AT:%Y-%m-%d %H:%M}"
PERCENT_FORMAT = "0.0%"

# Status shares (cumulative draw) and the ratio range, in percent, each status is drawn from.
STATUS_SHARES = (("done", 0.55), ("on_track", 0.40), ("lagging", 0.03), ("severe", 0.02))
STATUS_RANGES = {
    "on_track": (75.0, 99.9),
    "lagging": (50.0, 74.9),
    "severe": (3.0, 49.9),
}
EXPECTED = 75.0  # 序时进度 at the end of September
MESSY_SHARE = 0.01
MISSING_RATIO_SHARE = 0.01
BLANK_UNIT_SHARE = 0.05  # of the rows that continue a run of the same lead unit
BLANK_CATEGORY_SHARE = 0.03
CATEGORIES = (("省实事", 0.55), ("湘潭市实事", 0.40), ("省实事 湘潭市实事", 0.05))

# Measure → (low, high, decimals) of a plausible target.
MEASURES: dict[str, tuple[float, float, int]] = {
    "个": (1, 800, 0),
    "所": (1, 30, 0),
    "处": (1, 120, 0),
    "户": (20, 3000, 0),
    "人": (50, 30000, 0),
    "人次": (100, 20000, 0),
    "公里": (1, 150, 1),
    "万方": (1, 400, 1),
    "万亩": (0.5, 12, 1),
    "场": (5, 500, 0),
    "件": (20, 800, 0),
    "套": (5, 500, 0),
    "顶": (100, 5000, 0),
    "台": (10, 800, 0),
    "座": (2, 60, 0),
    "条": (2, 80, 0),
    "期": (2, 40, 0),
    "口": (10, 300, 0),
}

# Lead unit → indicators it leads: (name, measure) for a numeric target, or
# (name, text target with one {} for a number, (low, high)) for a target that is text.
Indicator = tuple[str, str] | tuple[str, str, tuple[int, int]]
UNITS: dict[str, list[Indicator]] = {
    "民政局": [
        ("建设老年助餐服务点", "个"),
        ("困难老年人家庭适老化改造", "户"),
        ("乡镇敬老院安居工程", "所"),
        ("城市低保标准", "不低于{}元/月", (650, 800)),
        ("农村低保标准", "不低于{}元/年", (5000, 6000)),
    ],
    "人社局": [
        ("提供青年创业免费工位", "个"),
        ("拓展大学生见习岗位", "个"),
        ("城镇新增就业", "人"),
        ("实现加载交通出行功能的社保卡持卡人数", "人"),
        ('就业用工社保"三合一"数字服务覆盖', "全覆盖/{}%", (20, 40)),
    ],
    "住建局": [
        ("开工建设保障性租赁住房", "套"),
        ("开工改造城镇老旧小区", "个"),
        ("城市燃气管道老化更新改造", "公里"),
        ("农村危房改造", "户"),
    ],
    "公安局交警大队": [
        ("重点治理农村道路交通事故多发的临水临崖、平交路口重大风险隐患", "处"),
        ("建设农村交通安全劝导站", "个"),
        ("配发电动自行车安全头盔", "顶"),
    ],
    "残联": [
        ("困难重度残疾人家庭无障碍改造", "户"),
        ("康复救助残疾儿童", "人"),
        ('残疾人"两项补贴"', "不低于{}元/人/月", (80, 100)),
    ],
    "妇联": [
        ('农村适龄及城镇低保适龄妇女"两癌"免费检查', "人"),
        ("开展家庭教育指导服务和实践活动", "场"),
        ('"向阳花"行动线上线下服务家长人数', "人"),
    ],
    "文旅广体局": [
        ("建设应急广播终端", "个"),
        ("新建全民健身场地设施", "个"),
        ("送戏下乡", "场"),
    ],
    "教育局": [
        ("农村普通中小学寄宿制学校提质改造", "所"),
        ("新增公办幼儿园学位", "个"),
        ('提质改造"爱晚"老年学校', "所"),
    ],
    "卫生健康局": [
        ('普惠托育服务"护蕾"行动', "个"),
        ("新生儿疾病免费筛查与诊断服务", "人"),
        ("公立医院及基层卫生机构标准化建设", "所"),
    ],
    "交通运输局": [
        ("农村公路提质改造", "公里"),
        ("农村公路安防建设", "公里"),
        ("普通国省道安全设施精细化提升", "公里"),
    ],
    "应急管理局": [
        ("乡镇应急(消防)站建设", "所"),
        ("安装智能化独立感烟报警器", "户"),
        ("为基层应急救援队伍配备救援装备", "套"),
    ],
    "水利局": [
        ("新增蓄水能力", "万方"),
        ("恢复和改善灌溉面积", "万亩"),
        ("山塘清淤扩容", "口"),
    ],
    "数据局": [
        ('新增上线"高效办成一件事"', "个"),
        ("新增惠民便企示范应用场景和高频特色服务事项", "个"),
        ("政务服务统一受理办结率", "提升至{}%以上", (85, 95)),
        ("企业和群众办事纸质证照免提交率", "提升至{}%以上", (50, 70)),
    ],
    "司法局": [("提供法律援助案件", "件"), ("开展村(社区)法律顾问服务", "场")],
    "农业农村局": [("培训新农民", "人"), ("建设高标准农田", "万亩"), ("农村户厕改造", "户")],
    "自然资源局": [("地质灾害隐患点综合治理", "处"), ('不动产登记"一窗受理"', "件")],
    "生态环境局": [
        ("农村黑臭水体治理", "处"),
        ("空气质量优良天数比例", "达到{}%", (85, 95)),
    ],
    "市场监管局": [("农贸市场提质改造", "个"), ('校园食品安全"明厨亮灶"', "所")],
    "城管局": [("城市公共厕所改造", "座"), ("背街小巷改造", "条"), ("新增停车泊位", "个")],
    "医保局": [("建设医保服务站点", "个"), ("门诊慢特病待遇认定", "人")],
    "退役军人事务局": [("退役军人服务站提质", "个"), ("困难退役军人帮扶", "人")],
    "商务局": [("建设一刻钟便民生活圈", "个"), ("建设农村电商服务站", "个")],
    "总工会": [("建设户外劳动者服务站点", "个"), ("职工疗休养", "人次")],
    "团市委": [("开设青年夜校课程", "期"), ("开展青少年暑期托管", "人")],
    "供电公司": [("农村电网改造", "公里"), ("建设公共充电桩", "台")],
}
TOWNSHIPS = (
    "东郊乡",
    "龙洞镇",
    "泉塘镇",
    "棋梓镇",
    "山枣镇",
    "壶天镇",
    "毛田镇",
    "月山镇",
    "翻江镇",
    "金石镇",
    "白田镇",
    "中沙镇",
    "虞唐镇",
    "潭市镇",
    "金薮乡",
    "育塅乡",
    "栗山镇",
    "梅桥镇",
    "新湘路街道",
    "望春门街道",
    "昆仑桥街道",
    "东山街道",
)
PLATFORM_NOTE = "进度数据取自省重点民生实事项目信息管理平台"
DONE_NOTES = ("已完成", "已全部完成", "已完成并通过验收")
ONGOING_NOTES = (
    "正在进行施工",
    "合同已签订，正在接受物资",
    "完成主体建设，基本完成装饰装修和安装工作。",
    "已完成选址，进入施工阶段",
    "正在进行屋面防水、楼梯间改造、雨污立管更换等",
    "采购已进入招投标程序，经费指标已批复，经费暂时未到位",
)
_FULL_WIDTH = str.maketrans("0123456789.%", "０１２３４５６７８９．％")


@dataclass(frozen=True)
class Change:
    """One changed cell of a refresh: bulletin row `id` (序号) now has `value` in `column`."""

    id: str
    column: str
    value: str


@dataclass(frozen=True)
class Item:
    """One generated indicator, with the truth the files are written from."""

    id: int
    category: str
    name: str
    unit: str
    measure: str  # 计量单位; empty for a text target
    target: float | str  # a number, or the text of a text target
    actual: float | None  # None for a text target
    ratio: float  # percent points, the truth behind every written form
    status: str  # done / on_track / lagging / severe, against an expected 75%
    project: int
    project_name: str
    # Bulletin cells as written (possibly messy, blank or missing).
    category_cell: str
    unit_cell: str
    target_cell: str
    progress_cell: str
    ratio_cell: str


def generate(
    n: int, seed: int = 0, outdir: Path | str | None = None, *, force: bool = False
) -> dict[str, Path]:
    """Write the files for `n` items (unless `outdir` already has them); return their paths.

    Keys: `csv_utf8`, `csv_gb18030`, `xlsx`. `outdir` defaults to `bench/.data/n{n}-seed{seed}`,
    the cache shared by benchmark runs; a manifest records the generator version, so files from an
    older generator are rewritten.
    """
    out = Path(outdir) if outdir is not None else DATA_DIR / f"n{n}-seed{seed}"
    paths = {kind: out / name for kind, name in FILES.items()}
    if not force and _cached(out, n, seed):
        return paths
    out.mkdir(parents=True, exist_ok=True)
    items = make_items(n, seed)
    text = bulletin_text(items)
    _write_atomic(paths["csv_utf8"], text.encode("utf-8"))
    _write_atomic(paths["csv_gb18030"], text.encode("gb18030"))
    tmp = _tmp_name(paths["xlsx"])
    write_xlsx(items, tmp, seed)
    os.replace(tmp, paths["xlsx"])
    manifest = {
        "generator": GENERATOR_VERSION,
        "n": n,
        "seed": seed,
        "as_of": "2024-09-30",
        "expected_ratio": 75.0,
        "statuses": dict(Counter(item.status for item in items)),
        "files": {kind: {"name": p.name, "bytes": p.stat().st_size} for kind, p in paths.items()},
    }
    _write_atomic(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    return paths


def manifest(paths: dict[str, Path]) -> dict[str, Any]:
    """The manifest written beside generated files (statuses are the truth a loader should find)."""
    data: dict[str, Any] = json.loads((paths["csv_utf8"].parent / MANIFEST).read_text())
    return data


def _cached(out: Path, n: int, seed: int) -> bool:
    try:
        data = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    same = (data.get("generator"), data.get("n"), data.get("seed")) == (GENERATOR_VERSION, n, seed)
    return same and all((out / name).is_file() for name in FILES.values())


def _tmp_name(path: Path) -> Path:
    # One per process: two benchmark runs filling the same cache must not write the same file.
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _write_atomic(path: Path, data: bytes) -> None:
    # Readers (a running dashboard, another benchmark) must never see half a file.
    tmp = _tmp_name(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)


def status_of(ratio: float, expected: float = EXPECTED) -> str:
    """The default status rule of design §2 (25 points below expected is severe)."""
    if ratio >= 100:
        return "done"
    if ratio >= expected:
        return "on_track"
    return "lagging" if ratio >= expected - 25 else "severe"


def _pick(rng: random.Random, shares: tuple[tuple[str, float], ...]) -> str:
    u = rng.random()
    for value, share in shares:
        if u < share:
            return value
        u -= share
    return shares[-1][0]


def _number_text(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if decimals else str(round(value))


def make_items(n: int, seed: int) -> list[Item]:
    """The items, grouped in runs by lead unit as bulletins are; same `seed`, same items."""
    rng = random.Random(seed)
    units = list(UNITS)
    items: list[Item] = []
    project = 0
    previous: Item | None = None
    while len(items) < n:
        unit = rng.choice(units)
        run = min(rng.randint(1, 6), n - len(items))
        per_project = 0
        for _ in range(run):
            if per_project == 0:
                project += 1
                per_project = rng.randint(1, 3)
            per_project -= 1
            item = _make_item(rng, len(items) + 1, unit, project, previous)
            items.append(item)
            previous = item
    return items


def _make_item(rng: random.Random, item_id: int, unit: str, project: int, previous: Item | None) -> Item:
    indicator = rng.choice(UNITS[unit])
    status = _pick(rng, STATUS_SHARES)
    if status != "done":
        ratio = round(rng.uniform(*STATUS_RANGES[status]), 1)
    elif rng.random() < 0.7:
        ratio = 100.0
    else:  # over-achievers: mostly a little over, a few far over (the sample has 259.5%)
        ratio = round(min(100.1 + rng.expovariate(1 / 15), 260.0), 1)
    category = _pick(rng, CATEGORIES)

    actual: float | None = None  # None for a text target
    actual_text: str | None = None
    if len(indicator) == 3:  # a target that is text: a city-wide standard or a rate
        phrase, template, (t_low, t_high) = indicator
        name, measure = phrase, ""
        target: float | str = template.format(rng.randint(t_low, t_high))
        target_cell = str(target)
        progress = rng.choice(DONE_NOTES) if status == "done" else PLATFORM_NOTE
    else:
        phrase, measure = indicator
        if rng.random() < 0.6:
            phrase = rng.choice(TOWNSHIPS) + phrase
        name = f"{phrase}({measure})"
        m_low, m_high, decimals = MEASURES[measure]
        target = (
            round(rng.uniform(m_low, m_high), decimals) if decimals else rng.randint(int(m_low), int(m_high))
        )
        target_cell = _number_text(target, decimals)
        actual_decimals = 3 if measure == "公里" else decimals
        actual = round(target * ratio / 100, actual_decimals)
        actual_text = _number_text(actual, actual_decimals)
        u = rng.random()
        if u < 0.45:
            progress = actual_text
            if rng.random() < MESSY_SHARE and "." in actual_text:
                progress = actual_text.replace(".", ". ", 1)  # `27. 904`, as OCR leaves it
        elif u < 0.65:
            progress = f"已完成{actual_text}{measure}"
            if status != "done":
                progress += "，其余正在推进"
        elif u < 0.80:
            progress = PLATFORM_NOTE
        else:
            progress = rng.choice(DONE_NOTES if status == "done" else ONGOING_NOTES)

    ratio_cell = f"{ratio:.1f}%"
    u = rng.random()
    if u < MISSING_RATIO_SHARE and progress == actual_text:
        # Computable from target and actual, as item 23 of the sample: the truth becomes what a
        # loader will compute, so the status counts in the manifest stay exact.
        ratio_cell = ""
        ratio = round(float(progress) / float(target) * 100, 1)
        status = status_of(ratio)
    elif u < MISSING_RATIO_SHARE + MESSY_SHARE:
        ratio_cell = (
            ratio_cell.translate(_FULL_WIDTH) if rng.random() < 0.5 else ratio_cell.replace(".", ". ", 1)
        )

    # Merged cells exported as blanks: only where the row above has the same value.
    unit_cell = unit
    if previous is not None and previous.unit == unit and rng.random() < BLANK_UNIT_SHARE:
        unit_cell = ""
    category_cell = category
    if previous is not None and previous.category == category and rng.random() < BLANK_CATEGORY_SHARE:
        category_cell = ""

    return Item(
        id=item_id,
        category=category,
        name=name,
        unit=unit,
        measure=measure,
        target=target,
        actual=actual,
        ratio=ratio,
        status=status,
        project=project,
        project_name=re.sub(r"\([^()]*\)$", "", name),
        category_cell=category_cell,
        unit_cell=unit_cell,
        target_cell=target_cell,
        progress_cell=progress,
        ratio_cell=ratio_cell,
    )


def bulletin_text(items: list[Item]) -> str:
    """The bulletin CSV as text (the caller picks the encoding)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(BULLETIN_HEADER)
    for item in items:
        writer.writerow(
            [
                item.id,
                item.category_cell,
                item.name,
                item.unit_cell,
                item.target_cell,
                item.progress_cell,
                item.ratio_cell,
            ]
        )
    return buffer.getvalue()


class _PinnedZip(zipfile.ZipFile):
    """A ZipFile whose entries carry a fixed date, so the same workbook gives the same bytes."""

    date_time = EXPORTED_AT.timetuple()[:6]

    def _info(self, arcname: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(arcname, date_time=self.date_time)
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16
        return info

    def writestr(  # type: ignore[override]
        self, zinfo_or_arcname: str | zipfile.ZipInfo, data: bytes | str, *args: Any, **kwargs: Any
    ) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def write(  # type: ignore[override]
        self, filename: str, arcname: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        # openpyxl's write-only sheets arrive as temporary files: stream them, do not load them.
        with (
            open(filename, "rb") as src,
            self.open(self._info(arcname or filename), "w", force_zip64=True) as dst,
        ):
            shutil.copyfileobj(src, dst, 1 << 20)


def write_xlsx(items: list[Item], path: Path, seed: int) -> None:
    """The 码上通 export of `items` (design §4), byte-for-byte reproducible for a seed."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.writer.excel import ExcelWriter

    rng = random.Random(f"xlsx-{seed}")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("项目清单")
    ws.append([TITLE])
    ws.append(MASHANGTONG_HEADER)

    def percent(fraction: float) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=fraction)
        cell.number_format = PERCENT_FORMAT
        return cell

    for item in items:
        done = item.ratio >= 100
        if done and rng.random() < 0.7:
            acceptance, accepted = "已验收", min(item.ratio, 100.0)
        elif item.ratio < 50 and rng.random() < 0.5:
            acceptance, accepted = "未验收", 0.0
        else:
            acceptance, accepted = "验收中", max(0.0, min(item.ratio, 100.0) - rng.uniform(0, 12))
        comments = rng.randint(0, 8)
        updated = datetime(2024, 9, rng.randint(1, 27), rng.randint(8, 18), rng.randint(0, 59))
        monthly = [rng.randint(0, 2) if m <= AS_OF_MONTH else None for m in MONTHS]
        ws.append(
            [
                f"HN2024-{item.project:02d}",
                item.project_name,
                item.name,
                "市实事" if item.category == "湘潭市实事" else "省实事",
                item.unit,
                item.target,
                item.measure,
                item.actual,
                percent(round(item.ratio / 100, 4)),
                acceptance,
                percent(round(accepted / 100, 4)),
                rng.randint(1, 3),
                rng.randint(1, 5),
                rng.randint(1, 4),
                *monthly,
                rng.randint(40, 300),
                percent(round(rng.uniform(0.95, 0.999), 3)),
                comments,
                comments if rng.random() < 0.95 else rng.randint(0, comments),
                f"{updated:%Y-%m-%d %H:%M}",
            ]
        )
    wb.properties.creator = "民生实事码上通 (bench)"
    wb.properties.created = wb.properties.modified = EXPORTED_AT
    # Workbook.save would stamp the current time into docProps and the zip entries.
    with _PinnedZip(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()


def _ratio_points(cell: str) -> float | None:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell)).removesuffix("%")
    try:
        return float(text)
    except ValueError:
        return None


def read_bulletin(path: Path | str) -> tuple[list[list[str]], str]:
    """The rows of a bulletin CSV (header first) and the encoding it was in (UTF-8 or GB18030)."""
    data = Path(path).read_bytes()
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return list(csv.reader(io.StringIO(text, newline=""))), encoding
    raise ValueError(f"{path}: neither UTF-8 nor GB18030")


def mutate(path: Path | str, fraction: float = 0.01, seed: int = 0) -> list[str]:
    """Raise the ratio of `fraction` of a bulletin's rows (at least one) and rewrite it in place.

    Returns the 序号 of the changed rows, in file order. The file keeps its encoding, and is
    replaced atomically, so a dashboard watching it never reads half a file.
    """
    rows, encoding = read_bulletin(path)
    header, body = rows[0], rows[1:]
    id_col, ratio_col = header.index("序号"), header.index("完成比例")
    rng = random.Random(f"mutate-{seed}")
    chosen = sorted(rng.sample(range(len(body)), max(1, round(fraction * len(body)))))
    for index in chosen:
        row = body[index]
        old = _ratio_points(row[ratio_col])
        new = old + rng.uniform(0.1, 5.0) if old is not None else rng.uniform(50.0, 100.0)
        text = f"{new:.1f}%"
        row[ratio_col] = text if text != row[ratio_col] else f"{new + 0.1:.1f}%"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    _write_atomic(Path(path), buffer.getvalue().encode(encoding))
    return [body[index][id_col] for index in chosen]


def changes(path: Path | str, ids: list[str], column: str = "完成比例") -> list[Change]:
    """The new values of `column` in the rows `ids` of a bulletin (e.g. after `mutate`)."""
    rows, _ = read_bulletin(path)
    id_col, col = rows[0].index("序号"), rows[0].index(column)
    wanted = set(ids)
    return [Change(row[id_col], column, row[col]) for row in rows[1:] if row[id_col] in wanted]
