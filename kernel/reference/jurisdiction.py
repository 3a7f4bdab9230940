"""A jurisdiction's public view: areas, designated institutions, task numbers, the catalogue's bounds,
the review deadline, the card prefix and the form titles every service reads (ADR 0013).

A deployment reads it from its pack, ``deploy/jurisdictions/<name>/`` (kernel/reference/pack.py); a lone
``.toml`` file of this model still loads (tests write one with a quota of their own).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kernel.config import RehabSettings
from kernel.reference.catalogue import CATEGORY_NAMES
from kernel.reference.communities import NOT_CHECKED, Communities
from kernel.reference.figures import DeploymentDays, Unstated, WorkingDays, days_of

JURISDICTIONS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "jurisdictions"
"""One folder per jurisdiction: jurisdiction.toml, policies/<id>.toml, inputs.toml (ADR 0013)."""
REFERENCE_DIR = JURISDICTIONS_DIR
"""The former deploy/reference: the packs took its place (kept as a name for callers)."""
REFERENCE_VARIABLE = "REHAB_REFERENCE"
"""Environment variable naming the deployment's pack: a folder name in deploy/jurisdictions or a path."""
DEFAULT_REFERENCE = "liangjiang"
CHILDREN_ASSISTANCE_ITEMS = frozenset({"children_rehab_training"})

ECONOMIC_STATUS_NAMES = {
    "subsistence_allowance": "低保家庭",
    "low_income": "低收入家庭",
    "other": "其他",
}
"""The statuses 附件2 ticks; a pack lists its own where its policy defines 困难 more widely."""

DEFAULT_REVIEW_DEADLINE = WorkingDays(working_days=5)
"""For a Jurisdiction built in a test without a deadline: a pack always states its own (or none)."""


class Forms(BaseModel):
    """Titles of the forms as the place prints them (the seed's wording, with the place's name)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    handbook: str = Field(default="精准康复服务手册", min_length=1, description="附件1")
    application: str = Field(default="精准康复服务补助申请审批表", min_length=1, description="附件2")
    service_card: str = Field(default="精准康复服务卡", min_length=1, description="服务卡 (Zhuhai 附件4)")
    annual_summary: str = Field(
        default="残疾人康复需求和康复服务情况汇总表", min_length=1, description="附件3"
    )
    catalogue: str = Field(
        default="残疾人基本康复服务目录",
        min_length=1,
        description="The catalogue the forms' notes send the reader to, 《…》 (附件1, 附件3).",
        examples=["两江新区残疾人基本康复服务目录"],
    )


class ReportsTo(BaseModel):
    """The city 市 and province 省 above the district in the reporting chain, by name (Chongqing is a
    municipality directly under the central government: its city and provincial levels are one body)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    city: str = Field(min_length=1, description="The city level's unit.", examples=["安阳市"])
    province: str = Field(min_length=1, description="The provincial level's unit.", examples=["河南省"])


UNNAMED_UPPER_LEVELS = ReportsTo(city="市级", province="省级")
"""For a Jurisdiction built in a test without ``reports_to``: the levels by their rank alone."""


class AssessmentInstitution(BaseModel):
    """A designated assessment institution 定点康复评估机构."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    level: Literal["district", "city"] = Field(description="district = 区级 (一级), city = 市级 (二级)")
    designated_items: frozenset[str] = Field(description="Catalogue items it may assess.")


class ServiceInstitution(BaseModel):
    """A designated service institution 定点康复服务机构."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    designated_items: frozenset[str] = Field(description="Catalogue items it may deliver.")


class Quota(BaseModel):
    """Places 名额 of children's assistance 残疾儿童康复救助 for one area and year (Anyang 2021, per county).

    Counted at approval: an application approved for one of ``items`` in one of the area's streets takes
    one place of the year. A number the policy calls a minimum (Anyang: 最低任务数, 应救尽救) is a target:
    approval never refuses a child for it and reports the use above it; otherwise it is a cap.
    """

    model_config = ConfigDict(frozen=True)

    year: int = Field(ge=2000, le=2100)
    area: str = Field(min_length=1, description="County 县区 (or street) the places are for.")
    streets: tuple[str, ...] = Field(
        default=(), description="Streets of the jurisdiction in the area; empty: the area is itself a street."
    )
    places: int = Field(ge=0, description="Persons that may be approved in the year.")
    items: frozenset[str] = Field(
        default=CHILDREN_ASSISTANCE_ITEMS, description="Catalogue items that take a place."
    )
    minimum: bool = Field(
        default=False,
        description="A minimum 最低任务数 (a target, never refused); false: a hard cap.",
    )

    @property
    def area_streets(self) -> tuple[str, ...]:
        return self.streets or (self.area,)

    def applies_to(self, street: str, year: int, items: Iterable[str]) -> bool:
        """True when an application of ``street`` and ``year`` asking for ``items`` takes a place."""
        return year == self.year and street in self.area_streets and not self.items.isdisjoint(items)


class Jurisdiction(BaseModel):
    """One jurisdiction's public view: what every service reads, whatever its agency.

    ``streets`` are its service areas: streets 街道 (Liangjiang) or counties 县区 (Anyang, ``area_kind``).
    """

    model_config = ConfigDict(frozen=True)

    jurisdiction: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    area_kind: Literal["street", "county"] = Field(
        default="street", description="What an area is: a street 街道 or a county 县（市、区）."
    )
    streets: tuple[str, ...] = Field(min_length=1)
    categories: dict[str, str] = Field(
        default_factory=lambda: dict(CATEGORY_NAMES),
        description="Disability categories 残疾类别 (and 孤独症, 低视力, 盲 where its policy names them), "
        "code -> Chinese.",
    )
    economic_statuses: dict[str, str] = Field(
        default_factory=lambda: dict(ECONOMIC_STATUS_NAMES),
        description="Family economic statuses the place recognises (困难 as its policy defines it).",
    )
    card_prefix: str = Field(
        default="LJ", pattern=r"^[A-Z]{1,6}$", description="服务卡号 prefix: <prefix><year>-<sequence>."
    )
    forms: Forms = Forms()
    reporting_chain: tuple[str, ...] = Field(
        default=(), description="Who reports to whom, from the first level up (Zhuhai: 社区 -> 街道 -> 区 …)."
    )
    reports_to: ReportsTo = Field(
        default=UNNAMED_UPPER_LEVELS,
        description="The city and province the district's figures go up to (逐级上报), by name.",
    )
    issuer: str | None = Field(
        default=None,
        min_length=1,
        description="The federation office that issues the 手册 (…制) and the 服务卡 (发卡单位); none: "
        "「<name>残疾人联合会」.",
        examples=["重庆市残疾人联合会两江新区办事处"],
    )
    card_issuer: str | None = Field(
        default=None,
        min_length=1,
        pattern=r"^[^{}]*(\{area\}[^{}]*)?$",
        description="Who issues the 服务卡 where it is not the 手册's issuer; `{area}` stands for the "
        "person's area (Zhuhai: each 区残联 issues its district's cards). None: ``issuer``.",
        examples=["珠海市{area}残疾人联合会"],
    )
    review_deadline: WorkingDays | DeploymentDays | Unstated = Field(
        default=DEFAULT_REVIEW_DEADLINE,
        description="Working days to decide a complete application, or why the seed sets none.",
    )
    assessment_institutions: tuple[AssessmentInstitution, ...] = ()
    service_institutions: tuple[ServiceInstitution, ...] = ()
    quotas: tuple[Quota, ...] = Field(
        default=(), description="Children's assistance places per area and year; none: no quota applies."
    )
    communities: Communities = Field(
        default=NOT_CHECKED,
        description="The communities 社区 of each area, from the pack's communities.toml; an area without a "
        "list (its source names none) is not checked.",
    )
    item_standards_fen: dict[str, int] = Field(
        default_factory=dict,
        description="目录标准 per catalogue item, in fen, where the policy states one: the most 区残联办 may "
        "approve as a fixed amount 定额 for it (定额不超过目录标准). An item absent: the seed states none.",
    )

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Jurisdiction:
        ids = [i.id for i in self.assessment_institutions] + [i.id for i in self.service_institutions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"institution ids used twice: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _quotas_cover_known_streets_once(self) -> Jurisdiction:
        counted: set[tuple[int, str]] = set()
        for quota in self.quotas:
            for street in quota.area_streets:
                if street not in self.streets:
                    raise ValueError(
                        f"quota {quota.year} {quota.area}: {street} is not a street of {self.name}"
                    )
                if (quota.year, street) in counted:
                    raise ValueError(f"quota {quota.year}: {street} is in two areas")
                counted.add((quota.year, street))
        return self

    @model_validator(mode="after")
    def _communities_of_known_areas(self) -> Jurisdiction:
        if unknown := self.communities.unknown_areas(self.streets):
            raise ValueError(f"communities: {'、'.join(unknown)} 不是 {self.name} 的区域")
        return self

    @property
    def issuing_federation(self) -> str:
        """Who issues the 手册 and the 服务卡: the pack's ``issuer``, else the place's 残疾人联合会."""
        return self.issuer or f"{self.name}残疾人联合会"

    def card_issuer_of(self, area: str | None) -> str:
        """Who issues the 服务卡 of a person of ``area``: ``card_issuer`` with the area filled in, else the
        手册's issuer (also when the area is not known)."""
        if self.card_issuer is None or ("{area}" in self.card_issuer and not area):
            return self.issuing_federation
        return self.card_issuer.replace("{area}", area or "")

    @property
    def review_working_days(self) -> int | None:
        """Working days to decide a complete application; None: no deadline is set for this place."""
        return days_of(self.review_deadline)

    def quota_for(self, street: str, year: int, items: Iterable[str]) -> Quota | None:
        """The places an application of this street, year and items counts against, if any."""
        wanted = frozenset(items)
        return next((quota for quota in self.quotas if quota.applies_to(street, year, wanted)), None)

    def assessment_institution(self, institution_id: str) -> AssessmentInstitution | None:
        return next((i for i in self.assessment_institutions if i.id == institution_id), None)

    def service_institution(self, institution_id: str) -> ServiceInstitution | None:
        return next((i for i in self.service_institutions if i.id == institution_id), None)

    def service_institutions_by_item(self) -> dict[str, tuple[str, ...]]:
        """The designated service institutions of each catalogue item, by name, in the pack's order."""
        by_item: dict[str, tuple[str, ...]] = {}
        for institution in self.service_institutions:
            for item in sorted(institution.designated_items):
                by_item[item] = (*by_item.get(item, ()), institution.name)
        return by_item


class ReferenceSettings(RehabSettings):
    """The jurisdiction pack a deployment runs on."""

    reference: str = DEFAULT_REFERENCE
    """``REHAB_REFERENCE``: the pack's name under ``deploy/jurisdictions/`` or a path to one."""


def deployment_reference() -> str:
    """The pack this deployment runs on: ``REHAB_REFERENCE`` (a name or a path), else Liangjiang."""
    return ReferenceSettings().reference
