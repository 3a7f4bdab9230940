"""Synthetic but realistic Liangjiang journeys as real contract envelopes, and an archive holding them.

One journey is one person's year: registered and surveyed by a street, assessed and referred by an
assessment institution, an application submitted, reviewed by the community and the street,
approved by 区残联办, and the service delivered and signed. About one person in ten is surveyed
without needs (two events). Items, institutions, subsidy modes and charges follow the Liangjiang
2024 catalogue and reference data; the archive is received in business-time order, so the four
producer streams interleave as they would in production.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

from rehab_contracts import EventEnvelope, EventPayload
from rehab_contracts.events import (
    ApplicationApproved,
    ApplicationReviewed,
    ApplicationSubmitted,
    AssessmentCompleted,
    ItemApproval,
    NeedSurveyed,
    PersonRegistered,
    ReferralIssued,
    RequestedItem,
    ServiceDelivered,
    Signatories,
)
from rehab_contracts.vocabulary import (
    AssessmentMode,
    Attachment,
    CatalogueItem,
    DisabilityCategory,
    DisabilityGrade,
    EconomicStatus,
    Eye,
    InstitutionLevel,
    MedicalInsurance,
    ReferralTarget,
    ReviewLevel,
    Sex,
    SignerRole,
    SubsidyMode,
)
from sqlalchemy import Engine, insert

from kernel.domain.clock import business_time
from kernel.store.store import EventStore, create_store_engine, inbox_table
from services.settlement.ledger.fact_log import derive_fact_log
from services.settlement.ledger.tables import metadata as ledger_metadata

STREETS = ("鸳鸯", "人和", "天宫殿", "翠云", "大竹林", "礼嘉", "金山", "康美")
DISTRICT_ASSESSORS = ("lj-assess-first-hospital", "lj-assess-second-hospital")
CITY_ASSESSOR = "cq-assess-cqmu-second"
NO_NEEDS_SHARE = 0.10


@dataclass(frozen=True)
class ItemProfile:
    """How one catalogue item is typically assessed, approved, delivered and charged."""

    item: CatalogueItem
    weight: int
    institutions: tuple[str | None, ...]  # approved institution; None = reimbursed to the person
    city_assessed: bool
    mode: SubsidyMode
    amount_fen: int | None
    charge_fen: tuple[int, int]
    insured_share: tuple[float, float]
    categories: tuple[DisabilityCategory, ...]


PROFILES = (
    ItemProfile(
        CatalogueItem.SUPPORT_SERVICE_MENTAL,
        30,
        ("lj-rehab-centre",),
        False,
        SubsidyMode.FREE,
        None,
        (20000, 60000),
        (0.0, 0.0),
        (DisabilityCategory.MENTAL,),
    ),
    ItemProfile(
        CatalogueItem.SUPPORT_SERVICE_MIDLIFE_BLIND,
        8,
        ("lj-rehab-centre",),
        False,
        SubsidyMode.FREE,
        None,
        (20000, 40000),
        (0.0, 0.0),
        (DisabilityCategory.VISION,),
    ),
    ItemProfile(
        CatalogueItem.ASSISTIVE_DEVICE_FITTING,
        20,
        ("lj-rehab-centre",),
        False,
        SubsidyMode.FIXED_AMOUNT,
        80000,
        (50000, 150000),
        (0.0, 0.3),
        (DisabilityCategory.PHYSICAL,),
    ),
    ItemProfile(
        CatalogueItem.CATARACT_SURGERY,
        18,
        ("cqmu-second", "cq-aier-eye", "lj-first-hospital"),
        True,
        SubsidyMode.FIXED_AMOUNT,
        120000,
        (300000, 600000),
        (0.5, 0.8),
        (DisabilityCategory.VISION,),
    ),
    ItemProfile(
        CatalogueItem.LOW_VISION_TRAINING,
        8,
        ("cqmu-second", "cq-aier-eye"),
        True,
        SubsidyMode.FIXED_AMOUNT,
        50000,
        (30000, 80000),
        (0.0, 0.0),
        (DisabilityCategory.VISION,),
    ),
    # The policy leaves this item's standard unstated: settlement shows it as unsettled, pays nothing.
    ItemProfile(
        CatalogueItem.ORIENTATION_MOBILITY_TRAINING,
        6,
        ("lj-first-hospital", "lj-second-hospital"),
        False,
        SubsidyMode.FREE,
        None,
        (20000, 50000),
        (0.0, 0.0),
        (DisabilityCategory.VISION,),
    ),
    ItemProfile(
        CatalogueItem.SELF_PURCHASED_DEVICE_SUBSIDY,
        10,
        (None,),
        False,
        SubsidyMode.FIXED_AMOUNT,
        30000,
        (20000, 100000),
        (0.0, 0.0),
        (DisabilityCategory.PHYSICAL, DisabilityCategory.HEARING),
    ),
)
_WEIGHTS = [profile.weight for profile in PROFILES]
_SIGNATORIES = Signatories(responsible="赵主任", reviewer="钱科长", handler="孙干事")


class _Journey:
    """Builds one person's envelopes; ``events`` are (envelope, source stream) in workflow order."""

    def __init__(self, rng: random.Random, index: int) -> None:
        self.rng = rng
        self.index = index
        self.events: list[tuple[EventEnvelope, str]] = []
        self.street = rng.choice(STREETS)
        self.community = f"{self.street}第{rng.randint(1, 6)}社区"
        self.person = self.uuid()
        self.year = 2024
        self.day = date(2024, 10, 1) + timedelta(days=rng.randint(0, 45))

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def later(self, low: int, high: int) -> date:
        self.day += timedelta(days=self.rng.randint(low, high))
        return self.day

    def add(self, payload: EventPayload, stream_id: str, version: int, day: date) -> None:
        event_id = self.uuid()
        occurred = business_time(day)
        envelope = EventEnvelope(
            event_id=event_id,
            event_type=payload.event_type,
            schema_version=payload.schema_version,
            occurred_at=occurred,
            recorded_at=occurred + timedelta(hours=9, seconds=self.rng.randint(0, 28800)),
            producer=payload.producer,
            stream_id=stream_id,
            version=version,
            correlation_id=self.person,
            causation_id=self.events[-1][0].event_id if self.events else None,
            payload=payload.model_dump(mode="json"),
        )
        self.events.append((envelope, payload.stream))

    def build(self) -> list[tuple[EventEnvelope, str]]:
        rng = self.rng
        profile = rng.choices(PROFILES, _WEIGHTS)[0]
        has_needs = rng.random() >= NO_NEEDS_SHARE
        person_stream = f"person-{self.person}"
        birth = date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
        self.add(self.registered(profile, birth), person_stream, 1, self.day)
        self.add(self.surveyed(profile, birth, has_needs), person_stream, 2, self.day)
        if has_needs:
            self.workflow(profile)
        return self.events

    def registered(self, profile: ItemProfile, birth: date) -> PersonRegistered:
        id_number = f"500112{birth:%Y%m%d}{self.index % 1000:03d}{self.rng.choice('0123456789X')}"
        return PersonRegistered(
            person_id=self.person,
            street=self.street,
            community=self.community,
            name=f"居民{self.index}",
            sex=self.rng.choice((Sex.MALE, Sex.FEMALE)),
            ethnicity="汉族",
            birth_date=birth,
            phone=f"138{self.index % 100_000_000:08d}",
            address=f"重庆市两江新区{self.street}街道{self.rng.randint(1, 300)}号",
            household_registration="重庆市渝北区",
            residence=f"重庆市两江新区{self.street}街道",
            id_number=id_number,
            certificate_number=f"{id_number}{self.rng.randint(1, 7)}{self.rng.randint(1, 4)}",
            disability_categories=list(profile.categories),
            disability_grade=DisabilityGrade.GRADE_2,
            economic_status=self.rng.choice(
                (EconomicStatus.SUBSISTENCE_ALLOWANCE, EconomicStatus.LOW_INCOME, EconomicStatus.OTHER)
            ),
            medical_insurance=[MedicalInsurance.URBAN_RURAL_RESIDENT],
        )

    def surveyed(self, profile: ItemProfile, birth: date, has_needs: bool) -> NeedSurveyed:
        return NeedSurveyed(
            person_id=self.person,
            survey_year=self.year,
            street=self.street,
            community=self.community,
            surveyed_on=self.day,
            has_needs=has_needs,
            needed_items=[profile.item] if has_needs else [],
            home_visit_required=self.rng.random() < 0.2,
            surveyor="张丽",
            certified=True,
            disability_categories=list(profile.categories),
            disability_grade=DisabilityGrade.GRADE_2,
            birth_month=f"{birth:%Y-%m}",
            economic_status=EconomicStatus.OTHER,
        )

    def workflow(self, profile: ItemProfile) -> None:
        rng = self.rng
        institution = rng.choice(profile.institutions)
        assessor = CITY_ASSESSOR if profile.city_assessed else rng.choice(DISTRICT_ASSESSORS)
        level = InstitutionLevel.CITY if profile.city_assessed else InstitutionLevel.DISTRICT
        assessment, referral = self.uuid(), self.uuid()
        assessment_stream = f"assessment-{assessment}"
        assessed_on = self.later(3, 10)
        self.add(
            AssessmentCompleted(
                assessment_id=assessment,
                person_id=self.person,
                assessment_year=self.year,
                institution_id=assessor,
                institution_level=level,
                assessor="陈医生",
                assessed_on=assessed_on,
                mode=AssessmentMode.AT_INSTITUTION,
                assessed_needs=[profile.item],
                referral_needed=True,
                opinion="建议康复服务",
            ),
            assessment_stream,
            1,
            assessed_on,
        )
        self.add(
            ReferralIssued(
                referral_id=referral,
                assessment_id=assessment,
                person_id=self.person,
                from_institution_id=assessor,
                to_institution_id=institution or "lj-rehab-centre",
                to_kind=ReferralTarget.SERVICE_INSTITUTION,
                items=[profile.item],
                issued_on=assessed_on,
            ),
            assessment_stream,
            2,
            assessed_on,
        )
        application = self.uuid()
        self.application(profile, application, institution, referral)
        self.delivery(profile, application, institution)

    def application(
        self, profile: ItemProfile, application: UUID, institution: str | None, referral: UUID
    ) -> None:
        stream = f"application-{application}"
        cataract = profile.item == CatalogueItem.CATARACT_SURGERY
        requested = RequestedItem(
            item=profile.item,
            institution_id=institution,
            eyes=[self.rng.choice((Eye.LEFT, Eye.RIGHT))] if cataract else [],
            poor=False if profile.item == CatalogueItem.SELF_PURCHASED_DEVICE_SUBSIDY else None,
        )
        submitted_on = self.later(2, 7)
        self.add(
            ApplicationSubmitted(
                application_id=application,
                person_id=self.person,
                application_year=self.year,
                street=self.street,
                serial_number=f"2024-{self.index:06d}",
                requested_items=[requested],
                attachments=[
                    Attachment.ID_CARD_COPY,
                    Attachment.DISABILITY_CERTIFICATE_COPY,
                    Attachment.HOUSEHOLD_REGISTER_COPY,
                    Attachment.SERVICE_HANDBOOK,
                ],
                submitted_on=submitted_on,
                applicant_role=SignerRole.PERSON,
                referral_id=referral,
                economic_status=EconomicStatus.OTHER,
                disability_categories=list(profile.categories),
            ),
            stream,
            1,
            submitted_on,
        )
        for version, level in ((2, ReviewLevel.COMMUNITY), (3, ReviewLevel.STREET)):
            reviewed_on = self.later(1, 3)
            self.add(
                ApplicationReviewed(
                    application_id=application,
                    person_id=self.person,
                    level=level,
                    endorsed=True,
                    opinion="情况属实，同意上报",
                    signatories=Signatories(responsible="周书记", handler="吴干事"),
                    reviewed_on=reviewed_on,
                ),
                stream,
                version,
                reviewed_on,
            )
        approved_on = self.later(2, 7)
        self.add(
            ApplicationApproved(
                application_id=application,
                person_id=self.person,
                application_year=self.year,
                street=self.street,
                service_card_number=f"LJ2024-{self.index:06d}",
                approved_items=[
                    ItemApproval(
                        item=profile.item,
                        institution_id=institution,
                        subsidy_mode=profile.mode,
                        amount_fen=profile.amount_fen,
                    )
                ],
                signatories=_SIGNATORIES,
                approved_on=approved_on,
            ),
            stream,
            4,
            approved_on,
        )

    def delivery(self, profile: ItemProfile, application: UUID, institution: str | None) -> None:
        rng = self.rng
        start = self.later(1, 10)
        end = self.later(0, 40)
        charge = rng.randrange(profile.charge_fen[0], profile.charge_fen[1], 100)
        insured = int(charge * rng.uniform(*profile.insured_share)) // 100 * 100
        delivery = self.uuid()
        self.add(
            ServiceDelivered(
                delivery_id=delivery,
                application_id=application,
                person_id=self.person,
                service_year=self.year,
                institution_id=institution or "lj-rehab-centre",
                item=profile.item,
                frequency="每周2次，每次45分钟",
                period_start=start,
                period_end=end,
                staff="刘康复师",
                signed_by=SignerRole.PERSON,
                signed_on=end,
                charge_fen=charge,
                insurance_paid_fen=insured,
            ),
            f"delivery-{delivery}",
            1,
            end,
        )


def generate(events: int, seed: int = 2024) -> list[list[tuple[EventEnvelope, str]]]:
    """Whole journeys until at least ``events`` events (deterministic for a seed)."""
    rng = random.Random(seed)
    journeys: list[list[tuple[EventEnvelope, str]]] = []
    total = 0
    while total < events:
        journey = _Journey(rng, len(journeys)).build()
        journeys.append(journey)
        total += len(journey)
    return journeys


def archive_order(journeys: list[list[tuple[EventEnvelope, str]]]) -> list[tuple[EventEnvelope, str]]:
    """The events as settlement receives them: by business time, each journey in its own order."""
    keyed = [
        (envelope.occurred_at, index, step, envelope, stream)
        for index, journey in enumerate(journeys)
        for step, (envelope, stream) in enumerate(journey)
    ]
    keyed.sort(key=lambda row: row[:3])
    return [(envelope, stream) for *_key, envelope, stream in keyed]


def build_archive(path: Path, events: list[tuple[EventEnvelope, str]]) -> Engine:
    """A fresh settlement database whose inbox (archive) holds the events, as record_received stores them."""
    engine = create_store_engine(f"sqlite:///{path}")
    EventStore(engine, "settlement").create_schema(ledger_metadata)
    received = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        {
            "event_id": str(envelope.event_id),
            "source_stream": stream,
            "event_type": envelope.event_type,
            "stream_id": envelope.stream_id,
            "occurred_at": envelope.occurred_at.astimezone(UTC),
            "received_at": received,
            "envelope": envelope.model_dump_json(),
        }
        for envelope, stream in events
    ]
    with engine.begin() as connection:
        for start in range(0, len(rows), 20_000):
            connection.execute(insert(inbox_table), rows[start : start + 20_000])
        derive_fact_log(connection)  # what the live ledger writes event by event, as it consumes
    return engine
