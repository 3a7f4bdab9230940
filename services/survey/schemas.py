"""Request and response bodies of the survey API, every field described for the OpenAPI page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from rehab_contracts import (
    CatalogueItem,
    DisabilityCategory,
    DisabilityGrade,
    EconomicStatus,
    MedicalInsurance,
    Sex,
)
from rehab_contracts.vocabulary import DisabilitySubtype, HardshipStatus

from kernel.free_text import ClearText

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Code = Annotated[str, StringConstraints(max_length=40)]
"""ID, certificate and phone numbers: checked by the domain, which explains what is wrong."""


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GuardianBody(_Request):
    """监护人."""

    name: Text = Field(description="Guardian's name 监护人姓名.", examples=["王芳"])
    sex: Sex = Field(description="Guardian's sex.", examples=["female"])
    phone: Code = Field(description="Guardian's phone 监护人联系电话.", examples=["13900139000"])
    relation: Text = Field(description="Relation to the disabled person 与残疾人关系.", examples=["母亲"])
    id_number: Code | None = Field(default=None, description="Guardian's ID number, when known.")


class PersonBody(_Request):
    """Basic information 残疾人基本信息 (附件1 page 1, 附件2)."""

    street: Short = Field(description="Street 街道 of the jurisdiction.", examples=["鸳鸯"])
    community: Short = Field(description="Community 社区 within the street.", examples=["金渝社区"])
    name: Text = Field(description="Name 姓名.", examples=["李明"])
    sex: Sex = Field(description="Sex 性别; must agree with the ID number's 17th digit.", examples=["male"])
    ethnicity: Text = Field(description="Ethnic group 民族.", examples=["汉族"])
    birth_date: date = Field(description="Date of birth 出生日期; must equal the one in the ID number.")
    phone: Code = Field(description="Contact phone 联系电话.", examples=["13800138000"])
    address: Text = Field(description="Home address 家庭住址.")
    household_registration: Text = Field(description="Place of household registration 户籍所在地.")
    residence: Text = Field(description="Current place of residence 现居住地.")
    id_number: Code = Field(
        description="ID number 身份证号: 18 ASCII characters with a valid check character."
    )
    certificate_number: Code | None = Field(
        default=None,
        description=(
            "Disability certificate number 残疾人证号 = ID number + category digit "
            "(1 vision..6 mental, 7 multiple) + grade digit (1-4). "
            "Required for adults unless a veteran certificate is given."
        ),
    )
    veteran_certificate_number: Text | None = Field(
        default=None, description="Disabled veteran certificate number 残疾军人证号; counts as certified."
    )
    disability_categories: list[DisabilityCategory] = Field(
        min_length=1, description="Disability categories 残疾类别; several = 多重残疾."
    )
    disability_grade: DisabilityGrade = Field(description="Disability grade 残疾等级.")
    economic_status: EconomicStatus = Field(description="Family economic status 家庭经济状况.")
    medical_insurance: list[MedicalInsurance] = Field(
        min_length=1, description="Medical insurance enjoyed 享受医疗保险情况; 'none' stands alone."
    )
    guardian: GuardianBody | None = Field(default=None, description="Guardian 监护人; required for children.")


class RegisterPersonBody(PersonBody):
    registered_on: date | None = Field(
        default=None, description="Day the basic information was recorded; default today."
    )


class CorrectPersonBody(_Request):
    """Only the details given are corrected; the others keep their value."""

    reason: ClearText = Field(description="Why the details are corrected.", examples=["身份证号录入错误"])
    street: Short | None = None
    community: Short | None = None
    name: Text | None = None
    sex: Sex | None = None
    ethnicity: Text | None = None
    birth_date: date | None = None
    phone: Code | None = None
    address: Text | None = None
    household_registration: Text | None = None
    residence: Text | None = None
    id_number: Code | None = None
    certificate_number: Code | None = None
    veteran_certificate_number: Text | None = None
    disability_categories: list[DisabilityCategory] | None = Field(default=None, min_length=1)
    disability_grade: DisabilityGrade | None = None
    economic_status: EconomicStatus | None = None
    medical_insurance: list[MedicalInsurance] | None = Field(default=None, min_length=1)
    guardian: GuardianBody | None = Field(default=None, description="The guardian, given in full.")


class SurveyBody(_Request):
    """One visit of the community survey team 社区调查小组."""

    survey_year: int = Field(
        ge=2000, le=2100, description="Year the survey counts for 调查年度.", examples=[2024]
    )
    surveyed_on: date = Field(
        description="Date of the survey visit, within survey_year.", examples=["2024-10-15"]
    )
    has_needs: bool = Field(description="Rehabilitation needs 康复需求 有/无.", examples=[True])
    needed_items: list[CatalogueItem] = Field(
        default_factory=list, description="Catalogue items needed; non-empty exactly when has_needs."
    )
    home_visit_required: bool = Field(
        default=False, description="The person cannot travel 行动不便: assessment and services come home."
    )
    surveyor: ClearText = Field(description="Team member who recorded it.", examples=["张丽"])
    supersedes: UUID | None = Field(
        default=None,
        description=(
            "survey_id of this year's survey that this one corrects; required for a second survey in a year."
        ),
    )
    disability_subtypes: list[DisabilitySubtype] = Field(
        default_factory=list,
        description="低视力 or 盲 (视力残疾 only), 孤独症: where a standard differs by them.",
        examples=[["low_vision"]],
    )
    hardship_statuses: list[HardshipStatus] = Field(
        default_factory=list,
        description="Family hardship beyond 低保/低收入 the team verified (特困供养, 散居孤儿 …).",
        examples=[["poverty_relapse_monitoring"]],
    )
    residence_permit: bool = Field(
        default=False, description="外省市户籍、持居住证居住在本辖区 (false: 本辖区户籍).", examples=[False]
    )


class Created(BaseModel):
    person_id: UUID = Field(description="Random id of the person; events name the person only by it.")


class SurveyCreated(BaseModel):
    survey_id: UUID = Field(
        description="Id of the survey (its event id); name it in `supersedes` to correct it."
    )
    person_id: UUID
    survey_year: int


class Corrected(BaseModel):
    person_id: UUID
    corrected: list[str] = Field(description="Details that changed.")


class SurveySummary(BaseModel):
    survey_id: UUID
    person_id: UUID
    name: str | None = Field(default=None, description="Person's name, for the survey team's own lists.")
    survey_year: int
    street: str
    community: str
    surveyed_on: date
    has_needs: bool
    needed_items: list[CatalogueItem]
    home_visit_required: bool
    surveyor: str
    certified: bool
    supersedes: UUID | None = None
    superseded_by: UUID | None = Field(default=None, description="The later survey that corrected this one.")
    disability_subtypes: list[DisabilitySubtype] = Field(
        default_factory=list, description="低视力, 盲 or 孤独症 as the survey recorded them."
    )
    hardship_statuses: list[HardshipStatus] = Field(
        default_factory=list, description="Family hardship beyond 低保/低收入 the team verified."
    )
    residence_permit: bool = Field(default=False, description="外省市户籍、持居住证 (false: 本辖区户籍).")


class PersonView(PersonBody):
    """A registered person's basic information, with their surveys; redacted once forgotten."""

    model_config = ConfigDict(extra="ignore")

    person_id: UUID
    # A view widens the body's field (null once forgotten); pydantic keeps its place among the body's fields.
    birth_date: date | None = Field(  # type: ignore[assignment]
        description="Date of birth 出生日期; null once the person is forgotten."
    )
    certified: bool = Field(description="持证: certificate or disabled veteran certificate.")
    registered_on: date
    version: int = Field(description="Number of events of the person so far.")
    forgotten: bool = Field(
        default=False,
        description="删除个人信息: the data key is destroyed; identifying fields read （已删除）.",
    )
    surveys: list[SurveySummary] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _no_birth_date_once_forgotten(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("forgotten"):
            return {**data, "birth_date": None}
        return data


class PersonSummary(BaseModel):
    person_id: UUID
    name: str = Field(description="Name 姓名; （已删除） once the person is forgotten.")
    sex: Sex
    street: str
    community: str
    birth_date: date | None = Field(description="Date of birth; null once the person is forgotten.")
    certified: bool
    registered_on: date


class PersonPage(BaseModel):
    total: int = Field(description="Persons matching, over all pages.")
    limit: int
    offset: int
    items: list[PersonSummary]


class CommunityCount(BaseModel):
    community: str = Field(description="社区 as registered.", examples=["鸳鸯第一社区"])
    persons: int = Field(description="Persons registered in it.", examples=[41])


class CommunitiesOut(BaseModel):
    """The 社区 the registry holds persons of, in an area: names and counts, no personal data."""

    street: str | None = Field(description="The street; None: every street of the caller's district.")
    communities: list[CommunityCount]


class SurveyPage(BaseModel):
    total: int = Field(description="Surveys matching, over all pages.")
    limit: int
    offset: int
    items: list[SurveySummary]


class HandbookLine(BaseModel):
    label: str = Field(description="Label printed on the form.", examples=["姓名"])
    value: str = Field(description="What is written in the box; '' when blank.", examples=["李明"])


class HandbookPage(BaseModel):
    """附件1《精准康复服务手册》 page 1: 残疾人基本信息."""

    title: str
    person_id: UUID
    lines: list[HandbookLine]
    notes: list[str]


class ImportedPerson(BaseModel):
    row: int = Field(description="Row number of the person in the sheet, as the spreadsheet shows it.")
    person_id: UUID
    survey_id: UUID
    name: str
    newly_registered: bool = Field(
        description="False when the ID number was already registered: the row only added the survey."
    )


class SurveyImported(BaseModel):
    """The whole sheet was imported."""

    street: str
    survey_year: int
    surveyed_on: date
    rows: int = Field(description="Data rows read (blank rows skipped).")
    registered: int = Field(description="Persons newly registered.")
    surveyed: int = Field(description="Needs surveys recorded (one per row).")
    persons: list[ImportedPerson]


class RowProblem(BaseModel):
    field: str = Field(description='Where: "file.<row>.<column>", e.g. "file.4.身份证号".')
    code: str = Field(
        description="Stable error code, e.g. survey.id_number.checksum, survey.import.duplicate_in_sheet."
    )
    message: str = Field(description="Why the row cannot be imported (Chinese for the street office).")
    row: int = Field(description="Row number as the spreadsheet shows it (0 = the file as a whole).")
    column: str = Field(description="Column label as in the sheet, e.g. 身份证号.")
    detail_field: str | None = Field(
        default=None, description="The detail the column fills, when there is one."
    )


class SheetReport(BaseModel):
    """Nothing was imported: an application/problem+json document listing every failing row and column."""

    type: str = Field(description="urn:rehab:problem:survey.import.rows_invalid")
    title: str
    status: int = 422
    detail: str = Field(description="A Chinese summary for the street office.")
    code: str = "survey.import.rows_invalid"
    errors: list[RowProblem]
    rows: int = Field(description="Data rows read.")
    failed_rows: int = Field(description="Rows with at least one error.")
    imported: int = Field(default=0, description="Always 0: a sheet is imported whole or not at all.")
