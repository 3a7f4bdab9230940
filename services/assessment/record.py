"""Views of an assessment: the 康复需求评估与转介记录 as printed, and what is left to escalate."""

from __future__ import annotations

from kernel.domain.clock import cn_date
from services.assessment.domain import Assessment, Institution, Network
from services.assessment.labels import ITEM_LABELS
from services.assessment.schemas import (
    AssessmentCreated,
    AssessmentRecord,
    EscalationOption,
    FormLine,
    InstitutionView,
    ReferralView,
)


def institution_view(network: Network, institution_id: str) -> InstitutionView:
    institution = network.assessment.get(institution_id) or network.service.get(institution_id)
    if institution is None:  # reference data changed since: show the id alone
        return InstitutionView(id=institution_id, name=institution_id)
    return _view(institution)


def _view(institution: Institution) -> InstitutionView:
    return InstitutionView.model_validate(
        {
            "id": institution.id,
            "name": institution.name,
            "level": institution.level,
            "designated_items": sorted(institution.designated_items),
        }
    )


def created(assessment: Assessment, network: Network) -> AssessmentCreated:
    record = assessment.record
    assert record is not None
    pending = assessment.items_to_escalate(network)
    options = [
        EscalationOption.model_validate(
            {
                "item": item,
                "city_institutions": [
                    _view(i) for i in network.city_institutions_for(item, excluding=record.institution_id)
                ],
            }
        )
        for item in pending
    ]
    return AssessmentCreated.model_validate(
        {
            "assessment_id": record.assessment_id,
            "person_id": record.person_id,
            "referral_pending": assessment.referral_pending(network),
            "items_to_escalate": list(pending),
            "escalation_options": options,
        }
    )


def assessment_record(assessment: Assessment, network: Network) -> AssessmentRecord:
    record = assessment.record
    assert record is not None
    institution = institution_view(network, record.institution_id)
    referrals = [
        ReferralView.model_validate(
            {
                "referral_id": r.referral_id,
                "to_kind": r.to_kind,
                "to_institution": institution_view(network, r.to_institution_id),
                "items": list(r.items),
                "issued_on": r.issued_on,
            }
        )
        for r in assessment.referrals
    ]
    form = [
        ("康复需求", "、".join(ITEM_LABELS.get(i, i) for i in record.assessed_needs) or "无"),
        ("是否需转介", "是" if record.referral_needed else "否"),
        *(
            (
                "转介至（机构）",
                f"{r.to_institution.name}（{'、'.join(ITEM_LABELS.get(i, i) for i in r.items)}）",
            )
            for r in referrals
        ),
        ("评估机构名称", institution.name),
        ("评估人", record.assessor),
        ("评估时间", cn_date(record.assessed_on)),
    ]
    if record.opinion:
        form.append(("评估意见", record.opinion))
    return AssessmentRecord.model_validate(
        {
            "assessment_id": record.assessment_id,
            "person_id": record.person_id,
            "assessment_year": record.assessment_year,
            "institution": institution,
            "assessor": record.assessor,
            "assessed_on": record.assessed_on,
            "mode": record.mode,
            "assessed_needs": list(record.assessed_needs),
            "referral_needed": record.referral_needed,
            "referred": bool(referrals),
            "referrals": referrals,
            "opinion": record.opinion,
            "referral_pending": assessment.referral_pending(network),
            "items_to_escalate": list(assessment.items_to_escalate(network)),
            "form": [FormLine(label=label, value=value) for label, value in form],
        }
    )
