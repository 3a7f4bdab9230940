"""Field types and the frozen base shared by the payload modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class ContractModel(BaseModel):
    """Base of the value objects nested in payloads: frozen, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# Constrained types; each field still carries its own description and examples.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
IdNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{17}[0-9X]$")]
"""身份证号: 18 characters, digits with a final check character 0-9 or X (validated by the service)."""
CertificateNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{17}[0-9X][0-9]{2}$")]
"""残疾人证号: the 18-character ID number followed by a category digit and a grade digit."""
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{4,19}$")]
"""Mobile or landline number, e.g. 13800138000 or 023-67881234."""
BirthMonth = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
"""出生年月 as YYYY-MM."""

PersonId = Annotated[
    UUID,
    Field(
        description=(
            "Random id of the disabled person, minted by the survey registry; the only way events "
            "name a person. Never derived from an ID or certificate number."
        ),
        examples=["7f0c1e9a-2d3b-4c5d-8e9f-0a1b2c3d4e5f"],
    ),
]
Year = Annotated[int, Field(ge=2000, le=2100)]
Street = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    Field(description="Street 街道 as named in the policy data.", examples=["鸳鸯"]),
]
Community = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50),
    Field(
        description="Community 社区 (residents' committee 居委会) within the street.", examples=["金渝社区"]
    ),
]
InstitutionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
"""Stable id of an institution in the policy data (a code such as a UUID or slug, never its display name)."""


def require_unique(values: Sequence[object], what: str) -> None:
    """Raise ValueError naming the repeated values, for list fields that are really sets."""
    repeated = sorted({str(value) for value in values if values.count(value) > 1})
    if repeated:
        raise ValueError(f"{what} repeated: {', '.join(repeated)}")
