"""Eligibility conditions 救助对象条件 of a subsidy tier, and the applicant they are checked against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, model_validator

Condition = Literal[
    "vision", "low_vision", "blind", "hearing", "speech", "physical", "intellectual", "mental", "autism"
]
"""The certificate's 残疾类别, refined where a seed pays differently: low_vision 低视力 and blind 盲
are both vision 视力; autism 孤独症 is named by the children's programmes beside the categories."""

HardshipCondition = Literal[
    "institution_raised",
    "scattered_orphan",
    "de_facto_unsupported",
    "extreme_poverty_support",
    "poverty_relapse_monitoring",
]
"""The hardship statuses a survey records beyond 低保 (the contracts' HardshipStatus): 福利机构收留抚养,
散居孤儿, 事实无人抚养, 特困供养, 防止返贫监测对象家庭; a policy whose 困难 is narrower lists those
it means."""

EconomicCondition = Literal["subsistence_allowance", "low_income", "hardship"] | HardshipCondition
"""低保家庭, 低收入家庭, hardship 困难 as a seed defines it beyond 低保 (any recorded hardship status: 孤儿,
特困, 防返贫监测 …), or one hardship status by name."""

Residence = Literal["household_registration", "residence_permit"]
"""户籍 in the area, or 居住证 while living in it."""

Certificate = Literal["required", "certified_or_uncertified_child"]
"""持证 required, or 持证残疾人 and 未持证残疾儿童."""


class AgeBand(BaseModel):
    """Ages in 周岁, both ends included."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_years: NonNegativeInt
    max_years: NonNegativeInt

    @model_validator(mode="after")
    def _ordered(self) -> AgeBand:
        if self.max_years < self.min_years:
            raise ValueError("max_years is below min_years")
        return self


class Eligibility(BaseModel):
    """Who a tier is for. An empty condition admits everyone; within one, any listed value admits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conditions: tuple[Condition, ...] = Field(default=(), description="Any of these categories.")
    age: AgeBand | None = Field(default=None, description="None = no age condition stated.")
    economic_status: tuple[EconomicCondition, ...] = Field(default=(), description="Any of these.")
    residence: tuple[Residence, ...] = Field(default=(), description="Any of these.")
    certificate: Certificate | None = None
    note: str | None = Field(default=None, description="Conditions the fields cannot express, quoted.")

    def admits(self, applicant: Applicant) -> bool:
        """Whether the applicant meets every stated condition (the note is for people, not checked)."""
        checks = (
            not self.conditions or bool(set(self.conditions) & applicant.conditions),
            self.age is None or _in_band(self.age, applicant.age_years),
            not self.economic_status or bool(set(self.economic_status) & applicant.economic_status),
            not self.residence or applicant.residence in self.residence,
            self.certificate != "required" or applicant.certified,
        )
        return all(checks)

    def contradicted(self, applicant: Applicant) -> tuple[str, ...]:
        """The stated conditions the applicant's *recorded* facts fail: an unrecorded fact (no categories,
        age or economic status in a survey from before they were kept) contradicts nothing. The 居住证 and
        a form saying 未持证 are only ever recorded, so they count as they are."""
        unmet = []
        if self.conditions and applicant.conditions and not set(self.conditions) & applicant.conditions:
            unmet.append("conditions")
        if self.age is not None and applicant.age_years is not None and not self._age_admits(applicant):
            unmet.append("age")
        economic = set(self.economic_status) & applicant.economic_status
        if self.economic_status and applicant.economic_status_recorded and not economic:
            unmet.append("economic_status")
        if self.residence and applicant.residence not in self.residence:
            unmet.append("residence")
        if self.certificate == "required" and not applicant.certified:
            unmet.append("certificate")
        return tuple(unmet)

    def _age_admits(self, applicant: Applicant) -> bool:
        """In the birth month the person may still be one year younger: either age admits."""
        assert self.age is not None and applicant.age_years is not None
        ages = {applicant.age_years, applicant.age_years - 1 if applicant.age_may_be_one_less else None}
        return any(_in_band(self.age, age) for age in ages)

    def stated(self) -> frozenset[str]:
        """The conditions this tier states: a tier stating more of them is the more specific one."""
        given = {
            "conditions": bool(self.conditions),
            "age": self.age is not None,
            "economic_status": bool(self.economic_status),
            "residence": bool(self.residence),
            "certificate": self.certificate is not None,
        }
        return frozenset(name for name, is_given in given.items() if is_given)


def _in_band(band: AgeBand, age_years: int | None) -> bool:
    """An unknown age (the form 附件2 states none) meets no age band."""
    return age_years is not None and band.min_years <= age_years <= band.max_years


@dataclass(frozen=True)
class Applicant:
    """What eligibility is checked against: facts about the person on the business date."""

    age_years: int | None
    conditions: frozenset[str]
    economic_status: frozenset[str] = frozenset()
    residence: str = "household_registration"
    certified: bool = True
    age_may_be_one_less: bool = False
    """The date falls in the birth month and only the month is known: the birthday may not have come yet."""
    economic_status_recorded: bool = False
    """The form or the survey stated the family's economic status (其他 included), or a hardship status."""
