"""Browser tests of the staff console: Redis, the survey service with access control and the console as
real processes (shared by every test of this package), driven by Debian's headless Chromium."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kernel.access.auth import Agency, Role, Scope
from kernel.web.api_docs import asset_file
from rehab.journey import CITY_ASSESSMENT, DISTRICT_ASSESSMENT, SERVICE_PLAN, Journey
from rehab.local_redis import LocalRedis, free_port
from rehab.processes import SERVICES, ServiceProcesses
from rehab.users import User, UserDirectory, set_console_password
from tests.e2e.people import certified_adult

pytestmark = pytest.mark.e2e

CHROMIUM = Path(os.environ.get("REHAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=zh-CN",  # date inputs as a Chinese clerk's browser shows them (2025/03/05)
]
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = Path(
    os.environ.get("REHAB_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots")
)

PASSWORD = "Liangjiang-2025"
"""Every test clerk's password (already changed from the one-time password, except 新调查员's)."""
CLERKS = {
    "鸳鸯调查员": ("survey", "street:鸳鸯", "staff"),
    "人和调查员": ("survey", "street:人和", "staff"),
    "锁定测试员": ("survey", "street:鸳鸯", "staff"),
    "新调查员": ("survey", "street:鸳鸯", "staff"),
    "鸳鸯调查负责人": ("survey", "street:鸳鸯", "responsible"),
    "鸳鸯社区协调员": ("approval", "community:鸳鸯/鸳鸯第一社区", "handler"),
    "鸳鸯社区主任": ("approval", "community:鸳鸯/鸳鸯第一社区", "responsible"),
    "鸳鸯街道负责人": ("approval", "street:鸳鸯", "responsible"),
    "鸳鸯街道复核人": ("approval", "street:鸳鸯", "reviewer"),
    "鸳鸯街道经办人": ("approval", "street:鸳鸯", "handler"),
    "区残联办负责人": ("approval", "district", "responsible"),
    "区残联办复核人": ("approval", "district", "reviewer"),
    "区残联办经办人": ("approval", "district", "handler"),
    "财务科": ("settlement", "district", "staff"),
    "鸳鸯街道结算员": ("settlement", "street:鸳鸯", "staff"),
    "审计员": ("audit", "district", "auditor"),
    "康复中心治疗师": ("delivery", "institution:lj-rehab-centre", "staff"),
    "评估医生": ("assessment", f"institution:{DISTRICT_ASSESSMENT}", "staff"),
    "市级评估医生": ("assessment", f"institution:{CITY_ASSESSMENT}", "staff"),
}
AGENCY_USERS = {"delivery": "区康复中心"}
"""Users of the journey's steps that the console's pages do not take yet (no console password)."""
AGENCY_SCOPES = {"delivery": "district"}
JOURNEY_YEAR = date.today().year - 1
"""The year the tests' applications are of: every date of rehab.journey lies in the past."""


@dataclass
class Stack:
    """The running processes and what the tests need to reach them."""

    var_dir: Path
    redis: LocalRedis
    services: ServiceProcesses
    console: subprocess.Popen[bytes] | None = None
    console_port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    @property
    def directory(self) -> UserDirectory:
        directory = self.services.access
        assert directory is not None
        return directory

    def survey_api(self, user: str) -> httpx.Client:
        """The survey service's API as a user (the tests' own look behind the console)."""
        token = self.directory.issue_token(user, lifetime=timedelta(minutes=10))
        return httpx.Client(
            base_url=self.services.url("survey"), headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )

    def api(self, service: str, user: str) -> httpx.Client:
        """A service's API as a user of the directory (the tests' own look behind the console)."""
        token = self.directory.issue_token(user, lifetime=timedelta(minutes=10))
        return httpx.Client(
            base_url=self.services.url(service), headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )

    def journey(self, **users: str) -> Journey:
        """rehab.journey's steps as each agency's user: register, survey, assess and refer, apply;
        ``users`` names another user of an agency (``survey="区统计员"``)."""
        drivers = {
            "survey": "鸳鸯调查员",
            "assessment": "评估医生",
            "approval": "鸳鸯社区协调员",
            "settlement": "财务科",
            **AGENCY_USERS,
            **users,
        }
        service_of_port = {self.services.ports[service]: service for service in SERVICES}

        def with_token(request: httpx.Request) -> None:
            user = drivers[service_of_port[request.url.port or 0]]
            token = self.directory.issue_token(user, lifetime=timedelta(minutes=10))
            request.headers["Authorization"] = f"Bearer {token}"

        client = httpx.Client(timeout=10.0, event_hooks={"request": [with_token]})
        return Journey(self.services.url, year=JOURNEY_YEAR, timeout=60.0, client=client)

    def applied(self, sequence: int, needs: list[str]) -> tuple[str, str]:
        """A 鸳鸯 person registered, surveyed, assessed, referred and applied for over the APIs: the
        application's and the person's ids (the application's serial number is ``sequence``)."""
        journey = self.journey()
        person = certified_adult(sequence)
        person_id = journey.register(person)
        journey.survey(person_id, needs)
        journey.wait_until("the survey reaches assessment", lambda: journey.on_worklist({person_id}))
        journey.assess_and_refer(person_id, needs, home_visit=False)
        journey.wait_until(
            "the referral reaches approval", lambda: journey.referrals_reached_approval(person_id, needs)
        )
        return journey.apply(person, person_id, needs, serial=sequence), person_id

    def approved(self, sequence: int, needs: list[str]) -> tuple[str, str]:
        """An application signed off over the APIs, each block by its signatories' own tokens."""
        application_id, person_id = self.applied(sequence, needs)
        day = f"{JOURNEY_YEAR}-05-"
        community = {"responsible": "鸳鸯社区主任", "handler": "鸳鸯社区协调员"}
        street = {"responsible": "鸳鸯街道负责人", "reviewer": "鸳鸯街道复核人", "handler": "鸳鸯街道经办人"}
        office = {"responsible": "区残联办负责人", "reviewer": "区残联办复核人", "handler": "区残联办经办人"}
        for level, signatories, on in (("community", community, "08"), ("street", street, "12")):
            body = {"level": level, "endorsed": True, "opinion": "同意", "signatories": signatories}
            self._sign(application_id, "reviews", f"reviews/{level}", {**body, "reviewed_on": day + on})
        items = [{"item": item, "subsidy_mode": SERVICE_PLAN[item]["mode"]} for item in needs]
        decision = {
            "outcome": "approved",
            "approved_items": items,
            "signatories": office,
            "decided_on": day + "20",
        }
        self._sign(application_id, "decision", "decision", decision)
        return application_id, person_id

    def _sign(self, application_id: str, path: str, confirmations: str, block: dict[str, Any]) -> None:
        names = list(block["signatories"].values())
        base = f"/applications/{application_id}"
        with self.api("approval", names[0]) as proposer:
            proposed = proposer.post(f"{base}/{path}", json=block)
            assert proposed.status_code == 202, proposed.text
        for name in names[1:]:
            with self.api("approval", name) as signer:
                answer = signer.post(
                    f"{base}/{confirmations}/confirmations",
                    json={"proposal_id": proposed.json()["proposal_id"]},
                )
                assert answer.status_code in (201, 202), answer.text

    def expire_sessions(self, user: str) -> None:
        """As if the clerk had left the page open past the idle timeout."""
        with sqlite3.connect(self.var_dir / "console.db") as database:
            database.execute("UPDATE console_sessions SET seen_at = seen_at - 7200 WHERE user = ?", (user,))

    def audit(self, person_id: str) -> list[list[str]]:
        shown = subprocess.run(
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
                str(self.var_dir),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [line.split("\t") for line in shown.splitlines()[1:]]


def _start_console(stack: Stack) -> None:
    log = (stack.var_dir / "logs" / "console.log").open("ab")
    environment = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        **{f"REHAB_{service.upper()}_URL": stack.services.url(service) for service in SERVICES},
        "REHAB_CONSOLE_LOGIN_BACKOFF_SECONDS": "0.2",
    }
    stack.console = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "console",
            "--port",
            str(stack.console_port),
            "--var-dir",
            str(stack.var_dir),
            "--access-dir",
            str(stack.directory.folder),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment,
    )
    deadline = time.monotonic() + 90  # a loaded 2-core machine has needed more than 30 s
    while time.monotonic() < deadline:
        if stack.console.poll() is not None:
            raise RuntimeError(f"the console exited; see {stack.var_dir}/logs/console.log")
        try:
            if httpx.get(stack.url + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the console did not answer within 90 s")


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: scripts/setup installs chromium from apt")
    if not asset_file("htmx.org", "dist/htmx.min.js").is_file():
        pytest.skip("node_modules is missing: scripts/setup installs the console's assets (npm ci)")
    var_dir = tmp_path_factory.mktemp("console")
    redis = LocalRedis(var_dir / "redis", free_port()).start()
    ports = {service: free_port() for service in SERVICES}
    services = ServiceProcesses(var_dir, redis.url, ports=ports, with_access=True)
    running = Stack(var_dir, redis, services)
    try:
        services.start()
        store = f"sqlite:///{var_dir / 'console.db'}"
        for name, (agency, scope, role) in CLERKS.items():
            running.directory.add(User(name, Agency(agency), frozenset({Role(role)}), Scope.parse(scope)))
            one_time = name == "新调查员"
            set_console_password(running.directory, store, name, PASSWORD, must_change=one_time)
        for service, name in AGENCY_USERS.items():
            running.services.token_for(name, service, AGENCY_SCOPES[service])
        _start_console(running)
        yield running
    finally:
        if running.console is not None:
            running.console.terminate()
            running.console.wait(timeout=10)
        services.stop()
        redis.stop()


@pytest.fixture(scope="package")
def browser(stack: Stack) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, stack: Stack) -> Iterator[Any]:
    """A fresh browser context (no cookies) in Chinese at 1366×768; axe may be injected (bypass_csp)."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", bypass_csp=True, base_url=stack.url)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def pages(browser: Any, stack: Stack) -> Iterator[Callable[[str], Any]]:
    """Each clerk in a browser context of their own, signed in: ``pages("鸳鸯社区主任")``."""
    contexts: list[Any] = []

    def signed_in(user: str) -> Any:
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", bypass_csp=True, base_url=stack.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        opened = context.new_page()
        login(opened, user)
        opened.wait_for_url(lambda url: "/login" not in url)
        return opened

    yield signed_in
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def assert_accessible(page: Any) -> None:
    """axe-core (npm) in the page: no serious or critical violation."""
    page.add_script_tag(path=str(asset_file("axe-core", "axe.min.js")))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']][:3]}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert not serious, serious


def login(page: Any, user: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(user)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
