"""A posting's stored row is the text the ledger always held: its id uuid5 of its key, its provenance as
``json.dumps`` writes it; and log rows decode to the same facts however they were written."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from types import MappingProxyType
from uuid import uuid5

import pytest

from services.settlement.book.dues import POSTING_NAMESPACE, Posting
from services.settlement.ledger import fact_log
from services.settlement.ledger.posting_rows import posting_row
from tests.settlement.settlement_builders import EYE_HOSPITAL, approved, item

PLAIN = Posting(
    rule="survey_fee",
    key="survey_fee:p1:2024",
    business_date=date(2024, 11, 12),
    debit_account="fund:liangjiang-finance",
    credit_account="street:天宫殿",
    amount_fen=3000,
    policy_id="liangjiang-2024",
    policy_version=2,
    source_event_ids=("e678de34-9c28-4023-ac14-6b93f0471465",),
    inputs={"person_id": "p1", "year": 2024, "street": "天宫殿", "fee_fen": 3000},
)


@pytest.mark.parametrize(
    "posting",
    [
        PLAIN,
        PLAIN._replace(source_event_ids=()),
        PLAIN._replace(
            key="service_subsidy:d1|adjustment:e2|institution:眼科|fund",
            source_event_ids=("e2", 'quote " and \\ backslash', "控制\x01字符\u2028", "e1"),
            inputs=MappingProxyType(
                {
                    "z_last": None,
                    "adjusts_posting_ids": ("a", "b"),
                    "standard_bound": "审批定额 600.00 元高于目录标准：按目录标准支付\n",
                    "period": date(2024, 12, 1),
                    "signed": True,
                    "nested": {"b": [1, "二"], "a": None},
                    "share_percent": "50",
                }
            ),
        ),
    ],
    ids=["a fee", "no source events", "escapes, dates, nested values, a mapping proxy"],
)
def test_a_postings_row_holds_its_key_uuid_and_the_json_text_of_its_provenance(posting):
    row = posting_row(posting)

    assert row[0] == str(uuid5(POSTING_NAMESPACE, posting.key))
    assert row[1:9] == (
        posting.rule,
        posting.key,
        posting.business_date.isoformat(),
        posting.debit_account,
        posting.credit_account,
        posting.amount_fen,
        posting.policy_id,
        posting.policy_version,
    )
    assert row[9] == json.dumps(list(posting.source_event_ids))
    assert row[10] == json.dumps(
        dict(posting.inputs), ensure_ascii=False, sort_keys=True, default=date.isoformat
    )


def test_an_approval_whose_items_were_logged_before_their_amount_existed_decodes_with_its_default():
    fact = approved(item("low_vision_training", EYE_HOSPITAL, "fixed_amount", 50000), item(), event_id="ap1")
    row = json.loads(fact_log.encode(fact))
    row[5] = [values[:3] for values in row[5]]  # items logged as (item, institution, mode)

    decoded = fact_log.decode(json.dumps(row, ensure_ascii=False))

    without_amounts = tuple(replace(approved, amount_fen=None) for approved in fact.items)
    assert decoded == replace(fact, items=without_amounts)
    assert fact_log.decode(fact_log.encode(fact)) == fact
