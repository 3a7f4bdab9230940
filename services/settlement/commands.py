"""What the `rehab` settlement subcommands do, given settlement's store: explain, replay --as-of,
replay --policy, statement, annual-summary, coverage, quota-use.

They read the store and never write the live ledger."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Literal
from uuid import UUID

from sqlalchemy import Engine

from kernel.reference.jurisdiction import REFERENCE_VARIABLE
from services.settlement.book.policy import PolicySet, load_policies
from services.settlement.deployment import deployment_jurisdiction, settled_jurisdiction
from services.settlement.documents.annual_summary import Signatures, annual_summary_forms, annual_summary_xlsx
from services.settlement.documents.explain import explain_posting, render_explanation
from services.settlement.documents.labels import AccountNames
from services.settlement.documents.quotas import NoQuotas, quota_use_report, render_quota_use
from services.settlement.documents.reports import coverage_report, policy_of_year, render_coverage
from services.settlement.documents.statements import FORMATS, BadPeriod, Period, statement
from services.settlement.ledger.as_of import Basis, render_as_of, totals_as_of
from services.settlement.ledger.what_if import (
    read_policy_with_inputs,
    render_inputs,
    render_what_if,
    replay_under,
)


def _names(policies: PolicySet) -> AccountNames:
    return AccountNames(deployment_jurisdiction(), policies)


def explain(engine: Engine, posting_id: str) -> int:
    try:
        wanted = UUID(posting_id)
    except ValueError:
        print(f"not a posting id: {posting_id!r}", file=sys.stderr)
        return 2
    policies = load_policies()
    explanation = explain_posting(engine, wanted, policies, _names(policies))
    if explanation is None:
        print(f"no posting {posting_id} in the ledger", file=sys.stderr)
        return 1
    print(render_explanation(explanation), end="")
    return 0


def replay_as_of_date(engine: Engine, day: date, basis: Basis = "received") -> int:
    replay = totals_as_of(engine, day, basis=basis)  # folded person by person: bounded memory
    print(render_as_of(replay), end="")
    return 0 if replay.report.balanced else 1


def replay_under_policy(engine: Engine, path: Path, inputs: Path | None = None) -> int:
    try:
        read = read_policy_with_inputs(path, inputs)
    except (OSError, ValueError) as bad:  # pydantic's ValidationError and TOML errors are ValueErrors
        print(f"政策文件 {path} 无法使用：{bad}", file=sys.stderr)
        return 2
    with _on_the_policys_pack(path, read.policy.jurisdiction) as refused:
        if refused is not None:
            print(refused, file=sys.stderr)
            return 2
        print(render_inputs(read), end="", file=sys.stderr)
        print(render_what_if(replay_under(engine, read.policy)), end="")
    return 0


@contextmanager
def _on_the_policys_pack(path: Path, policy_jurisdiction: str) -> Iterator[str | None]:
    """A policy is replayed on the pack it belongs to: taken as the deployment's for the replay when
    ``REHAB_REFERENCE`` is unset, refused when it names another pack (yields why)."""
    deployed = deployment_jurisdiction().jurisdiction
    if policy_jurisdiction == deployed:
        yield None
        return
    if REFERENCE_VARIABLE in os.environ:
        yield (
            f"政策文件 {path} 属于辖区 {policy_jurisdiction}，而本部署（{REFERENCE_VARIABLE}="
            f"{os.environ[REFERENCE_VARIABLE]}）是 {deployed}：请用本辖区的政策文件，或把 "
            f"{REFERENCE_VARIABLE} 设为 {policy_jurisdiction}"
        )
        return
    note = f"按政策文件所属的辖区包 {policy_jurisdiction} 重放（未设置 {REFERENCE_VARIABLE}）"
    print(note, file=sys.stderr)
    os.environ[REFERENCE_VARIABLE] = policy_jurisdiction
    try:
        yield None
    finally:  # the rest of the process (a test session) keeps the pack it had
        del os.environ[REFERENCE_VARIABLE]


def print_coverage(engine: Engine, year: int) -> int:
    jurisdiction = deployment_jurisdiction()
    policy = policy_of_year(load_policies(), jurisdiction.jurisdiction, year)
    print(render_coverage(coverage_report(engine, year, jurisdiction.streets, policy)), end="")
    return 0


def print_quota_use(engine: Engine, year: int, jurisdiction: str | None = None) -> int:
    chosen = jurisdiction or settled_jurisdiction()
    try:
        use = quota_use_report(engine, load_policies(), chosen, year)
    except NoQuotas as missing:
        print(str(missing), file=sys.stderr)
        return 1
    print(render_quota_use(use), end="")
    return 0


def write_statement(
    engine: Engine, account: str, period: str, format: Literal["csv", "xlsx"], out: Path | None
) -> int:
    try:
        chosen = Period.parse(period)
    except BadPeriod as bad:
        print(bad, file=sys.stderr)
        return 2
    if format == "xlsx" and out is None:
        print("an xlsx statement needs --out FILE", file=sys.stderr)
        return 2
    content = FORMATS[format][1](statement(engine, account, chosen, _names(load_policies())))
    if out is None:
        sys.stdout.write(content.decode("utf-8-sig"))
    else:
        out.write_bytes(content)
        print(f"wrote {out}")
    return 0


def write_annual_summary(
    engine: Engine, year: int, street: str, community: str | None, out: Path, signatures: Signatures
) -> int:
    jurisdiction = deployment_jurisdiction()
    if street not in jurisdiction.streets:
        print(
            f"{street} 不是{jurisdiction.name}的街道，可选：{'、'.join(jurisdiction.streets)}",
            file=sys.stderr,
        )
        return 2
    forms = annual_summary_forms(engine, year, street, community, jurisdiction)
    out.write_bytes(annual_summary_xlsx(forms, signatures))
    persons = sum(len(form.rows) for form in forms)
    print(f"wrote {out}: {len(forms)} community form(s), {persons} person(s)")
    return 0
