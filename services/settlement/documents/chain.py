"""The reporting chain 逐级上报 (Zhuhai seed 001): community 社区 → street 街道 → district 区 → city 市 →
province 省 (the two named by the pack's ``reports_to``), each level's figures the sum of the one below.
Two reports go up it: the monthly progress report 「每月底报告工作进展情况」 (cumulative to the month's
end) and the year-end summary (the year's figures, December's, due with 附件3 by 20 December).

Persons are counted as coverage counts them (reports.py): each once, under the street, community and
needs of their last survey known by the month's end; served when they signed for a service by then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from rehab_contracts import EventEnvelope
from sqlalchemy import Engine

from kernel.domain.clock import today
from kernel.reference import Jurisdiction
from services.settlement.book.facts import Fact, PersonSurveyed
from services.settlement.book.policy import Policy
from services.settlement.documents.reports import (
    COVERAGE_EVENT_TYPES,
    COVERAGE_INDICATOR,
    month_in_year,
    year_facts,
)
from services.settlement.documents.spending import Spending
from services.settlement.ledger.archive import archive, facts_of

Level = Literal["community", "street", "district", "city", "province"]
LEVELS: tuple[Level, ...] = ("community", "street", "district", "city", "province")
LEVEL_NAMES: dict[Level, str] = {
    "community": "社区",
    "street": "街道",
    "district": "区（县）",
    "city": "市",
    "province": "省",
}
SURVEY_EVENT = "survey.need_surveyed"


@dataclass(frozen=True)
class Counts:
    surveyed: int = 0
    with_needs: int = 0
    served: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.surveyed + other.surveyed, self.with_needs + other.with_needs, self.served + other.served
        )

    @property
    def percent(self) -> Decimal | None:
        """served / with needs in percent with one decimal, half up; None when nobody has needs."""
        if self.with_needs == 0:
            return None
        exact = Decimal(self.served * 100) / Decimal(self.with_needs)
        return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Unit:
    """One reporting unit and the units of the level below it that report to it."""

    level: Level
    name: str
    counts: Counts
    parts: tuple[Unit, ...] = ()

    def walk(self, depth: int = 0) -> Iterable[tuple[int, Unit]]:
        """The unit, then each unit below it, depth first: the rows of a report in reading order."""
        yield depth, self
        for part in self.parts:
            yield from part.walk(depth + 1)


@dataclass(frozen=True)
class ChainReport:
    """A report as the unit at its ``top`` sends it up: its own figures and those of every unit below."""

    kind: Literal["progress", "year_end"]
    year: int
    month: int
    top: Unit
    target_percent: Decimal | None = None
    policy_id: str | None = None
    spending: Spending | None = None
    """The year-end summary's money: the year's spending within the unit's accounts (None: not reported)."""

    def met(self, counts: Counts) -> bool | None:
        if self.target_percent is None or counts.with_needs == 0:
            return None
        return counts.served * 100 >= self.target_percent * counts.with_needs


class UnitUnknown(LookupError):
    """No unit of the asked level has the asked name in this jurisdiction."""


def person_places(
    facts: Iterable[Fact], communities: dict[str, str], year: int, month: int
) -> dict[str, tuple[str, str, bool, bool]]:
    """Each person counted by the month's end: (street, community, has needs, served)."""
    facts = list(facts)
    last: dict[str, PersonSurveyed] = {}
    for fact in facts:
        if (
            isinstance(fact, PersonSurveyed)
            and fact.year == year
            and month_in_year(fact.surveyed_on, year) <= month
        ):
            last[fact.person] = fact
    _standing, served = year_facts(facts, year)
    return {
        person: (
            survey.street,
            communities.get(survey.event_id, ""),
            survey.has_needs,
            survey.has_needs and person in served and month_in_year(served[person], year) <= month,
        )
        for person, survey in last.items()
    }


def chain_of(
    places: dict[str, tuple[str, str, bool, bool]], jurisdiction: Jurisdiction, streets: Sequence[str]
) -> Unit:
    """The whole chain, the province on top: communities counted from persons, every level above summed."""
    by_street: dict[str, dict[str, Counts]] = {street: {} for street in streets}
    for street, community, needs, served in places.values():
        row = by_street.setdefault(street, {})
        row[community] = row.get(community, Counts()) + Counts(1, int(needs), int(served))
    street_units = tuple(
        _summed(
            "street",
            street,
            tuple(Unit("community", name, by_street[street][name]) for name in sorted(by_street[street])),
        )
        for street in [*streets, *sorted(set(by_street) - set(streets))]
    )
    district = _summed("district", jurisdiction.name, street_units)
    city = _summed("city", jurisdiction.reports_to.city, (district,))
    return _summed("province", jurisdiction.reports_to.province, (city,))


def _summed(level: Level, name: str, parts: tuple[Unit, ...]) -> Unit:
    total = Counts()
    for part in parts:
        total = total + part.counts
    return Unit(level, name, total, parts)


def find_unit(top: Unit, level: Level, street: str | None = None, community: str | None = None) -> Unit:
    """The unit of ``level``: the street (and community) named; above the street, the only one."""
    for _depth, unit in top.walk():
        if unit.level != level:
            continue
        if level == "street" and unit.name != street:
            continue
        if level == "community" and (unit.name != community or not _within(top, unit, street)):
            continue
        return unit
    where = {"street": street, "community": f"{street}街道{community}"}.get(level, level)
    raise UnitUnknown(f"没有{LEVEL_NAMES[level]}“{where}”的报告单位")


def _within(top: Unit, community: Unit, street: str | None) -> bool:
    return any(
        unit.level == "street" and unit.name == street and community in unit.parts for _d, unit in top.walk()
    )


def survey_communities(envelopes: Iterable[EventEnvelope]) -> dict[str, str]:
    """The community 社区 each survey names, by event id (settlement's facts keep the street only)."""
    return {
        str(envelope.event_id): str(envelope.payload.get("community") or "")
        for envelope in envelopes
        if envelope.event_type == SURVEY_EVENT
    }


def chain_report(
    engine: Engine,
    jurisdiction: Jurisdiction,
    policy: Policy | None,
    *,
    kind: Literal["progress", "year_end"],
    year: int,
    month: int = 12,
    level: Level,
    street: str | None = None,
    community: str | None = None,
) -> ChainReport:
    """The report of one unit from everything settlement has archived; ``UnitUnknown`` for no such unit."""
    envelopes = list(archive(engine, COVERAGE_EVENT_TYPES))
    places = person_places(facts_of(envelopes), survey_communities(envelopes), year, month)
    top = find_unit(chain_of(places, jurisdiction, jurisdiction.streets), level, street, community)
    target = None if policy is None else policy.coverage_target(COVERAGE_INDICATOR, year, "jurisdiction")
    return ChainReport(
        kind=kind,
        year=year,
        month=month,
        top=top,
        target_percent=None if target is None else target.percent,
        policy_id=None if policy is None else policy.id,
    )


def report_date(report: ChainReport) -> date:
    """The day the figures stand at: the month's last day, or today (Beijing) in a month not over yet (a
    December report printed on 12月8日 said 统计截至 12月31日)."""
    following = date(report.year + report.month // 12, report.month % 12 + 1, 1)
    return min(date.fromordinal(following.toordinal() - 1), today())


@dataclass(frozen=True)
class PersonOfStreet:
    """A person a street's coverage counts: where their last survey of the year puts them, and whether
    they have needs and were served (by id only: names are the registry's to release)."""

    person: str
    community: str
    has_needs: bool
    served: bool


def street_persons(engine: Engine, year: int, street: str) -> tuple[PersonOfStreet, ...]:
    """The persons behind a street's coverage row for the year, by community then id."""
    envelopes = list(archive(engine, COVERAGE_EVENT_TYPES))
    places = person_places(facts_of(envelopes), survey_communities(envelopes), year, 12)
    found = [
        PersonOfStreet(person, community, needs, served)
        for person, (where, community, needs, served) in places.items()
        if where == street
    ]
    return tuple(sorted(found, key=lambda each: (each.community, each.person)))
