"""The five services as real processes, each its own Redis ACL user, with signed events and access
control on: street clerks stay in their street, auditors only read, each sign-off block takes effect
when every signatory has confirmed it with their own token, and every read of a person is in
`rehab audit`."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from rehab.journey import DISTRICT_ASSESSMENT, DISTRICT_OFFICE_SIGNATORIES, Journey
from rehab.local_redis import AGENCY_USERS, LocalRedis, free_port
from rehab.processes import SERVICES, ServiceProcesses
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e

NEEDS = ["support_service_midlife_blind"]


class Deployment:
    """Redis, the services with access control, and a journey driver that sends each agency's token."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.person = ("", "")
        # As production runs: each service as its own Redis ACL user, events signed, access control on.
        self.redis = LocalRedis(var_dir / "redis", free_port(), aclfile=AGENCY_USERS).start()
        ports = {service: free_port() for service in SERVICES}
        self.services = ServiceProcesses.with_agency_users(var_dir, self.redis, ports=ports, with_access=True)
        self.drivers = {
            "survey": self.bearer("鸳鸯调查员", "survey", "street:鸳鸯"),
            "assessment": self.bearer("评估医生", "assessment", f"institution:{DISTRICT_ASSESSMENT}"),
            "approval": self.bearer("鸳鸯社区协调员", "approval", "community:鸳鸯/鸳鸯第一社区", "handler"),
            "delivery": self.bearer("区康复中心", "delivery", "district"),
            "settlement": self.bearer("财务科", "settlement", "district"),
        }
        service_of_port = {port: service for service, port in ports.items()}

        def with_token(request: httpx.Request) -> None:
            port = request.url.port
            assert port is not None, request.url
            request.headers.update(self.drivers[service_of_port[port]])

        client = httpx.Client(timeout=10.0, event_hooks={"request": [with_token]})
        self.journey = Journey(self.services.url, year=2025, timeout=60.0, client=client)

    def bearer(self, name: str, agency: str, scope: str, *roles: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.services.token_for(name, agency, scope, *roles)}"}

    def url(self, service: str, path: str) -> str:
        return self.services.url(service) + path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    running = Deployment(tmp_path_factory.mktemp("access-deployment"))
    try:
        running.services.start()
        yield running
    finally:
        running.journey.client.close()
        running.services.stop()
        running.redis.stop()


def test_a_yuanyang_clerk_neither_sees_nor_registers_a_renhe_person(deployment: Deployment) -> None:
    renhe = deployment.bearer("人和调查员", "survey", "street:人和")
    yuanyang = deployment.drivers["survey"]
    person = certified_adult(41, street="人和")
    created = httpx.post(deployment.url("survey", "/persons"), json=person, headers=renhe)
    assert created.status_code == 201, created.text
    person_id = created.json()["person_id"]
    seen = httpx.get(deployment.url("survey", f"/persons/{person_id}"), headers=yuanyang)
    assert (seen.status_code, seen.json()["code"]) == (403, "access.other_street")
    other = certified_adult(42, street="人和")
    registered = httpx.post(deployment.url("survey", "/persons"), json=other, headers=yuanyang)
    assert (registered.status_code, registered.json()["code"]) == (403, "access.other_street")
    listed = httpx.get(deployment.url("survey", "/persons"), headers=yuanyang).json()
    assert person_id not in {item["person_id"] for item in listed["items"]}
    assert httpx.get(deployment.url("survey", "/persons")).status_code == 401


def test_an_auditor_reads_every_service_but_writes_none(deployment: Deployment) -> None:
    auditor = deployment.bearer("审计员", "audit", "district", "auditor")
    for service in SERVICES:
        path = {"survey": "/persons", "assessment": "/institutions", "approval": "/applications"}.get(
            service, "/ledger" if service == "settlement" else "/deliveries"
        )
        assert httpx.get(deployment.url(service, path), headers=auditor).status_code == 200, service
    refused = httpx.post(deployment.url("survey", "/persons"), json=certified_adult(43), headers=auditor)
    assert (refused.status_code, refused.json()["code"]) == (403, "access.read_only")


def test_the_journey_is_signed_off_by_each_signatory_in_person_and_every_person_read_is_audited(
    deployment: Deployment,
) -> None:
    journey = deployment.journey
    person = certified_adult(44)
    person_id = journey.register(person)
    journey.survey(person_id, NEEDS)
    journey.wait_until("the survey reaches assessment", lambda: journey.on_worklist({person_id}))
    journey.assess_and_refer(person_id, NEEDS, home_visit=False)
    journey.wait_until(
        "the referrals reach approval", lambda: journey.referrals_reached_approval(person_id, NEEDS)
    )
    application_id = journey.apply(person, person_id, NEEDS, serial=1)

    # Each block is proposed by one signatory and confirmed by each other one with their own token.
    community_only = deployment.drivers["approval"]
    street_block = {
        "level": "street",
        "endorsed": True,
        "opinion": "同意",
        "reviewed_on": "2025-05-12",
        "signatories": {
            "responsible": "鸳鸯街道负责人",
            "reviewer": "鸳鸯街道复核人",
            "handler": "鸳鸯街道经办人",
        },
    }
    base = deployment.url("approval", f"/applications/{application_id}")
    community_block = {
        "level": "community",
        "endorsed": True,
        "opinion": "情况属实，同意上报",
        "reviewed_on": "2025-05-08",
        "signatories": {"responsible": "鸳鸯社区主任", "handler": "鸳鸯社区协调员"},
    }
    community_chief = deployment.bearer(
        "鸳鸯社区主任", "approval", "community:鸳鸯/鸳鸯第一社区", "responsible"
    )
    sign_off(f"{base}/reviews", community_block, [community_only, community_chief], "reviews/community")
    wrong_level = httpx.post(f"{base}/reviews", json=street_block, headers=community_only)
    assert (wrong_level.status_code, wrong_level.json()["code"]) == (403, "access.review_level")
    street_signers = [
        deployment.bearer(f"鸳鸯街道{title}", "approval", "street:鸳鸯", role)
        for title, role in (("复核人", "reviewer"), ("负责人", "responsible"), ("经办人", "handler"))
    ]
    sign_off(f"{base}/reviews", street_block, street_signers, "reviews/street")

    decision = {
        "outcome": "approved",
        "rejected_items": [],
        "signatories": DISTRICT_OFFICE_SIGNATORIES,
        "decided_on": "2025-05-20",
        "approved_items": [{"item": NEEDS[0], "subsidy_mode": "fixed_amount", "amount_fen": 20000}],
    }
    district_handler = deployment.bearer("区残联办经办人", "approval", "district", "handler")
    refused = httpx.post(f"{base}/decision", json=decision, headers=district_handler)
    assert (refused.status_code, refused.json()["code"]) == (403, "access.signatory")
    office = [
        deployment.bearer("区残联办负责人", "approval", "district", "responsible"),
        deployment.bearer("区残联办复核人", "approval", "district", "reviewer"),
        district_handler,
    ]
    approved = sign_off(f"{base}/decision", decision, office, "decision")
    assert approved.json()["application_status"] == "approved"

    deployment.person = (person_id, person["name"])
    reader = deployment.drivers["survey"]
    for purpose in ("%E5%85%A5%E6%88%B7%E6%A0%B8%E6%9F%A5", ""):  # 入户核查, then no purpose
        assert (
            httpx.get(
                deployment.url("survey", f"/persons/{person_id}"), headers={**reader, "X-Purpose": purpose}
            ).status_code
            == 200
        )
    reads = audited_reads(deployment, person_id)
    assert [(row[1], row[5], row[7]) for row in reads] == [
        ("鸳鸯调查员", f"GET /persons/{person_id}", "入户核查"),
        ("鸳鸯调查员", f"GET /persons/{person_id}", "未说明"),
    ]


def test_settlement_prints_the_name_with_the_key_the_registry_released_to_its_token(
    deployment: Deployment,
) -> None:
    person_id, name = deployment.person
    journey = deployment.journey
    journey.wait_until("settlement has consumed every event", journey.settlement_caught_up)
    summary = httpx.get(
        deployment.url("settlement", "/reports/annual-summary"),
        params={"year": 2025, "street": "鸳鸯"},
        headers=deployment.drivers["settlement"],
        timeout=30.0,
    )
    assert summary.status_code == 200, summary.text
    cells = {
        str(cell)
        for sheet in load_workbook(io.BytesIO(summary.content))
        for row in sheet.values
        for cell in row
    }
    assert name in cells
    # 附件3 asks for the year's keys in one batch: the release is audited under the person all the same.
    releases = [row for row in audited_reads(deployment, person_id) if "/data-key" in row[5]]
    batch = ("settlement-register", "POST /persons/data-keys:batch")
    assert [(row[1], row[5]) for row in releases] == [batch]


def test_a_forgotten_person_reads_as_deleted_in_survey_and_in_the_annual_summary_and_the_money_stays(
    deployment: Deployment,
) -> None:
    person_id, name = deployment.person
    journey = deployment.journey
    ledger_before = httpx.get(
        deployment.url("settlement", "/ledger"), headers=deployment.drivers["settlement"]
    ).json()
    clerk = deployment.drivers["survey"]
    refused = httpx.post(deployment.url("survey", f"/persons/{person_id}/forget"), headers=clerk)
    assert (refused.status_code, refused.json()["code"]) == (403, "access.role_required")
    head = deployment.bearer("鸳鸯街道负责人", "survey", "street:鸳鸯", "responsible")
    forgotten = httpx.post(deployment.url("survey", f"/persons/{person_id}/forget"), headers=head)
    assert forgotten.status_code == 200, forgotten.text

    shown = httpx.get(deployment.url("survey", f"/persons/{person_id}"), headers=clerk).json()
    assert name not in str(shown) and "（已删除）" in str(shown)
    journey.wait_until("settlement has consumed every event", journey.settlement_caught_up)
    summary = httpx.get(
        deployment.url("settlement", "/reports/annual-summary"),
        params={"year": 2025, "street": "鸳鸯"},
        headers=deployment.drivers["settlement"],
        timeout=30.0,
    )
    cells = {
        str(cell)
        for sheet in load_workbook(io.BytesIO(summary.content))
        for row in sheet.values
        for cell in row
    }
    assert name not in cells and "（已删除）" in cells
    ledger_after = httpx.get(
        deployment.url("settlement", "/ledger"), headers=deployment.drivers["settlement"]
    ).json()
    assert ledger_after == ledger_before


def sign_off(path: str, block: dict, signers: list[dict[str, str]], confirmations: str) -> httpx.Response:
    """The first signer proposes the block (202, pending); each other one confirms with their own token."""
    proposed = httpx.post(path, json=block, headers=signers[0])
    assert proposed.status_code == 202, proposed.text
    application = proposed.json()["application_id"]
    confirm = path.split("/applications/")[0] + f"/applications/{application}/{confirmations}/confirmations"
    answer = proposed
    for headers in signers[1:]:
        assert answer.json()["status"] == "pending"
        answer = httpx.post(confirm, json={"proposal_id": proposed.json()["proposal_id"]}, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer


def audited_reads(deployment: Deployment, person_id: str) -> list[list[str]]:
    """`rehab audit --service survey --subject <person>` as rows of fields."""
    audit = subprocess.run(
        [
            sys.executable,
            "-m",
            "rehab.cli",
            "audit",
            "--service",
            "survey",
            "--subject",
            person_id,
            "--var-dir",
            str(deployment.var_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return [line.split("\t") for line in audit.stdout.splitlines()[1:]]
