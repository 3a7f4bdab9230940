"""附件1 精准康复服务手册 printed from hand-made data: cover, basic information, the institutions' pages."""

from __future__ import annotations

from printing import Handbook, handbook_pdf
from tests.printing import samples
from tests.printing.pdf import A4_PORTRAIT, compact, is_a4, page_sizes, text_of

COVER = (
    "两江新区",
    "残疾人精准康复服务手册",
    "重庆市残疾人联合会两江新区办事处制",
    "小二寸彩照",
    "服务手册使用说明",
)
BASIC_INFORMATION = (
    "残疾人基本信息", "姓名", "性别", "民族", "联系电话", "家庭住址", "监护人姓名", "与残疾人关系",
    "监护人联系电话", "残疾类别", "视力", "听力", "言语", "肢体", "智力", "精神", "（多重残疾可多选）",
    "残疾等级", "一级", "二级", "三级", "四级", "未定级", "身份证号", "残疾人证号（持证必填）",
    "注：1.非持证残疾儿童可不填写残疾人证号；", "2.本页由社区康复协调员填写。",
)  # fmt: skip
ASSESSMENT = (
    "康复需求评估与转介记录", "康复需求", "是否需转介", "是", "否", "转介至", "（机构）", "评估机构名称",
    "评估人", "评估时间", "2．本页由评估机构填写。",
)  # fmt: skip
SERVICE = (
    "康复服务记录", "服务项目", "服务频次", "服务周期", "至", "服务机构名称", "服务人员", "残疾人或监护人",
    "日期", "2．本页由康复服务机构填写，残疾人或监护人在其接受服务后须签字确认。",
)  # fmt: skip


def test_each_page_holds_every_label_the_seeds_handbook_prints() -> None:
    pdf = handbook_pdf(samples.handbook())

    pages = [compact(text_of(pdf, first=number, last=number)) for number in range(1, 6)]

    assert [label for label in COVER if label not in pages[0] + pages[1]] == []
    assert [label for label in BASIC_INFORMATION if compact(label) not in pages[2]] == []
    assert [label for label in ASSESSMENT if label not in pages[3]] == []
    assert [label for label in SERVICE if label not in pages[4]] == []


def test_the_pages_hold_the_persons_the_assessments_and_the_services_values() -> None:
    person = samples.PERSON

    text = compact(text_of(handbook_pdf(samples.handbook())))

    basic = (person.name, "土家族", person.phone, person.address, "王芳", "母女", "13900139000")
    for value in (*basic, person.id_number, person.certificate_number, "视力☑", "肢体☑", "二级☑", "听力□"):
        assert value in text, value
    for value in ("白内障复明手术、低视力视功能训练", "是☑否□", "重医附二院（机构）", "重庆爱尔眼科（机构）",
                  "两江新区第一人民医院康复评估中心", "何医生", "2024年9月20日"):  # fmt: skip
        assert value in text, value
    for value in ("每周2次，每次45分钟", "2024年11月1日", "至2024年12月20日", "林治疗师", "王芳"):
        assert value in text, value


def test_a_handbook_handed_out_at_the_survey_prints_the_institutions_pages_blank() -> None:
    pdf = handbook_pdf(Handbook(person=samples.PERSON))

    assessment, service = (compact(text_of(pdf, first=number, last=number)) for number in (4, 5))

    assert "康复需求评估与转介记录" in assessment and "是□否□" in assessment
    assert "康复服务记录" in service and "林治疗师" not in service
    assert len(page_sizes(pdf)) == 5


def test_one_page_per_assessment_and_per_service_record_each_on_a4() -> None:
    handbook = samples.handbook()
    two_services = Handbook(handbook.person, handbook.assessments, handbook.services * 2)

    sizes = page_sizes(handbook_pdf(two_services))

    assert len(sizes) == 2 + 1 + 1 + 2
    assert all(is_a4(size, A4_PORTRAIT) for size in sizes)
