"""`rehab demo`: a few hundred persons across the eight streets through the whole journey, then a summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rehab.journey import Journey
from rehab.sample_people import STREETS, SamplePerson, sample_people
from services.settlement.ledger.report import display_width, yuan

T = TypeVar("T")
R = TypeVar("R")
WORKERS = 8


@dataclass
class DemoSummary:
    """What the demo did and what settlement made of it."""

    year: int
    registered: int
    coverage: dict[str, Any]
    ledger: dict[str, Any]
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def ledger_balanced(self) -> bool:
        return bool(self.ledger["balanced"])


@dataclass
class _Case:
    person: SamplePerson
    person_id: str = ""
    application_id: str = ""
    referrals: int = 0


def run_demo(url: Callable[[str], str], *, persons: int, year: int, seed: int) -> DemoSummary:
    """Drive the sample stage by stage, the way the agencies work through a year's caseload."""
    started = time.monotonic()
    journey = Journey(url, year=year, timeout=120.0)
    cases = [_Case(person) for person in sample_people(persons, year, seed)]
    stages: dict[str, float] = {}

    with _stage(stages, "survey (街道)"):
        _each(cases, lambda case: _register_and_survey(journey, case))
    with_needs = [case for case in cases if case.person.needs]
    with _stage(stages, "assessment and referral"):
        journey.wait_until(
            "the surveys reach assessment",
            lambda: journey.on_worklist({case.person_id for case in with_needs}),
        )
        _each(with_needs, lambda case: _assess(journey, case))
    with _stage(stages, "application and approval"):
        _each(with_needs, lambda case: _apply(journey, case, cases.index(case) + 1))
    with _stage(stages, "service delivery"):
        _each(
            [case for case in with_needs if case.person.outcome == "served"],
            lambda case: _deliver(journey, case),
        )
    with _stage(stages, "settlement"):
        journey.wait_until("every event is published", journey.producers_published_everything)
        journey.wait_until("settlement has consumed every event", journey.settlement_caught_up)
    coverage = journey.get("settlement", "/reports/coverage", year=year)
    ledger = journey.get("settlement", "/ledger")
    return DemoSummary(year, len(cases), coverage, ledger, time.monotonic() - started, stages)


def _register_and_survey(journey: Journey, case: _Case) -> None:
    case.person_id = journey.register(case.person.registration)
    journey.survey(case.person_id, case.person.needs, case.person.home_visit)


def _assess(journey: Journey, case: _Case) -> None:
    journey.assess_and_refer(case.person_id, case.person.needs, case.person.home_visit)


def _apply(journey: Journey, case: _Case, serial: int) -> None:
    journey.wait_until(
        f"the referrals of {case.person_id} reach approval",
        lambda: journey.referrals_reached_approval(case.person_id, case.person.needs),
    )
    registration = case.person.registration
    case.application_id = journey.apply(registration, case.person_id, case.person.needs, serial)
    street = str(registration["street"])
    if case.person.outcome == "rejected":
        journey.review_and_reject(case.application_id, street, "经审核，申请人本年度已享受同类康复救助")
    else:
        journey.review_and_approve(case.application_id, street, case.person.needs)


def _deliver(journey: Journey, case: _Case) -> None:
    journey.wait_until(
        f"the approval of {case.application_id} reaches delivery",
        lambda: journey.entitlements_reached_delivery(case.application_id),
    )
    for item in case.person.needs:
        journey.deliver(case.application_id, case.person_id, item, guardian=case.person.is_child)


def _each(items: Iterable[T], action: Callable[[T], R]) -> list[R]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(action, items))


class _stage:
    def __init__(self, stages: dict[str, float], name: str) -> None:
        self.stages, self.name = stages, name

    def __enter__(self) -> None:
        self.started = time.monotonic()

    def __exit__(self, *_exc: object) -> None:
        self.stages[self.name] = time.monotonic() - self.started


def print_summary(summary: DemoSummary) -> None:
    overall = summary.coverage["overall"]
    print(
        f"\n精准康复服务 demo — year {summary.year}, {summary.registered} persons registered "
        f"in {summary.seconds:.1f}s"
    )
    print(_pad("street 街道", 16) + f"{'surveyed':>10}{'with needs':>12}{'served':>8}{'coverage':>10}")
    streets = sorted(summary.coverage["streets"], key=lambda row: _street_order(row["street"]))
    for row in [*streets, {**overall, "street": "total 合计"}]:
        percent = "-" if row["coverage_percent"] is None else f"{row['coverage_percent']}%"
        print(
            _pad(row["street"], 16)
            + f"{row['surveyed']:>10}{row['with_needs']:>12}{row['served']:>8}{percent:>10}"
        )
    if overall.get("target_percent") is not None:
        verdict = "met" if overall.get("target_met") else "not met"
        policy = summary.coverage.get("policy_id")
        print(f"coverage target {overall['target_percent']}% ({policy}): {verdict}")
    print("\nledger 结算台账 in yuan: the fund is debited, each payee credited")
    print(_pad("account", 50) + f"{'debit':>14}{'credit':>14}")
    for account in summary.ledger["accounts"]:
        print(
            _pad(account["account"], 50)
            + f"{yuan(account['debit_fen']):>14}{yuan(account['credit_fen']):>14}"
        )
    print(
        _pad("total", 50) + f"{yuan(summary.ledger['total_debit_fen']):>14}"
        f"{yuan(summary.ledger['total_credit_fen']):>14}"
    )
    verdict = "balanced" if summary.ledger_balanced else "NOT BALANCED"
    print(f"\n{summary.ledger['posting_count']} postings; debits = credits: {verdict}")
    print("stages: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in summary.stages.items()))


def _street_order(street: str) -> int:
    return STREETS.index(street) if street in STREETS else len(STREETS)


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where a Chinese character takes two columns."""
    return text + " " * max(1, width - display_width(text))
