"""Hand-made forms for the printing tests: every field the seed's form lists is filled, the titles,
issuer and institutions from Liangjiang's pack (another pack's through ``jurisdiction``)."""

from __future__ import annotations

from datetime import date

from kernel.reference import Jurisdiction, load_jurisdiction
from printing import (
    AnnualSummary,
    ApprovalForm,
    AssessmentPage,
    CardItem,
    CommunityForm,
    Guardian,
    Handbook,
    ItemDecision,
    Person,
    RequestedItem,
    ServiceCard,
    ServicePage,
    SignOff,
    SummaryRow,
)


def liangjiang() -> Jurisdiction:
    return load_jurisdiction("liangjiang")


GUARDIAN = Guardian(
    name="王芳", sex="女", phone="13900139000", id_number="500112198208150026", relation="母女"
)
PERSON = Person(
    name="李明",
    sex="男",
    ethnicity="土家族",
    birth_date=date(1958, 4, 12),
    id_number="500112195804121234",
    certificate_number="50011219580412123412",
    phone="13800138000",
    address="重庆市两江新区鸳鸯街道金开大道88号3栋2单元",
    household_registration="重庆市渝北区鸳鸯街道",
    residence="重庆市两江新区鸳鸯街道金开大道88号",
    categories=("视力", "肢体"),
    grade="二级",
    street="鸳鸯",
    community="鸳鸯第一社区",
    guardian=GUARDIAN,
)


def approval_form(jurisdiction: Jurisdiction | None = None) -> ApprovalForm:
    """An approved application: cataract surgery (定额) and low-vision training (免费)."""
    jurisdiction = jurisdiction or liangjiang()
    return ApprovalForm(
        year=2024,
        street="鸳鸯",
        serial_number="YY-2024-017",
        person=PERSON,
        economic_status="低保家庭",
        insurances=("城乡居民基本医疗保险", "医疗救助"),
        requested=(
            RequestedItem("cataract_surgery", "白内障复明手术", "重医附二院", ("右眼",), True),
            RequestedItem("low_vision_training", "低视力视功能训练", "重庆爱尔眼科"),
        ),
        attachments=("身份证复印件", "残疾人证复印件", "户口簿复印件", "低保证复印件"),
        applicant_is_guardian=True,
        submitted_on=date(2024, 10, 8),
        community=SignOff("同意申请", responsible="周主任", handler="吴协调员", signed_on=date(2024, 10, 10)),
        street_review=SignOff(
            "情况属实，同意上报", "郑负责人", "冯复核人", "陈经办人", signed_on=date(2024, 10, 14)
        ),
        decision=SignOff("", "赵主任", "钱科长", "孙干事", signed_on=date(2024, 10, 21)),
        decisions=(
            ItemDecision("cataract_surgery", "白内障复明手术", True, "定额补助", 120000),
            ItemDecision("low_vision_training", "低视力视功能训练", True, "免费"),
        ),
        service_card_number="LJ2024-000017",
        status="已批准",
        institution_choices=jurisdiction.service_institutions_by_item(),
        title=jurisdiction.forms.application,
    )


def handbook(jurisdiction: Jurisdiction | None = None) -> Handbook:
    """李明's 手册: assessed at the district level, referred twice, served once."""
    jurisdiction = jurisdiction or liangjiang()
    return Handbook(
        person=PERSON,
        assessments=(
            AssessmentPage(
                needs=("白内障复明手术", "低视力视功能训练"),
                referral_needed=True,
                referred_to=("重医附二院", "重庆爱尔眼科"),
                institution="两江新区第一人民医院康复评估中心",
                assessor="何医生",
                assessed_on=date(2024, 9, 20),
            ),
        ),
        services=(
            ServicePage(
                item="低视力视功能训练",
                frequency="每周2次，每次45分钟",
                period_start=date(2024, 11, 1),
                period_end=date(2024, 12, 20),
                institution="重庆爱尔眼科",
                staff="林治疗师",
                signed_by="王芳",
                signed_on=date(2024, 12, 20),
            ),
        ),
        issuer=jurisdiction.issuing_federation,
        title=jurisdiction.forms.handbook,
        catalogue=jurisdiction.forms.catalogue,
    )


def service_card() -> ServiceCard:
    return ServiceCard(
        card_number="ZH2018-000321",
        person=PERSON,
        items=(
            CardItem("白内障复明手术", "定额补助", 120000, "重医附二院"),
            CardItem("低视力视功能训练", "免费", None, "重庆爱尔眼科"),
        ),
        valid_from=date(2018, 3, 2),
        valid_until=date(2018, 12, 31),
        issuer="珠海市香洲区残疾人联合会",
        issued_on=date(2018, 3, 2),
        application_serial_number="XZ-2018-045",
    )


SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN_NAMES = ("秀英", "建国", "桂兰", "志强", "淑芬", "德明", "玉兰", "国华", "秀珍", "建平", "丽")
SERVICES = (
    (("低视力视功能训练",), ("重庆爱尔眼科",)),
    (("辅助器具免费适配", "中途盲者心理疏导"), ("两江新区残疾人康复服务中心",)),
    (("白内障复明手术", "低视力视功能训练"), ("重医附二院", "重庆爱尔眼科")),
    ((), ()),
)


def summary_row(number: int, has_needs: bool = True) -> SummaryRow:
    """The ``number``-th person of a community: names, streets and services vary as a real list does."""
    services, institutions = SERVICES[number % len(SERVICES)] if has_needs else ((), ())
    return SummaryRow(
        name=SURNAMES[number % 10] + GIVEN_NAMES[number // 10 % len(GIVEN_NAMES)],
        sex="女" if number % 2 else "男",
        address=f"重庆市两江新区鸳鸯街道金开大道{number}号{number % 7 + 1}栋",
        id_number=f"50011219{50 + number % 40}0412{number:04d}"[:18],
        certificate_number=f"50011219{50 + number % 40}0412{number:04d}{number % 6 + 1}2"[:20],
        phone=f"1380013{number:04d}",
        has_needs=has_needs,
        services=services,
        institutions=institutions,
    )


def annual_summary(rows_in_first: int = 4, jurisdiction: Jurisdiction | None = None) -> AnnualSummary:
    """A street with three communities handed over in code-point order (第十 before 第二)."""
    jurisdiction = jurisdiction or liangjiang()
    return AnnualSummary(
        year=2024,
        street="鸳鸯",
        communities=(
            CommunityForm("鸳鸯第十社区", (summary_row(901),)),
            CommunityForm("鸳鸯第二社区", (summary_row(201, has_needs=False),)),
            CommunityForm("鸳鸯第一社区", tuple(summary_row(n) for n in range(1, rows_in_first + 1))),
        ),
        preparer="吴协调员",
        reviewer="郑负责人",
        filled_on=date(2024, 12, 18),
        title=jurisdiction.forms.annual_summary,
        catalogue=jurisdiction.forms.catalogue,
    )
