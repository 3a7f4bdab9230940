"""Person cards for other agencies' pages: whose 姓名 (and 附件1 basic information) a caller may read.

Only the registry holds names. Every other agency's page asks here with its clerk's own token; the
registry decides which of the asked persons the caller's scope covers and which fields the caller's
agency may read, and audits each person released (docs/adr/0016-names-across-agencies.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from fastapi import Request
from rehab_contracts import SURVEY
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from kernel.access.access import caller_of
from kernel.access.auth import AUDIT, Agency, Principal, TokenVerifier, load_public_keys
from kernel.access.scopes import area_of
from kernel.reference import Jurisdiction
from kernel.store.store import EventStore, UnitOfWork
from services.survey import handlers, keys
from services.survey.domain import Person, PersonDetails
from services.survey.privacy import KeyReleaseRefused, ReleaseSettings, agencies, bearer_of
from services.survey.projection import FORGOTTEN_ID_PREFIX, persons_table, surveys_table
from services.survey.relations import person_years_table, persons_served_by
from services.survey.translation import domain_events

__all__ = ["MAX_PERSONS_PER_CARDS", "CardRelease", "PersonCard", "card_release_of", "cards_for"]

MAX_PERSONS_PER_CARDS = 500
"""Persons one request may ask for: a page lists at most a few hundred."""

DEFAULT_NAME_AGENCIES = frozenset({"assessment", "approval", "delivery", "settlement", AUDIT})
"""Agencies whose pages name the persons they work on (REHAB_NAME_AGENCIES)."""

DEFAULT_BASIC_INFO_AGENCIES = frozenset({"approval", "settlement", AUDIT})
"""Agencies that print 附件1/附件2 (the office's approval form, settlement's 附件3, auditors) and so read
the basic information: sex, 民族, birth date, ID and certificate numbers, category, grade, phone,
address, 户籍所在地, 现居住地, 医疗保险, the guardian with their sex and ID number
(REHAB_BASIC_INFO_AGENCIES)."""


@dataclass(frozen=True)
class PersonCard:
    """What one caller may read of one person: the name and area always, the basic information if entitled."""

    person_id: UUID
    name: str
    street: str
    community: str
    basic: PersonDetails | None = None


@dataclass(frozen=True)
class CardRelease:
    """Whose tokens the registry trusts, and which agencies may read names and basic information.

    The registry's own agency (the street offices) is always entitled to both: the persons are its own.
    """

    verifier: TokenVerifier
    name_agencies: frozenset[Agency] = DEFAULT_NAME_AGENCIES
    basic_info_agencies: frozenset[Agency] = DEFAULT_BASIC_INFO_AGENCIES

    @classmethod
    def configured(cls, access_dir: Path | None) -> CardRelease | None:
        """From the token public keys in ``access_dir`` and REHAB_NAME_AGENCIES, REHAB_BASIC_INFO_AGENCIES."""
        public_keys = load_public_keys(access_dir) if access_dir is not None else ()
        if not public_keys:
            return None
        settings = ReleaseSettings()
        names = agencies(settings.name_agencies) or DEFAULT_NAME_AGENCIES
        basic = agencies(settings.basic_info_agencies) or DEFAULT_BASIC_INFO_AGENCIES
        return cls(TokenVerifier(public_keys), names, basic & names)

    def authorise(self, request: Request) -> Principal:
        """The caller, if their agency may read names; raises Unauthenticated (401) or 403."""
        principal = caller_of(request) or bearer_of(request, self.verifier, needs="查阅人员姓名")
        if principal.agency != SURVEY and principal.agency not in self.name_agencies:
            entitled = "、".join(sorted(self.name_agencies))
            raise KeyReleaseRefused(
                f"{principal.agency} 无权查阅人员姓名（有权的机构：{entitled}）",
                code="survey.cards.not_entitled",
            )
        return principal

    def reads_basic_info(self, principal: Principal) -> bool:
        return principal.agency == SURVEY or principal.agency in self.basic_info_agencies


def card_release_of(request: Request) -> CardRelease:
    """The app's card policy; refuses (403) when no token keys are configured (nobody can prove an agency)."""
    release: CardRelease | None = getattr(request.app.state, "card_release", None)
    if release is None:
        raise KeyReleaseRefused(
            "人员姓名不外发：本服务未配置身份验证（REHAB_ACCESS_DIR）", code="survey.cards.release_off"
        )
    return release


def cards_for(
    store: EventStore,
    jurisdiction: Jurisdiction,
    principal: Principal,
    person_ids: Sequence[UUID],
    *,
    basic_info: bool,
) -> list[PersonCard]:
    """The cards of those of ``person_ids`` the caller's scope covers, in the order asked.

    Unknown and forgotten persons, and persons outside the scope, are simply left out: the caller
    learns nothing about them, not even whether they are registered.
    """
    with store.reading() as unit:
        rows = _registered(unit.session, person_ids)
        covered = _covered(unit.session, jurisdiction, principal, rows)
        cards = []
        for person_id in person_ids:
            row = rows.get(person_id)
            if row is None or person_id not in covered:
                continue
            basic = _basic_info(unit, person_id) if basic_info else None
            cards.append(PersonCard(person_id, row["name"], row["street"], row["community"], basic))
    return cards


def _registered(session: Session, person_ids: Sequence[UUID]) -> dict[UUID, dict[str, Any]]:
    """The registry rows of ``person_ids``, forgotten persons left out."""
    table = persons_table.c
    rows = session.execute(
        select(table.person_id, table.name, table.street, table.community, table.id_number).where(
            table.person_id.in_([str(person_id) for person_id in person_ids])
        )
    ).mappings()
    return {
        UUID(row["person_id"]): dict(row)
        for row in rows
        if not row["id_number"].startswith(FORGOTTEN_ID_PREFIX)
    }


def _covered(
    session: Session, jurisdiction: Jurisdiction, principal: Principal, rows: dict[UUID, dict[str, Any]]
) -> set[UUID]:
    """district: everyone; street, community: its area; institution: whom it serves."""
    if principal.scope.kind == "institution":
        institution = principal.scope.value
        served = persons_served_by(session, institution, rows)
        known = jurisdiction.assessment_institution(institution)
        if known is not None and known.level == "district":
            served |= _awaiting_first_assessment(session, rows)
        return served
    area = area_of(principal)
    return {
        person_id
        for person_id, row in rows.items()
        if area.street in (None, row["street"]) and area.community in (None, row["community"])
    }


def _awaiting_first_assessment(session: Session, rows: dict[UUID, dict[str, Any]]) -> set[UUID]:
    """Persons surveyed with needs in a year and not assessed in it: any district-level assessment
    institution may assess them, as the assessment service's worklist shows them to each."""
    if not rows:
        return set()
    surveys, years = surveys_table.c, person_years_table.c
    found = session.execute(
        select(surveys.person_id)
        .outerjoin(
            person_years_table,
            and_(years.person_id == surveys.person_id, years.year == surveys.survey_year),
        )
        .where(
            surveys.person_id.in_([str(person_id) for person_id in rows]),
            surveys.has_needs.is_(True),
            surveys.superseded_by.is_(None),
            years.assessed_on.is_(None),
        )
    )
    return {UUID(row.person_id) for row in found}


def _basic_info(unit: UnitOfWork, person_id: UUID) -> PersonDetails | None:
    """The person's details opened with their key (None if they cannot be opened any more)."""
    envelopes = unit.load(handlers.stream_of(person_id))
    if not envelopes:
        return None
    person = Person.from_history(domain_events(envelopes, keys.key_of(unit.session, person_id)))
    return None if person.forgotten else person.details
