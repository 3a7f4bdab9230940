"""Settlement's pricing view of the policy files: fees, catalogue standards, eligibility, funding, quotas
and targets.

A policy file lives in its jurisdiction's pack (``deploy/jurisdictions/<name>/policies/<id>.toml``, ADR
0013); the other services read the public view of the same file (kernel/reference/policy_view.py), so a
standard and a task number are written once. A policy file quotes its seed. A figure the seed does not
give is written ``{ unstated = "why" }`` instead of a number, so nothing is invented and
``Policy.unstated_figures()`` lists every gap; one the seed defers to another document is a
``{ deployment_input = "…" }`` the pack's ``inputs.toml`` gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from kernel.reference.figures import DeploymentInput, Unstated, fen_of
from kernel.reference.jurisdiction import JURISDICTIONS_DIR
from kernel.reference.pack import PackError, PolicyFile, every_pack, load_pack, read_toml, validated
from services.settlement.book.eligibility import Applicant, Eligibility

__all__ = ["DeploymentInput", "PackError", "Unstated", "fen_of"]

ItemKind = Literal["assistive_device", "training", "medical", "support_service", "allowance"]
"""辅助器具适配, 康复训练, 康复医疗, 支持性服务, and allowances 补贴 to the person (transport, living)."""

Per = Literal["case", "person_year", "month", "once"]
"""What a figure is counted per: 每例, 每人每年, 每月, 一次性."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Fen = Annotated[int, Field(gt=0, description="An amount in fen 分.")]
FenFigure = Fen | Unstated
StandardFigure = Fen | Unstated | DeploymentInput
"""A subsidy's figure: stated, unstated, or deferred to a document the deployment gives it from."""
Percent = Annotated[Decimal, Field(gt=0, le=100, description="A percentage, 80 = 80%.")]


def stated(figure: int | Decimal | Unstated | None) -> int | Decimal | None:
    """The number, or None when the seed leaves it unstated (or the field is absent)."""
    return None if isinstance(figure, Unstated) else figure


# -- subsidy standards 补助标准 ------------------------------------------------------------------
class Free(_Frozen):
    """免费: the programme pays the self-paid part (insurance first), up to the standard."""

    mode: Literal["free"]
    standard_fen: StandardFigure = Field(description="The catalogue standard 标准 capping the subsidy.")
    per: Per = "case"


class FixedAmount(_Frozen):
    """定额: a flat amount, whatever the charge."""

    mode: Literal["fixed_amount"]
    amount_fen: StandardFigure
    per: Per


class Cap(_Frozen):
    """限额: the self-paid part, up to the cap per period (the person may pay and claim back)."""

    mode: Literal["cap"]
    cap_fen: StandardFigure
    per: Per


class Percentage(_Frozen):
    """A share of the self-paid part, up to a cap per period."""

    mode: Literal["percentage"]
    percent: Percent | Unstated
    cap_fen: StandardFigure
    per: Per


class Monthly(_Frozen):
    """A monthly standard times the months served, up to ``max_months``.

    ``against_cost`` true: it caps the self-paid cost (pro-rated training); false: a flat allowance.
    """

    mode: Literal["monthly"]
    monthly_fen: StandardFigure
    max_months: PositiveInt | Unstated | None = Field(default=None, description="None = no limit.")
    against_cost: bool


class Range(_Frozen):
    """An amount 区残联办 decides between a floor and a ceiling per period (e.g. 600-1,200 yuan a year)."""

    mode: Literal["range"]
    min_fen: StandardFigure
    max_fen: StandardFigure
    per: Per


Subsidy = Annotated[Free | FixedAmount | Cap | Percentage | Monthly | Range, Field(discriminator="mode")]


class Standard(_Frozen):
    """One tier of an item: who is eligible and what they get."""

    name: str = Field(min_length=1)
    eligibility: Eligibility = Eligibility()
    subsidy: Subsidy


FormTick = Literal["nutrition_allowance"]
"""A choice ticked beside an item on the form 附件2 (the contracts' RequestedItem field of that name)."""


class Supplement(_Frozen):
    """An amount due beside an item, to the person, when the form ticks it and the item is delivered: not a
    tier of the item (Liangjiang's 低保人员营养费 beside the cataract surgery)."""

    name: str = Field(min_length=1)
    form_tick: FormTick = Field(description="The form's tick asking for it.")
    eligibility: Eligibility = Eligibility()
    subsidy: FixedAmount


class ItemStandard(_Frozen):
    """One catalogue item and its tiers (most items have one), and what is due beside it."""

    name: str = Field(min_length=1, description="The item as the seed names it.")
    kind: ItemKind
    standards: dict[str, Standard] = Field(min_length=1, description="Tiers by a stable code.")
    supplements: dict[str, Supplement] = Field(default_factory=dict, description="By a stable code.")
    paid_for_months_of: str | None = Field(
        default=None,
        description="The item whose recorded months a monthly allowance is paid for (Shapingba's 交通、生活"
        "补贴 to children 在重庆市康复定点服务机构训练的: the months of the training): only the allowance's "
        "months the person's approved, recorded training covers are paid.",
    )

    def sole_standard(self) -> Standard | None:
        """The tier when there is only one, or None when eligibility decides between several."""
        return next(iter(self.standards.values())) if len(self.standards) == 1 else None

    def once_only(self) -> bool:
        """Paid once per person 一次性, whatever the year or application (the diagnosis subsidy)."""
        return all(getattr(tier.subsidy, "per", None) == "once" for tier in self.standards.values())

    def standards_for(self, applicant: Applicant) -> dict[str, Standard]:
        """The tiers whose eligibility admits the applicant (a person may qualify for several)."""
        return {code: tier for code, tier in self.standards.items() if tier.eligibility.admits(applicant)}


# -- fees, funding, quotas, targets --------------------------------------------------------------
class Fees(_Frozen):
    """Per-activity fees 工作经费, each paid once per person and year."""

    survey_fee_fen: FenFigure = Field(description="需求调查工作经费, per person surveyed, to the street.")
    management_fee_fen: FenFigure = Field(
        description="康复管理经费, per person with needs surveyed and assessed in the year, to the street."
    )
    assessment_fee_fen: FenFigure = Field(
        description="评估、转介经费, per person assessed by a district-level institution, to it."
    )
    support_service_fen: FenFigure = Field(
        description="支持性服务补贴, per person, year and support-service item, to the service institution."
    )


FundingLevel = Literal["central_provincial", "city_county", "city", "county", "district"]


class FundingSource(_Frozen):
    """A level of government that pays a share, and the ledger account debited for it."""

    name: str = Field(min_length=1)
    level: FundingLevel
    account: str = Field(pattern=r"^fund:[a-z0-9][a-z0-9-]*$")


class FundingSplit(_Frozen):
    """Shares of the sources, in percent summing to 100; ``areas`` empty = everywhere else."""

    areas: tuple[str, ...] = ()
    shares: dict[str, Percent] = Field(min_length=1)

    @model_validator(mode="after")
    def _shares_add_up(self) -> FundingSplit:
        if sum(self.shares.values()) != 100:
            raise ValueError(f"funding shares must add up to 100, not {sum(self.shares.values())}")
        return self


class Funding(_Frozen):
    """Who pays 资金筹措: the sources and how each area splits an amount between them."""

    sources: dict[str, FundingSource] = Field(min_length=1)
    splits: dict[str, FundingSplit] = Field(min_length=1)

    @model_validator(mode="after")
    def _splits_are_consistent(self) -> Funding:
        for name, split in self.splits.items():
            unknown = set(split.shares) - set(self.sources)
            if unknown:
                raise ValueError(f"split {name} names unknown sources {sorted(unknown)}")
        defaults = [name for name, split in self.splits.items() if not split.areas]
        if len(defaults) != 1:
            raise ValueError(f"exactly one split must have no areas (the default), not {defaults}")
        areas = [area for split in self.splits.values() for area in split.areas]
        if len(set(areas)) != len(areas):
            raise ValueError("an area is in two splits")
        return self

    def split_for(self, area: str | None) -> FundingSplit:
        """The split of an area, or the default split."""
        default = next(split for split in self.splits.values() if not split.areas)
        return next((split for split in self.splits.values() if area in split.areas), default)

    def account_of(self, source: str) -> str:
        return self.sources[source].account


class Quotas(_Frozen):
    """任务数: persons to assist per area in a year; ``minimum`` when the seed calls them a floor."""

    year: int
    programme: str = Field(min_length=1)
    by_area: dict[str, PositiveInt] = Field(min_length=1)
    total: PositiveInt
    minimum: bool = Field(
        description="最低任务数 (a target, never refused); false: a hard cap approval keeps."
    )
    items: frozenset[str] = Field(
        default=frozenset({"children_rehab_training"}), description="Catalogue items that take a place."
    )

    @model_validator(mode="after")
    def _total_is_the_sum(self) -> Quotas:
        if sum(self.by_area.values()) != self.total:
            added = sum(self.by_area.values())
            raise ValueError(f"quotas add up to {added}, the stated total is {self.total}")
        return self


Indicator = Literal["basic_rehab_service", "assistive_device_fitting", "family_doctor_signing"]


class CoverageTarget(_Frozen):
    """A target rate: served / with needs, at least ``percent`` (``year`` None = every year in force)."""

    indicator: Indicator
    year: int | None = None
    scope: Literal["jurisdiction", "each_district"] = "jurisdiction"
    percent: Percent


# -- the policy ----------------------------------------------------------------------------------
class Policy(_Frozen):
    """The settlement rules of one jurisdiction for an effective period."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Stable id, e.g. 'liangjiang-2024'.")
    version: PositiveInt = Field(description="Raised on every change of the file.")
    jurisdiction: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    source: str = Field(min_length=1, description="The document the rates are quoted from.")
    issued_on: date = Field(description="The day the document was issued 印发 (not when it governs from).")
    effective_from: date = Field(
        description="First business date of the period the policy governs: its commencement 施行, or the "
        "start of the year a plan is written for (Anyang's 2021 plan, issued 2021-05-25, governs 2021)."
    )
    effective_until: date | None = Field(default=None, description="Last business date; None = open.")
    insurance_first: bool | Unstated = Field(description="Insurance etc. pay first; subsidies cover 自付.")
    caps_reimbursed_to_person: bool = Field(
        default=False,
        description="限额补助 (a cap tier) is advanced by the person and reimbursed to them on the invoice "
        "(Liangjiang: 由残疾人垫付相关费用，凭发票和相关服务证明到所在街道申请报销费用), whatever "
        "institution the approval names; false: paid to the service institution like the other items.",
    )
    fees: Fees
    funding: Funding
    items: dict[str, ItemStandard] = Field(min_length=1, description="Catalogue items by their code.")
    quotas: tuple[Quotas, ...] = ()
    coverage_targets: tuple[CoverageTarget, ...] = ()

    @model_validator(mode="after")
    def _period_is_ordered(self) -> Policy:
        if self.effective_until is not None and self.effective_until < self.effective_from:
            raise ValueError("effective_until is before effective_from")
        return self

    @model_validator(mode="after")
    def _months_are_of_an_item(self) -> Policy:
        for code, item in self.items.items():
            if item.paid_for_months_of is not None and item.paid_for_months_of not in self.items:
                raise ValueError(f"items.{code}.paid_for_months_of names no item of the policy")
        return self

    @property
    def funding_account(self) -> str:
        """The account debited when the default split has a single source (one fund pays all)."""
        shares = self.funding.split_for(None).shares
        return self.funding.account_of(next(iter(shares)))

    def item(self, code: str) -> ItemStandard | None:
        return self.items.get(code)

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_until is None or day <= self.effective_until)

    def coverage_target(
        self, indicator: Indicator, year: int, scope: str = "jurisdiction"
    ) -> CoverageTarget | None:
        """The target of a year and scope, or the every-year target; None when the policy sets none."""
        targets = [
            target
            for target in self.coverage_targets
            if (target.indicator, target.scope) == (indicator, scope) and target.year in (year, None)
        ]
        return min(targets, key=lambda target: target.year is None, default=None)

    def unstated_figures(self) -> list[tuple[str, str]]:
        """(dotted path, reason) of every figure the seed leaves unstated, in file order."""
        return list(_unstated(self, self.id))


def _unstated(model: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(model, Unstated):
        yield path, model.unstated
    elif isinstance(model, DeploymentInput):
        if model.fen is None:
            yield path, f"部署参数尚未填写：{model.deployment_input}"
    elif isinstance(model, BaseModel):
        for name in type(model).model_fields:
            yield from _unstated(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, dict):
        for key, value in model.items():
            yield from _unstated(value, f"{path}.{key}")
    elif isinstance(model, tuple):
        for index, value in enumerate(model):
            yield from _unstated(value, f"{path}[{index}]")


class PolicySet:
    """Every known policy; picks the one in force for a jurisdiction on a business date."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        self._policies = sorted(policies, key=lambda policy: (policy.jurisdiction, policy.effective_from))
        ids = [policy.id for policy in self._policies]
        if len(set(ids)) != len(ids):
            raise ValueError(f"policy ids must be unique: {ids}")
        starts = [(policy.jurisdiction, policy.effective_from) for policy in self._policies]
        if len(set(starts)) != len(starts):
            raise ValueError("two policies of one jurisdiction take effect on the same date")

    def __iter__(self) -> Iterator[Policy]:
        return iter(self._policies)

    def get(self, policy_id: str) -> Policy | None:
        return next((policy for policy in self._policies if policy.id == policy_id), None)

    def in_force(self, jurisdiction: str, day: date) -> Policy | None:
        """The jurisdiction's policy in force on ``day``: of those whose period covers the day, the
        latest to take effect (a later policy supersedes); None when no period covers it."""
        in_force = None
        for policy in self._policies:
            if policy.jurisdiction == jurisdiction and policy.in_force_on(day):
                in_force = policy
        return in_force


def policy_file(policy_id: str, root: Path = JURISDICTIONS_DIR) -> Path:
    """Where a policy's file lies: ``<root>/<jurisdiction>/policies/<id>.toml``."""
    found = sorted(root.glob(f"*/policies/{policy_id}.toml"))
    if not found:
        raise PackError(f"没有编号为 {policy_id} 的政策文件（{root}/<辖区>/policies/{policy_id}.toml）")
    return found[0]


def load_policy(path: Path) -> Policy:
    """One policy file: of a pack, with the pack's deployment inputs filled in (and the pack checked);
    elsewhere (``rehab replay --policy``), as it is written."""
    pack = path.resolve().parent.parent
    if path.resolve().parent.name == "policies" and (pack / "jurisdiction.toml").is_file():
        for written in load_pack(pack).policies:
            if written.path.resolve() == path.resolve():
                return _pricing_view(written)
    data = read_toml(path)
    policy = validated(Policy, data, path)
    if policy.id != path.stem:
        raise ValueError(f"{path.name} declares id {policy.id!r}; the file must be named after its id")
    return policy


def _pricing_view(policy: PolicyFile) -> Policy:
    return validated(Policy, policy.data, policy.path)


def load_policies(root: Path = JURISDICTIONS_DIR) -> PolicySet:
    """Every policy of every pack under ``root`` (settlement knows each jurisdiction's policies)."""
    return PolicySet(_pricing_view(policy) for pack in every_pack(root) for policy in pack.policies)
