"""Quota use 任务完成情况: the policy's quota per county (or street) and year against approved children.

A child counts once per area and year when 区残联办 approved a children's item of the quota's
programme for them (the latest approval of each application counts, so a correction that drops
the item takes the child out). The area is the one the application was made in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine

from services.settlement.book.facts import ItemsApproved
from services.settlement.book.policy import Policy, PolicySet, Quotas
from services.settlement.ledger.archive import archive, facts_of
from services.settlement.ledger.report import display_width

QUOTA_EVENT_TYPES = ("approval.application_approved",)
PROGRAMME_ITEMS = {"残疾儿童康复救助": frozenset({"children_rehab_training"})}
"""The catalogue items that count toward each quota programme (the seeds' 残疾儿童康复救助 is training)."""


class NoQuotas(LookupError):
    """No policy of the jurisdiction sets quotas for the year."""


@dataclass(frozen=True)
class AreaQuotaUse:
    """One area: its quota (None when the policy sets none for it) and the children approved there."""

    area: str
    quota: int | None
    approved: int

    @property
    def percent(self) -> Decimal | None:
        if not self.quota:
            return None
        return (Decimal(self.approved * 100) / self.quota).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def met(self) -> bool | None:
        return None if self.quota is None else self.approved >= self.quota


@dataclass(frozen=True)
class QuotaUse:
    year: int
    programme: str
    minimum: bool
    policy_id: str
    policy_version: int
    areas: tuple[AreaQuotaUse, ...]
    total: AreaQuotaUse


def quotas_of_year(policies: PolicySet, jurisdiction: str, year: int) -> tuple[Policy, Quotas]:
    """The quotas a policy of the jurisdiction sets for the year (the latest policy that sets them)."""
    found = [
        (policy, quotas)
        for policy in policies
        if policy.jurisdiction == jurisdiction
        for quotas in policy.quotas
        if quotas.year == year
    ]
    if not found:
        raise NoQuotas(f"{jurisdiction} 没有哪项政策规定 {year} 年的任务数")
    return found[-1]


def quota_use(approvals: Iterable[ItemsApproved], policy: Policy, quotas: Quotas) -> QuotaUse:
    """Quota areas in the policy's order, then areas with approvals but no quota, by name."""
    items = PROGRAMME_ITEMS.get(quotas.programme, frozenset(policy.items))
    latest: dict[str, ItemsApproved] = {}
    for approval in approvals:
        if approval.year == quotas.year:
            latest[approval.application] = approval
    children: dict[str, set[str]] = {}
    for approval in latest.values():
        if any(approved.item in items for approved in approval.items):
            children.setdefault(approval.area or "", set()).add(approval.person)
    names = [*quotas.by_area, *sorted(set(children) - set(quotas.by_area))]
    areas = tuple(AreaQuotaUse(name, quotas.by_area.get(name), len(children.get(name, ()))) for name in names)
    everyone = set().union(*children.values()) if children else set()
    return QuotaUse(
        year=quotas.year,
        programme=quotas.programme,
        minimum=quotas.minimum,
        policy_id=policy.id,
        policy_version=policy.version,
        areas=areas,
        total=AreaQuotaUse("合计", quotas.total, len(everyone)),
    )


def quota_use_report(engine: Engine, policies: PolicySet, jurisdiction: str, year: int) -> QuotaUse:
    """Quota use of a year from the approvals settlement has archived; raises ``NoQuotas``."""
    policy, quotas = quotas_of_year(policies, jurisdiction, year)
    facts = facts_of(archive(engine, QUOTA_EVENT_TYPES))
    return quota_use((fact for fact in facts if isinstance(fact, ItemsApproved)), policy, quotas)


def render_quota_use(use: QuotaUse) -> str:
    """The table `rehab quota-use` prints: one row per area, then the total."""
    floor = "（最低任务数）" if use.minimum else ""
    heading = f"{use.year} 年{use.programme}任务完成情况{floor}"
    policy = f"政策 {use.policy_id} 第 {use.policy_version} 版"
    columns = ("地区", "任务数", "已审批", "完成率", "完成")
    rows = [_row(area) for area in (*use.areas, use.total)]
    widths = [max(display_width(line[index]) for line in [columns, *rows]) for index in range(len(columns))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0] + " " * (widths[0] - display_width(cells[0]))
        rest = ("  " + " " * (widths[i] - display_width(cell)) + cell for i, cell in enumerate(cells) if i)
        return (first + "".join(rest)).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    body = [line(columns), rule, *(line(row) for row in rows[:-1]), rule, line(rows[-1])]
    return "\n".join([heading, policy, "", *body]) + "\n"


def _row(area: AreaQuotaUse) -> tuple[str, ...]:
    quota = "-" if area.quota is None else str(area.quota)
    percent = "-" if area.percent is None else f"{area.percent}%"
    met = {None: "-", True: "是", False: "否"}[area.met]
    return (area.area or "（未填）", quota, str(area.approved), percent, met)
