"""The console's side of printing: 附件3 read back from the workbook settlement writes, and the PDF's
response headers (a Chinese file name, never cached)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from urllib.parse import quote

import pytest

from console.printing.annual_summary import PersonsUnreadable, read_communities, require_complete
from console.printing.download import pdf_download
from services.settlement.documents.annual_summary import (
    CommunityForm,
    Signatures,
    SummaryRow,
    annual_summary_xlsx,
)

SETTLEMENT_ROW = SummaryRow(
    name="李明",
    sex="男",
    address="重庆市两江新区鸳鸯街道金开大道88号",
    id_number="500112195804121234",
    certificate_number="50011219580412123412",
    phone="13800138000",
    has_needs=True,
    services=("低视力视功能训练", "辅助器具免费适配"),
    institutions=("重庆爱尔眼科", "两江新区残疾人康复服务中心"),
)


def test_every_community_and_row_of_settlements_workbook_is_read_back_as_written() -> None:
    forms = [
        CommunityForm(2024, "鸳鸯", "鸳鸯第二社区", (SETTLEMENT_ROW,)),
        CommunityForm(2024, "鸳鸯", "鸳鸯第一社区", ()),
    ]
    workbook = annual_summary_xlsx(forms, Signatures("吴协调员", "郑负责人", date(2024, 12, 18)))

    communities = list(read_communities(workbook))

    assert [form.community for form in communities] == ["鸳鸯第二社区", "鸳鸯第一社区"]
    (row,) = communities[0].rows
    assert (row.name, row.sex, row.address, row.id_number, row.certificate_number, row.phone) == (
        "李明",
        "男",
        "重庆市两江新区鸳鸯街道金开大道88号",
        "500112195804121234",
        "50011219580412123412",
        "13800138000",
    )
    assert row.has_needs and row.services == SETTLEMENT_ROW.services
    assert row.institutions == SETTLEMENT_ROW.institutions
    assert communities[1].rows == ()


def test_a_form_whose_persons_settlement_could_not_read_is_refused_not_printed() -> None:
    unreadable = replace(SETTLEMENT_ROW, name="（不可用）", id_number="（不可用）")
    forgotten = replace(SETTLEMENT_ROW, name="（已删除）", id_number="（已删除）")
    workbook = annual_summary_xlsx([CommunityForm(2024, "鸳鸯", "鸳鸯第一社区", (unreadable, forgotten))])

    with pytest.raises(PersonsUnreadable) as refused:
        require_complete(read_communities(workbook))

    assert refused.value.count == 1 and "1 人的个人信息" in str(refused.value)


def test_a_pdf_is_sent_inline_under_its_chinese_name_and_never_cached() -> None:
    response = pdf_download(b"%PDF-1.7", "附件2-补助申请审批表-鸳鸯街道-17.pdf", "fujian2-application-17.pdf")

    assert response.media_type == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('inline; filename="fujian2-application-17.pdf";')
    assert f"filename*=UTF-8''{quote('附件2-补助申请审批表-鸳鸯街道-17.pdf')}" in disposition
