"""Demo logins of the console for `rehab up` and the demo: public passwords, a demo deployment only.

`rehab up` (rehab/processes.py) may call ``demo_logins`` once the user directory exists and print what it
returns next to the console's address; a production deployment gives each clerk a one-time password
with `rehab users set-password` instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from kernel.access.auth import AUDIT, Agency, Role, Scope
from kernel.reference import Jurisdiction, load_jurisdiction
from kernel.reference.jurisdiction import deployment_reference
from rehab.users import User, UserDirectory, set_console_password

__all__ = ["DemoLogin", "demo_logins", "demo_logins_of"]


@dataclass(frozen=True)
class DemoLogin:
    name: str
    agency: Agency
    roles: frozenset[Role]
    scope: Scope
    password: str | None
    """The public demo password; None when the clerk already had a console password (left as it is)."""


def demo_logins_of(jurisdiction: Jurisdiction) -> tuple[DemoLogin, ...]:
    """The demo clerks of a pack: the survey clerks of its first two areas, the 区残联办's 负责人 in the
    registry (who may forget a person, ADR 0007), the signatories of 附件2 (the first area's first
    community's 负责人 and 经办人, the area's three, the 区残联办's three: each confirms a block with
    their own login), an assessor of its district-level assessment institution, a therapist of the
    institution the demo sends most persons to, the finance bureau's clerk and an auditor."""
    first, second = jurisdiction.streets[0], jurisdiction.streets[1 % len(jurisdiction.streets)]
    unit = "街道" if jurisdiction.area_kind == "street" else ""
    community = f"{first}第一社区"  # as the demo's sample names its communities (rehab.sample_people)
    assessor, therapist = _demo_institutions(jurisdiction)
    signatories = (
        (f"{first}社区经办人", Role.HANDLER, f"community:{first}/{community}", "demo-community-handler-2025"),
        (
            f"{first}社区负责人",
            Role.RESPONSIBLE,
            f"community:{first}/{community}",
            "demo-community-head-2025",
        ),
        (f"{first}{unit}经办人", Role.HANDLER, f"street:{first}", "demo-street-handler-2025"),
        (f"{first}{unit}复核人", Role.REVIEWER, f"street:{first}", "demo-street-reviewer-2025"),
        (f"{first}{unit}负责人", Role.RESPONSIBLE, f"street:{first}", "demo-street-head-2025"),
        ("区残联办经办人", Role.HANDLER, "district", "demo-office-handler-2025"),
        ("区残联办复核人", Role.REVIEWER, "district", "demo-office-reviewer-2025"),
        ("区残联办负责人", Role.RESPONSIBLE, "district", "demo-office-head-2025"),
    )
    return (
        DemoLogin(f"{first}{unit}调查员", "survey", STAFF, Scope("street", first), "demo-survey-2025"),
        DemoLogin(
            f"{second}{unit}调查员", "survey", STAFF, Scope("street", second), "demo-survey-second-2025"
        ),
        DemoLogin(
            "区残联办登记负责人",
            "survey",
            frozenset({Role.RESPONSIBLE}),
            Scope("district"),
            "demo-office-registry-2025",
        ),
        *(
            DemoLogin(name, "approval", frozenset({role}), Scope.parse(scope), password)
            for name, role, scope, password in signatories
        ),
        *(
            DemoLogin(name, agency, STAFF, Scope("institution", institution), password)
            for name, agency, institution, password in (
                ("评估医生", "assessment", assessor, "demo-assessor-2025"),
                ("康复机构治疗师", "delivery", therapist, "demo-service-2025"),
            )
            if institution is not None
        ),
        DemoLogin("区财政结算员", "settlement", STAFF, Scope("district"), "demo-finance-2025"),
        DemoLogin("审计员", AUDIT, frozenset({Role.AUDITOR}), Scope("district"), "demo-auditor-2025"),
    )


STAFF = frozenset({Role.STAFF})


def _demo_institutions(jurisdiction: Jurisdiction) -> tuple[str | None, str | None]:
    """The district-level assessment institution, and the service institution of most of the demo's items
    (the pack's first for a pack without a demo sample; none for a pack that names none, as Zhuhai's)."""
    from rehab.demo import DEMO_JURISDICTIONS, demo_plan

    assessors = jurisdiction.assessment_institutions
    assessor = next(
        (i.id for i in assessors if i.level == "district"), assessors[0].id if assessors else None
    )
    if jurisdiction.jurisdiction not in DEMO_JURISDICTIONS:
        servers = jurisdiction.service_institutions
        return assessor, servers[0].id if servers else None
    serving = Counter(
        step["institution"] for step in demo_plan(jurisdiction.jurisdiction).service_plan.values()
    )
    return assessor, serving.most_common(1)[0][0]


def demo_logins(directory: UserDirectory, store_url: str) -> list[DemoLogin]:
    """Add the demo clerks of the deployment's pack (``REHAB_REFERENCE``) to the directory (if missing)
    with their public passwords; no change at login. A clerk who has a console password already keeps it
    (`rehab up` runs at every start: a password a clerk chose, or an administrator set, is never reset to
    the public one); such a login is returned with ``password`` None."""
    logins = demo_logins_of(load_jurisdiction(deployment_reference()))
    known = {user.name for user in directory.users()}
    with_password = _with_password(store_url)
    given: list[DemoLogin] = []
    for login in logins:
        if login.name not in known:
            directory.add(User(login.name, login.agency, login.roles, login.scope))
        if login.name in with_password:
            given.append(replace(login, password=None))
            continue
        assert login.password is not None
        set_console_password(directory, store_url, login.name, login.password, must_change=False)
        given.append(login)
    return given


def _with_password(store_url: str) -> set[str]:
    """The users who have a console password in the store."""
    from sqlalchemy import select

    from console.store import create_console_engine, credentials

    engine = create_console_engine(store_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(select(credentials.c.user)).scalars())
    finally:
        engine.dispose()
