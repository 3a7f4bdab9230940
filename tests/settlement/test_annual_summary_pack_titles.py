"""附件3's title and the catalogue its notes name come from the deployment's pack, not from the code."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from kernel.reference import load_jurisdiction
from services.settlement.documents.annual_summary import annual_summary_xlsx, forms_from_envelopes


def _sheet_texts(pack: str) -> list[str]:
    jurisdiction = load_jurisdiction(pack)
    forms = forms_from_envelopes([], 2025, jurisdiction.streets[0], None, jurisdiction)
    sheet = load_workbook(io.BytesIO(annual_summary_xlsx(forms))).worksheets[0]
    return [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]


@pytest.mark.parametrize(
    ("pack", "title", "catalogue"),
    [
        ("anyang", "安阳市残疾儿童康复需求和康复服务情况汇总表", "《残疾人基本康复服务目录》"),
        ("shapingba", "沙坪坝区残疾人康复需求和康复服务情况汇总表", "《残疾人基本康复服务目录》"),
        ("liangjiang", "两江新区残疾人康复需求和康复服务情况汇总表", "《两江新区残疾人基本康复服务目录》"),
    ],
)
def test_the_workbook_is_titled_as_the_pack_names_the_form(pack: str, title: str, catalogue: str) -> None:
    texts = _sheet_texts(pack)

    assert texts[0] == title
    assert any(catalogue in text for text in texts)


def test_no_other_places_name_is_printed_on_anyangs_form() -> None:
    assert not any("两江" in text for text in _sheet_texts("anyang"))
