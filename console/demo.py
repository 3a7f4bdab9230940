"""Demo logins of the console for `rehab up` and the demo: public passwords, a demo deployment only.

`rehab up` (rehab/processes.py) may call ``demo_logins`` once the user directory exists and print what it
returns next to the console's address; a production deployment gives each clerk a one-time password
with `rehab users set-password` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.access.auth import AUDIT, Agency, Role, Scope
from rehab.users import User, UserDirectory, set_console_password

__all__ = ["DEMO_LOGINS", "DemoLogin", "demo_logins"]


@dataclass(frozen=True)
class DemoLogin:
    name: str
    agency: Agency
    roles: frozenset[Role]
    scope: Scope
    password: str


DEMO_LOGINS = (
    DemoLogin(
        "鸳鸯街道调查员",
        "survey",
        frozenset({Role.STAFF}),
        Scope("street", "鸳鸯"),
        "demo-yuanyang-2025",
    ),
    DemoLogin(
        "人和街道调查员", "survey", frozenset({Role.STAFF}), Scope("street", "人和"), "demo-renhe-2025"
    ),
    # 区残联办's 负责人 in the registry: may forget a person of any street (删除个人信息, ADR 0007).
    DemoLogin(
        "区残联办登记负责人",
        "survey",
        frozenset({Role.RESPONSIBLE}),
        Scope("district"),
        "demo-office-registry-2025",
    ),
    *(
        DemoLogin(name, "approval", frozenset({role}), Scope.parse(scope), password)
        for name, role, scope, password in (
            ("鸳鸯社区经办人", Role.HANDLER, "community:鸳鸯/鸳鸯第一社区", "demo-community-handler-2025"),
            ("鸳鸯社区负责人", Role.RESPONSIBLE, "community:鸳鸯/鸳鸯第一社区", "demo-community-head-2025"),
            ("鸳鸯街道经办人", Role.HANDLER, "street:鸳鸯", "demo-street-handler-2025"),
            ("鸳鸯街道复核人", Role.REVIEWER, "street:鸳鸯", "demo-street-reviewer-2025"),
            ("鸳鸯街道负责人", Role.RESPONSIBLE, "street:鸳鸯", "demo-street-head-2025"),
            ("区残联办经办人", Role.HANDLER, "district", "demo-office-handler-2025"),
            ("区残联办复核人", Role.REVIEWER, "district", "demo-office-reviewer-2025"),
            ("区残联办负责人", Role.RESPONSIBLE, "district", "demo-office-head-2025"),
        )
    ),
    DemoLogin(
        "区第一医院评估医生",
        "assessment",
        frozenset({Role.STAFF}),
        Scope("institution", "lj-assess-first-hospital"),
        "demo-assessor-2025",
    ),
    DemoLogin(
        "康复中心治疗师",
        "delivery",
        frozenset({Role.STAFF}),
        Scope("institution", "lj-rehab-centre"),
        "demo-service-2025",
    ),
    DemoLogin("区财政结算员", "settlement", frozenset({Role.STAFF}), Scope("district"), "demo-finance-2025"),
    DemoLogin("审计员", AUDIT, frozenset({Role.AUDITOR}), Scope("district"), "demo-auditor-2025"),
)
"""The street clerks of the streets the demo drives most; the 区残联办's 负责人 in the registry (who may
forget a person); the signatories of 附件2 (鸳鸯第一社区's
负责人 and 经办人, 鸳鸯街道's three, 区残联办's three: each confirms a block with their own login); an
assessor of the district-level assessment institution, a therapist of the rehabilitation centre, the
finance bureau's clerk and an auditor."""


def demo_logins(directory: UserDirectory, store_url: str) -> list[DemoLogin]:
    """Add the demo users to the directory (if missing) with their public passwords; no change at login."""
    known = {user.name for user in directory.users()}
    for login in DEMO_LOGINS:
        if login.name not in known:
            directory.add(User(login.name, login.agency, login.roles, login.scope))
        set_console_password(directory, store_url, login.name, login.password, must_change=False)
    return list(DEMO_LOGINS)
