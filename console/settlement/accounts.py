"""How settlement's pages name what the ledger codes: rules, accounts (streets, institutions, funds,
persons by their 姓名) and the levels of government that pay."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from fastapi import Request

from console.agencies import ServiceUnavailable
from console.names import UNSEEN_NAME, display_name, person_cards
from console.web import Clerk

RULE_LABELS = {
    "survey_fee": "需求调查工作经费",
    "management_fee": "康复管理经费",
    "assessment_fee": "评估、转介经费",
    "support_service": "支持性服务补贴",
    "service_subsidy": "康复服务项目补助",
}
ADJUSTMENT = "_adjustment"
PERSON = "person:"

LEVEL_LABELS = {
    "central_provincial": "中央和省级财政",
    "city_county": "市县财政",
    "city": "市级财政",
    "county": "县级财政",
    "district": "区级财政",
}
"""The funding levels 资金层级 of a policy's sources (book/policy.py ``FundingLevel``)."""


def rule_label(rule: str) -> str:
    base = rule.removesuffix(ADJUSTMENT)
    return RULE_LABELS.get(base, base) + ("（调整）" if base != rule else "")


def account_labels(request: Request) -> dict[str, str]:
    """Streets and institutions by their names; the rest is labelled by ``account_label``."""
    jurisdiction = request.app.state.jurisdiction
    names = {f"street:{street}": f"{street}街道" for street in jurisdiction.streets}
    names.update({f"service_institution:{i.id}": i.name for i in jurisdiction.service_institutions})
    names.update({f"assessment_institution:{i.id}": i.name for i in jurisdiction.assessment_institutions})
    return names


def account_label(account: str, names: dict[str, str]) -> str:
    kind, _, _ = account.partition(":")
    if account in names:
        return names[account]
    if kind == "fund":
        return "财政资金"
    if kind == "person":
        return "残疾人个人（报销）"
    return account


ACCOUNT_GROUPS = (
    ("street", "街道"),
    ("assessment_institution", "评估机构（评估、转介经费）"),
    ("service_institution", "服务机构（康复服务项目补助）"),
    ("person", "残疾人个人（报销）"),
    ("fund", "财政资金"),
)
"""The kinds of account, in the filter's order: a hospital that both assesses and serves has two accounts
(its assessment centre's and its own, each under the name the pack gives it), one under each heading."""


def account_groups(accounts: Iterable[str]) -> list[tuple[str, list[str]]]:
    """The accounts under their kind's heading (the order they come in kept); kinds not known last."""
    grouped: dict[str, list[str]] = {}
    for account in accounts:
        grouped.setdefault(account.partition(":")[0], []).append(account)
    known = [(label, grouped.pop(kind)) for kind, label in ACCOUNT_GROUPS if kind in grouped]
    return known + [("其他账户", codes) for codes in grouped.values()]


def person_ids(values: Iterable[str | None]) -> list[UUID]:
    """The persons named by person accounts (``person:<id>``) or plain ids, each once, in order."""
    found: dict[UUID, None] = {}
    for value in values:
        text = (value or "").removeprefix(PERSON)
        try:
            found[UUID(text)] = None
        except ValueError:
            continue
    return list(found)


def person_names(request: Request, clerk: Clerk, persons: Iterable[UUID], *, purpose: str) -> dict[str, str]:
    """姓名 of the persons a page shows, by person id and by person account, asked once for the page.

    A person the registry does not release to this clerk (or a registry out of reach) reads
    ``UNSEEN_NAME``: the page still shows the money, never the person's id as a name."""
    wanted = list(persons)
    if not wanted:
        return {}
    try:
        cards = person_cards(request, clerk, wanted, purpose=purpose)
    except ServiceUnavailable:
        cards = {}
    names: dict[str, str] = {}
    for person in wanted:
        name = display_name(cards, person)
        names[str(person)] = name
        names[PERSON + str(person)] = (
            f"{name}（个人报销）" if name != UNSEEN_NAME else f"残疾人个人（报销）{UNSEEN_NAME}"
        )
    return names
