"""`rehab demo`: a few hundred persons across the eight streets through the whole journey, then a summary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from rehab.journey import Journey
from rehab.sample_people import STREETS, SamplePerson, sample_people
from services.settlement.ledger.report import display_width, yuan

T = TypeVar("T")
R = TypeVar("R")
WORKERS = 8


class DemoProgress(Protocol):
    """Where the demo reports how far it is (a rich progress bar in `rehab demo`): 600 persons take long."""

    def stage(self, name: str, total: int | None) -> None:
        """A new stage begins: ``total`` steps, or None for a wait of unknown length."""

    def advance(self) -> None:
        """One step of the current stage is done (called from the worker threads)."""


class _Quiet:
    def stage(self, name: str, total: int | None) -> None:
        pass

    def advance(self) -> None:
        pass


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


def run_demo(
    url: Callable[[str], str], *, persons: int, year: int, seed: int, progress: DemoProgress | None = None
) -> DemoSummary:
    """Drive the sample stage by stage, the way the agencies work through a year's caseload."""
    started = time.monotonic()
    journey = Journey(url, year=year, timeout=120.0)
    cases = [_Case(person) for person in sample_people(persons, year, seed)]
    stages: dict[str, float] = {}
    shown = progress or _Quiet()

    with _stage(stages, "登记与需求调查（街道）", shown, len(cases)):
        _each(cases, lambda case: _register_and_survey(journey, case), shown)
    with_needs = [case for case in cases if case.person.needs]
    with _stage(stages, "评估与转介", shown, len(with_needs)):
        journey.wait_until(
            "the surveys reach assessment",
            lambda: journey.on_worklist({case.person_id for case in with_needs}),
        )
        _each(with_needs, lambda case: _assess(journey, case), shown)
    with _stage(stages, "申请与审批", shown, len(with_needs)):
        _each(with_needs, lambda case: _apply(journey, case, cases.index(case) + 1), shown)
    served = [case for case in with_needs if case.person.outcome == "served"]
    with _stage(stages, "康复服务", shown, len(served)):
        _each(served, lambda case: _deliver(journey, case), shown)
    with _stage(stages, "结算", shown, None):
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


def _each(items: Iterable[T], action: Callable[[T], R], progress: DemoProgress) -> list[R]:
    def step(item: T) -> R:
        done = action(item)
        progress.advance()
        return done

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(step, items))


class _stage:
    def __init__(
        self, stages: dict[str, float], name: str, progress: DemoProgress, total: int | None
    ) -> None:
        self.stages, self.name, self.progress, self.total = stages, name, progress, total

    def __enter__(self) -> None:
        self.progress.stage(self.name, self.total)
        self.started = time.monotonic()

    def __exit__(self, *_exc: object) -> None:
        self.stages[self.name] = time.monotonic() - self.started


def print_summary(summary: DemoSummary) -> None:
    overall = summary.coverage["overall"]
    print(
        f"\n精准康复服务演示（demo）— {summary.year} 年度，"
        f"登记 {summary.registered} 人，用时 {summary.seconds:.1f} 秒"
    )
    headings = ("调查人数", 10), ("有需求", 12), ("已服务", 8), ("覆盖率", 10)
    print(_pad("街道", 16) + "".join(_right(text, width) for text, width in headings))
    streets = sorted(summary.coverage["streets"], key=lambda row: _street_order(row["street"]))
    for row in [*streets, {**overall, "street": "合计"}]:
        percent = "-" if row["coverage_percent"] is None else f"{row['coverage_percent']}%"
        print(
            _pad(row["street"], 16)
            + f"{row['surveyed']:>10}{row['with_needs']:>12}{row['served']:>8}{percent:>10}"
        )
    if overall.get("target_percent") is not None:
        verdict = "已达到" if overall.get("target_met") else "未达到"
        policy = summary.coverage.get("policy_id")
        print(f"覆盖率目标 {overall['target_percent']}%（{policy}）：{verdict}")
    print("\n结算台账（ledger），单位元：资金账户记借方，各收款方记贷方")
    print(_pad("账户（account）", 50) + _right("借方", 14) + _right("贷方", 14))
    for account in summary.ledger["accounts"]:
        print(
            _pad(account["account"], 50)
            + f"{yuan(account['debit_fen']):>14}{yuan(account['credit_fen']):>14}"
        )
    print(
        _pad("合计", 50) + f"{yuan(summary.ledger['total_debit_fen']):>14}"
        f"{yuan(summary.ledger['total_credit_fen']):>14}"
    )
    verdict = "平衡" if summary.ledger_balanced else "不平衡（NOT BALANCED）"
    print(f"\n记账 {summary.ledger['posting_count']} 笔；借贷{verdict}")
    print("各阶段用时：" + "，".join(f"{name} {seconds:.1f} 秒" for name, seconds in summary.stages.items()))


def _street_order(street: str) -> int:
    return STREETS.index(street) if street in STREETS else len(STREETS)


def _right(text: str, width: int) -> str:
    """Right-align in a terminal, where a Chinese character takes two columns."""
    return " " * max(1, width - display_width(text)) + text


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where a Chinese character takes two columns."""
    return text + " " * max(1, width - display_width(text))
