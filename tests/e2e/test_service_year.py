"""One service year for six persons over HTTP, across five service processes and a real Redis.

Issue 3 ("Everywhere") asks for an end-to-end year in which some applications are rejected, one is
over quota, one institution change is approved and one service record is refused. Here:

- 人和 (mental, 支持性服务) and 天宫殿 (physical, 辅助器具适配): 区残联办 rejects both applications;
  a service recorded under one of them is refused (409) with 区残联办's reason.
- 金山 has one children's assistance place 救助名额 in 2025 (reference data given to every service by
  ``REHAB_REFERENCE``): the first child's training is approved, approving the second child's is refused
  (409 ``approval.approved_items.over_quota``), the application waits, and 区残联办 then rejects it.
- 鸳鸯 (vision, 定向行走训练): approved at 区第一人民医院, which serves June; 区残联办 approves a change
  to 区第二人民医院 from 1 July; a later record from the old hospital is refused (409), one from the
  new hospital is accepted.
- 礼嘉 (vision, 中途盲者心理疏导): a record of a period outside 2025 and an unsigned record are
  refused (422); the corrected record is accepted.

Every refusal is application/problem+json with a stable code, the field and a Chinese message.
Settlement is then checked to the fen: rejected persons bring only the survey, management and
assessment fees; the changed item is paid to the institution that delivered each part; refused
records pay nothing; the ledger balances; coverage counts only the persons served.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kernel.reference.jurisdiction import REFERENCE_DIR
from rehab.journey import DISTRICT_OFFICE_SIGNATORIES, SERVICE_PLAN, Journey
from tests.e2e.conftest import Deployment, start_deployment, stop_deployment
from tests.e2e.people import certified_adult, uncertified_child
from tests.problem_json import field_error_of

LIANGJIANG_FILE = REFERENCE_DIR / "liangjiang" / "jurisdiction.toml"

pytestmark = pytest.mark.e2e

ORIENTATION = "orientation_mobility_training"
CHILDREN = "children_rehab_training"
OLD_HOSPITAL = "lj-first-hospital"
NEW_HOSPITAL = "lj-second-hospital"
CHANGE_DAY = "2025-07-01"
QUOTA_STREET = "金山"
ONE_PLACE_IN_JINSHAN = f"""
[[quotas]]
year = 2025
area = "{QUOTA_STREET}"
places = 1
"""
"""Liangjiang's reference data plus one children's place in 金山 for 2025."""
OVER_QUOTA_REASON = "本年度金山街道残疾儿童康复救助名额已满"


@dataclass(frozen=True)
class Case:
    """One person of the year: who, what they need, and what 区残联办 decides."""

    person: dict[str, Any]
    needs: list[str]
    outcome: str
    """approved, rejected, or over_quota (approving is refused, then the application is rejected)."""


CASES = {
    "changed": Case(
        certified_adult(11, street="鸳鸯", category="vision", digit=1), [ORIENTATION], "approved"
    ),
    "rejected_mental": Case(
        certified_adult(12, street="人和", category="mental", digit=6), ["support_service_mental"], "rejected"
    ),
    "rejected_physical": Case(
        certified_adult(13, street="天宫殿", category="physical", digit=4),
        ["assistive_device_fitting"],
        "rejected",
    ),
    "refused_record": Case(
        certified_adult(14, street="礼嘉", category="vision", digit=1),
        ["support_service_midlife_blind"],
        "approved",
    ),
    "child_in_quota": Case(uncertified_child(15, street=QUOTA_STREET), [CHILDREN], "approved"),
    "child_over_quota": Case(uncertified_child(16, street=QUOTA_STREET), [CHILDREN], "over_quota"),
}


@dataclass
class Year:
    journey: Journey
    person_ids: dict[str, str]
    application_ids: dict[str, str]
    over_quota: Any = None
    """The answer to approving the child beyond 金山's place."""


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Year]:
    """Its own deployment, with every person surveyed, assessed, referred, applied for and decided."""
    var_dir = Path(tmp_path_factory.mktemp("service-year"))
    reference = var_dir / "liangjiang-with-a-quota.toml"
    liangjiang = LIANGJIANG_FILE.read_text(encoding="utf-8")
    reference.write_text(liangjiang + ONE_PLACE_IN_JINSHAN, encoding="utf-8")
    deployment: Deployment = start_deployment(var_dir, env={"REHAB_REFERENCE": str(reference)})
    try:
        yield decide_the_applications(deployment.journey)
    finally:
        stop_deployment(deployment)


def decide_the_applications(journey: Journey) -> Year:
    person_ids = {}
    for name, case in CASES.items():
        person_ids[name] = journey.register(case.person)
        journey.survey(person_ids[name], case.needs)
    journey.wait_until("the surveys reach assessment", lambda: journey.on_worklist(set(person_ids.values())))
    for name, case in CASES.items():
        journey.assess_and_refer(person_ids[name], case.needs, home_visit=False)
    for name, case in CASES.items():
        journey.wait_until(
            f"the referrals of {name} reach approval",
            partial(journey.referrals_reached_approval, person_ids[name], case.needs),
        )
    year = Year(journey, person_ids, {})
    for serial, (name, case) in enumerate(CASES.items(), start=1):
        year.application_ids[name] = journey.apply(case.person, person_ids[name], case.needs, serial=serial)
        decide(year, name, case)
    for name, case in CASES.items():
        if case.outcome == "approved":
            journey.wait_until(
                f"the approval of {name} reaches delivery",
                partial(journey.entitlements_reached_delivery, year.application_ids[name]),
            )
    return year


def decide(year: Year, name: str, case: Case) -> None:
    journey, application = year.journey, year.application_ids[name]
    street = case.person["street"]
    if case.outcome == "approved":
        journey.review_and_approve(application, street, case.needs)
    elif case.outcome == "rejected":
        journey.review_and_reject(application, street, "经审核不符合救助条件")
    else:
        journey.review(application, street)
        year.over_quota = journey.client.post(
            journey.url("approval") + f"/applications/{application}/decision",
            json=approval_of(case.needs, journey.day(5, 20)),
        )
        journey.post(
            "approval",
            f"/applications/{application}/decision",
            {
                "outcome": "rejected",
                "reason": OVER_QUOTA_REASON,
                "signatories": DISTRICT_OFFICE_SIGNATORIES,
                "decided_on": journey.day(5, 21),
            },
        )


def approval_of(needs: list[str], day: str) -> dict[str, Any]:
    items = []
    for item in needs:
        plan = SERVICE_PLAN[item]
        approved = {"item": item, "institution_id": plan["institution"], "subsidy_mode": plan["mode"]}
        if plan["mode"] == "fixed_amount":
            approved["amount_fen"] = plan["amount"]
        items.append(approved)
    return {
        "outcome": "approved",
        "approved_items": items,
        "rejected_items": [],
        "signatories": DISTRICT_OFFICE_SIGNATORIES,
        "decided_on": day,
    }


def record(year: Year, name: str, **changes: Any) -> Any:
    """POST a service record of the person's (only) item, June to October 2025 unless changed."""
    case = CASES[name]
    item = case.needs[0]
    body = {
        "application_id": year.application_ids[name],
        "person_id": year.person_ids[name],
        "institution_id": "lj-rehab-centre",
        "item": item,
        "frequency": "每周2次，每次60分钟",
        "period_start": "2025-06-01",
        "period_end": "2025-10-31",
        "staff": "康复治疗师 周敏",
        "signed_by": "person",
        "signed_on": "2025-11-05",
        "charge_fen": 20_000,
        "insurance_paid_fen": 0,
        **changes,
    }
    return year.journey.client.post(year.journey.url("delivery") + "/deliveries", json=body)


def refusal(response: Any) -> tuple[int, str, str, str]:
    """Status, field, code and Chinese message of a problem+json refusal."""
    error = field_error_of(response)
    return response.status_code, error["field"], error["code"], error["message"]


def test_a_service_under_a_rejected_application_is_refused_with_the_rejection_reason(year: Year) -> None:
    response = record(year, "rejected_mental")

    status, field, code, message = refusal(response)
    assert (status, field, code) == (409, "application_id", "delivery.application_id.rejected")
    assert "经审核不符合救助条件" in message


def test_the_child_beyond_the_streets_place_is_refused_over_quota_then_rejected_with_the_reason(
    year: Year,
) -> None:
    status, field, code, message = refusal(year.over_quota)
    assert (status, field, code) == (409, "approved_items", "approval.approved_items.over_quota")
    assert "金山 2025 年残疾儿童康复救助名额 1 名已满" in message
    [places] = year.journey.get("approval", "/quotas", year=2025)
    assert (places["area"], places["places"], places["taken"], places["remaining"]) == (QUOTA_STREET, 1, 1, 0)
    over = year.journey.get("approval", f"/applications/{year.application_ids['child_over_quota']}")
    within = year.journey.get("approval", f"/applications/{year.application_ids['child_in_quota']}")
    assert (over["status"], within["status"]) == ("rejected", "approved")
    refused = record(year, "child_over_quota", institution_id="lj-rehab-centre")
    assert refusal(refused)[:3] == (409, "application_id", "delivery.application_id.rejected")
    assert OVER_QUOTA_REASON in refusal(refused)[3]


def test_after_an_approved_institution_change_only_the_new_institution_records_later_periods(
    year: Year,
) -> None:
    journey = year.journey
    application = year.application_ids["changed"]
    june = record(
        year,
        "changed",
        institution_id=OLD_HOSPITAL,
        period_start="2025-06-01",
        period_end="2025-06-30",
        signed_on="2025-06-30",
        charge_fen=100_000,
    )
    assert june.status_code == 201, june.text

    change = journey.post(
        "approval",
        f"/applications/{application}/institution-changes",
        {
            "item": ORIENTATION,
            "from_institution_id": OLD_HOSPITAL,
            "to_institution_id": NEW_HOSPITAL,
            "reason": "本人迁居，就近至区第二人民医院训练",
            "signatories": DISTRICT_OFFICE_SIGNATORIES,
            "decided_on": CHANGE_DAY,
        },
    )
    assert (change["from_institution_id"], change["to_institution_id"]) == (OLD_HOSPITAL, NEW_HOSPITAL)
    journey.wait_until(
        "the institution change reaches delivery",
        lambda: (
            [
                entitlement["current_institution_id"]
                for entitlement in journey.get("delivery", "/entitlements", application_id=application)
            ]
            == [NEW_HOSPITAL]
        ),
    )

    later = {"period_start": "2025-07-01", "period_end": "2025-10-31", "charge_fen": 200_000}
    old = record(year, "changed", institution_id=OLD_HOSPITAL, **later)
    new = record(year, "changed", institution_id=NEW_HOSPITAL, **later)

    assert refusal(old)[:3] == (409, "institution_id", "delivery.institution_id.not_on_approval")
    assert new.status_code == 201, new.text
    delivered = journey.get("delivery", "/deliveries", application_id=application)
    assert sorted((row["institution_id"], row["period_start"]) for row in delivered) == [
        (OLD_HOSPITAL, "2025-06-01"),
        (NEW_HOSPITAL, "2025-07-01"),
    ]


def test_a_record_outside_the_year_or_unsigned_is_refused_and_the_corrected_one_accepted(year: Year) -> None:
    outside = record(
        year, "refused_record", period_start="2026-01-05", period_end="2026-01-31", signed_on="2026-02-05"
    )
    unsigned = record(year, "refused_record", signed_by=None)
    corrected = record(year, "refused_record")

    assert refusal(outside)[:3] == (422, "period_start", "delivery.period_start.outside_year")
    assert refusal(unsigned)[:3] == (422, "signed_by", "delivery.signed_by.required")
    assert corrected.status_code == 201, corrected.text
    delivered = year.journey.get(
        "delivery", "/deliveries", application_id=year.application_ids["refused_record"]
    )
    assert [row["period_start"] for row in delivered] == ["2025-06-01"]


CHANGED_BY_THE_MOVE = {f"service_institution:{NEW_HOSPITAL}", "fund:liangjiang-finance"}
"""Accounts the institution change moves, checked by the test after the next one."""


def settled_accounts(journey: Journey) -> dict[str, tuple[int, int]]:
    journey.wait_until("every event is published", journey.producers_published_everything)
    journey.wait_until("settlement has consumed every event", journey.settlement_caught_up)
    ledger = journey.get("settlement", "/ledger")
    assert ledger["balanced"] is True
    return {row["account"]: (row["debit_fen"], row["credit_fen"]) for row in ledger["accounts"]}


def test_settlement_pays_fees_for_everyone_and_subsidies_only_for_accepted_records_to_the_fen(
    year: Year,
) -> None:
    accounts = settled_accounts(year.journey)

    # The new institution's payment and the fund's total: see the test after this one.
    assert {
        account: totals for account, totals in accounts.items() if account not in CHANGED_BY_THE_MOVE
    } == {
        # survey fee + management fee, 30 yuan each, for every person with needs, rejected or not
        "street:鸳鸯": (0, 6000),
        "street:人和": (0, 6000),
        "street:天宫殿": (0, 6000),
        "street:礼嘉": (0, 6000),
        "street:金山": (0, 2 * 6000),
        "assessment_institution:lj-assess-first-hospital": (0, 6 * 3000),
        # free: the self-paid part of the record the old institution made before the change
        f"service_institution:{OLD_HOSPITAL}": (0, 100_000),
        "service_institution:lj-rehab-centre": (0, 20_000),  # support service 200 yuan per year
    }


def test_the_changed_item_is_paid_to_the_new_institution_for_its_part_of_the_year(year: Year) -> None:
    accounts = settled_accounts(year.journey)
    unsettled = year.journey.get("settlement", "/ledger/unsettled")

    assert unsettled == []
    assert accounts[f"service_institution:{NEW_HOSPITAL}"] == (0, 200_000)
    assert accounts["fund:liangjiang-finance"] == (6 * 9000 + 100_000 + 200_000 + 20_000, 0)


def test_coverage_counts_the_persons_served_and_not_the_rejected_ones(year: Year) -> None:
    report = year.journey.get("settlement", "/reports/coverage", year=2025)
    by_street = {
        row["street"]: (row["surveyed"], row["with_needs"], row["served"])
        for row in report["streets"]
        if row["surveyed"]
    }
    overall = report["overall"]

    assert (overall["surveyed"], overall["with_needs"], overall["served"]) == (6, 6, 2)
    assert by_street == {
        "鸳鸯": (1, 1, 1),
        "人和": (1, 1, 0),
        "天宫殿": (1, 1, 0),
        "礼嘉": (1, 1, 1),
        "金山": (2, 2, 0),  # the approved child has no service record yet
    }
    assert overall["coverage_percent"] == "33.33"
