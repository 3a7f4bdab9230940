"""Coverage 服务覆盖率 from the archive against the policy target, and monthly progress of a year.

Coverage: persons with needs who received a service / persons with needs, per street and overall.
Progress: the same counts, cumulative at the end of each month of the year, by the facts' business dates.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine

from services.settlement.book.facts import Fact, PersonSurveyed, ServiceRecorded
from services.settlement.book.policy import CoverageTarget, Indicator, Policy, PolicySet
from services.settlement.ledger.archive import archive, facts_of

COVERAGE_EVENT_TYPES = ("survey.need_surveyed", "delivery.service_delivered")
"""The archived events coverage is counted from."""

COVERAGE_INDICATOR: Indicator = "basic_rehab_service"
"""The target coverage is measured against: 接受基本康复服务比例."""


@dataclass(frozen=True)
class Coverage:
    """Counts of distinct persons, and served / with needs as a percentage (None when nobody has needs).

    ``target_percent`` is the policy's target for the row (None when the policy sets none).
    """

    street: str | None
    surveyed: int
    with_needs: int
    served: int
    target_percent: Decimal | None = None

    @property
    def percent(self) -> Decimal | None:
        if self.with_needs == 0:
            return None
        return (Decimal(self.served * 100) / Decimal(self.with_needs)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )

    @property
    def target_met(self) -> bool | None:
        """Whether the exact rate reaches the target; None without a target or without persons with needs."""
        if self.target_percent is None or self.with_needs == 0:
            return None
        return self.served * 100 >= self.target_percent * self.with_needs


@dataclass(frozen=True)
class CoverageReport:
    year: int
    streets: tuple[Coverage, ...]
    overall: Coverage
    policy_id: str | None = None
    policy_version: int | None = None


def coverage(
    facts: Iterable[Fact],
    year: int,
    streets: Sequence[str] = (),
    policy: Policy | None = None,
) -> CoverageReport:
    """Each person counts once, under the street and needs of their last survey of the year.

    ``streets`` (the jurisdiction's order) are listed first, each even without surveys; streets
    outside it follow by name. ``policy`` gives the targets: a street meets the each-area target,
    or the jurisdiction's when the policy sets none per area.
    """
    last_survey, served = year_facts(facts, year)
    surveys = list(last_survey.values())
    found = {survey.street for survey in surveys}
    ordered = [*streets, *sorted(found - set(streets))]
    overall_target = _target(policy, year, "jurisdiction")
    street_target = _target(policy, year, "each_district") or overall_target
    return CoverageReport(
        year=year,
        streets=tuple(
            _count(name, [s for s in surveys if s.street == name], served, street_target) for name in ordered
        ),
        overall=_count(None, surveys, served, overall_target),
        policy_id=None if policy is None else policy.id,
        policy_version=None if policy is None else policy.version,
    )


def year_facts(facts: Iterable[Fact], year: int) -> tuple[dict[str, PersonSurveyed], dict[str, date]]:
    """The last survey of each person in the year, and the first service date of each person served."""
    last_survey: dict[str, PersonSurveyed] = {}
    served: dict[str, date] = {}
    for fact in facts:
        if isinstance(fact, PersonSurveyed) and fact.year == year:
            last_survey[fact.person] = fact
        elif isinstance(fact, ServiceRecorded) and fact.year == year:
            earlier = served.get(fact.person)
            served[fact.person] = fact.signed_on if earlier is None else min(earlier, fact.signed_on)
    return last_survey, served


def _target(policy: Policy | None, year: int, scope: str) -> Decimal | None:
    if policy is None:
        return None
    target: CoverageTarget | None = policy.coverage_target(COVERAGE_INDICATOR, year, scope)
    return None if target is None else target.percent


def _count(
    street: str | None, surveys: list[PersonSurveyed], served: dict[str, date], target: Decimal | None
) -> Coverage:
    with_needs = [survey.person for survey in surveys if survey.has_needs]
    return Coverage(
        street=street,
        surveyed=len(surveys),
        with_needs=len(with_needs),
        served=sum(1 for person in with_needs if person in served),
        target_percent=target,
    )


def policy_of_year(policies: PolicySet, jurisdiction: str, year: int) -> Policy | None:
    """The policy in force at the end of the year, else the last one in force at some time in it."""
    at_end = policies.in_force(jurisdiction, date(year, 12, 31))
    if at_end is not None:
        return at_end
    during = [
        policy
        for policy in policies
        if policy.jurisdiction == jurisdiction
        and policy.effective_from <= date(year, 12, 31)
        and (policy.effective_until is None or policy.effective_until >= date(year, 1, 1))
    ]
    return during[-1] if during else None


def archived_facts(engine: Engine) -> Iterable[Fact]:
    """The facts coverage and progress count, from the archive."""
    return facts_of(archive(engine, COVERAGE_EVENT_TYPES))


def coverage_report(
    engine: Engine, year: int, streets: Sequence[str] = (), policy: Policy | None = None
) -> CoverageReport:
    """Coverage of a year from everything settlement has archived."""
    return coverage(archived_facts(engine), year, streets, policy)


# -- monthly progress ------------------------------------------------------------------------------
@dataclass(frozen=True)
class MonthProgress:
    """Distinct persons at the end of a month, cumulative since the start of the year."""

    month: int
    surveyed: int
    with_needs: int
    served: int


def progress(facts: Iterable[Fact], year: int) -> tuple[MonthProgress, ...]:
    """Twelve months of cumulative counts by business date (survey date, date the person signed).

    A person counts under their last survey known by the month's end; a fact of the year dated
    outside it counts in January (earlier) or December (later), so December equals the year's coverage.
    """
    facts = list(facts)
    surveys = [fact for fact in facts if isinstance(fact, PersonSurveyed) and fact.year == year]
    _last, served = year_facts(facts, year)
    served_in = {person: month_in_year(day, year) for person, day in served.items()}
    months = []
    for month in range(1, 13):
        last = {
            survey.person: survey for survey in surveys if month_in_year(survey.surveyed_on, year) <= month
        }
        with_needs = [person for person, survey in last.items() if survey.has_needs]
        months.append(
            MonthProgress(
                month=month,
                surveyed=len(last),
                with_needs=len(with_needs),
                served=sum(1 for person in with_needs if served_in.get(person, 13) <= month),
            )
        )
    return tuple(months)


def month_in_year(day: date, year: int) -> int:
    """The month a fact of ``year`` counts in: its own, or January (dated earlier), December (later)."""
    if day.year < year:
        return 1
    if day.year > year:
        return 12
    return day.month


def progress_report(engine: Engine, year: int) -> tuple[MonthProgress, ...]:
    """Monthly progress of a year from everything settlement has archived."""
    return progress(archived_facts(engine), year)


# -- text ------------------------------------------------------------------------------------------
def render_coverage(report: CoverageReport) -> str:
    """The coverage table as `rehab coverage` prints it: Chinese headings, one row per street."""
    heading = f"{report.year} 年康复服务覆盖率（有康复需求并接受服务的人数 / 有康复需求的人数）"
    policy = (
        "无适用政策" if report.policy_id is None else f"政策 {report.policy_id} 第 {report.policy_version} 版"
    )
    columns = ("街道", "调查人数", "有需求", "已服务", "覆盖率", "目标", "达标")
    rows = [_coverage_row(f"{row.street}街道", row) for row in report.streets]
    rows.append(_coverage_row("合计", report.overall))
    widths = [max(_width(line[index]) for line in [columns, *rows]) for index in range(len(columns))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0] + " " * (widths[0] - _width(cells[0]))
        rest = ("  " + " " * (widths[i] - _width(cell)) + cell for i, cell in enumerate(cells) if i)
        return (first + "".join(rest)).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    body = [line(columns), rule, *(line(row) for row in rows[:-1]), rule, line(rows[-1])]
    return "\n".join([heading, policy, "", *body]) + "\n"


def _coverage_row(name: str, row: Coverage) -> tuple[str, ...]:
    percent = "-" if row.percent is None else f"{row.percent}%"
    target = "-" if row.target_percent is None else f"{row.target_percent}%"
    met = {None: "-", True: "是", False: "否"}[row.target_met]
    return (name, str(row.surveyed), str(row.with_needs), str(row.served), percent, target, met)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
