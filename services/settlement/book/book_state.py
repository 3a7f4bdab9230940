"""What the settlement book remembers between facts, grouped by what it is for (plain dicts, no rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from services.settlement.book.dues import Posting
from services.settlement.book.facts import (
    ApplicationDescribed,
    ApplicationRefused,
    InstitutionChanged,
    ItemsApproved,
    PersonAssessed,
    PersonSurveyed,
    ServiceRecorded,
)
from services.settlement.book.policy import Policy

Group = tuple[str, str]
"""(application, item): the service records that share one approved item and its cap."""

Pool = tuple[str, str, int]
"""(person, item, service year): the records that share an item's cap per person per year 每人每年 (and
contain every group of the person's applications for the item that year)."""


@dataclass(slots=True)
class Payments:
    """What has been paid per subject (``survey_fee:<person>:<year>``, ``service_subsidy:<delivery>`` …)."""

    history: dict[str, list[Posting]] = field(default_factory=dict)
    """The subject's postings: its first payment, then any adjustments."""
    paid: dict[str, int] = field(default_factory=dict)
    """The subject's net amount in fen (payments less claw-backs)."""
    turn: dict[str, int] = field(default_factory=dict)
    """The order subjects were first paid in: a paid record keeps its turn at an item's cap."""


@dataclass(slots=True)
class FeeFacts:
    """The surveys and assessments the survey, management and assessment fees rest on."""

    surveys: dict[str, list[PersonSurveyed]] = field(default_factory=dict)
    """Each person's surveys in arrival order, a correction in the place of the survey it supersedes."""
    survey_slot: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Where each survey event sits: (person, index in ``surveys``)."""
    first_assessment: dict[tuple[str, int], PersonAssessed] = field(default_factory=dict)
    """The first assessment of each (person, year)."""


@dataclass(slots=True)
class SubsidyFacts:
    """The applications and service records the subsidies rest on."""

    approvals: dict[str, ItemsApproved] = field(default_factory=dict)
    """The latest approval of each application."""
    refusals: dict[str, ApplicationRefused] = field(default_factory=dict)
    records: dict[str, ServiceRecorded] = field(default_factory=dict)
    """The latest service record of each delivery."""
    groups: dict[Group, list[str]] = field(default_factory=dict)
    """The deliveries of each approved item, in arrival order."""
    groups_of: dict[str, list[Group]] = field(default_factory=dict)
    """The groups of each application."""
    groups_of_person: dict[str, list[Group]] = field(default_factory=dict)
    """The groups of each person (a survey may decide their tiers)."""
    pools: dict[Pool, list[str]] = field(default_factory=dict)
    """The deliveries of each person, item and year, in arrival order: they share a yearly cap."""
    changes: dict[Group, list[InstitutionChanged]] = field(default_factory=dict)
    """Approved institution changes of each item, by the day approved."""
    descriptions: dict[str, ApplicationDescribed] = field(default_factory=dict)
    """What each application's form says about the applicant (it picks a tier by eligibility)."""


@dataclass(slots=True)
class SupportServiceHolders:
    """每人每年 200 元: which record holds the one support-service payment of a person and year."""

    owner: dict[str, str] = field(default_factory=dict)
    """``support_service:<person>:<year>`` -> the delivery that holds it."""
    key_of: dict[str, str] = field(default_factory=dict)
    """Delivery -> the support-service key it holds."""


@dataclass(slots=True)
class OnceOnlyHolders:
    """一次性补贴: which record holds the one payment of a person and a once-only item."""

    owner: dict[tuple[str, str], str] = field(default_factory=dict)
    """(person, item) -> the delivery that holds it."""


@dataclass(slots=True)
class PolicyCache:
    """Lookups that never change for a book's policy set, kept once computed."""

    in_force: dict[date, Policy | None] = field(default_factory=dict)
    shares: dict[tuple[str, str | None], dict[str, Decimal]] = field(default_factory=dict)
    """The funding shares of (policy id, area)."""
