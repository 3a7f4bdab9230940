"""The public view of a policy file: what every service may read of it (ADR 0013).

Settlement reads the whole file as its pricing view (services/settlement/book/policy.py); the other
services read only this: the period it governs, its catalogue items with the bound of each, and its task
numbers 任务数. Both views read the same file, so a standard and a task number are written once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from kernel.reference.jurisdiction import CHILDREN_ASSISTANCE_ITEMS

_BOUND_OF_MODE = {
    "free": "standard_fen",
    "fixed_amount": "amount_fen",
    "cap": "cap_fen",
    "percentage": "cap_fen",
    "range": "max_fen",
}
"""Which figure of a subsidy is the most it pays for one case or period (a monthly one: see below)."""


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def _amount(figure: object) -> int | None:
    """A number, a deployment input the deployment gave (``fen``), or None when nobody states one."""
    if isinstance(figure, int) and not isinstance(figure, bool):
        return figure
    if isinstance(figure, dict) and isinstance(figure.get("fen"), int):
        return int(figure["fen"])
    return None


class StandardView(_View):
    """One tier of an item as approval sees it: its name and the subsidy's figures."""

    name: str
    subsidy: dict[str, Any]

    def bound_fen(self) -> int | None:
        """The most this tier pays: its standard, cap, amount or ceiling; a monthly standard times its
        months; None when the seed leaves the figure unstated or sets no limit."""
        mode = self.subsidy.get("mode")
        if mode == "monthly":
            monthly, months = _amount(self.subsidy.get("monthly_fen")), self.subsidy.get("max_months")
            return monthly * months if monthly is not None and isinstance(months, int) else None
        key = _BOUND_OF_MODE.get(str(mode))
        return None if key is None else _amount(self.subsidy.get(key))


class ItemView(_View):
    """A catalogue item of a policy: its name, kind and tiers."""

    name: str
    kind: str
    standards: dict[str, StandardView] = Field(min_length=1)

    def bound_fen(self) -> int | None:
        """目录标准 bounding a 定额 for the item: the highest tier's bound (eligibility picks the tier,
        approval does not know it); None when any tier's figure is unstated."""
        bounds = [standard.bound_fen() for standard in self.standards.values()]
        return None if any(bound is None for bound in bounds) else max(b for b in bounds if b is not None)


class TaskNumbers(_View):
    """任务数 of a programme in a year, per area: a minimum (最低任务数, 应救尽救) or a hard cap."""

    year: int
    programme: str
    by_area: dict[str, PositiveInt] = Field(min_length=1)
    total: PositiveInt
    minimum: bool
    items: frozenset[str] = CHILDREN_ASSISTANCE_ITEMS


class PolicyView(_View):
    """What every service reads of a policy file."""

    id: str
    jurisdiction: str
    title: str
    issued_on: date
    effective_from: date
    effective_until: date | None = None
    items: dict[str, ItemView] = Field(min_length=1)
    quotas: tuple[TaskNumbers, ...] = ()
    funding: dict[str, Any] = Field(default_factory=dict)

    def governs(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_until is None or day <= self.effective_until)

    def split_areas(self) -> list[tuple[str, str]]:
        """(dotted path, area) of every area a funding split names."""
        splits = self.funding.get("splits", {})
        return [
            (f"funding.splits.{name}.areas", area)
            for name, split in splits.items()
            if isinstance(split, dict)
            for area in split.get("areas", ())
        ]
