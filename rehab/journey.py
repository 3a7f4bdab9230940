"""One person's journey over the services' HTTP APIs, as the agencies' staff would drive it.

Used by `rehab demo` and the end-to-end tests. Each step is one agency's command; between
agencies the driver waits until the event has reached the next service (it polls that
service's own read API), because services learn of each other only through Redis streams.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

DISTRICT_ASSESSMENT = "lj-assess-first-hospital"
CITY_ASSESSMENT = "cq-assess-cqmu-second"

# Where each catalogue item is delivered, how the district office subsidises it, and what the
# institution charges (fen) and basic medical insurance pays first, for the sample.
SERVICE_PLAN: dict[str, dict[str, Any]] = {
    "support_service_mental": {
        "institution": "lj-rehab-centre",
        "mode": "free",
        "charge": 20_000,
        "insurance": 0,
    },
    "support_service_midlife_blind": {
        "institution": "lj-rehab-centre",
        "mode": "free",
        "charge": 20_000,
        "insurance": 0,
    },
    "assistive_device_fitting": {
        "institution": "lj-rehab-centre",
        "mode": "free",
        "charge": 150_000,
        "insurance": 0,
    },
    "orientation_mobility_training": {
        "institution": "lj-first-hospital",
        "mode": "free",
        "charge": 300_000,
        "insurance": 0,
    },
    "low_vision_training": {
        "institution": "cq-aier-eye",
        "mode": "fixed_amount",
        "amount": 100_000,
        "charge": 150_000,
        "insurance": 30_000,
    },
    "children_rehab_training": {
        "institution": "lj-rehab-centre",
        "mode": "fixed_amount",
        "amount": 2_000_000,
        "charge": 2_000_000,
        "insurance": 0,
    },
}
"""Free items are paid at the self-paid part of the charge; fixed amounts at most that much."""


DISTRICT_OFFICE_SIGNATORIES = {
    "responsible": "区残联办负责人",
    "reviewer": "区残联办复核人",
    "handler": "区残联办经办人",
}


class StepFailed(RuntimeError):
    """A service refused a step of the journey; the message carries its answer, ``status`` its HTTP status
    (None for a wait that timed out), so `rehab demo` can tell a 401 of access control from a conflict."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Journey:
    """HTTP client of the five services for one deployment."""

    url: Callable[[str], str]
    year: int = 2025
    timeout: float = 30.0
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10.0))
    service_plan: dict[str, dict[str, Any]] = field(default_factory=lambda: SERVICE_PLAN)
    """Where each item is delivered and how it is subsidised: Liangjiang's by default (the demo of another
    jurisdiction passes its pack's institutions)."""
    district_assessment: str = DISTRICT_ASSESSMENT
    city_assessment: str = CITY_ASSESSMENT

    # -- plumbing ----------------------------------------------------------------------------
    def post(self, service: str, path: str, body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
        response = self.client.post(self.url(service) + path, json=body)
        if response.status_code != expect:
            raise StepFailed(
                f"{service} POST {path} answered {response.status_code}: {response.text}",
                response.status_code,
            )
        return dict(response.json())

    def get(self, service: str, path: str, **params: Any) -> Any:
        response = self.client.get(self.url(service) + path, params=params)
        if response.status_code != 200:
            raise StepFailed(
                f"{service} GET {path} answered {response.status_code}: {response.text}", response.status_code
            )
        return response.json()

    def wait_until(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout
        while not condition():
            if time.monotonic() > deadline:
                raise StepFailed(f"timed out after {self.timeout:.0f}s waiting until {what}")
            time.sleep(0.05)

    def day(self, month: int, day: int) -> str:
        return date(self.year, month, day).isoformat()

    # -- 1. street office: register and survey ------------------------------------------------
    def register(self, registration: dict[str, Any]) -> str:
        body = {**registration, "registered_on": self.day(3, 1)}
        return str(self.post("survey", "/persons", body)["person_id"])

    def survey(self, person_id: str, needs: list[str], home_visit: bool = False) -> str:
        body = {
            "survey_year": self.year,
            "surveyed_on": self.day(3, 15),
            "has_needs": bool(needs),
            "needed_items": needs,
            "home_visit_required": home_visit,
            "surveyor": "社区康复协调员 张丽",
        }
        return str(self.post("survey", f"/persons/{person_id}/surveys", body)["survey_id"])

    # -- 2. assessment institutions: assess, escalate, refer ----------------------------------
    def on_worklist(self, person_ids: set[str]) -> bool:
        seen: set[str] = set()
        offset = 0
        while True:
            page = self.get("assessment", "/worklist", year=self.year, status="all", limit=200, offset=offset)
            seen.update(str(item["person_id"]) for item in page["items"])
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return person_ids <= seen

    def assess(
        self, person_id: str, institution_id: str, needs: list[str], home_visit: bool, outside: list[str]
    ) -> str:
        district = institution_id == self.district_assessment
        body = {
            "person_id": person_id,
            "assessment_year": self.year,
            "institution_id": institution_id,
            "assessor": "评估医生 陈静" if district else "市级评估医生 刘强",
            "assessed_on": self.day(4, 10 if district else 20),
            "mode": "home_visit" if home_visit else "at_institution",
            "assessed_needs": needs,
            "referral_needed": True,
            "opinion": "建议转介至定点康复服务机构"
            if not outside
            else "区级不具备评估能力，转介市级评估机构复评",
        }
        return str(self.post("assessment", "/assessments", body)["assessment_id"])

    def refer(self, assessment_id: str, to: str, kind: str, items: list[str], day: int) -> str:
        body = {"to_institution_id": to, "to_kind": kind, "items": items, "issued_on": self.day(4, day)}
        return str(self.post("assessment", f"/assessments/{assessment_id}/referrals", body)["referral_id"])

    def assess_and_refer(self, person_id: str, needs: list[str], home_visit: bool) -> None:
        """District level first; items it is not designated for go to the city level, which refers them."""
        city_items = [item for item in needs if item == "low_vision_training"]
        district_items = [item for item in needs if item not in city_items]
        assessment = self.assess(person_id, self.district_assessment, needs, home_visit, city_items)
        if city_items:
            self.refer(assessment, self.city_assessment, "assessment_institution", city_items, 11)
            city = self.assess(person_id, self.city_assessment, city_items, home_visit, [])
            self._refer_to_services(city, city_items, 21)
        if district_items:
            self._refer_to_services(assessment, district_items, 12)

    def _refer_to_services(self, assessment_id: str, items: list[str], day: int) -> None:
        by_institution: dict[str, list[str]] = {}
        for item in items:
            by_institution.setdefault(self.service_plan[item]["institution"], []).append(item)
        for institution, its_items in sorted(by_institution.items()):
            self.refer(assessment_id, institution, "service_institution", its_items, day)

    # -- 3. community -> street -> 区残联办 -----------------------------------------------------
    def referrals_reached_approval(self, person_id: str, needs: list[str]) -> bool:
        """Every needed item is referred to a service institution, as approval knows it."""
        referred = {
            item
            for referral in self.get("approval", "/referrals", person_id=person_id)
            if referral["to_kind"] == "service_institution"
            for item in referral["items"]
        }
        return set(needs) <= referred

    def apply(self, person: dict[str, Any], person_id: str, needs: list[str], serial: int) -> str:
        body = {
            "person_id": person_id,
            "application_year": self.year,
            "street": person["street"],
            "serial_number": str(serial),
            "requested_items": [
                {
                    "item": item,
                    "institution_id": self.service_plan[item]["institution"],
                    **self.service_plan[item].get("request", {}),  # e.g. the eyes of a cataract surgery
                }
                for item in needs
            ],
            "attachments": _attachments(person),
            "economic_status": person["economic_status"],
            "disability_categories": person["disability_categories"],
            "certified": bool(person.get("certificate_number") or person.get("veteran_certificate_number")),
            "applicant_role": "guardian" if person.get("guardian") else "person",
            "submitted_on": self.day(5, 6),
        }
        return str(self.post("approval", "/applications", body)["application_id"])

    def review_and_approve(self, application_id: str, street: str, needs: list[str]) -> str:
        self.review(application_id, street)
        decision = self.post(
            "approval",
            f"/applications/{application_id}/decision",
            {
                "outcome": "approved",
                "approved_items": [_item_approval(item, self.service_plan[item]) for item in needs],
                "rejected_items": [],
                "signatories": DISTRICT_OFFICE_SIGNATORIES,
                "decided_on": self.day(5, 20),
            },
        )
        return str(decision["service_card_number"])

    def review_and_reject(self, application_id: str, street: str, reason: str) -> None:
        self.review(application_id, street)
        self.post(
            "approval",
            f"/applications/{application_id}/decision",
            {
                "outcome": "rejected",
                "reason": reason,
                "signatories": DISTRICT_OFFICE_SIGNATORIES,
                "decided_on": self.day(5, 20),
            },
        )

    def review(self, application_id: str, street: str) -> None:
        """The community, then the street, sign and endorse the application."""
        path = f"/applications/{application_id}"
        self.post(
            "approval",
            path + "/reviews",
            {
                "level": "community",
                "endorsed": True,
                "opinion": "情况属实，同意上报",
                "signatories": {"responsible": f"{street}社区主任", "handler": f"{street}社区协调员"},
                "reviewed_on": self.day(5, 8),
            },
        )
        self.post(
            "approval",
            path + "/reviews",
            {
                "level": "street",
                "endorsed": True,
                "opinion": "同意",
                "signatories": {
                    "responsible": f"{street}街道负责人",
                    "reviewer": f"{street}街道复核人",
                    "handler": f"{street}街道经办人",
                },
                "reviewed_on": self.day(5, 12),
            },
        )

    # -- 4. service institutions ----------------------------------------------------------------
    def entitlements_reached_delivery(self, application_id: str) -> bool:
        return bool(self.get("delivery", "/entitlements", application_id=application_id))

    def deliver(self, application_id: str, person_id: str, item: str, guardian: bool) -> str:
        plan = self.service_plan[item]
        body = {
            "application_id": application_id,
            "person_id": person_id,
            "institution_id": plan["institution"],
            "item": item,
            "frequency": "每周2次，每次60分钟",
            "period_start": self.day(6, 1),
            "period_end": self.day(10, 31),
            "staff": "康复治疗师 周敏",
            "signed_by": "guardian" if guardian else "person",
            "signed_on": self.day(11, 5),
            "charge_fen": plan["charge"],
            "insurance_paid_fen": plan["insurance"],
        }
        return str(self.post("delivery", "/deliveries", body)["delivery_id"])

    # -- 5. settlement ------------------------------------------------------------------------------
    def settlement_caught_up(self) -> bool:
        produced = sum(
            self.get(service, "/health")["events"]["published"]
            for service in ("survey", "assessment", "approval", "delivery")
        )
        return int(self.get("settlement", "/health")["events"]["received"]) >= produced

    def producers_published_everything(self) -> bool:
        return all(
            self.get(service, "/health")["events"]["unpublished"] == 0
            for service in ("survey", "assessment", "approval", "delivery")
        )


def _attachments(person: dict[str, Any]) -> list[str]:
    attachments = ["id_card_copy", "household_register_copy", "service_handbook"]
    if person.get("certificate_number"):
        attachments.append("disability_certificate_copy")
    if person["economic_status"] == "subsistence_allowance":
        attachments.append("subsistence_certificate_copy")
    return attachments


def _item_approval(item: str, plan: dict[str, Any]) -> dict[str, Any]:
    approval: dict[str, Any] = {
        "item": item,
        "institution_id": plan["institution"],
        "subsidy_mode": plan["mode"],
    }
    if plan["mode"] == "fixed_amount":
        approval["amount_fen"] = plan["amount"]
    return approval
