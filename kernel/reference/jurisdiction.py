"""Load and validate a jurisdiction's reference file (deploy/reference/<name>.toml)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "deploy" / "reference"
REFERENCE_VARIABLE = "REHAB_REFERENCE"
"""Environment variable naming the deployment's reference data: a name in deploy/reference or a path."""
DEFAULT_REFERENCE = "liangjiang"
CHILDREN_ASSISTANCE_ITEMS = frozenset({"children_rehab_training"})


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
    """One jurisdiction's streets and designated institutions."""

    model_config = ConfigDict(frozen=True)

    jurisdiction: str
    name: str
    streets: tuple[str, ...] = Field(min_length=1)
    assessment_institutions: tuple[AssessmentInstitution, ...] = ()
    service_institutions: tuple[ServiceInstitution, ...] = ()
    quotas: tuple[Quota, ...] = Field(
        default=(), description="Children's assistance places per area and year; none: no quota applies."
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

    def quota_for(self, street: str, year: int, items: Iterable[str]) -> Quota | None:
        """The places an application of this street, year and items counts against, if any."""
        wanted = frozenset(items)
        return next((quota for quota in self.quotas if quota.applies_to(street, year, wanted)), None)

    def assessment_institution(self, institution_id: str) -> AssessmentInstitution | None:
        return next((i for i in self.assessment_institutions if i.id == institution_id), None)

    def service_institution(self, institution_id: str) -> ServiceInstitution | None:
        return next((i for i in self.service_institutions if i.id == institution_id), None)


def deployment_reference() -> str:
    """The reference data this deployment runs on: ``REHAB_REFERENCE`` (a name or a path), else Liangjiang."""
    return os.environ.get(REFERENCE_VARIABLE) or DEFAULT_REFERENCE


@cache
def load_jurisdiction(name_or_path: str = DEFAULT_REFERENCE) -> Jurisdiction:
    """Read ``deploy/reference/<name>.toml`` (or a path to such a file)."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = REFERENCE_DIR / f"{name_or_path}.toml"
    with path.open("rb") as handle:
        return Jurisdiction.model_validate(tomllib.load(handle))
