"""The columns of the survey import sheet (附件1 basic information and needs) and how one row becomes
the person's details and needs survey.

Only the reading of cells is decided here (which label means which code, what a date looks like);
every rule of registration and surveys stays in the person aggregate, which the import runs row by
row. Reasons are in Chinese for the street office; the columns carry the labels users know.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from kernel.domain.rejections import CommandRejected
from services.survey import labels
from services.survey.domain import Guardian, NeedsSurveyRequest, PersonDetails
from services.survey.identity import IdentityError, parse_resident_id
from services.survey.sheet import Sheet, SheetRow, TemplateColumn
from services.survey.sheet_cells import RowCells, RowError

SHORT_MAX = 50


@dataclass(frozen=True)
class Column:
    label: str
    field: str
    """The detail (or survey) field of the domain this column fills; names the column in domain errors."""
    required: bool
    note: str
    aliases: tuple[str, ...] = ()
    text: bool = False
    choices: tuple[str, ...] = ()
    example: str = ""


_CATEGORY_NOTE = "视力、听力、言语、肢体、智力、精神；多重残疾列出各类别，用“、”分隔"
_ITEMS_NOTE = "康复需求为“有”时必填，用“、”分隔：" + "、".join(labels.ITEM_LABELS.values())
COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", True, "残疾人姓名，可含间隔号·", example="李明"),
    Column("性别", "sex", True, "男 或 女，须与身份证号第17位一致", choices=("男", "女"), example="男"),
    Column("民族", "ethnicity", True, "如 汉族", example="汉族"),
    Column(
        "出生日期",
        "birth_date",
        False,
        "如 1958-04-12；不填则取身份证号中的出生日期，填写时须一致",
        aliases=("出生年月",),
        example="1958-04-12",
    ),
    Column(
        "身份证号",
        "id_number",
        True,
        "18位，半角数字，末位可为X；请保持文本格式",
        aliases=("身份证号码", "公民身份证号", "公民身份号码"),
        text=True,
        example="500112195804122312",
    ),
    Column(
        "残疾人证号",
        "certificate_number",
        False,
        "持证必填：身份证号+类别位(1视力…6精神,7多重)+等级位(1-4)，共20位；未持证残疾儿童可不填",
        aliases=("残疾证号",),
        text=True,
        example="50011219580412231212",
    ),
    Column(
        "残疾军人证号",
        "veteran_certificate_number",
        False,
        "残疾军人凭《残疾军人证》视为持证",
        text=True,
    ),
    Column("残疾类别", "disability_categories", True, _CATEGORY_NOTE, example="视力"),
    Column(
        "残疾等级",
        "disability_grade",
        True,
        "一级、二级、三级、四级 或 未定级",
        choices=tuple(labels.GRADE_LABELS.values()),
        example="二级",
    ),
    Column(
        "联系电话",
        "phone",
        True,
        "手机或座机，如 13800138000、023-67881234",
        text=True,
        example="13800138000",
    ),
    Column("家庭住址", "address", True, "", example="两江新区鸳鸯街道金渝大道88号"),
    Column("户籍所在地", "household_registration", True, "", example="重庆市渝北区"),
    Column("现居住地", "residence", True, "", example="两江新区鸳鸯街道"),
    Column("社区", "community", True, "所在社区（居委会）", example="金渝社区"),
    Column(
        "家庭经济状况",
        "economic_status",
        True,
        "低保家庭、低收入家庭 或 其他",
        choices=tuple(labels.ECONOMIC_LABELS.values()),
        example="低保家庭",
    ),
    Column(
        "医疗保险",
        "medical_insurance",
        True,
        "享受的医疗保险，可多项用“、”分隔：" + "、".join(labels.INSURANCE_LABELS.values()),
        aliases=("享受医疗保险情况", "享受医疗保险"),
        example="城乡居民基本医疗保险",
    ),
    Column("监护人姓名", "guardian.name", False, "未满18岁的残疾儿童必填监护人", example=""),
    Column(
        "监护人性别",
        "guardian.sex",
        False,
        "男 或 女；填了监护人身份证号时可不填",
        choices=("男", "女"),
    ),
    Column(
        "与残疾人关系",
        "guardian.relation",
        False,
        "如 母亲",
        aliases=("监护人与残疾人关系", "与申请人关系", "监护人关系"),
    ),
    Column("监护人联系电话", "guardian.phone", False, "", aliases=("监护人电话",), text=True),
    Column("监护人身份证号", "guardian.id_number", False, "", aliases=("监护人身份证号码",), text=True),
    Column(
        "康复需求",
        "has_needs",
        True,
        "有 或 无",
        aliases=("康复需求情况",),
        choices=(labels.YES, labels.NO),
        example="有",
    ),
    Column("康复需求项目", "needed_items", False, _ITEMS_NOTE, example="低视力视功能训练"),
    Column(
        "行动不便",
        "home_visit_required",
        False,
        "是 = 行动不便，评估和服务须入户；不填 = 否",
        choices=("是", "否"),
        example="否",
    ),
)
PERSON_FACT_COLUMNS = (
    Column(
        "残疾细类",
        "disability_subtypes",
        False,
        "部分补助标准据此分档：低视力 或 盲（仅视力残疾，二者选一），孤独症；不填 = 无",
        aliases=("残疾类别细分",),
        example="",
    ),
    Column(
        "家庭经济困难情况",
        "hardship_statuses",
        False,
        "低保、低收入以外经核实的困难，可多项用“、”分隔：" + "、".join(labels.HARDSHIP_SHORT.values()),
        aliases=("困难情况",),
        example="",
    ),
    Column(
        "持居住证",
        "residence_permit",
        False,
        "是 = 外省市户籍、持居住证在本辖区居住；不填 = 否（本辖区户籍）",
        aliases=("居住证",),
        choices=("是", "否"),
        example="",
    ),
)
"""Optional: a sheet without these columns records none of these facts, as before they were kept."""
COLUMNS = (*COLUMNS, *PERSON_FACT_COLUMNS)
STREET_COLUMN = Column("街道", "street", False, "可省略；填写时须与本次导入的街道一致")
ALL_COLUMNS = (*COLUMNS, STREET_COLUMN)
FIELDS = {column.label: column.field for column in ALL_COLUMNS}
"""Column label -> the domain field its cell errors are reported under."""
HEADERS = {alias: column.label for column in ALL_COLUMNS for alias in (column.label, *column.aliases)}
ANCHOR = "身份证号"

CAMPAIGN_LABELS = {
    "street": "街道",
    "survey_year": "调查年度",
    "surveyed_on": "调查日期",
    "registered_on": "调查日期",
    "surveyor": "调查人",
}
FIELD_LABELS: Mapping[str, str] = {
    **{column.field: column.label for column in ALL_COLUMNS},
    **CAMPAIGN_LABELS,
    "guardian": "监护人姓名",
    "supersedes": "身份证号",
}
"""Domain field -> the column a domain rejection is reported under."""

WHOLE_ROW = "（整行）"

TEMPLATE_COLUMNS = tuple(
    TemplateColumn(c.label, c.required, c.note, c.text, c.choices, c.example) for c in COLUMNS
)
TEMPLATE_NOTES = (
    "说明：",
    "1. 每行一名残疾人：附件1 残疾人基本信息 + 本年度康复需求调查。"
    "街道、调查年度、调查日期、调查人在上传时填写。",
    "2. 整张表一次导入：任何一行有误，整表都不导入，并逐行列出错误（行号、列名、原因）；改正后重新上传。",
    "3. 已登记的残疾人（身份证号相同）只记录本年度调查，基本信息不变；如需更正基本信息请单独提交更正。",
    "4. 身份证号、残疾人证号请使用半角数字（全角数字如１２３不被接受），"
    "并把单元格设为文本格式，以免丢失位数。",
    "5. 可另加“序号”等列，导入时忽略。也可上传同样列名的 csv 文件（UTF-8 或 GBK 编码）。",
)


@dataclass(frozen=True)
class SurveyCampaign:
    """What the street office states once for the whole sheet."""

    street: str
    survey_year: int
    surveyed_on: date
    surveyor: str


@dataclass(frozen=True)
class ParsedRow:
    number: int
    details: PersonDetails
    needs: NeedsSurveyRequest


def rejection_error(row: int, error: CommandRejected) -> RowError:
    """A rule of the person aggregate that refused a row, reported under the column of its field."""
    column = FIELD_LABELS.get(error.field, error.field) if error.field else WHOLE_ROW
    return RowError(row, column, error.message, error.code, error.field)


def missing_columns(header_row: int, columns: Collection[str]) -> list[RowError]:
    """The required columns the header row lacks, reported on that row."""
    return [
        RowError(header_row, column.label, f"缺少必填列“{column.label}”", "missing_column")
        for column in COLUMNS
        if column.required and column.label not in columns
    ]


def parse_rows(sheet: Sheet, campaign: SurveyCampaign) -> tuple[list[ParsedRow], list[RowError]]:
    """Every row read into details and a survey request, or the errors of its cells."""
    errors = missing_columns(sheet.header_row, sheet.columns)
    if errors:
        return [], errors
    parsed = []
    for row in sheet.rows:
        result = parse_row(row, campaign)
        if isinstance(result, ParsedRow):
            parsed.append(result)
        else:
            errors.extend(result)
    return parsed, errors


def parse_row(row: SheetRow, campaign: SurveyCampaign) -> ParsedRow | list[RowError]:
    cells = RowCells(row, FIELDS)
    street = cells.text("街道", required=False)
    if street and street != campaign.street:
        cells.fail("街道", f"本表导入的是{campaign.street}街道的调查，此行写的是“{street}”", "other_street")
    id_number = cells.code("身份证号")
    resident = None
    if id_number:
        try:
            resident = parse_resident_id(id_number)
        except IdentityError as error:
            cells.fail("身份证号", error.message, error.code)
    birth_date = cells.day("出生日期", required=False) or (resident.birth_date if resident else None)
    guardian = _guardian(cells)
    details = dict(
        street=campaign.street,
        community=cells.text("社区", max_length=SHORT_MAX),
        name=cells.text("姓名"),
        sex=cells.choice("性别", labels.SEX_ALIASES, "男 或 女"),
        ethnicity=cells.text("民族"),
        phone=cells.code("联系电话"),
        address=cells.text("家庭住址"),
        household_registration=cells.text("户籍所在地"),
        residence=cells.text("现居住地"),
        certificate_number=cells.code("残疾人证号", required=False),
        veteran_certificate_number=cells.text("残疾军人证号", required=False),
        disability_categories=_categories(cells),
        disability_grade=cells.choice("残疾等级", labels.GRADE_ALIASES, "一级、二级、三级、四级 或 未定级"),
        economic_status=cells.choice("家庭经济状况", labels.ECONOMIC_ALIASES, "低保家庭、低收入家庭 或 其他"),
        medical_insurance=cells.many(
            "医疗保险", labels.INSURANCE_ALIASES, "、".join(labels.INSURANCE_LABELS.values()), prefix="享受"
        ),
    )
    has_needs = cells.flag("康复需求", required=True)
    needed_items = _needed_items(cells)
    home_visit = cells.flag("行动不便", required=False)
    subtypes = cells.many(
        "残疾细类",
        labels.SUBTYPE_ALIASES,
        "低视力、盲、孤独症",
        text=cells.text("残疾细类", required=False) or "",
    )
    hardship = cells.many(
        "家庭经济困难情况",
        labels.HARDSHIP_ALIASES,
        "、".join(labels.HARDSHIP_SHORT.values()),
        text=cells.text("家庭经济困难情况", required=False) or "",
    )
    residence_permit = cells.flag("持居住证", required=False)
    if cells.errors:
        return cells.errors
    assert id_number is not None and birth_date is not None and has_needs is not None
    person = PersonDetails(
        id_number=id_number,
        birth_date=birth_date,
        guardian=guardian,
        **details,  # type: ignore[arg-type]
    )
    needs = NeedsSurveyRequest(
        survey_year=campaign.survey_year,
        surveyed_on=campaign.surveyed_on,
        has_needs=has_needs,
        needed_items=needed_items,
        home_visit_required=bool(home_visit),
        surveyor=campaign.surveyor,
        disability_subtypes=subtypes,
        hardship_statuses=hardship,
        residence_permit=bool(residence_permit),
    )
    return ParsedRow(row.number, person, needs)


def _guardian(cells: RowCells) -> Guardian | None:
    labels_ = ("监护人姓名", "监护人性别", "与残疾人关系", "监护人联系电话", "监护人身份证号")
    if all(cells.blank(label) for label in labels_):
        return None
    id_number = cells.code("监护人身份证号", required=False)
    sex = cells.choice("监护人性别", labels.SEX_ALIASES, "男 或 女", required=False)
    if sex is None and id_number and not cells.has_error("监护人身份证号"):
        try:
            sex = parse_resident_id(id_number, field="guardian.id_number").sex
        except IdentityError as error:
            cells.fail("监护人身份证号", f"监护人{error.message}", error.code)
    elif sex is None and not cells.has_error("监护人性别"):
        cells.fail("监护人性别", "填写了监护人时须填监护人性别（或监护人身份证号）", "required")
    name = cells.text("监护人姓名", required=True, reason="填写了监护人信息时须填监护人姓名")
    relation = cells.text("与残疾人关系", required=True, reason="填写了监护人时须填与残疾人关系")
    phone = cells.code("监护人联系电话", required=True, reason="填写了监护人时须填监护人联系电话")
    if name is None or relation is None or phone is None or sex is None:
        return None
    return Guardian(name=name, sex=sex, phone=phone, relation=relation, id_number=id_number)


def _categories(cells: RowCells) -> tuple[str, ...]:
    text = cells.text("残疾类别") or ""
    multiple = "多重" in text
    text = re.sub(r"多重(残疾)?|[()（）]", " ", text)
    found = cells.many("残疾类别", labels.CATEGORY_ALIASES, _CATEGORY_NOTE, text=text)
    if multiple and len(found) == 1 and not cells.has_error("残疾类别"):
        cells.fail("残疾类别", "多重残疾请列出各个类别，如“视力、肢体”", "invalid_choice")
    return found


def _needed_items(cells: RowCells) -> tuple[str, ...]:
    text = cells.text("康复需求项目", required=False) or ""
    text = text.replace("生活自理、心理疏导", "生活自理及心理疏导")
    allowed = "、".join(labels.ITEM_LABELS.values())
    return cells.many("康复需求项目", labels.ITEM_ALIASES, allowed, text=text, prefix="□")
