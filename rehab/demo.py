"""`rehab demo`: a few hundred persons of one jurisdiction through the whole journey, then a summary.

Liangjiang by default (its eight streets, the 2024 plan); ``--jurisdiction shapingba`` or ``anyang`` runs
a year of that pack (deploy/jurisdictions/<name>/): its areas, its institutions, a year its policy governs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from kernel.reference import Jurisdiction, deployment_reference, load_jurisdiction
from kernel.reference.jurisdiction import JURISDICTIONS_DIR
from kernel.reference.pack import load_pack
from rehab.journey import CITY_ASSESSMENT, DISTRICT_ASSESSMENT, SERVICE_PLAN, Journey
from rehab.sample_people import LIANGJIANG, Population, SamplePerson, anyang, sample_people, shapingba
from services.settlement.ledger.report import display_width, yuan

T = TypeVar("T")
R = TypeVar("R")
WORKERS = 8
OPEN_POLICY_YEAR = 2025
"""The demo's year under a policy with no end (Liangjiang 2024, Shapingba 2023): a recent full year."""

SUBSIDIES: dict[str, dict[str, dict[str, Any]]] = {
    "shapingba": {
        # 0-14 training is paid up to the tier's yearly standard (20,000 / 10,000 / 5,000 yuan …): free.
        "children_rehab_training": {"mode": "free", "charge": 1_800_000, "insurance": 0},
        # 「对新增困难白内障患者实施1200元/例手术补贴」: a fixed amount, at most the standard.
        "cataract_surgery": {
            "mode": "fixed_amount",
            "amount": 120_000,
            "charge": 600_000,
            "insurance": 420_000,
            "request": {"eyes": ["right"]},
        },
    },
    "anyang": {
        # A 定额 approved by the county; the training months decide what is paid (安政办〔2019〕23号's
        # monthly standard, a deployment input, for fewer than 10 months).
        "children_rehab_training": {
            "mode": "fixed_amount",
            "amount": 1_200_000,
            "charge": 1_500_000,
            "insurance": 0,
        },
    },
}
"""How the office subsidises each item of the sample and what institutions charge (fen), per pack."""

POPULATIONS: dict[str, Callable[[tuple[str, ...]], Population]] = {"shapingba": shapingba, "anyang": anyang}
DEMO_JURISDICTIONS = ("liangjiang", "shapingba", "anyang")
"""Packs with a sample: Zhuhai's standards are its 附件1, not among the seeds, so it prices nothing."""


@dataclass(frozen=True)
class DemoPlan:
    """One jurisdiction's demo: its pack's public view, who the sample is, the year, and for each item the
    institution that serves it (the pack's) and how it is subsidised."""

    name: str
    jurisdiction: Jurisdiction
    population: Population
    year: int
    service_plan: dict[str, dict[str, Any]]
    district_assessment: str
    city_assessment: str


class NoDemo(ValueError):
    """A jurisdiction without a demo sample (the message says which have one)."""


def demo_plan(name: str | None = None) -> DemoPlan:
    """The demo of a pack (the deployment's, ``REHAB_REFERENCE``, when None)."""
    name = name or deployment_reference()
    if name not in DEMO_JURISDICTIONS:
        raise NoDemo(f"没有 {name} 的演示样本；可选：{'、'.join(DEMO_JURISDICTIONS)}")
    jurisdiction = load_jurisdiction(name)
    year = _year_governed(name)
    if name == "liangjiang":
        return DemoPlan(
            name, jurisdiction, LIANGJIANG, year, SERVICE_PLAN, DISTRICT_ASSESSMENT, CITY_ASSESSMENT
        )
    plan = {
        item: {"institution": _serving(jurisdiction, item), **subsidy}
        for item, subsidy in SUBSIDIES[name].items()
    }
    district = next(i.id for i in jurisdiction.assessment_institutions if i.level == "district")
    population = POPULATIONS[name](jurisdiction.streets)
    return DemoPlan(name, jurisdiction, population, year, plan, district, district)


def _serving(jurisdiction: Jurisdiction, item: str) -> str:
    """The first service institution the pack designates for the item."""
    return next(i.id for i in jurisdiction.service_institutions if item in i.designated_items)


def _year_governed(name: str) -> int:
    """A year the pack's latest policy governs: its last (Anyang 2021), or a recent one if it has no end."""
    latest = max(
        (policy.view for policy in load_pack(JURISDICTIONS_DIR / name).policies),
        key=lambda v: v.effective_from,
    )
    return (
        latest.effective_until.year
        if latest.effective_until
        else max(OPEN_POLICY_YEAR, latest.effective_from.year)
    )


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
    place: str = "重庆两江新区"
    areas: tuple[str, ...] = LIANGJIANG.streets
    area_kind: str = "street"
    unsettled: list[dict[str, Any]] = field(default_factory=list)
    """Facts settlement could not settle yet, with their code and reason (e.g. a deployment input)."""

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
    url: Callable[[str], str],
    *,
    persons: int,
    year: int | None = None,
    seed: int,
    progress: DemoProgress | None = None,
    jurisdiction: str | None = None,
) -> DemoSummary:
    """Drive the sample stage by stage, the way the agencies work through a year's caseload; the services
    must run on the same pack (``REHAB_REFERENCE``)."""
    started = time.monotonic()
    plan = demo_plan(jurisdiction)
    year = year or plan.year
    journey = Journey(
        url,
        year=year,
        timeout=120.0,
        service_plan=plan.service_plan,
        district_assessment=plan.district_assessment,
        city_assessment=plan.city_assessment,
    )
    cases = [_Case(person) for person in sample_people(persons, year, seed, plan.population)]
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
    summary = DemoSummary(year, len(cases), coverage, ledger, time.monotonic() - started, stages)
    summary.place, summary.areas = plan.jurisdiction.name, plan.jurisdiction.streets
    summary.area_kind, summary.unsettled = plan.jurisdiction.area_kind, _unsettled(journey)
    return summary


def _unsettled(journey: Journey) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while page := journey.get("settlement", "/ledger/unsettled", limit=200, offset=len(found)):
        found += page
    return found


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
        f"\n精准康复服务演示（demo）— {summary.place} {summary.year} 年度，"
        f"登记 {summary.registered} 人，用时 {summary.seconds:.1f} 秒"
    )
    headings = ("调查人数", 10), ("有需求", 12), ("已服务", 8), ("覆盖率", 10)
    area = "县（市、区）" if summary.area_kind == "county" else "街道"
    print(_pad(area, 16) + "".join(_right(text, width) for text, width in headings))
    streets = sorted(summary.coverage["streets"], key=lambda row: _street_order(row["street"], summary.areas))
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
    _print_unsettled(summary.unsettled)
    print("各阶段用时：" + "，".join(f"{name} {seconds:.1f} 秒" for name, seconds in summary.stages.items()))


def _print_unsettled(unsettled: list[dict[str, Any]]) -> None:
    """How many facts wait and why, one line per reason code with an example reason."""
    if not unsettled:
        return
    by_code: dict[str, list[dict[str, Any]]] = {}
    for fact in unsettled:
        by_code.setdefault(fact["code"], []).append(fact)
    print(f"未结算 {len(unsettled)} 项（结算服务的 GET /ledger/unsettled 列出每一项）：")
    for code, facts in sorted(by_code.items(), key=lambda entry: -len(entry[1])):
        print(f"  {len(facts):>5} 项 {code}：例如 {facts[0]['reason']}")


def _street_order(street: str, streets: tuple[str, ...]) -> int:
    return streets.index(street) if street in streets else len(streets)


def _right(text: str, width: int) -> str:
    """Right-align in a terminal, where a Chinese character takes two columns."""
    return " " * max(1, width - display_width(text)) + text


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where a Chinese character takes two columns."""
    return text + " " * max(1, width - display_width(text))
