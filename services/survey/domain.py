"""The person aggregate 残疾人: basic information (手册 page 1) and yearly needs surveys 康复需求调查.

Rules run once, in the public command methods; ``_apply`` only assigns state because it reruns
on every load. Domain events are small frozen dataclasses; the handlers translate them to and
from the contracts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any
from uuid import UUID

from kernel.domain.ids import new_aggregate_id
from kernel.domain.rejections import CommandRejected, StateConflict
from services.survey.rules import (
    check_community,
    check_details,
    check_needed_items,
    check_person_facts,
    check_survey_dates,
    normalised,
)

NO_COMMUNITY_LISTS: Mapping[str, frozenset[str]] = {}
"""No street's communities listed: the community is not checked (a pack without lists, the tests)."""


@dataclass(frozen=True)
class OutOfView:
    """Who holds an ID number when they are registered outside the caller's area: a refusal must not
    tell that caller their person id or street."""


OUT_OF_VIEW = OutOfView()
ALREADY_REGISTERED = "survey.id_number.already_registered"
HELD_OUT_OF_VIEW = "此身份证号已在本区登记，不在你的辖区：请联系区残联办核实，不要重复登记"


@dataclass(frozen=True)
class Guardian:
    """监护人."""

    name: str
    sex: str
    phone: str
    relation: str
    id_number: str | None = None


@dataclass(frozen=True)
class PersonDetails:
    """Basic information 残疾人基本信息 as on 附件1 page 1 and 附件2."""

    street: str
    community: str
    name: str
    sex: str
    ethnicity: str
    birth_date: date
    phone: str
    address: str
    household_registration: str
    residence: str
    id_number: str
    disability_categories: tuple[str, ...]
    disability_grade: str
    economic_status: str
    medical_insurance: tuple[str, ...]
    certificate_number: str | None = None
    veteran_certificate_number: str | None = None
    guardian: Guardian | None = None

    @property
    def certified(self) -> bool:
        """持证: a disability certificate, or a disabled veteran certificate which counts as one."""
        return bool(self.certificate_number or self.veteran_certificate_number)


CORRECTABLE = frozenset(f.name for f in fields(PersonDetails))
IDENTIFYING = (
    "name",
    "ethnicity",
    "phone",
    "address",
    "household_registration",
    "residence",
    "id_number",
)
"""Text details that identify a person; besides them the birth date, certificates and guardian do."""
REDACTED = "（已删除）"
"""How an identifying detail reads once the person is forgotten."""


def forgotten_details(details: PersonDetails) -> PersonDetails:
    """The details of a forgotten person: attributes kept, identifying details redacted."""
    certificate = REDACTED if details.certificate_number else None
    veteran = REDACTED if details.veteran_certificate_number else None
    redacted: dict[str, Any] = {name: REDACTED for name in IDENTIFYING}  # each a str field of PersonDetails
    return replace(
        details,
        **redacted,
        birth_date=details.birth_date.replace(day=1),
        certificate_number=certificate,
        veteran_certificate_number=veteran,
        guardian=None,
    )


# -- domain events ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonRegistered:
    person_id: UUID
    details: PersonDetails
    registered_on: date


@dataclass(frozen=True)
class PersonDetailsCorrected:
    person_id: UUID
    reason: str
    changes: Mapping[str, Any]
    corrected_on: date


@dataclass(frozen=True)
class NeedSurveyed:
    person_id: UUID
    survey_year: int
    surveyed_on: date
    has_needs: bool
    needed_items: tuple[str, ...]
    home_visit_required: bool
    surveyor: str
    street: str
    community: str
    certified: bool
    disability_categories: tuple[str, ...]
    disability_grade: str
    birth_month: str
    economic_status: str
    supersedes: UUID | None = None
    event_id: UUID | None = None
    disability_subtypes: tuple[str, ...] = ()
    """低视力/盲/孤独症 where a standard differs by them (low_vision, blind, autism)."""
    hardship_statuses: tuple[str, ...] = ()
    """Family hardship beyond 低保/低收入 (特困供养, 散居孤儿, 防止返贫监测对象 …)."""
    residence_permit: bool = False
    """外省市户籍、持居住证居住在本辖区."""
    """The stored event's id (None until stored); it is how a later survey names the one it corrects."""


@dataclass(frozen=True)
class PersonForgotten:
    """The person's data key was destroyed: their identifying details can no longer be read."""

    person_id: UUID
    forgotten_on: date
    key_id: str | None


PersonEvent = PersonRegistered | PersonDetailsCorrected | NeedSurveyed | PersonForgotten


@dataclass
class SurveyRecord:
    survey_id: UUID
    year: int
    superseded_by: UUID | None = None


@dataclass(frozen=True)
class NeedsSurveyRequest:
    """What a survey team recorded on a visit (the command's input)."""

    survey_year: int
    surveyed_on: date
    has_needs: bool
    needed_items: tuple[str, ...]
    home_visit_required: bool
    surveyor: str
    supersedes: UUID | None = None
    disability_subtypes: tuple[str, ...] = ()
    hardship_statuses: tuple[str, ...] = ()
    residence_permit: bool = False


# -- the aggregate ---------------------------------------------------------------------------------
@dataclass
class Person:
    """A disabled person known to a street's survey team, built from its events on every load."""

    person_id: UUID | None = None
    details: PersonDetails | None = None
    registered_on: date | None = None
    surveys: dict[UUID, SurveyRecord] = field(default_factory=dict)
    forgotten: bool = False
    """删除个人信息: the data key is destroyed; details read as redacted and nothing can be recorded."""

    @classmethod
    def from_history(cls, events: Iterable[PersonEvent]) -> Person:
        person = cls()
        for event in events:
            person._apply(event)
        return person

    # -- commands ----------------------------------------------------------------------------------
    def register(
        self,
        details: PersonDetails,
        *,
        registered_on: date,
        today: date,
        streets: Iterable[str],
        registered_as: UUID | OutOfView | None = None,
        communities: Mapping[str, frozenset[str]] = NO_COMMUNITY_LISTS,
    ) -> list[PersonRegistered]:
        """Register a person; ``registered_as`` is the person already holding this ID number, if any (or
        OUT_OF_VIEW when they are registered outside the caller's area);
        ``communities``: the listed communities of each street (the pack's communities.toml)."""
        if self.person_id is not None:
            raise StateConflict(
                f"此人（{self.person_id}）已登记", field="person_id", code="survey.person.already_registered"
            )
        details = normalised(details)
        check_details(details, tuple(streets), on_day=registered_on, today=today)
        check_community(details, communities)
        if isinstance(registered_as, OutOfView):
            raise StateConflict(HELD_OUT_OF_VIEW, field="id_number", code=ALREADY_REGISTERED)
        if registered_as is not None:
            raise StateConflict(
                f"身份证号 {details.id_number} 已登记为 {registered_as}：请更正该人的基本信息，不要重复登记",
                field="id_number",
                code="survey.id_number.already_registered",
            )
        return [PersonRegistered(new_aggregate_id(), details, registered_on)]

    def correct(
        self,
        changes: Mapping[str, Any],
        *,
        reason: str,
        corrected_on: date,
        today: date,
        streets: Iterable[str],
        id_number_holder: UUID | OutOfView | None = None,
        communities: Mapping[str, frozenset[str]] = NO_COMMUNITY_LISTS,
    ) -> list[PersonDetailsCorrected]:
        """Correct basic information; ``id_number_holder`` is who holds a newly given ID number, if anyone
        (OUT_OF_VIEW: someone outside the caller's area).
        A community is checked against ``communities`` when the correction moves the person."""
        details, person_id = self._registered()
        unknown = set(changes) - CORRECTABLE
        if unknown:
            raise CommandRejected(
                f"这些不是可更正的基本信息：{'、'.join(sorted(unknown))}",
                field="changes",
                code="survey.changes.not_correctable",
            )
        corrected = normalised(replace(details, **changes))
        changed = {
            name: getattr(corrected, name)
            for name in changes
            if getattr(corrected, name) != getattr(details, name)
        }
        if not changed:
            raise CommandRejected(
                "更正没有改变任何信息：所填的值与已登记的相同", field="changes", code="survey.changes.nothing"
            )
        check_details(corrected, tuple(streets), on_day=corrected_on, today=today)
        if any(len(name) >= 2 and name in reason for name in {details.name, corrected.name}):
            raise CommandRejected(
                "更正原因会随事件发给各机构且不加密，不得写入本人姓名：请只写事由（例如「身份证号录入错误」）",
                field="reason",
                code="survey.reason.names_the_person",
            )
        if {"street", "community"} & set(changed):
            check_community(corrected, communities)
        if "id_number" in changed and isinstance(id_number_holder, OutOfView):
            raise StateConflict(HELD_OUT_OF_VIEW, field="id_number", code=ALREADY_REGISTERED)
        if "id_number" in changed and id_number_holder not in (None, person_id):
            raise StateConflict(
                f"身份证号 {corrected.id_number} 已登记为另一人 {id_number_holder}",
                field="id_number",
                code="survey.id_number.already_registered",
            )
        return [PersonDetailsCorrected(person_id, reason, changed, corrected_on)]

    def survey(self, request: NeedsSurveyRequest, *, today: date) -> list[NeedSurveyed]:
        """Record the year's needs survey, or correct it when ``supersedes`` names the current one."""
        details, person_id = self._registered()
        check_survey_dates(request, details, today)
        check_needed_items(request, details)
        check_person_facts(request, details)
        self._check_supersedes(request.survey_year, request.supersedes)
        return [
            NeedSurveyed(
                person_id=person_id,
                survey_year=request.survey_year,
                surveyed_on=request.surveyed_on,
                has_needs=request.has_needs,
                needed_items=request.needed_items,
                home_visit_required=request.home_visit_required,
                surveyor=request.surveyor,
                street=details.street,
                community=details.community,
                certified=details.certified,
                disability_categories=details.disability_categories,
                disability_grade=details.disability_grade,
                birth_month=details.birth_date.strftime("%Y-%m"),
                economic_status=details.economic_status,
                supersedes=request.supersedes,
                disability_subtypes=request.disability_subtypes,
                hardship_statuses=request.hardship_statuses,
                residence_permit=request.residence_permit,
            )
        ]

    def forget(self, *, key_id: str | None, today: date) -> list[PersonForgotten]:
        """Forget the person: record that their data key (``key_id``, if they had one) is destroyed."""
        _, person_id = self._registered()
        return [PersonForgotten(person_id, today, key_id)]

    # -- queries -----------------------------------------------------------------------------------
    def current_survey(self, year: int) -> UUID | None:
        """The survey of ``year`` that no later survey superseded."""
        return next(
            (s.survey_id for s in self.surveys.values() if s.year == year and s.superseded_by is None), None
        )

    # -- state -------------------------------------------------------------------------------------
    def _registered(self) -> tuple[PersonDetails, UUID]:
        if self.details is None or self.person_id is None:
            raise StateConflict("此人尚未登记", field="person_id", code="survey.person.not_registered")
        if self.forgotten:
            raise StateConflict(
                f"此人（{self.person_id}）的个人信息已删除，不能再更正、调查或删除",
                field="person_id",
                code="survey.person.forgotten",
            )
        return self.details, self.person_id

    def _check_supersedes(self, year: int, supersedes: UUID | None) -> None:
        current = self.current_survey(year)
        if supersedes is None:
            if current is not None:
                raise StateConflict(
                    f"此人 {year} 年已有需求调查（{current}）：每人每年只调查一次；"
                    f"如需更正，请以 supersedes={current} 提交新的调查",
                    field="supersedes",
                    code="survey.survey.one_per_year",
                )
            return
        earlier = self.surveys.get(supersedes)
        if earlier is None:
            raise CommandRejected(
                f"{supersedes} 不是此人的需求调查", field="supersedes", code="survey.supersedes.unknown"
            )
        if earlier.year != year:
            raise CommandRejected(
                f"被更正的是此人 {earlier.year} 年的调查，而本次调查是 {year} 年的",
                field="supersedes",
                code="survey.supersedes.other_year",
            )
        if earlier.superseded_by is not None:
            raise StateConflict(
                f"调查 {supersedes} 已被 {earlier.superseded_by} 更正，请更正最新的那一次",
                field="supersedes",
                code="survey.supersedes.already_superseded",
            )

    def _apply(self, event: PersonEvent) -> None:
        if isinstance(event, PersonRegistered):
            self.person_id = event.person_id
            self.details = event.details
            self.registered_on = event.registered_on
        elif isinstance(event, PersonDetailsCorrected):
            assert self.details is not None
            self.details = replace(self.details, **event.changes)
        elif isinstance(event, PersonForgotten) and self.details is not None:
            self.forgotten = True
            self.details = forgotten_details(self.details)
        elif isinstance(event, NeedSurveyed) and event.event_id is not None:
            self.surveys[event.event_id] = SurveyRecord(event.event_id, event.survey_year)
            if event.supersedes is not None and event.supersedes in self.surveys:
                self.surveys[event.supersedes].superseded_by = event.event_id
