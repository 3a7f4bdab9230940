"""Load and validate a jurisdiction's reference file (deploy/reference/<name>.toml)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "deploy" / "reference"


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


class Jurisdiction(BaseModel):
    """One jurisdiction's streets and designated institutions."""

    model_config = ConfigDict(frozen=True)

    jurisdiction: str
    name: str
    streets: tuple[str, ...] = Field(min_length=1)
    assessment_institutions: tuple[AssessmentInstitution, ...] = ()
    service_institutions: tuple[ServiceInstitution, ...] = ()

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Jurisdiction:
        ids = [i.id for i in self.assessment_institutions] + [i.id for i in self.service_institutions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"institution ids used twice: {', '.join(duplicates)}")
        return self

    def assessment_institution(self, institution_id: str) -> AssessmentInstitution | None:
        return next((i for i in self.assessment_institutions if i.id == institution_id), None)

    def service_institution(self, institution_id: str) -> ServiceInstitution | None:
        return next((i for i in self.service_institutions if i.id == institution_id), None)


@cache
def load_jurisdiction(name_or_path: str = "liangjiang") -> Jurisdiction:
    """Read ``deploy/reference/<name>.toml`` (or a path to such a file)."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = REFERENCE_DIR / f"{name_or_path}.toml"
    with path.open("rb") as handle:
        return Jurisdiction.model_validate(tomllib.load(handle))
