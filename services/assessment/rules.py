"""Rules of assessments and referrals: designation, escalation to the city level, dates and modes.

Pure functions the assessment aggregate calls from its command methods; each raises
CommandRejected (422) or StateConflict (409) naming the offending field.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from kernel.domain.clock import cn_date
from kernel.domain.rejections import CommandRejected, StateConflict
from services.assessment.labels import items_text

if TYPE_CHECKING:
    from services.assessment.domain import (
        AssessmentCompleted,
        AssessmentRequest,
        CaseFacts,
        Institution,
        Network,
        ReferralRequest,
        SurveyedNeeds,
    )

DISTRICT, CITY = "district", "city"
SERVICE_INSTITUTION, ASSESSMENT_INSTITUTION = "service_institution", "assessment_institution"
AT_INSTITUTION, HOME_VISIT, GROUP = "at_institution", "home_visit", "group"


def assessment_institution(network: Network, institution_id: str) -> Institution:
    institution = network.assessment.get(institution_id)
    if institution is None:
        known = ", ".join(sorted(network.assessment))
        raise CommandRejected(
            f"“{institution_id}”不是本辖区的定点康复评估机构；可选：{known}",
            field="institution_id",
            code="assessment.institution_id.not_designated",
        )
    return institution


def surveyed_with_needs(survey: SurveyedNeeds | None, request: AssessmentRequest) -> SurveyedNeeds:
    if survey is None:
        raise StateConflict(
            f"评估服务尚未收到此人 {request.assessment_year} 年的需求调查：街道可能还没有录入，"
            "或数据正在传送中，请稍后再试",
            field="person_id",
            code="assessment.person_id.survey_not_received",
        )
    if not survey.has_needs:
        raise StateConflict(
            f"街道 {survey.year} 年的需求调查记录此人没有康复需求；评估前须由街道更正调查",
            field="person_id",
            code="assessment.person_id.no_needs",
        )
    return survey


def check_assessment_date(assessed_on: date, survey: SurveyedNeeds, today: date) -> None:
    if assessed_on > today:
        raise CommandRejected(
            f"评估日期 {cn_date(assessed_on)} 晚于今天",
            field="assessed_on",
            code="assessment.assessed_on.future",
        )
    if assessed_on < survey.surveyed_on:
        raise CommandRejected(
            f"评估日期 {cn_date(assessed_on)} 早于需求调查日期 {cn_date(survey.surveyed_on)}",
            field="assessed_on",
            code="assessment.assessed_on.before_survey",
        )


def check_mode(mode: str, survey: SurveyedNeeds) -> None:
    if mode not in (AT_INSTITUTION, HOME_VISIT, GROUP):
        raise CommandRejected(
            f"评估方式“{mode}”不存在：应为 at_institution、home_visit 或 group",
            field="mode",
            code="assessment.mode.unknown",
        )
    if survey.home_visit_required and mode == AT_INSTITUTION:
        raise CommandRejected(
            "需求调查记录此人行动不便：请上门评估（home_visit）或集中评估（group），不能要求到机构评估",
            field="mode",
            code="assessment.mode.home_visit_required",
        )


def check_not_assessed_before(request: AssessmentRequest, institution: Institution, case: CaseFacts) -> None:
    for earlier in case.earlier:
        if earlier.institution_id == institution.id or (
            earlier.level == DISTRICT and institution.level == DISTRICT
        ):
            raise StateConflict(
                f"此人 {request.assessment_year} 年已由 {earlier.institution_id} "
                f"评估（{earlier.assessment_id}）："
                "每人每年只做一次区级评估",
                field="person_id",
                code="assessment.person_id.already_assessed",
            )
    if institution.level == CITY and institution.id not in case.escalated_to:
        raise StateConflict(
            f"{institution.id} 是市级评估机构，只评估区级机构转介来的人；此人 {request.assessment_year} 年"
            "未被转介至该机构",
            field="institution_id",
            code="assessment.institution_id.not_escalated",
        )


def check_escalation_declared(request: AssessmentRequest, institution: Institution, network: Network) -> None:
    outside = [item for item in request.assessed_needs if item not in institution.designated_items]
    if request.referral_needed and not request.assessed_needs:
        raise CommandRejected(
            "填写了需转介，但没有评估出可转介的康复需求",
            field="referral_needed",
            code="assessment.referral_needed.without_needs",
        )
    if not outside:
        return
    for item in outside:
        if not network.city_institutions_for(item, excluding=institution.id):
            raise CommandRejected(
                f"{items_text([item])}不在 {institution.id} 的定点范围内，也没有可转介的市级评估机构",
                field="assessed_needs",
                code="assessment.assessed_needs.no_city_institution",
            )
    if not request.referral_needed:
        raise CommandRejected(
            f"{items_text(outside)}不在 {institution.id} 的定点范围内："
            "请填写需转介，并转介至市级评估机构复评",
            field="referral_needed",
            code="assessment.referral_needed.escalation_required",
        )


def check_referral_items(items: tuple[str, ...], record: AssessmentCompleted) -> None:
    if not items:
        raise CommandRejected("请填写转介的项目", field="items", code="assessment.items.required")
    require_unique(items, "items")
    not_assessed = [item for item in items if item not in record.assessed_needs]
    if not_assessed:
        raise CommandRejected(
            f"{items_text(not_assessed)}不在评估出的康复需求（{items_text(record.assessed_needs)}）之中",
            field="items",
            code="assessment.items.not_assessed",
        )


def check_referral_date(issued_on: date, record: AssessmentCompleted, today: date) -> None:
    if issued_on > today:
        raise CommandRejected(
            f"转介日期 {cn_date(issued_on)} 晚于今天", field="issued_on", code="assessment.issued_on.future"
        )
    if issued_on < record.assessed_on:
        raise CommandRejected(
            f"转介日期 {cn_date(issued_on)} 早于评估日期 {cn_date(record.assessed_on)}",
            field="issued_on",
            code="assessment.issued_on.before_assessment",
        )


def check_service_referral(request: ReferralRequest, issuer: Institution, network: Network) -> None:
    target = network.service.get(request.to_institution_id)
    if target is None:
        raise CommandRejected(
            f"“{request.to_institution_id}”不是定点康复服务机构；可选：{', '.join(sorted(network.service))}",
            field="to_institution_id",
            code="assessment.to_institution_id.not_designated",
        )
    beyond_issuer = [item for item in request.items if item not in issuer.designated_items]
    if beyond_issuer:
        raise CommandRejected(
            f"{items_text(beyond_issuer)}不在 {issuer.id} 的定点范围内：请转介至市级评估机构复评"
            "（to_kind 为 assessment_institution），不能直接转介至服务机构",
            field="items",
            code="assessment.items.escalate_instead",
        )
    beyond_target = [item for item in request.items if item not in target.designated_items]
    if beyond_target:
        raise CommandRejected(
            f"{target.name}（{target.id}）不是{items_text(beyond_target)}的定点服务机构；"
            f"它的定点项目是：{items_text(sorted(target.designated_items))}",
            field="items",
            code="assessment.items.service_not_designated",
        )


def check_escalation(request: ReferralRequest, issuer: Institution, network: Network) -> None:
    target = network.assessment.get(request.to_institution_id)
    if target is None or target.level != CITY:
        cities = [i.id for i in network.assessment.values() if i.level == CITY]
        raise CommandRejected(
            f"“{request.to_institution_id}”不是市级评估机构；复评只能转介至：{', '.join(cities)}",
            field="to_institution_id",
            code="assessment.to_institution_id.not_city_level",
        )
    if target.id == issuer.id:
        raise CommandRejected(
            "评估机构不能转介给自己", field="to_institution_id", code="assessment.to_institution_id.self"
        )
    beyond_target = [item for item in request.items if item not in target.designated_items]
    if beyond_target:
        raise CommandRejected(
            f"{target.name}（{target.id}）不是{items_text(beyond_target)}的定点评估机构",
            field="items",
            code="assessment.items.assessment_not_designated",
        )


def require_unique(values: tuple[str, ...], field_name: str) -> None:
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise CommandRejected(
            f"重复选择了：{items_text(repeated)}", field=field_name, code=f"assessment.{field_name}.repeated"
        )
