"""The reporting chain's monthly progress report printed from hand-made rows: A4, every label, each unit's
figures, the header repeated on a second page."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from printing.chain_report import ChainReport, ChainRow, Money, chain_report_pdf
from tests.printing.pdf import A4_PORTRAIT, compact, is_a4, page_sizes, text_of

LABELS = (
    "2025年10月残疾人精准康复服务工作进展情况月报", "报告单位：", "重庆两江新区（区（县））",
    "统计截至：2025年10月31日", "覆盖率目标：100%", "层级", "单位", "调查人数", "有康复需求人数",
    "已接受服务人数", "覆盖率", "是否达到目标", "填表人：", "审核人：", "填表日期：",
    "注：1．逐级上报：社区→街道→区（县）→市→省；每一级的数字为其下一级各单位之和。",
)  # fmt: skip


def district(communities: int = 2) -> ChainReport:
    rows = [ChainRow(0, "区（县）", "重庆两江新区", 30, 20, 15, Decimal("75.0"), False)]
    for street in ("鸳鸯", "人和", "天宫殿"):
        rows.append(ChainRow(1, "街道", f"{street}街道", 10, 7, 5, Decimal("71.4"), False))
        rows += [
            ChainRow(2, "社区", f"{street}第{number}社区", 5, 3, 3, Decimal("100.0"), True)
            for number in range(1, communities + 1)
        ]
    return ChainReport(
        title="2025年10月残疾人精准康复服务工作进展情况月报",
        reporter="重庆两江新区（区（县））",
        as_of=date(2025, 10, 31),
        rows=tuple(rows),
        target_percent=Decimal(100),
        preparer="王填表",
    )


def test_the_report_prints_every_label_and_each_units_figures_on_a4() -> None:
    pdf = chain_report_pdf(district())

    text = compact(text_of(pdf))
    assert [label for label in LABELS if label not in text] == []
    assert "鸳鸯街道107571.4%未达标" in text and "鸳鸯第1社区533100.0%达标" in text
    assert "王填表" in text
    assert all(is_a4(size, A4_PORTRAIT) for size in page_sizes(pdf))


def test_a_long_report_repeats_the_header_on_its_second_page() -> None:
    pdf = chain_report_pdf(district(communities=15))

    assert len(page_sizes(pdf)) >= 2
    assert "有康复需求人数" in compact(text_of(pdf, first=2, last=2))


def test_the_year_end_summary_prints_the_years_money_by_rule_and_by_level() -> None:
    money = Money(
        title="2025年度经费支出（重庆两江新区，单位：元）",
        by_rule=(("需求调查工作经费", 90_000), ("康复服务项目补助", 1_200_000)),
        by_level=(("区级财政", 1_290_000),),
        total_fen=1_290_000,
    )
    report = replace(district(), title="2025年度残疾人精准康复服务工作年终汇总表", money=money)

    text = compact(text_of(chain_report_pdf(report)))

    assert "2025年度经费支出（重庆两江新区，单位：元）" in text
    assert "需求调查工作经费900.00元" in text and "区级财政12,900.00元" in text
    assert text.count("合计12,900.00元") == 2  # the rules and the levels add up to the same
