"""Settlement policies as data: fee rates and catalogue standards, each with the date it took effect."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

POLICY_DIR = Path(__file__).resolve().parent / "policies"
"""Where the policy files live, one ``<jurisdiction>-<year>.toml`` per policy."""

ItemKind = Literal["assistive_device", "training", "medical", "support_service"]
"""The four service kinds: 辅助器具适配, 康复训练, 康复医疗, 支持性服务."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Fees(_Frozen):
    """Flat fees in fen 分, each paid once per person and year."""

    survey_fee_fen: PositiveInt = Field(description="需求调查工作经费, per person surveyed, to the street.")
    management_fee_fen: PositiveInt = Field(
        description="康复管理经费, per person with needs surveyed and assessed in the year, to the street."
    )
    assessment_fee_fen: PositiveInt = Field(
        description="评估、转介经费, per person assessed by a district-level institution, to it."
    )
    support_service_fen: PositiveInt = Field(
        description="支持性服务补贴, per person, year and support-service item, to the service institution."
    )


class ItemStandard(_Frozen):
    """One catalogue item: its kind and, when the policy states one, its standard 标准 (the cap)."""

    name: str = Field(min_length=1, description="The item as the catalogue names it.")
    kind: ItemKind
    standard_fen: PositiveInt | None = Field(
        default=None, description="Cap of the subsidy per approved item, in fen; null = no cap stated."
    )


class Policy(_Frozen):
    """The settlement rules of one jurisdiction from one date on."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable id, e.g. 'liangjiang-2024'.")
    version: PositiveInt = Field(description="Raised on every change of the file.")
    jurisdiction: str = Field(min_length=1)
    title: str = Field(min_length=1)
    source: str = Field(min_length=1, description="The document the rates are quoted from.")
    effective_from: date = Field(description="First business date the policy applies to.")
    funding_account: str = Field(pattern=r"^fund:[a-z0-9][a-z0-9-]*$", description="The fund that pays.")
    fees: Fees
    items: dict[str, ItemStandard] = Field(min_length=1, description="Catalogue items by their code.")

    def item(self, code: str) -> ItemStandard | None:
        return self.items.get(code)


class PolicySet:
    """Every known policy; picks the one in force on a business date.

    One jurisdiction today; facts will carry their jurisdiction once a second one is added.
    """

    def __init__(self, policies: Iterable[Policy]) -> None:
        self._policies = sorted(policies, key=lambda policy: policy.effective_from)
        ids = [policy.id for policy in self._policies]
        if len(set(ids)) != len(ids):
            raise ValueError(f"policy ids must be unique: {ids}")
        dates = [policy.effective_from for policy in self._policies]
        if len(set(dates)) != len(dates):
            raise ValueError("two policies take effect on the same date")

    def __iter__(self) -> Iterator[Policy]:
        return iter(self._policies)

    def in_force(self, day: date) -> Policy | None:
        """The latest policy that took effect on or before ``day``; None before the first one."""
        in_force = None
        for policy in self._policies:
            if policy.effective_from <= day:
                in_force = policy
        return in_force


def load_policy(path: Path) -> Policy:
    """Read and validate one policy file."""
    with path.open("rb") as handle:
        policy = Policy.model_validate(tomllib.load(handle))
    if policy.id != path.stem:
        raise ValueError(f"{path.name} declares id {policy.id!r}; the file must be named after its id")
    return policy


def load_policies(directory: Path = POLICY_DIR) -> PolicySet:
    """Every policy file of a directory."""
    return PolicySet(load_policy(path) for path in sorted(directory.glob("*.toml")))
