"""附件1《精准康复服务手册》 page 1 (残疾人基本信息) filled in from a registered person."""

from __future__ import annotations

from services.survey.domain import Person
from services.survey.labels import CATEGORY_LABELS, GRADE_LABELS, SEX_LABELS
from services.survey.schemas import HandbookLine, HandbookPage

NOTES = ["非持证残疾儿童可不填写残疾人证号；", "本页由社区康复协调员填写。"]


def basic_info_page(person: Person) -> HandbookPage:
    details = person.details
    assert details is not None and person.person_id is not None
    guardian = details.guardian
    categories = "、".join(CATEGORY_LABELS[c] for c in details.disability_categories)
    if len(details.disability_categories) > 1:
        categories += "（多重残疾）"
    certificate = details.certificate_number or ""
    if details.veteran_certificate_number:
        certificate = " / ".join(
            filter(None, [certificate, f"残疾军人证 {details.veteran_certificate_number}"])
        )
    lines = [
        ("姓名", details.name),
        ("性别", SEX_LABELS[details.sex]),
        ("民族", details.ethnicity),
        ("联系电话", details.phone),
        ("家庭住址", details.address),
        ("监护人姓名", guardian.name if guardian else ""),
        ("与残疾人关系", guardian.relation if guardian else ""),
        ("监护人联系电话", guardian.phone if guardian else ""),
        ("残疾类别", categories),
        ("残疾等级", GRADE_LABELS[details.disability_grade]),
        ("身份证号", details.id_number),
        ("残疾人证号（持证必填）", certificate),
    ]
    return HandbookPage(
        title="残疾人基本信息",
        person_id=person.person_id,
        lines=[HandbookLine(label=label, value=value) for label, value in lines],
        notes=NOTES,
    )
