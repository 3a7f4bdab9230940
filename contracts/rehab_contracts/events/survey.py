"""Payloads of the needs survey 康复需求调查, produced by the street offices (agency ``survey``)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from pydantic import Field, model_validator

from rehab_contracts.envelope import EventPayload
from rehab_contracts.events.common import (
    BirthMonth,
    CertificateNumber,
    Community,
    ContractModel,
    IdNumber,
    PersonId,
    Phone,
    Street,
    Text,
    Year,
    require_unique,
)
from rehab_contracts.streams import SURVEY, SURVEY_STREAM
from rehab_contracts.vocabulary import (
    CatalogueItem,
    DisabilityCategory,
    DisabilityGrade,
    DisabilitySubtype,
    EconomicStatus,
    HardshipStatus,
    MedicalInsurance,
    Sex,
)

_GUARDIAN_EXAMPLE = {
    "name": "王芳",
    "sex": "female",
    "phone": "13900139000",
    "id_number": "500112196503152347",
    "relation": "母亲",
}


class Guardian(ContractModel):
    """监护人 of a disabled person, as on page 1 of the 精准康复服务手册 and on 附件2."""

    name: Text = Field(description="Guardian's name 监护人姓名.", examples=["王芳"])
    sex: Sex = Field(description="Guardian's sex 性别.", examples=["female"])
    phone: Phone = Field(description="Guardian's phone 监护人联系电话.", examples=["13900139000"])
    id_number: IdNumber | None = Field(
        default=None,
        description="Guardian's ID number 身份证号码, when known.",
        examples=["500112196503152347"],
    )
    relation: Text = Field(
        description="Relation to the disabled person 与残疾人关系, as written on the form.", examples=["母亲"]
    )


def _check_insurance(insurance: list[MedicalInsurance] | None) -> None:
    if insurance and MedicalInsurance.NONE in insurance and len(insurance) > 1:
        raise ValueError("medical_insurance 'none' cannot be combined with an insurance")
    require_unique(insurance or [], "medical_insurance")


class PersonRegistered(EventPayload):
    """A street's survey team recorded a disabled person's basic information 残疾人基本信息 (schema v1).

    Produced by ``survey`` until schema v2 (``PersonRegisteredV2``, personal details sealed); events
    stored as v1 carry them in clear and stay readable forever. Every other event names the person
    by ``person_id`` alone.
    """

    event_type: ClassVar[str] = "survey.person_registered"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = SURVEY_STREAM
    producer: ClassVar[str] = SURVEY

    person_id: PersonId
    street: Street
    community: Community
    name: Text = Field(description="Name 姓名.", examples=["李明"])
    sex: Sex = Field(description="Sex 性别.", examples=["male"])
    ethnicity: Text = Field(description="Ethnic group 民族.", examples=["汉族"])
    birth_date: date = Field(description="Date of birth 出生日期.", examples=["1958-04-12"])
    phone: Phone = Field(description="Contact phone 联系电话.", examples=["13800138000"])
    address: Text = Field(
        description="Home address 家庭住址.", examples=["重庆市渝北区鸳鸯街道金渝大道88号3-2"]
    )
    household_registration: Text = Field(
        description="Place of household registration 户籍所在地.", examples=["重庆市渝北区"]
    )
    residence: Text = Field(
        description="Current place of residence 现居住地.", examples=["重庆市两江新区鸳鸯街道"]
    )
    id_number: IdNumber = Field(
        description="ID number 身份证号: 18 characters; the survey service validates the check digit.",
        examples=["50011219580412231X"],
    )
    certificate_number: CertificateNumber | None = Field(
        default=None,
        description="Disability certificate number 残疾人证号; absent for uncertified children 未持证儿童.",
        examples=["50011219580412231X11"],
    )
    veteran_certificate_number: Text | None = Field(
        default=None,
        description="Disabled veteran certificate number 残疾军人证号; its holder counts as certified.",
        examples=["渝军残字第012345号"],
    )
    disability_categories: list[DisabilityCategory] = Field(
        min_length=1,
        description="Disability categories 残疾类别; more than one means 多重残疾.",
        examples=[["vision"], ["physical", "speech"]],
    )
    disability_grade: DisabilityGrade = Field(description="Disability grade 残疾等级.", examples=["grade_2"])
    economic_status: EconomicStatus = Field(
        description="Family economic status 家庭经济状况.", examples=["subsistence_allowance"]
    )
    medical_insurance: list[MedicalInsurance] = Field(
        min_length=1,
        description="Medical insurance enjoyed 享受医疗保险情况 (tick all that apply; 'none' stands alone).",
        examples=[["urban_rural_resident", "medical_aid"], ["none"]],
    )
    guardian: Guardian | None = Field(
        default=None,
        description="Guardian 监护人, for minors and persons who need one.",
        examples=[_GUARDIAN_EXAMPLE],
    )

    @model_validator(mode="after")
    def _lists_are_sets(self) -> PersonRegistered:
        require_unique(self.disability_categories, "disability_categories")
        _check_insurance(self.medical_insurance)
        return self


class PersonDetailsCorrected(EventPayload):
    """A street's survey team corrected a registered person's basic information (schema v1).

    Produced by ``survey`` until schema v2 (``PersonDetailsCorrectedV2``); only the fields given are
    corrected, absent (null) fields keep their value.
    """

    event_type: ClassVar[str] = "survey.person_details_corrected"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = SURVEY_STREAM
    producer: ClassVar[str] = SURVEY

    person_id: PersonId
    reason: Text = Field(description="Why the details were corrected.", examples=["身份证号录入错误"])
    street: Text | None = Field(
        default=None, description="Corrected street 街道 (e.g. after a move).", examples=["人和"]
    )
    community: Text | None = Field(
        default=None, description="Corrected community 社区.", examples=["人和社区"]
    )
    name: Text | None = Field(default=None, description="Corrected name 姓名.", examples=["李鸣"])
    sex: Sex | None = Field(default=None, description="Corrected sex 性别.", examples=["male"])
    ethnicity: Text | None = Field(
        default=None, description="Corrected ethnic group 民族.", examples=["土家族"]
    )
    birth_date: date | None = Field(
        default=None, description="Corrected date of birth.", examples=["1958-04-21"]
    )
    phone: Phone | None = Field(
        default=None, description="Corrected phone 联系电话.", examples=["13800138001"]
    )
    address: Text | None = Field(
        default=None,
        description="Corrected home address 家庭住址.",
        examples=["重庆市渝北区人和街道人和大道1号"],
    )
    household_registration: Text | None = Field(
        default=None,
        description="Corrected place of household registration 户籍所在地.",
        examples=["重庆市江北区"],
    )
    residence: Text | None = Field(
        default=None,
        description="Corrected place of residence 现居住地.",
        examples=["重庆市两江新区人和街道"],
    )
    id_number: IdNumber | None = Field(
        default=None, description="Corrected ID number 身份证号.", examples=["500112195804122318"]
    )
    certificate_number: CertificateNumber | None = Field(
        default=None,
        description="Corrected or newly issued certificate number 残疾人证号.",
        examples=["50011219580412231812"],
    )
    veteran_certificate_number: Text | None = Field(
        default=None,
        description="Corrected disabled veteran certificate number.",
        examples=["渝军残字第012346号"],
    )
    disability_categories: list[DisabilityCategory] | None = Field(
        default=None,
        min_length=1,
        description="Corrected disability categories 残疾类别.",
        examples=[["vision"]],
    )
    disability_grade: DisabilityGrade | None = Field(
        default=None, description="Corrected disability grade 残疾等级.", examples=["grade_1"]
    )
    economic_status: EconomicStatus | None = Field(
        default=None, description="Corrected family economic status.", examples=["low_income"]
    )
    medical_insurance: list[MedicalInsurance] | None = Field(
        default=None, min_length=1, description="Corrected medical insurance.", examples=[["urban_employee"]]
    )
    guardian: Guardian | None = Field(
        default=None, description="Corrected guardian 监护人, given in full.", examples=[_GUARDIAN_EXAMPLE]
    )

    @model_validator(mode="after")
    def _corrects_something(self) -> PersonDetailsCorrected:
        unchanged = {"person_id", "reason"}
        if all(getattr(self, name) is None for name in type(self).model_fields if name not in unchanged):
            raise ValueError("a correction must change at least one detail")
        require_unique(self.disability_categories or [], "disability_categories")
        _check_insurance(self.medical_insurance)
        return self


class NeedSurveyed(EventPayload):
    """A street's survey team recorded a person's rehabilitation needs for the year (康复需求调查).

    Produced by ``survey``. Carries the non-identifying eligibility facts settlement needs, so no
    consumer has to read personal details. A correction is a new event that supersedes the old one.
    """

    event_type: ClassVar[str] = "survey.need_surveyed"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = SURVEY_STREAM
    producer: ClassVar[str] = SURVEY

    person_id: PersonId
    survey_year: Year = Field(description="Year the survey counts for 调查年度.", examples=[2024])
    street: Street
    community: Community
    surveyed_on: date = Field(description="Date of the survey visit.", examples=["2024-10-15"])
    has_needs: bool = Field(
        description="Whether the person has rehabilitation needs 康复需求 有/无.", examples=[True]
    )
    needed_items: list[CatalogueItem] = Field(
        default_factory=list,
        description="Catalogue items needed; non-empty exactly when has_needs.",
        examples=[["cataract_surgery", "assistive_device_fitting"]],
    )
    home_visit_required: bool = Field(
        description="The person cannot travel 行动不便, so assessment and services come home.",
        examples=[False],
    )
    surveyor: Text = Field(
        description="Survey team member who recorded it (社区康复协调员, 专职委员 or 社区医生).",
        examples=["张丽"],
    )
    supersedes_event_id: UUID | None = Field(
        default=None,
        description="event_id of the NeedSurveyed this one corrects; null for a first survey.",
        examples=["01934f3e-7d5c-7b1a-9c2e-3f4a5b6c7d8e"],
    )
    certified: bool = Field(
        description="Holds a disability certificate 残疾人证 or a disabled veteran certificate 残疾军人证.",
        examples=[True],
    )
    disability_categories: list[DisabilityCategory] = Field(
        min_length=1,
        description="Disability categories 残疾类别 at the time of the survey.",
        examples=[["vision"]],
    )
    disability_grade: DisabilityGrade = Field(description="Disability grade 残疾等级.", examples=["grade_2"])
    birth_month: BirthMonth = Field(
        description="Month of birth 出生年月 (YYYY-MM), for age rules such as children 0-6 and 7-14.",
        examples=["1958-04"],
    )
    economic_status: EconomicStatus = Field(
        description="Family economic status 家庭经济状况.", examples=["subsistence_allowance"]
    )
    disability_subtypes: list[DisabilitySubtype] = Field(
        default_factory=list,
        description=(
            "What the categories leave open where a standard differs: 低视力 or 盲 (vision only, not both), "
            "孤独症. Empty when not recorded (events before it was kept)."
        ),
        examples=[["low_vision"], ["autism"]],
    )
    hardship_statuses: list[HardshipStatus] = Field(
        default_factory=list,
        description=(
            "Family hardship 家庭经济困难 beyond 低保/低收入 (特困供养, 散居孤儿, 事实无人抚养, "
            "福利机构收留抚养, 防止返贫监测对象家庭), each as the survey team verified it; empty when none "
            "or not recorded."
        ),
        examples=[["poverty_relapse_monitoring"]],
    )
    residence_permit: bool = Field(
        default=False,
        description=(
            "Registered outside the district and living in it with a 居住证 (外省市户籍且持有居住证), "
            "which some children's programmes admit; false = 户籍 in the district (and in events before "
            "it was kept)."
        ),
        examples=[False],
    )

    @model_validator(mode="after")
    def _needs_match_items(self) -> NeedSurveyed:
        if self.has_needs and not self.needed_items:
            raise ValueError("needed_items must name at least one item when has_needs")
        if not self.has_needs and self.needed_items:
            raise ValueError("needed_items must be empty when not has_needs")
        require_unique(self.needed_items, "needed_items")
        require_unique(self.disability_categories, "disability_categories")
        require_unique(self.disability_subtypes, "disability_subtypes")
        require_unique(self.hardship_statuses, "hardship_statuses")
        vision = {DisabilitySubtype.LOW_VISION, DisabilitySubtype.BLIND} & set(self.disability_subtypes)
        if len(vision) > 1:
            raise ValueError("disability_subtypes cannot be both low_vision and blind")
        if vision and DisabilityCategory.VISION not in self.disability_categories:
            raise ValueError("low_vision and blind are subtypes of the vision category")
        return self
