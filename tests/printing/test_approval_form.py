"""附件2 补助申请审批表 printed from hand-made data: every label of the seed's form, every value given."""

from __future__ import annotations

import re
from dataclasses import replace

from printing import ApprovalForm, Person, RequestedItem, approval_form_pdf
from tests.printing import samples
from tests.printing.pdf import A4_PORTRAIT, compact, is_a4, page_sizes, text_of

SEED_LABELS = (
    "两江新区残疾人精准康复服务补助申请审批表",
    "年度）",
    "街道：",
    "序号：",
    "姓名",
    "性别",
    "民族",
    "出生年月",
    "身份证号",
    "残疾人证号",
    "联系电话",
    "残疾等级",
    "一级",
    "未定级",
    "残疾类别",
    "（多重残疾可多选）",
    "户籍所在地",
    "现居住地",
    "家庭经济状况",
    "低收入家庭",
    "享受医疗保险情况",
    "享受城镇职工基本医疗保险",
    "享受城乡居民基本医疗保险",
    "享受医疗救助",
    "享受其他保险",
    "无医疗保险",
    "监护人",
    "身份证号码",
    "与申请人关系",
    "康复需求项目",
    "1.白内障复明手术",
    "左眼",
    "低保人员营养费",
    "2.辅助器具免费适配",
    "3.自费购买辅助器具补贴",
    "贫困残疾人",
    "非贫困残疾人",
    "4.盲人定向行走及适应训练",
    "区第一人民医院",
    "区第二人民医院",
    "5.低视力视功能训练",
    "6.支持性服务（服务机构：",
    "（1）中途盲者心理疏导",
    "（2）精神残疾人生活自理、心理疏导",
    "申请人或监护人申请",
    "社区意见",
    "居民委员会（盖章）",
    "街道意见",
    "街道办事处（盖章）",
    "残联办意见",
    "残联办（盖章）",
    "负责人：",
    "复核人：",
    "经办人：",
    "经审定，同意申请人享受",
    "补贴方式：",
    "定额补助",
    "填表说明：1.此表1式2份由残疾人或其监护人填写。",
    "4.非视力残疾人申请白内障复明手术，可不附残疾人精准康复服务手册等。",
)


def test_the_printed_form_holds_every_label_of_the_seeds_form() -> None:
    text = compact(text_of(approval_form_pdf(samples.approval_form())))

    missing = [label for label in SEED_LABELS if compact(label) not in text]

    assert missing == []


def test_the_printed_form_holds_the_applicants_guardians_and_applications_values() -> None:
    form = samples.approval_form()
    person, guardian = form.person, samples.GUARDIAN

    text = compact(text_of(approval_form_pdf(form)))

    for value in (
        "（2024年度）", "鸳鸯", "YY-2024-017", person.name, "男", "土家族", "1958年4月", person.id_number,
        person.certificate_number, person.phone, person.household_registration, person.residence,
        guardian.name, guardian.id_number, guardian.phone, guardian.relation,
    ):  # fmt: skip
        assert value in text, value
    for ticked in ("☑二级", "☑视力", "☑肢体", "☑低保家庭", "☑享受城乡居民基本医疗保险", "☑享受医疗救助"):
        assert ticked in text, ticked
    assert "☑1.白内障复明手术（□左眼☑右眼☑低保人员营养费）" in text
    assert "☑5.低视力视功能训练（服务机构：□重医附二院☑重庆爱尔眼科）" in text
    assert "□2.辅助器具免费适配" in text
    assert "☑低保证复印件" in text and "□残疾人精准康复服务手册" in text


def test_each_block_prints_who_signed_it_and_when_and_the_office_decides_item_by_item() -> None:
    text = compact(text_of(approval_form_pdf(samples.approval_form())))

    for name in ("周主任", "吴协调员", "郑负责人", "冯复核人", "陈经办人", "赵主任", "钱科长", "孙干事"):
        assert name in text, name
    for day in ("2024年10月8日", "2024年10月10日", "2024年10月14日", "2024年10月21日"):
        assert day in text, day
    assert "同意申请人享受白内障复明手术康复项目（补贴方式：□免费☑定额补助）金额1,200.00元" in text
    assert "同意申请人享受低视力视功能训练康复项目（补贴方式：☑免费□定额补助）" in text
    assert "监护人：王芳" in text


def test_an_application_nobody_signed_yet_prints_its_blocks_blank_for_the_pen() -> None:
    form = replace(samples.approval_form(), community=None, street_review=None, decision=None, decisions=())

    signatures = text_of(approval_form_pdf(form), first=2, layout=True)

    assert "赵主任" not in signatures and "周主任" not in signatures
    assert len(re.findall(r"年\s+月\s+日", signatures)) == 3
    assert "□免费□定额补助" in compact(signatures) and "☑" not in signatures


def test_a_child_without_certificate_or_guardian_prints_those_boxes_empty() -> None:
    child = Person(name="童乙", sex="女", categories=("智力",), grade="未定级")
    form = ApprovalForm(year=2025, street="金山", serial_number="JS-1", person=child)

    text = compact(text_of(approval_form_pdf(form)))

    assert "童乙" in text and "☑智力" in text and "☑未定级" in text
    assert "☑" not in text.replace("☑智力", "").replace("☑未定级", "")


def test_an_item_the_liangjiang_form_has_no_line_for_prints_on_a_line_of_its_own() -> None:
    training = RequestedItem("children_rehab_training", "儿童康复训练", "两江新区残疾人康复服务中心")
    form = replace(samples.approval_form(), requested=(training,), decisions=())

    text = compact(text_of(approval_form_pdf(form)))

    assert "☑儿童康复训练（服务机构：两江新区残疾人康复服务中心）" in text


def test_the_form_is_two_a4_pages_as_the_seeds_form() -> None:
    sizes = page_sizes(approval_form_pdf(samples.approval_form()))

    assert len(sizes) == 2
    assert all(is_a4(size, A4_PORTRAIT) for size in sizes)


def test_text_stored_before_control_characters_were_refused_prints_escaped() -> None:
    form = replace(samples.approval_form(), street="康美\x01")

    text = text_of(approval_form_pdf(form))

    assert "康美\\x01" in text
