"""Coverage 服务覆盖率 from the archive: persons with needs who received a service, per street and overall."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine

from services.settlement.facts import Fact, PersonSurveyed, ServiceRecorded
from services.settlement.ledger import archive
from services.settlement.translation import fact_of

COVERAGE_EVENT_TYPES = ("survey.need_surveyed", "delivery.service_delivered")
"""The archived events coverage is counted from."""


@dataclass(frozen=True)
class Coverage:
    """Counts of distinct persons, and served / with needs as a percentage (None when nobody has needs)."""

    street: str | None
    surveyed: int
    with_needs: int
    served: int

    @property
    def percent(self) -> Decimal | None:
        if self.with_needs == 0:
            return None
        return (Decimal(self.served * 100) / Decimal(self.with_needs)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )


@dataclass(frozen=True)
class CoverageReport:
    year: int
    streets: tuple[Coverage, ...]
    overall: Coverage


def coverage(facts: Iterable[Fact], year: int) -> CoverageReport:
    """Each person counts once, under the street and needs of their last survey of the year."""
    last_survey: dict[str, PersonSurveyed] = {}
    served: set[str] = set()
    for fact in facts:
        if isinstance(fact, PersonSurveyed) and fact.year == year:
            last_survey[fact.person] = fact
        elif isinstance(fact, ServiceRecorded) and fact.year == year:
            served.add(fact.person)
    surveys = list(last_survey.values())
    streets = sorted({survey.street for survey in surveys})
    return CoverageReport(
        year=year,
        streets=tuple(_count(name, [s for s in surveys if s.street == name], served) for name in streets),
        overall=_count(None, surveys, served),
    )


def _count(street: str | None, surveys: list[PersonSurveyed], served: set[str]) -> Coverage:
    with_needs = [survey.person for survey in surveys if survey.has_needs]
    return Coverage(
        street=street,
        surveyed=len(surveys),
        with_needs=len(with_needs),
        served=sum(1 for person in with_needs if person in served),
    )


def coverage_report(engine: Engine, year: int) -> CoverageReport:
    """Coverage of a year from everything settlement has archived."""
    facts = (fact_of(envelope) for envelope in archive(engine, COVERAGE_EVENT_TYPES))
    return coverage((fact for fact in facts if fact is not None), year)

