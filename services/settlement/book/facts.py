"""Facts settlement learns from the consumed events, translated at the edge (pure value objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property


@dataclass(frozen=True)
class PersonSurveyed:
    """A street surveyed a person's needs for a year (from NeedSurveyed)."""

    event_id: str
    person: str
    year: int
    street: str
    has_needs: bool
    surveyed_on: date
    supersedes: str | None = None
    """The survey this one corrects (NeedSurveyed.supersedes_event_id); None for a first survey."""
    recorded_on: date | None = None
    """When the producer recorded the event (China Standard Time): the day a correction arrives."""
    # What the survey recorded about the person, for the standards that depend on them (fields added
    # last, with defaults: facts logged before them decode with "not recorded").
    birth_month: str | None = None
    """出生年月 ``YYYY-MM`` (the full birth date stays sealed): the age band on a service date."""
    categories: str = ""
    """残疾类别 codes, comma-separated (``hearing,speech``)."""
    economic_status: str | None = None
    """家庭经济状况: subsistence_allowance, low_income or other."""
    certified: bool | None = None
    subtypes: str = ""
    """低视力/盲/孤独症 (low_vision, blind, autism), comma-separated."""
    hardship: str = ""
    """Hardship statuses beyond 低保 (特困供养, 散居孤儿 …), comma-separated codes."""
    residence_permit: bool = False
    """外省市户籍、持居住证 living in the district; false = 户籍 in the district."""


@dataclass(frozen=True)
class PersonAssessed:
    """An assessment institution assessed a person for a year (from AssessmentCompleted)."""

    event_id: str
    person: str
    year: int
    institution: str
    level: str
    assessed_on: date


@dataclass(frozen=True)
class ApprovedItem:
    """One item 区残联办 approved: where it is delivered and how it is subsidised."""

    item: str
    institution: str | None
    mode: str
    amount_fen: int | None = None


@dataclass(frozen=True)
class ItemsApproved:
    """区残联办 approved items of an application (from ApplicationApproved)."""

    event_id: str
    application: str
    person: str
    year: int
    items: tuple[ApprovedItem, ...]
    approved_on: date
    recorded_on: date | None = None
    area: str | None = None
    """The street 街道 (or county 县区, where a policy has counties) the application was made in."""

    def item(self, code: str) -> ApprovedItem | None:
        return self._by_code.get(code)

    @cached_property
    def _by_code(self) -> dict[str, ApprovedItem]:
        # Settlement looks items up several times per service record; a dict once beats a scan each time.
        return {approved.item: approved for approved in self.items}


@dataclass(frozen=True)
class ApplicationRefused:
    """区残联办 refused a whole application (from ApplicationRejected)."""

    event_id: str
    application: str
    person: str
    refused_on: date


@dataclass(frozen=True)
class ServiceRecorded:
    """A service institution recorded a delivered item, signed by the person (from ServiceDelivered)."""

    event_id: str
    delivery: str
    application: str
    person: str
    item: str
    institution: str
    year: int
    charge_fen: int
    insurance_paid_fen: int
    signed: bool
    signed_on: date
    recorded_on: date | None = None
    period_start: date | None = None
    """First day of the service period 服务周期: it decides the institution in charge and months trained."""
    period_end: date | None = None
    """Last day of the service period (None in rows logged before periods were kept)."""


@dataclass(frozen=True)
class ApplicationDescribed:
    """What the form 附件2 says about the applicant (from ApplicationSubmitted): it picks an item's tier
    when its standard depends on the person (Anyang's 10-month training names hearing, speech, physical,
    intellectual and autism; vision is another tier)."""

    event_id: str
    application: str
    person: str
    categories: str
    """The disability categories 残疾类别 ticked, comma-separated codes (``hearing,speech``)."""
    economic_status: str | None
    """家庭经济状况: subsistence_allowance, low_income or other; None when the form did not say."""
    certified: bool
    ticks: str = ""
    """The choices ticked beside items, comma-separated ``item.tick``: the eyes
    (``cataract_surgery.eye.left``) and 低保人员营养费 (``cataract_surgery.nutrition_allowance``); added
    last, so facts logged before it decode with none ticked."""

    def ticked(self, item: str, tick: str) -> bool:
        return f"{item}.{tick}" in self.ticks.split(",")

    def eyes(self, item: str) -> int | None:
        """The eyes 左眼/右眼 ticked for the item (``cataract_surgery.eye.left``); None when none are."""
        ticked = sum(tick.startswith(f"{item}.eye.") for tick in self.ticks.split(","))
        return ticked or None


@dataclass(frozen=True)
class InstitutionChanged:
    """区残联办 moved an approved item to another institution (from InstitutionChangeApproved)."""

    event_id: str
    application: str
    item: str
    from_institution: str
    to_institution: str
    approved_on: date
    recorded_on: date | None = None


def arrived_on(fact: PersonSurveyed | ItemsApproved | ServiceRecorded | InstitutionChanged) -> date:
    """The day a fact arrived, which dates the adjustments it causes: recorded, else its business date."""
    if fact.recorded_on is not None:
        return fact.recorded_on
    match fact:
        case PersonSurveyed():
            return fact.surveyed_on
        case ServiceRecorded():
            return fact.signed_on
    return fact.approved_on


Fact = (
    PersonSurveyed
    | PersonAssessed
    | ItemsApproved
    | ApplicationRefused
    | ServiceRecorded
    | InstitutionChanged
    | ApplicationDescribed
)
