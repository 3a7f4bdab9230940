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
from typing import Any
from uuid import UUID

from rehab_contracts import EventEnvelope, EventPayload
from rehab_contracts.events import (
    ApplicationApproved,
    ApplicationReviewed,
    ApplicationSubmitted,
    AssessmentCompleted,
    NeedSurveyed,
    PersonRegistered,
    ReferralIssued,
    ServiceDelivered,
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

    item: str
    weight: int
    institutions: tuple[str | None, ...]  # approved institution; None = reimbursed to the person
    city_assessed: bool
    mode: str
    amount_fen: int | None
    charge_fen: tuple[int, int]
    insured_share: tuple[float, float]
    categories: tuple[str, ...]


PROFILES = (
    ItemProfile(
        "support_service_mental",
        30,
        ("lj-rehab-centre",),
        False,
        "free",
        None,
        (20000, 60000),
        (0.0, 0.0),
        ("mental",),
    ),
    ItemProfile(
        "support_service_midlife_blind",
        8,
        ("lj-rehab-centre",),
        False,
        "free",
        None,
        (20000, 40000),
        (0.0, 0.0),
        ("vision",),
    ),
    ItemProfile(
        "assistive_device_fitting",
        20,
        ("lj-rehab-centre",),
        False,
        "fixed_amount",
        80000,
        (50000, 150000),
        (0.0, 0.3),
        ("physical",),
    ),
    ItemProfile(
        "cataract_surgery",
        18,
        ("cqmu-second", "cq-aier-eye", "lj-first-hospital"),
        True,
        "fixed_amount",
        120000,
        (300000, 600000),
        (0.5, 0.8),
        ("vision",),
    ),
    ItemProfile(
        "low_vision_training",
        8,
        ("cqmu-second", "cq-aier-eye"),
        True,
        "fixed_amount",
        50000,
        (30000, 80000),
        (0.0, 0.0),
        ("vision",),
    ),
    # The policy leaves this item's standard unstated: settlement shows it as unsettled, pays nothing.
    ItemProfile(
        "orientation_mobility_training",
        6,
        ("lj-first-hospital", "lj-second-hospital"),
        False,
        "free",
        None,
        (20000, 50000),
        (0.0, 0.0),
        ("vision",),
    ),
    ItemProfile(
        "self_purchased_device_subsidy",
        10,
        (None,),
        False,
        "fixed_amount",
        30000,
        (20000, 100000),
        (0.0, 0.0),
        ("physical", "hearing"),
    ),
)
_WEIGHTS = [profile.weight for profile in PROFILES]
_SIGNATORIES = {"responsible": "赵主任", "reviewer": "钱科长", "handler": "孙干事"}


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
            sex=self.rng.choice(("male", "female")),
            ethnicity="汉族",
            birth_date=birth,
            phone=f"138{self.index % 100_000_000:08d}",
            address=f"重庆市两江新区{self.street}街道{self.rng.randint(1, 300)}号",
            household_registration="重庆市渝北区",
            residence=f"重庆市两江新区{self.street}街道",
            id_number=id_number,
            certificate_number=f"{id_number}{self.rng.randint(1, 7)}{self.rng.randint(1, 4)}",
            disability_categories=list(profile.categories),
            disability_grade="grade_2",
            economic_status=self.rng.choice(("subsistence_allowance", "low_income", "other")),
            medical_insurance=["urban_rural_resident"],
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
            disability_grade="grade_2",
            birth_month=f"{birth:%Y-%m}",
            economic_status="other",
        )

    def workflow(self, profile: ItemProfile) -> None:
        rng = self.rng
        institution = rng.choice(profile.institutions)
        assessor = CITY_ASSESSOR if profile.city_assessed else rng.choice(DISTRICT_ASSESSORS)
        assessment, referral = self.uuid(), self.uuid()
        assessment_stream = f"assessment-{assessment}"
        assessed_on = self.later(3, 10)
        self.add(
            AssessmentCompleted(
                assessment_id=assessment,
                person_id=self.person,
                assessment_year=self.year,
                institution_id=assessor,
                institution_level="city" if profile.city_assessed else "district",
                assessor="陈医生",
                assessed_on=assessed_on,
                mode="at_institution",
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
                to_kind="service_institution",
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
        requested: dict[str, Any] = {"item": profile.item, "institution_id": institution}
        if profile.item == "cataract_surgery":
            requested["eyes"] = [self.rng.choice(("left", "right"))]
        if profile.item == "self_purchased_device_subsidy":
            requested["poor"] = False
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
                    "id_card_copy",
                    "disability_certificate_copy",
                    "household_register_copy",
                    "service_handbook",
                ],
                submitted_on=submitted_on,
                applicant_role="person",
                referral_id=referral,
                economic_status="other",
                disability_categories=list(profile.categories),
            ),
            stream,
            1,
            submitted_on,
        )
        for version, level in ((2, "community"), (3, "street")):
            reviewed_on = self.later(1, 3)
            self.add(
                ApplicationReviewed(
                    application_id=application,
                    person_id=self.person,
                    level=level,
                    endorsed=True,
                    opinion="情况属实，同意上报",
                    signatories={"responsible": "周书记", "handler": "吴干事"},
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
                    {
                        "item": profile.item,
                        "institution_id": institution,
                        "subsidy_mode": profile.mode,
                        "amount_fen": profile.amount_fen,
                    }
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
                signed_by="person",
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
