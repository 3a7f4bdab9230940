"""HTTP API of person cards: the 姓名 (and 附件1 basic information) other agencies' pages show.

``POST /persons/cards:batch`` is a read sent as a POST (hundreds of ids do not fit a URL): it changes
nothing, so auditors may send it, and it audits each released person itself (one entry per person, with
the caller's X-Purpose), since the access middleware audits reads by GET and HEAD only.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from kernel.access.access import OTHER_AGENCIES, PERSONAL_DATA, QUERY_BY_POST
from kernel.domain.rejections import CommandRejected
from kernel.http import Runtime
from kernel.store.keyed import IDEMPOTENCY_KEY_HEADER
from services.survey.cards import MAX_PERSONS_PER_CARDS, PersonCard, card_release_of, cards_for
from services.survey.key_release import audit_release

log = logging.getLogger(__name__)

CARDS_PATH = "/persons/cards:batch"


class CardsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_ids: list[UUID] = Field(
        min_length=1,
        max_length=MAX_PERSONS_PER_CARDS,
        description=f"Persons a page names, at most {MAX_PERSONS_PER_CARDS}; repeats count once.",
        examples=[["6f1c2a9e-4b7d-4c1e-9a55-2d8f0e3b7c41"]],
    )


class CardView(BaseModel):
    """One person as the caller may read them. The basic-information fields (附件1) are null unless the
    caller's agency prints 附件1/附件2 (REHAB_BASIC_INFO_AGENCIES, default approval, settlement, audit)."""

    person_id: UUID
    name: str = Field(description="姓名.", examples=["王秀英"])
    street: str = Field(description="街道 the person is registered in.", examples=["鸳鸯"])
    community: str = Field(description="社区.", examples=["金渝社区"])
    sex: str | None = Field(default=None, description="性别: male, female.", examples=["female"])
    birth_date: date | None = Field(default=None, description="出生日期.", examples=["1958-04-12"])
    id_number: str | None = Field(default=None, description="身份证号.")
    disability_certificate_number: str | None = Field(
        default=None, description="残疾人证号 (or the 残疾军人证号 of a disabled veteran)."
    )
    disability_categories: list[str] | None = Field(
        default=None, description="残疾类别 codes (vision, hearing, …).", examples=[["vision"]]
    )
    disability_grade: str | None = Field(default=None, description="残疾等级 code.", examples=["grade_2"])
    phone: str | None = Field(default=None, description="联系电话.")
    address: str | None = Field(default=None, description="家庭住址.")
    guardian_name: str | None = Field(default=None, description="监护人姓名.")
    guardian_relation: str | None = Field(default=None, description="与残疾人关系.")
    guardian_phone: str | None = Field(default=None, description="监护人联系电话.")
    ethnicity: str | None = Field(default=None, description="民族.", examples=["汉族"])
    household_registration: str | None = Field(default=None, description="户籍所在地.")
    residence: str | None = Field(default=None, description="现居住地.")
    medical_insurance: list[str] | None = Field(
        default=None,
        description="享受医疗保险情况 codes (urban_employee, urban_rural_resident, medical_aid, other, none)",
        examples=[["urban_rural_resident"]],
    )
    guardian_sex: str | None = Field(default=None, description="监护人性别: male, female.")
    guardian_id_number: str | None = Field(default=None, description="监护人身份证号.")


class Cards(BaseModel):
    cards: list[CardView] = Field(description="The persons released to the caller, in the order asked.")
    not_released: list[UUID] = Field(
        description=(
            "Persons asked for and not released: outside the caller's scope, forgotten 删除个人信息 or "
            "never registered. The reason is not told, so an answer tells nothing about who is registered."
        )
    )


PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {**PROBLEM, "description": "No valid bearer token (`access.unauthenticated`)"},
    403: {
        **PROBLEM,
        "description": (
            "The caller's agency may not read names (`survey.cards.not_entitled`), or the registry runs "
            "without token keys (`survey.cards.release_off`)"
        ),
    },
    422: {
        **PROBLEM,
        "description": "No ids, more than 500, an id that is not a UUID, or an Idempotency-Key sent",
    },
}


def read_cards(body: CardsRequest, request: Request, runtime: Runtime) -> Cards:
    release = card_release_of(request)
    principal = release.authorise(request)
    if IDEMPOTENCY_KEY_HEADER in request.headers:
        # A keyed request keeps its answer in the store: the names would lie there a second time.
        raise CommandRejected(
            f"查阅人员姓名不接受 {IDEMPOTENCY_KEY_HEADER}：这是查询，重复发送本身是安全的",
            field=IDEMPOTENCY_KEY_HEADER,
            code="survey.cards.idempotency_key",
        )
    person_ids = list(dict.fromkeys(body.person_ids))
    jurisdiction = request.app.state.jurisdiction
    basic_info = release.reads_basic_info(principal)
    cards = cards_for(runtime.store, jurisdiction, principal, person_ids, basic_info=basic_info)
    released = {card.person_id for card in cards}
    audit_release(request, principal, [card.person_id for card in cards])  # before any name leaves
    log.info("cards of %d persons released to %s (%s)", len(cards), principal.agency, principal.user)
    return Cards(
        cards=[_view(card) for card in cards],
        not_released=[person_id for person_id in person_ids if person_id not in released],
    )


def _view(card: PersonCard) -> CardView:
    view = CardView(person_id=card.person_id, name=card.name, street=card.street, community=card.community)
    details = card.basic
    if details is None:
        return view
    guardian = details.guardian
    return view.model_copy(
        update={
            "sex": details.sex,
            "birth_date": details.birth_date,
            "id_number": details.id_number,
            "disability_certificate_number": details.certificate_number or details.veteran_certificate_number,
            "disability_categories": list(details.disability_categories),
            "disability_grade": details.disability_grade,
            "phone": details.phone,
            "address": details.address,
            "guardian_name": guardian.name if guardian else None,
            "guardian_relation": guardian.relation if guardian else None,
            "guardian_phone": guardian.phone if guardian else None,
            "ethnicity": details.ethnicity,
            "household_registration": details.household_registration,
            "residence": details.residence,
            "medical_insurance": list(details.medical_insurance),
            "guardian_sex": guardian.sex if guardian else None,
            "guardian_id_number": guardian.id_number if guardian else None,
        }
    )


def add_cards(app: FastAPI) -> None:
    """Serve the cards route on the app itself (the access middleware reads its marks before routing)."""
    app.add_api_route(
        CARDS_PATH,
        read_cards,
        methods=["POST"],
        response_model=Cards,
        responses=RESPONSES,
        tags=["personal data"],
        summary=f"姓名 (and 附件1 basic information) of up to {MAX_PERSONS_PER_CARDS} persons, for any "
        "entitled agency's pages, within the caller's scope (bearer token, X-Purpose)",
        description=(
            "Scope: `district` any person; `street:`/`community:` the persons of that area; "
            "`institution:` the persons it assessed, was referred or escalated to, or serves an approved "
            "item of (learnt from the assessment and approval events), and for a district-level "
            "assessment institution also the persons surveyed with needs and not yet assessed that year. "
            "Everyone else is listed in `not_released`. Each released person is audited with X-Purpose."
        ),
        # A token always: the registry proves the caller's agency and scope itself, access control or not.
        openapi_extra={**PERSONAL_DATA, **OTHER_AGENCIES, **QUERY_BY_POST, "security": [{"bearerAuth": []}]},
    )
