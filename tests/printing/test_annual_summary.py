"""附件3 汇总表 printed from hand-made data: landscape, the headers on every page, communities in order."""

from __future__ import annotations

import pytest

from printing import AnnualSummary, annual_summary_pdf
from printing.annual_summary import chinese_number, natural_key
from tests.printing import samples
from tests.printing.pdf import A4_LANDSCAPE, compact, is_a4, page_sizes, text_of

HEADERS = (
    "序号", "姓名", "性别", "家庭住址", "身份证号（必填）", "残疾人证号（持证残疾人必填）", "联系电话",
    "康复需求情况", "康复服务情况", "得到康复服务项目", "康复服务机构名称",
)  # fmt: skip
LABELS = (
    "两江新区残疾人康复需求和康复服务情况汇总表", "（2024）年度", "街道：", "社区：", "填表人：",
    "审核人：", "填表日期：", "注：1．此表由社区康复协调员填写。",
    "3．此表一式两份，每年12月20日前由街道汇总后上报，残联办、街道各留存一份。",
)  # fmt: skip


def test_the_form_holds_every_label_and_column_of_the_seeds_form() -> None:
    text = compact(text_of(annual_summary_pdf(samples.annual_summary())))

    assert [label for label in (*HEADERS, *LABELS) if label not in text] == []


def test_each_row_prints_whole_no_column_clipped_at_the_page_edge() -> None:
    summary = samples.annual_summary()

    text = compact(text_of(annual_summary_pdf(summary)))

    for form in summary.communities:
        for row in form.rows:
            for value in (row.name, row.address, row.id_number, row.certificate_number, row.phone):
                assert value in text, value
            for value in (*row.services, *row.institutions):
                assert value in text, value
    assert "有☑无□" in text and "有□无☑" in text
    assert "吴协调员" in text and "郑负责人" in text and "2024年12月18日" in text


def test_it_prints_on_a4_landscape_with_the_header_rows_repeated_on_the_next_page() -> None:
    pdf = annual_summary_pdf(samples.annual_summary(rows_in_first=40))

    sizes = page_sizes(pdf)
    second_page = compact(text_of(pdf, first=2, last=2))

    assert len(sizes) >= 3
    assert all(is_a4(size, A4_LANDSCAPE) for size in sizes)
    assert [header for header in HEADERS if header not in second_page] == []
    assert samples.summary_row(25).id_number in second_page
    assert f"第2页共{len(sizes)}页" in second_page


def test_communities_print_in_their_natural_order_each_starting_a_page() -> None:
    pdf = annual_summary_pdf(samples.annual_summary())

    firsts = [compact(text_of(pdf, first=number, last=number)) for number in range(1, 4)]

    assert "社区：鸳鸯第一社区" in firsts[0]
    assert "社区：鸳鸯第二社区" in firsts[1]
    assert "社区：鸳鸯第十社区" in firsts[2]


def test_a_street_with_no_survey_prints_one_empty_form_rather_than_nothing() -> None:
    pdf = annual_summary_pdf(AnnualSummary(year=2024, street="康美", communities=()))

    text = compact(text_of(pdf))

    assert "街道：康美" in text and "本社区本年度没有调查记录" in text


@pytest.mark.parametrize(
    ("text", "value"), [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("一百零五", 105)]
)
def test_chinese_numbers_read_as_their_value(text: str, value: int) -> None:
    assert chinese_number(text) == value


def test_community_names_sort_by_their_numbers_chinese_or_arabic() -> None:
    names = ["鸳鸯第十社区", "鸳鸯第二社区", "金山社区", "鸳鸯第一社区", "3号社区", "12号社区"]

    assert sorted(names, key=natural_key) == [
        "3号社区",
        "12号社区",
        "金山社区",
        "鸳鸯第一社区",
        "鸳鸯第二社区",
        "鸳鸯第十社区",
    ]
