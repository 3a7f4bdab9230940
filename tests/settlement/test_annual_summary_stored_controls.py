"""附件3 from text stored before control characters were refused (issue 14, defect 10): escaped, not a 500."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from services.settlement.documents.annual_summary import CommunityForm, SummaryRow, annual_summary_xlsx


def test_a_community_and_a_name_stored_with_control_characters_print_escaped() -> None:
    row = SummaryRow(
        name="王\x1b秀英",
        sex="女",
        address="鸳鸯街道1号",
        id_number="500112196804020025",
        certificate_number="50011219680402002542",
        phone="13800000000",
        has_needs=True,
        services=("视功能训练",),
        institutions=("两江新区残疾人康复服务中心",),
    )
    form = CommunityForm(year=2025, street="康美", community="康美\x01社区", rows=(row,))

    sheet = load_workbook(io.BytesIO(annual_summary_xlsx([form]))).worksheets[0]

    assert sheet.title == "康美_x01社区"  # a sheet title may not hold a backslash
    assert sheet["F3"].value == "社区：康美\\x01社区"
    assert sheet["B6"].value == "王\\x1b秀英"
