"""Schema v2 of the survey registry's person events: identifying details sealed, attributes in clear.

Produced by the street offices (agency ``survey``). The fields that identify a person (name, ID and
certificate numbers, phone, addresses, guardian, full birth date, ethnicity) travel only inside one
``SealedPersonalData`` field under the person's data key; the attributes the payment rules read
(street, community, sex, birth month, categories, grade, economic status, insurance, certified) stay
in clear so that settlement replays the same money after the key is destroyed. See
docs/adr/0007-personal-data-encryption.md.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

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
    require_unique,
)
from rehab_contracts.events.survey import _GUARDIAN_EXAMPLE, Guardian, _check_insurance
from rehab_contracts.sealed import KEY_ID_PATTERN, SealedPersonalData
from rehab_contracts.streams import SURVEY, SURVEY_STREAM
from rehab_contracts.vocabulary import (
    DisabilityCategory,
    DisabilityGrade,
    EconomicStatus,
    MedicalInsurance,
    Sex,
)

_SEALED_EXAMPLE = {
    "algorithm": "AES-256-GCM",
    "key_id": "pdk-3f9a1c0b7d2e4f51",
    "nonce": "AAECAwQFBgcICQoL",
    "ciphertext": "c2VhbGVkIHBlcnNvbmFsIGRldGFpbHMgZXhhbXBsZQ==",
}


class PersonalDetails(ContractModel):
    """What ``PersonRegisteredV2.personal_data`` seals: the details that identify a person."""

    name: Text = Field(description="Name 姓名.", examples=["李明"])
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
    id_number: IdNumber = Field(description="ID number 身份证号.", examples=["50011219580412231X"])
    certificate_number: CertificateNumber | None = Field(
        default=None,
        description="Disability certificate number 残疾人证号.",
        examples=["50011219580412231X11"],
    )
    veteran_certificate_number: Text | None = Field(
        default=None,
        description="Disabled veteran certificate number 残疾军人证号.",
        examples=["渝军残字第012345号"],
    )
    guardian: Guardian | None = Field(
        default=None, description="Guardian 监护人.", examples=[_GUARDIAN_EXAMPLE]
    )


class PersonalDetailsCorrection(ContractModel):
    """What ``PersonDetailsCorrectedV2.personal_data`` seals: the corrected identifying details only."""

    name: Text | None = Field(default=None, description="Corrected name 姓名.", examples=["李鸣"])
    ethnicity: Text | None = Field(default=None, description="Corrected ethnic group.", examples=["土家族"])
    birth_date: date | None = Field(
        default=None, description="Corrected date of birth.", examples=["1958-04-21"]
    )
    phone: Phone | None = Field(default=None, description="Corrected phone.", examples=["13800138001"])
    address: Text | None = Field(
        default=None,
        description="Corrected home address.",
        examples=["重庆市渝北区人和街道人和大道1号"],
    )
    household_registration: Text | None = Field(
        default=None, description="Corrected household registration.", examples=["重庆市江北区"]
    )
    residence: Text | None = Field(
        default=None, description="Corrected residence.", examples=["重庆市两江新区人和街道"]
    )
    id_number: IdNumber | None = Field(
        default=None, description="Corrected ID number.", examples=["500112195804122318"]
    )
    certificate_number: CertificateNumber | None = Field(
        default=None,
        description="Corrected or new certificate number.",
        examples=["50011219580412231812"],
    )
    veteran_certificate_number: Text | None = Field(
        default=None,
        description="Corrected veteran certificate number.",
        examples=["渝军残字第012346号"],
    )
    guardian: Guardian | None = Field(
        default=None, description="Corrected guardian, given in full.", examples=[_GUARDIAN_EXAMPLE]
    )


class PersonRegisteredV2(EventPayload):
    """A street's survey team recorded a disabled person's basic information 残疾人基本信息.

    Produced by ``survey``. The identifying details are sealed in ``personal_data`` (a
    ``PersonalDetails``) under the person's data key; the attributes payment rules read are in clear.
    """

    event_type: ClassVar[str] = "survey.person_registered"
    schema_version: ClassVar[int] = 2
    stream: ClassVar[str] = SURVEY_STREAM
    producer: ClassVar[str] = SURVEY

    person_id: PersonId
    street: Street
    community: Community
    sex: Sex = Field(description="Sex 性别.", examples=["male"])
    birth_month: BirthMonth = Field(
        description="Month of birth 出生年月 (YYYY-MM), for age rules; the full date is sealed.",
        examples=["1958-04"],
    )
    certified: bool = Field(
        description="Holds a disability certificate 残疾人证 or a disabled veteran certificate 残疾军人证.",
        examples=[True],
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
        description="Medical insurance enjoyed 享受医疗保险情况 ('none' stands alone).",
        examples=[["urban_rural_resident", "medical_aid"], ["none"]],
    )
    personal_data: SealedPersonalData = Field(
        description="The identifying details (a PersonalDetails), sealed with the person's data key.",
        examples=[_SEALED_EXAMPLE],
    )

    @model_validator(mode="after")
    def _lists_are_sets(self) -> PersonRegisteredV2:
        require_unique(self.disability_categories, "disability_categories")
        _check_insurance(self.medical_insurance)
        return self


class PersonDetailsCorrectedV2(EventPayload):
    """A street's survey team corrected a registered person's basic information.

    Produced by ``survey``. Only the fields given are corrected; corrected identifying details are
    sealed in ``personal_data`` (a ``PersonalDetailsCorrection``). ``reason`` must not name the person.
    """

    event_type: ClassVar[str] = "survey.person_details_corrected"
    schema_version: ClassVar[int] = 2
    stream: ClassVar[str] = SURVEY_STREAM
    producer: ClassVar[str] = SURVEY

    person_id: PersonId
    reason: Text = Field(description="Why the details were corrected.", examples=["身份证号录入错误"])
    street: Text | None = Field(default=None, description="Corrected street 街道.", examples=["人和"])
    community: Text | None = Field(
        default=None, description="Corrected community 社区.", examples=["人和社区"]
    )
    sex: Sex | None = Field(default=None, description="Corrected sex 性别.", examples=["male"])
    birth_month: BirthMonth | None = Field(
        default=None, description="Corrected month of birth (YYYY-MM).", examples=["1958-04"]
    )
    certified: bool | None = Field(
        default=None,
        description="Certified 持证 since this correction (a certificate was added).",
        examples=[True],
    )
    disability_categories: list[DisabilityCategory] | None = Field(
        default=None,
        min_length=1,
        description="Corrected disability categories.",
        examples=[["vision"]],
    )
    disability_grade: DisabilityGrade | None = Field(
        default=None, description="Corrected disability grade.", examples=["grade_1"]
    )
    economic_status: EconomicStatus | None = Field(
        default=None, description="Corrected family economic status.", examples=["low_income"]
    )
    medical_insurance: list[MedicalInsurance] | None = Field(
        default=None,
        min_length=1,
        description="Corrected medical insurance.",
        examples=[["urban_employee"]],
    )
    personal_data: SealedPersonalData | None = Field(
        default=None,
        description="Corrected identifying details (a PersonalDetailsCorrection), sealed with the data key.",
        examples=[_SEALED_EXAMPLE],
    )

    @model_validator(mode="after")
    def _corrects_something(self) -> PersonDetailsCorrectedV2:
        unchanged = {"person_id", "reason"}
        if all(getattr(self, name) is None for name in type(self).model_fields if name not in unchanged):
            raise ValueError("a correction must change at least one detail")
        require_unique(self.disability_categories or [], "disability_categories")
        _check_insurance(self.medical_insurance)
        return self


class PersonForgotten(EventPayload):
    """The registry destroyed a person's data key 删除个人信息: their sealed details can no longer be read.

    Produced by ``survey``. Carries no personal data; consumers drop any cached key or copy of the
    person's details. The person's other events (and the money they settle) stay as they were.
    """

    event_type: ClassVar[str] = "survey.person_forgotten"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = SURVEY_STREAM
    producer: ClassVar[str] = SURVEY

    person_id: PersonId
    forgotten_on: date = Field(description="Day the key was destroyed.", examples=["2025-03-01"])
    key_id: str | None = Field(
        default=None,
        pattern=KEY_ID_PATTERN,
        description="The destroyed data key; null for a person registered before sealing (schema v1).",
        examples=["pdk-3f9a1c0b7d2e4f51"],
    )
