"""Shapingba's cases that could not be entered before (issue 13 rules 5 and 8), from the street's survey to
the ledger: the survey service records the child's facts over HTTP and publishes NeedSurveyed; settlement
consumes it with the approval and the service records as the producers publish them, and pays to the fen.
Every expected figure is computed by hand from seed 002 (沙府办发〔2023〕100号), never from the policy
file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from rehab_contracts import EventEnvelope
from rehab_contracts.events import ApplicationApproved, ApplicationSubmitted, ReferralIssued, ServiceDelivered
from rehab_contracts.streams import APPROVAL_STREAM, ASSESSMENT_STREAM, DELIVERY_STREAM, SURVEY_STREAM

from kernel.domain.clock import today
from kernel.runtime import ServiceSettings
from services.approval.app import create_app as create_approval
from services.delivery.app import create_app as create_delivery
from services.settlement.app import create_app as create_settlement
from services.settlement.ledger.as_of import replay_as_of
from services.settlement.ledger.report import ledger_report, render
from services.survey.app import create_app as create_survey
from tests.settlement.settlement_builders import envelope_of, payload_of
from tests.survey.people import make_id, person_body

CENTRE = "spb-children-centre"
MENTAL = "spb-mental-health-centre"
HOSPITAL = "spb-general-hospital"
SERVICE = {"mental_medication_aid": MENTAL, "mental_inpatient_aid": MENTAL}
MEDICAL_AID = ("inpatient_medical_aid", "family_inpatient_medical_aid")
FUND = "fund:shapingba-finance"
ALLOWANCE = "children_transport_living_allowance"
TRAINING = "children_rehab_training"
MARCH = (date(2024, 3, 1), date(2024, 3, 31))
PERSON_FIELDS = ("disability_categories", "economic_status")
"""What the registration records; the other facts of a child are the survey's."""


@pytest.fixture
def apps(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, TestClient]]:
    monkeypatch.setenv("REHAB_REFERENCE", "shapingba")

    def settings(service: str) -> ServiceSettings:
        return ServiceSettings(
            service=service, database_url=f"sqlite:///{tmp_path}/{service}.db", redis_url=redis_url
        )

    with (
        TestClient(create_survey(settings("survey"))) as survey,
        TestClient(create_settlement(settings("settlement"))) as settlement,
    ):
        yield survey, settlement


def surveyed_child(survey: TestClient, born: date, sequence: str, **facts: Any) -> tuple[UUID, EventEnvelope]:
    """An uncertified child of 小龙坎, registered and surveyed on 2024-02-01 for the children's items."""
    id_number = make_id(born, sequence)
    body = person_body(
        street="小龙坎", community="小龙坎社区", name="李小雨", sex="female", birth_date=born.isoformat(),
        id_number=id_number, certificate_number=None, disability_grade="ungraded",
        guardian={"name": "王芳", "sex": "female", "phone": "13900139000", "relation": "母亲"},
        **{key: value for key, value in facts.items() if key in PERSON_FIELDS},
    )  # fmt: skip
    registered = survey.post("/persons", json=body)
    assert registered.status_code == 201, registered.text
    person = registered.json()["person_id"]
    needs = {
        "survey_year": 2024, "surveyed_on": "2024-02-01", "has_needs": True, "surveyor": "张丽",
        "needed_items": ["children_rehab_training", "children_transport_living_allowance"],
        **{key: value for key, value in facts.items() if key not in PERSON_FIELDS},
    }  # fmt: skip
    answer = survey.post(f"/persons/{person}/surveys", json=needs)
    assert answer.status_code == 201, answer.text
    store: Any = survey.app.state.runtime.store  # type: ignore[attr-defined]
    with store.transaction() as unit:
        [event] = [e for e in unit.events_of_type("survey.need_surveyed") if e.payload["person_id"] == person]
    return UUID(person), event


def applied_and_trained(
    person: UUID,
    items: dict[str, int],
    start: date,
    end: date,
    approvals: dict[str, Any] | None = None,
    *,
    certified: bool = False,
) -> list[tuple[Any, str]]:
    """The form (of an uncertified child, unless ``certified``), an approval of ``items`` on 2024-02-20
    (free, unless ``approvals`` gives an item's), and one signed record per item over ``start``..``end``
    charging the given fen, nothing paid by insurance."""
    application = uuid4()
    institutions = {item: HOSPITAL if item in MEDICAL_AID else SERVICE.get(item, CENTRE) for item in items}
    form = payload_of(
        ApplicationSubmitted, application_id=application, person_id=person, application_year=2024,
        street="小龙坎", disability_categories=[], economic_status=None, certified=certified,
        requested_items=[{"item": item, "institution_id": institutions[item]} for item in items],
    )  # fmt: skip
    approved_items = [
        {
            "item": item,
            "institution_id": institutions[item],
            "subsidy_mode": "free",
            **(approvals or {}).get(item, {}),
        }
        for item in items
    ]
    approved = payload_of(
        ApplicationApproved, application_id=application, person_id=person, application_year=2024,
        street="小龙坎", approved_on=date(2024, 2, 20), rejected_items=[], approved_items=approved_items,
    )  # fmt: skip
    stream = f"application-{application}"
    events = [
        (envelope_of(form, date(2024, 2, 10), stream), APPROVAL_STREAM),
        (envelope_of(approved, date(2024, 2, 20), stream, 2), APPROVAL_STREAM),
    ]
    for item, charge_fen in items.items():
        delivery = uuid4()
        record = payload_of(
            ServiceDelivered, delivery_id=delivery, application_id=application, person_id=person,
            service_year=2024, institution_id=institutions[item], item=item, period_start=start,
            period_end=end, signed_on=end, charge_fen=charge_fen, insurance_paid_fen=0,
        )  # fmt: skip
        events.append((envelope_of(record, end, f"delivery-{delivery}"), DELIVERY_STREAM))
    return events


def consume(settlement: TestClient, events: list[tuple[Any, str]]) -> None:
    consumer: Any = settlement.app.state.runtime.consumer  # type: ignore[attr-defined]
    for envelope, stream in events:
        consumer.apply(envelope, stream)


def balances(settlement: TestClient) -> dict[str, int]:
    return {row["account"]: row["balance_fen"] for row in settlement.get("/ledger").json()["accounts"]}


def test_shapingbas_children_are_paid_by_the_age_category_and_hardship_the_street_recorded(
    apps: tuple[TestClient, TestClient],
) -> None:
    survey, settlement = apps
    # Child 1: born 2019-06-01, hearing, 低保 family: 4 周岁 on 2024-03-01.
    # 002 三(一)3 「对0-6周岁沙坪坝区户籍的……听力、言语、肢体、智力及孤独症儿童给予2万元/人/年专项训练补助」:
    # charged 25,000 yuan, 20,000 paid. 「对0-14周岁沙坪坝区户籍残疾儿童……给予400元/人/月交通、生活补贴；
    # 经济条件困难家庭儿童给予500元/人/月」: March-December, 10 months x 500 = 5,000 yuan to the family.
    first, first_survey = surveyed_child(
        survey,
        date(2019, 6, 1),
        "124",
        disability_categories=["hearing"],
        economic_status="subsistence_allowance",
    )
    # Child 2: born 2020-01-15, 低视力, living in 沙坪坝 with a 居住证, family 其他: 4 周岁.
    # 「低视力儿童给予1万元/人/年专项训练补助」 (0-6 admits 居住证): charged 12,000 yuan, 10,000 paid. The
    # allowance asks 沙坪坝区户籍: none, and the record says why (not_eligible, not tier_undecided).
    second, second_survey = surveyed_child(
        survey, date(2020, 1, 15), "144", disability_categories=["vision"], economic_status="other",
        disability_subtypes=["low_vision"], residence_permit=True,
    )  # fmt: skip
    # Child 3: born 2015-09-10, physical, 防止返贫监测对象家庭 (a hardship status beyond 低保): 8 周岁.
    # 「对7-14周岁……家庭经济条件困难（……乡村振兴部门认定的防止返贫监测对象家庭）的……给予2万元/人/年」 asks a
    # 残疾人证: this child has none, so no training tier; the allowance: 10 x 500 = 5,000 yuan.
    third, third_survey = surveyed_child(
        survey, date(2015, 9, 10), "164", disability_categories=["physical"], economic_status="other",
        hardship_statuses=["poverty_relapse_monitoring"],
    )  # fmt: skip
    assert second_survey.payload["disability_subtypes"] == ["low_vision"]
    assert second_survey.payload["residence_permit"] is True
    assert third_survey.payload["hardship_statuses"] == ["poverty_relapse_monitoring"]

    year = (date(2024, 3, 1), date(2024, 12, 31))
    both = {"children_rehab_training": 2_500_000, "children_transport_living_allowance": 0}
    consume(settlement, [(first_survey, SURVEY_STREAM), *applied_and_trained(first, both, *year)])
    low_vision = {"children_rehab_training": 1_200_000, "children_transport_living_allowance": 0}
    # The records arrive before the survey: they wait for it, then settle the same.
    consume(settlement, [*applied_and_trained(second, low_vision, *year), (second_survey, SURVEY_STREAM)])
    consume(settlement, [(third_survey, SURVEY_STREAM), *applied_and_trained(third, both, *year)])

    assert balances(settlement) == {
        FUND: 2_000_000 + 500_000 + 1_000_000 + 500_000,
        f"service_institution:{CENTRE}": -(2_000_000 + 1_000_000),
        f"person:{first}": -500_000,
        f"person:{third}": -500_000,
    }
    unsettled = settlement.get("/ledger/unsettled").json()
    codes = {(row["person_id"], row["code"]) for row in unsettled if row["code"] != "fee_unstated"}
    assert codes == {(str(second), "not_eligible"), (str(third), "not_eligible")}

    # Replay equals live: a rebuild from the archive, and the ledger as of today.
    engine = settlement.app.state.runtime.store.engine  # type: ignore[attr-defined]
    live = render(ledger_report(engine))
    assert settlement.post("/ledger/rebuild").status_code == 200
    assert render(ledger_report(engine)) == live
    assert render(replay_as_of(engine, today()).report) == live


def test_shapingbas_diagnosis_medication_inpatient_and_medical_aid_go_from_survey_to_ledger(
    apps: tuple[TestClient, TestClient],
) -> None:
    survey, settlement = apps
    # A child of 5 (born 2019-06-01), intellectual: 002 三(一)4 「……给予一次性补贴300元」: the diagnosis
    # charged 450 yuan pays 300 yuan, once: a second application's record pays nothing (paid_once).
    child, child_survey = surveyed_child(
        survey, date(2019, 6, 1), "124", disability_categories=["intellectual"], economic_status="other",
        needed_items=["suspected_disability_diagnosis"],
    )  # fmt: skip
    diagnosis = {"suspected_disability_diagnosis": 45_000}
    consume(settlement, [(child_survey, SURVEY_STREAM), *applied_and_trained(child, diagnosis, *MARCH)])
    consume(settlement, applied_and_trained(child, diagnosis, date(2024, 5, 6), date(2024, 5, 6)))

    # A 低保 adult with a 精神残疾 (a veteran's certificate counts as certified).
    # 三(一)3 「对精神残疾人开展600-1200元/年/人服药救助」: 区残联办 approves 800 yuan; medication charged
    # 1,000 yuan: 800 yuan. 「对特殊困难、确实需要住院治疗精神残疾人给予最高5000元/年/人住院补贴」: a stay of
    # 8,000 yuan: 5,000 yuan.
    # 三(四)9 「对因病住院的困难残疾人住院发票费用自付部分，给予80%的补贴，全年最高补贴不超过1万元」:
    # 20,000 yuan self-paid: 80 % = 16,000, capped at 10,000 yuan.
    # 「对患重大疾病的困难残疾人配偶及未成年子女……给予80%的补贴，全年最高补贴不超过0.3万元」: 2,500 yuan
    # self-paid: 2,000 yuan.
    body = person_body(
        street="小龙坎", community="小龙坎社区", certificate_number=None, disability_categories=["mental"],
        veteran_certificate_number="渝军残字第012345号", id_number=make_id(date(1975, 4, 12), "331"),
        birth_date="1975-04-12",
    )  # fmt: skip
    registered = survey.post("/persons", json=body)
    assert registered.status_code == 201, registered.text
    adult = UUID(registered.json()["person_id"])
    needs = {
        "survey_year": 2024, "surveyed_on": "2024-02-01", "has_needs": True, "surveyor": "张丽",
        "needed_items": ["mental_medication_aid", "mental_inpatient_aid", *MEDICAL_AID],
    }  # fmt: skip
    assert survey.post(f"/persons/{adult}/surveys", json=needs).status_code == 201
    store: Any = survey.app.state.runtime.store  # type: ignore[attr-defined]
    with store.transaction() as unit:
        [adult_survey] = [
            e for e in unit.events_of_type("survey.need_surveyed") if e.payload["person_id"] == str(adult)
        ]
    items = {
        "mental_medication_aid": 100_000,
        "mental_inpatient_aid": 800_000,
        "inpatient_medical_aid": 2_000_000,
        "family_inpatient_medical_aid": 250_000,
    }
    medication = {"mental_medication_aid": {"subsidy_mode": "fixed_amount", "amount_fen": 80_000}}
    # The veteran's form says 持证 (a 残疾军人证 stands for the 残疾人证 medical aid asks for).
    applied = applied_and_trained(adult, items, *MARCH, medication, certified=True)
    consume(settlement, [(adult_survey, SURVEY_STREAM), *applied])

    assert balances(settlement) == {
        FUND: 30_000 + 80_000 + 500_000 + 1_000_000 + 200_000,
        f"service_institution:{CENTRE}": -30_000,
        f"service_institution:{MENTAL}": -(80_000 + 500_000),
        f"service_institution:{HOSPITAL}": -(1_000_000 + 200_000),
    }
    unsettled = settlement.get("/ledger/unsettled").json()
    assert {(row["person_id"], row["code"]) for row in unsettled if row["code"] != "fee_unstated"} == {
        (str(child), "paid_once")
    }


def test_two_applications_in_a_year_share_the_yearly_caps_live_and_in_a_replay(
    apps: tuple[TestClient, TestClient],
) -> None:
    survey, settlement = apps
    # A 低保 adult with a 精神残疾 (a veteran's certificate) applies twice in 2024 for the inpatient
    # allowance and medical aid.
    # 三(一)3 「对特殊困难、确实需要住院治疗精神残疾人给予最高5000元/年/人住院补贴」: stays of 3,000 then
    # 4,000 yuan are paid 3,000 + 2,000.
    # 三(四)9 「对因病住院的困难残疾人住院发票费用自付部分，给予80%的补贴，全年最高补贴不超过1万元」:
    # 10,000 yuan self-paid twice, 80 % = 8,000 each, paid 8,000 + 2,000.
    body = person_body(
        street="小龙坎", community="小龙坎社区", certificate_number=None, disability_categories=["mental"],
        veteran_certificate_number="渝军残字第012345号", economic_status="subsistence_allowance",
        id_number=make_id(date(1975, 4, 12), "331"), birth_date="1975-04-12",
    )  # fmt: skip
    registered = survey.post("/persons", json=body)
    assert registered.status_code == 201, registered.text
    adult = UUID(registered.json()["person_id"])
    needs = {
        "survey_year": 2024, "surveyed_on": "2024-02-01", "has_needs": True, "surveyor": "张丽",
        "needed_items": ["mental_inpatient_aid", "inpatient_medical_aid"],
    }  # fmt: skip
    assert survey.post(f"/persons/{adult}/surveys", json=needs).status_code == 201
    [surveyed] = [e for e in stored(survey, "survey.need_surveyed") if e.payload["person_id"] == str(adult)]
    first = {"mental_inpatient_aid": 300_000, "inpatient_medical_aid": 1_000_000}
    second = {"mental_inpatient_aid": 400_000, "inpatient_medical_aid": 1_000_000}
    consume(
        settlement,
        [
            (surveyed, SURVEY_STREAM),
            *applied_and_trained(adult, first, *MARCH, certified=True),
            *applied_and_trained(adult, second, date(2024, 9, 2), date(2024, 9, 20), certified=True),
        ],
    )

    assert balances(settlement) == {
        FUND: 300_000 + 200_000 + 800_000 + 200_000,
        f"service_institution:{MENTAL}": -(300_000 + 200_000),
        f"service_institution:{HOSPITAL}": -(800_000 + 200_000),
    }
    engine = settlement.app.state.runtime.store.engine  # type: ignore[attr-defined]
    live = render(ledger_report(engine))
    assert settlement.post("/ledger/rebuild").status_code == 200
    assert render(ledger_report(engine)) == live
    assert render(replay_as_of(engine, today()).report) == live


def test_a_hardship_childs_monthly_allowance_is_entered_through_every_service_and_paid_500_yuan_a_month(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 002 三(一)3 「经济条件困难家庭儿童给予500元/人/月交通、生活补贴」: a 低保 child of 4 trained March to
    # December 2024 is paid 10 x 500 = 5,000 yuan, to the family. Entered as each agency enters it: survey,
    # the assessment's referral (as assessment publishes it), the form through community, street and
    # 区残联办, the service record at the centre; settlement reads the events the services stored.
    monkeypatch.setenv("REHAB_REFERENCE", "shapingba")
    made = [
        TestClient(
            create(
                ServiceSettings(
                    service=name, database_url=f"sqlite:///{tmp_path}/{name}.db", redis_url=redis_url
                )
            )
        )
        for name, create in (
            ("survey", create_survey),
            ("approval", create_approval),
            ("delivery", create_delivery),
            ("settlement", create_settlement),
        )
    ]
    with made[0] as survey, made[1] as approval, made[2] as delivery, made[3] as settlement:
        child, need = surveyed_child(
            survey, date(2019, 6, 1), "124", disability_categories=["hearing"],
            economic_status="subsistence_allowance", needed_items=[TRAINING, ALLOWANCE],
        )  # fmt: skip
        referral = payload_of(
            ReferralIssued, person_id=child, from_institution_id="spb-assess-district",
            to_institution_id=CENTRE, to_kind="service_institution", items=[TRAINING, ALLOWANCE],
            issued_on=date(2024, 2, 5), street="小龙坎", community="小龙坎社区",
        )  # fmt: skip
        consumer(approval).apply(
            envelope_of(referral, date(2024, 2, 5), f"assessment-{uuid4()}"), ASSESSMENT_STREAM
        )
        form = {
            "person_id": str(child), "application_year": 2024, "street": "小龙坎",
            "serial_number": "2024-001", "applicant_role": "guardian",
            "requested_items": [
                {"item": TRAINING, "institution_id": CENTRE}, {"item": ALLOWANCE, "institution_id": CENTRE},
            ],
            "attachments": ["id_card_copy", "household_register_copy", "service_handbook",
                            "subsistence_certificate_copy"],
            "economic_status": "subsistence_allowance", "disability_categories": ["hearing"],
            "certified": False, "submitted_on": "2024-02-10",
        }  # fmt: skip
        submitted = approval.post("/applications", json=form)
        assert submitted.status_code == 201, submitted.text
        application = submitted.json()["application_id"]
        for level, day, signatories in (
            ("community", "2024-02-12", {"responsible": "周书记", "handler": "吴干事"}),
            ("street", "2024-02-14", {"responsible": "郑主任", "reviewer": "王科长", "handler": "冯干事"}),
        ):
            review = {
                "level": level,
                "endorsed": True,
                "opinion": "同意",
                "signatories": signatories,
                "reviewed_on": day,
            }
            assert approval.post(f"/applications/{application}/reviews", json=review).status_code == 201
        decision = {
            "outcome": "approved", "approved_items": [
                {"item": TRAINING, "subsidy_mode": "free"}, {"item": ALLOWANCE, "subsidy_mode": "free"},
            ],
            "signatories": {"responsible": "赵主任", "reviewer": "钱科长", "handler": "孙干事"},
            "decided_on": "2024-02-20",
        }  # fmt: skip
        decided = approval.post(f"/applications/{application}/decision", json=decision)
        assert decided.status_code == 201, decided.text
        approval_events = stored(approval, "approval.application_submitted", "approval.application_approved")
        consumer(delivery).apply(approval_events[-1], APPROVAL_STREAM)
        record = {
            "application_id": application, "person_id": str(child), "institution_id": CENTRE,
            "item": ALLOWANCE, "frequency": "每月", "period_start": "2024-03-01",
            "period_end": "2024-12-31", "staff": "刘康复师", "signed_by": "guardian",
            "signed_on": "2024-12-31", "charge_fen": 0, "insurance_paid_fen": 0,
        }  # fmt: skip
        recorded = delivery.post("/deliveries", json=record)
        assert recorded.status_code == 201, recorded.text
        # The allowance is paid for the months of training 在…训练的: the training at the centre, March to
        # December, charged 3,000 yuan (under the 0-6 cap of 20,000 yuan a year: paid to the centre).
        trained = {**record, "item": TRAINING, "frequency": "每周", "charge_fen": 300_000}
        recorded = delivery.post("/deliveries", json=trained)
        assert recorded.status_code == 201, recorded.text
        delivered_events = stored(delivery, "delivery.service_delivered")

        consume(
            settlement,
            [
                (need, SURVEY_STREAM),
                *((event, APPROVAL_STREAM) for event in approval_events),
                *((event, DELIVERY_STREAM) for event in delivered_events),
            ],
        )
        assert balances(settlement) == {
            FUND: 800_000,
            f"person:{child}": -500_000,
            f"service_institution:{CENTRE}": -300_000,
        }
        unsettled = settlement.get("/ledger/unsettled").json()
        assert [row for row in unsettled if row["code"] != "fee_unstated"] == []


def consumer(client: TestClient) -> Any:
    return client.app.state.runtime.consumer  # type: ignore[attr-defined]


def stored(client: TestClient, *types: str) -> list[EventEnvelope]:
    store: Any = client.app.state.runtime.store  # type: ignore[attr-defined]
    with store.transaction() as unit:
        found: list[EventEnvelope] = unit.events_of_type(*types)
        return found
