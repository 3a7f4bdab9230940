"""The monthly progress report and the year-end summary of the reporting chain as a workbook: the unit's
own row, then every unit below it, indented, each a sum of those under it; counts as numbers, coverage as
a number formatted as a percentage, so a level above can add the sheets it receives."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from services.settlement.documents.cells import as_text
from services.settlement.documents.chain import LEVEL_NAMES, ChainReport, Counts, Level, report_date
from services.settlement.documents.labels import rule_name

COLUMNS = ("层级", "单位", "调查人数", "有康复需求人数", "已接受服务人数", "覆盖率", "目标", "是否达标")
WIDTHS = (10, 30, 12, 16, 16, 10, 10, 10)
HEADER_ROW = 4
NO_COMMUNITY = "（未填社区）"
NOTES = (
    "注：1．逐级上报：社区 → 街道 → 区（县） → 市 → 省；每一级的数字为其下一级各单位之和。",
    "2．按每人截至统计日的最后一次需求调查计入所在街道、社区；覆盖率 = 已接受服务人数 ÷ 有康复需求人数。",
    "3．月报于每月底报送；年终汇总与附件3一并于12月20日前报送。",
)
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def title_of(report: ChainReport) -> str:
    if report.kind == "year_end":
        return f"{report.year}年度残疾人精准康复服务工作年终汇总表"
    return f"{report.year}年{report.month}月残疾人精准康复服务工作进展情况月报"


def unit_name(name: str, level: Level) -> str:
    """A unit as clerks say it: 鸳鸯街道, 第一社区; the district and above by their own names."""
    if level == "community":
        return name or NO_COMMUNITY
    if level == "street" and not name.endswith(("街道", "区", "县", "市")):
        return f"{name}街道"
    return name


def chain_xlsx(report: ChainReport) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "年终汇总" if report.kind == "year_end" else f"{report.month}月进展"
    last_column = get_column_letter(len(COLUMNS))
    sheet.merge_cells(f"A1:{last_column}1")
    sheet["A1"] = title_of(report)
    sheet["A1"].font = Font(bold=True, size=15)
    sheet["A1"].alignment = Alignment(horizontal="center")
    top = report.top
    day = report_date(report)
    sheet["A2"] = f"报告单位：{unit_name(top.name, top.level)}（{LEVEL_NAMES[top.level]}）"
    sheet["E2"] = f"统计截至：{day.year}年{day.month}月{day.day}日"
    for column, (heading, width) in enumerate(zip(COLUMNS, WIDTHS, strict=True), start=1):
        cell = sheet.cell(HEADER_ROW, column, heading)
        cell.font, cell.border = Font(bold=True), BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(column)].width = width
    row = HEADER_ROW
    for depth, unit in top.walk():
        row += 1
        _unit_row(sheet, row, depth, unit.level, unit_name(unit.name, unit.level), unit.counts, report)
    row += 2
    sheet.cell(row, 1, "填表人：")
    sheet.cell(row, 4, "审核人：")
    sheet.cell(row, 6, "填表日期：")
    for note in NOTES:
        row += 1
        sheet.cell(row, 1, note)
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, 1)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if report.spending is not None:
        _spending_sheet(workbook, report)
    buffer = io.BytesIO()
    as_text(workbook).save(buffer)
    return buffer.getvalue()


def _unit_row(
    sheet: Worksheet, row: int, depth: int, level: Level, name: str, counts: Counts, report: ChainReport
) -> None:
    """A unit's figures: counts as integers, coverage and target as fractions shown as 85.7%."""
    met = report.met(counts)
    values: tuple[object, ...] = (
        LEVEL_NAMES[level],
        name,
        counts.surveyed,
        counts.with_needs,
        counts.served,
        None if counts.with_needs == 0 else counts.served / counts.with_needs,
        None if report.target_percent is None else float(report.target_percent) / 100,
        {None: "", True: "达标", False: "未达标"}[met],
    )
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row, column, value)
        cell.border = BOX
        if column in (6, 7):
            cell.number_format = "0.0%"
        if depth == 0:
            cell.font = Font(bold=True)
    sheet.cell(row, 2).alignment = Alignment(indent=depth)


FUNDING_LEVELS = {
    "central_provincial": "中央和省级财政",
    "city_county": "市县财政",
    "city": "市级财政",
    "county": "县级财政",
    "district": "区级财政",
}
"""The policies' funding levels 资金层级 as the finance bureaus name them."""
YUAN_FORMAT = "#,##0.00"


def spending_title(report: ChainReport) -> str:
    top = report.top
    return f"{report.year}年度经费支出（{unit_name(top.name, top.level)}，单位：元）"


def funding_level_name(level: str | None) -> str:
    return "（未写明层级的资金）" if level is None else FUNDING_LEVELS.get(level, level)


def _spending_sheet(workbook: Workbook, report: ChainReport) -> None:
    """The year's money: each 经费类别 net of claw-backs, then the levels of government that paid it;
    amounts in yuan as numbers (two decimals), so they add up in a spreadsheet."""
    spending = report.spending
    assert spending is not None
    sheet = workbook.create_sheet("经费支出")
    sheet["A1"] = spending_title(report)
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 30, 18
    row = 3
    for heading, amounts in (
        ("经费类别", [(rule_name(rule), fen) for rule, fen in spending.by_rule().items()]),
        (
            "资金来源（政府层级）",
            [(funding_level_name(level), fen) for level, fen in spending.by_level().items()],
        ),
    ):
        for column, text in enumerate((heading, "金额（元）"), start=1):
            cell = sheet.cell(row, column, text)
            cell.font, cell.border = Font(bold=True), BOX
        for label, fen in [*amounts, ("合计", spending.total_fen)]:
            row += 1
            sheet.cell(row, 1, label).border = BOX
            amount = sheet.cell(row, 2, Decimal(fen) / 100)
            amount.number_format, amount.border = YUAN_FORMAT, BOX
        row += 2
