"""附件4 残疾人精准康复服务卡 (Zhuhai) printed from hand-made data."""

from __future__ import annotations

from dataclasses import replace

from printing import service_card_pdf
from tests.printing import samples
from tests.printing.pdf import A4_PORTRAIT, compact, is_a4, page_sizes, text_of

LABELS = (
    "残疾人精准康复服务卡", "卡号：", "姓名", "性别", "身份证号", "残疾人证号", "残疾类别", "残疾等级",
    "联系电话", "康复服务项目", "补贴方式", "金额", "定点康复服务机构", "有效期：", "发卡单位：",
    "发卡日期：", "（盖章）", "使用说明：",
)  # fmt: skip


def test_the_card_shows_its_number_the_person_the_items_the_institutions_and_its_validity() -> None:
    text = compact(text_of(service_card_pdf(samples.service_card())))

    assert [label for label in LABELS if label not in text] == []
    for value in ("ZH2018-000321", "李明", samples.PERSON.id_number, samples.PERSON.certificate_number,
                  "视力、肢体（多重残疾）", "二级", "白内障复明手术定额补助1,200.00元重医附二院",
                  "低视力视功能训练免费—重庆爱尔眼科", "2018年3月2日至2018年12月31日",
                  "珠海市香洲区残疾人联合会", "XZ-2018-045"):  # fmt: skip
        assert value in text, value


def test_the_street_and_the_community_are_two_labelled_boxes_as_the_seeds_forms_print_them() -> None:
    text = compact(text_of(service_card_pdf(samples.service_card())))

    assert "鸳鸯社区鸳鸯第一社区" in text  # the street's box, the label 社区, the community's box
    assert "鸳鸯街道鸳鸯第一社区" not in text  # not run together


def test_a_county_packs_card_names_the_area_as_a_county_not_a_street() -> None:
    person = replace(samples.PERSON, street="香洲区", community="翠香社区")
    card = replace(samples.service_card(), person=person, area_label="区（县）")

    text = compact(text_of(service_card_pdf(card)))

    assert "区（县）" in text and "翠香社区" in text
    assert "香洲区街道" not in text and "香洲区翠香社区" not in text


def test_the_card_prints_on_one_a4_page() -> None:
    sizes = page_sizes(service_card_pdf(samples.service_card()))

    assert len(sizes) == 1 and is_a4(sizes[0], A4_PORTRAIT)
