"""Properties of the parsers that meet untrusted input (hypothesis): resident ID numbers, uploaded sheets
and money. Whatever they are given, they answer or refuse with a reason; they never crash."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert

from services.settlement.ledger.report import ledger_report, yuan
from services.settlement.ledger.tables import metadata, postings_table
from services.survey.identity import PROVINCE_CODES, IdentityError, check_character, parse_resident_id
from services.survey.import_rows import SurveyCampaign
from services.survey.imports import SheetRejected, read_survey_sheet
from tests.survey.sheets import HEADERS, base_row, csv_bytes, xlsx_bytes

FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
CAMPAIGN = SurveyCampaign("鸳鸯", 2024, date(2024, 10, 15), "张丽")


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    """Valid resident ID numbers: a known province, a real birth date from 1900, any sequence."""
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    region = province + draw(st.text("0123456789", min_size=4, max_size=4))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)))
    body = f"{region}{born:%Y%m%d}" + draw(st.text("0123456789", min_size=3, max_size=3))
    return body + check_character(body)


# -- resident ID numbers ------------------------------------------------------------------------------------
@FAST
@given(st.text(max_size=40))
def test_any_text_is_a_resident_id_or_refused_with_a_reason_of_its_field(text: str) -> None:
    try:
        parsed = parse_resident_id(text)
    except IdentityError as refused:
        assert refused.code.startswith("survey.id_number.") and refused.message
    else:
        assert len(parsed.number) == 18 and parsed.number[:17].isascii() and parsed.number[:17].isdigit()


@FAST
@given(resident_ids())
def test_every_valid_resident_id_is_accepted_with_its_birth_date_and_sex(number: str) -> None:
    parsed = parse_resident_id(f"  {number.lower()} ")
    assert parsed.number == number
    assert f"{parsed.birth_date:%Y%m%d}" == number[6:14]
    assert parsed.sex == ("male" if int(number[16]) % 2 else "female")


@FAST
@given(resident_ids(), st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_one_mistyped_digit_of_a_resident_id_is_always_refused(
    number: str, position: int, shift: int
) -> None:
    mistyped = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    try:
        parse_resident_id(mistyped)
    except IdentityError:
        return
    raise AssertionError(f"{mistyped} (from {number}) was accepted")


# -- sheets -------------------------------------------------------------------------------------------------
def read(data: bytes, name: str) -> int:
    """Rows read, or 0 when the sheet was refused with reasons; anything else raised is a failure."""
    try:
        return len(read_survey_sheet(CAMPAIGN, data, name).rows)
    except SheetRejected as refused:
        assert refused.errors and all(error.reason for error in refused.errors)
        return 0


@FAST
@given(st.binary(max_size=2000), st.sampled_from(["表.csv", "表.xlsx", "表.xls", None]))
def test_any_bytes_uploaded_as_a_sheet_are_read_or_refused_with_reasons(
    data: bytes, name: str | None
) -> None:
    read(b"PK\x03\x04" + data if name == "表.xlsx" else data, name or "upload")


cell_text = st.one_of(st.text(max_size=30), st.sampled_from(["", "男", "有", "一级", "1958-04-12", "9" * 30]))


@FAST
@given(st.dictionaries(st.sampled_from(HEADERS), cell_text, max_size=8), st.booleans())
def test_a_row_with_any_cell_values_is_imported_or_refused_cell_by_cell(
    changes: dict[str, str], as_xlsx: bool
) -> None:
    row = base_row(**changes)
    if as_xlsx:
        printable = {key: value for key, value in row.items() if value is None or value.isprintable()}
        read(xlsx_bytes([printable]), "表.xlsx")
    else:
        read(csv_bytes([row]), "表.csv")


@FAST
@given(st.lists(st.lists(st.text(max_size=12), max_size=6), max_size=6))
def test_a_csv_of_any_shape_is_read_or_refused_with_reasons(rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([list(HEADERS), *rows])
    read(buffer.getvalue().encode(), "表.csv")


# -- money --------------------------------------------------------------------------------------------------
@FAST
@given(st.integers(min_value=-(10**20), max_value=10**20))
def test_yuan_shows_every_amount_of_fen_exactly(fen: int) -> None:
    assert Decimal(yuan(fen).replace(",", "")) * 100 == fen


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.integers(min_value=1, max_value=2**63 - 1), min_size=1, max_size=12))
def test_the_ledgers_totals_are_exact_for_any_stored_amounts(amounts: list[int]) -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[postings_table])
    rows = [
        {
            "posting_id": f"p{index}",
            "rule": "service_subsidy",
            "key": f"k{index}",
            "business_date": date(2024, 12, 20),
            "debit_account": "fund:f",
            "credit_account": f"service_institution:{index % 3}",
            "amount_fen": amount,
            "policy_id": "p",
            "policy_version": 1,
            "source_event_ids": "[]",
            "inputs": "{}",
        }
        for index, amount in enumerate(amounts)
    ]
    with engine.begin() as connection:
        connection.execute(insert(postings_table), rows)
    report = ledger_report(engine)
    assert report.total_debit_fen == report.total_credit_fen == sum(amounts)
    credited = {account.account: account.credit_fen for account in report.accounts if account.credit_fen}
    assert credited == {
        f"service_institution:{k}": sum(a for i, a in enumerate(amounts) if i % 3 == k)
        for k in range(3)
        if any(i % 3 == k for i in range(len(amounts)))
    }
