"""Replay 重放 the real archive under another policy file, in memory, and compare with the live ledger.

The live ledger's tables are only read. The other policy replaces the known policy with its id (or
the one of its jurisdiction taking effect on the same date); every other policy stays as it is.
Differences are per payee (what it received, net of claw-backs), per funding source (what it paid,
net) and per funding level (central_provincial, city_county, district …: the sources' levels), in fen.

A policy file defers some figures to documents not among the seeds (``{ deployment_input = "…" }``). A
file of a pack (``<pack>/policies/<id>.toml``) is read with that pack's ``inputs.toml`` filled in, as
settlement reads it live; ``--inputs FILE`` names another inputs file. The figures still missing are
listed, so a what-if never silently differs from the live ledger for want of a figure.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine

from kernel.reference.figures import DeploymentInput
from kernel.reference.pack import (
    INPUTS_FILE,
    JURISDICTION_FILE,
    POLICIES_FOLDER,
    DeploymentFigure,
    DeploymentInputs,
    PackError,
    read_toml,
    validated,
)
from services.settlement.book.policy import Policy, PolicySet, load_policies
from services.settlement.ledger.archive import Counted, facts_of
from services.settlement.ledger.as_of import end_of_day, known_by, totals_as_of
from services.settlement.ledger.person_order import fold_facts, fold_log
from services.settlement.ledger.report import LedgerReport, ledger_report, render_table, yuan


@dataclass(frozen=True)
class PolicyRead:
    """A policy file read for a what-if: the policy, its deployment inputs filled in, and what is missing."""

    policy: Policy
    inputs_file: Path | None
    """The inputs file the figures came from: the pack's ``inputs.toml``, ``--inputs FILE``, or none."""
    given: tuple[str, ...]
    """Dotted paths of the figures that file gave."""
    missing: tuple[tuple[str, str], ...]
    """(dotted path, what the figure is and which document sets it) of each figure nobody gave."""


def read_policy_file(path: Path, inputs: Path | None = None) -> Policy:
    """A policy file validated like the shipped ones (its name need not match its id), with the deployment
    inputs of its pack (or of ``inputs``) filled in."""
    return read_policy_with_inputs(path, inputs).policy


def read_policy_with_inputs(path: Path, inputs: Path | None = None) -> PolicyRead:
    """A policy file with the figures it defers to other documents filled from ``inputs``, else from the
    ``inputs.toml`` of the pack it lies in; a file outside a pack without ``inputs`` is read as written.

    Only the ``[[inputs]]`` naming this file (``policies/<file name>`` or ``policies/<id>.toml``) apply."""
    data = read_toml(path)
    inputs_file = inputs if inputs is not None else _pack_inputs_of(path)
    given: tuple[str, ...] = ()
    if inputs_file is not None:
        figures = validated(DeploymentInputs, read_toml(inputs_file), inputs_file).inputs
        names = {f"{POLICIES_FOLDER}/{path.name}", f"{POLICIES_FOLDER}/{data.get('id')}.toml"}
        data, given = _filled(data, [figure for figure in figures if figure.file in names], inputs_file)
    policy = validated(Policy, data, path)
    return PolicyRead(policy, inputs_file, given, missing_inputs(policy))


def _pack_inputs_of(path: Path) -> Path | None:
    """``<pack>/inputs.toml`` of a policy file lying in ``<pack>/policies/``; None elsewhere."""
    folder = path.resolve().parent
    pack = folder.parent
    if folder.name != POLICIES_FOLDER or not (pack / JURISDICTION_FILE).is_file():
        return None
    inputs = pack / INPUTS_FILE
    return inputs if inputs.is_file() else None


def _filled(
    data: dict[str, Any], figures: Sequence[DeploymentFigure], inputs_file: Path
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The policy's data with each given figure put into its ``{ deployment_input }``."""
    filled = copy.deepcopy(data)
    for figure in figures:
        slot = _at(filled, figure.path)
        if not isinstance(slot, dict) or "deployment_input" not in slot or figure.fen is None:
            raise PackError(
                f"{inputs_file}: {figure.file} 的 {figure.path} 不是按分（fen）给出的部署参数"
                "（{ deployment_input = … }）"
            )
        slot["fen"] = figure.fen
    return filled, tuple(figure.path for figure in figures)


def _at(data: object, dotted: str) -> object:
    for key in dotted.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def missing_inputs(policy: Policy) -> tuple[tuple[str, str], ...]:
    """(dotted path, what the figure is and which document sets it) of each deployment input of ``policy``
    nobody gave: the payments that need it wait."""
    return tuple(_not_given(policy, ""))


def _not_given(model: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(model, DeploymentInput):
        if model.fen is None:
            yield path, model.deployment_input
    elif isinstance(model, BaseModel):
        for name in type(model).model_fields:
            yield from _not_given(getattr(model, name), f"{path}.{name}" if path else name)
    elif isinstance(model, Mapping):
        for key, value in model.items():
            yield from _not_given(value, f"{path}.{key}" if path else str(key))
    elif isinstance(model, tuple | list):
        for index, value in enumerate(model):
            yield from _not_given(value, f"{path}[{index}]")


def render_inputs(read: PolicyRead) -> str:
    """In Chinese: where the deferred figures came from and which are still missing (for stderr)."""
    policy = read.policy
    if read.inputs_file is None:
        lines = [f"政策 {policy.id}：未使用部署参数文件（inputs.toml），按政策文件原样重放"]
    else:
        lines = [f"政策 {policy.id}：部署参数取自 {read.inputs_file}，填入 {len(read.given)} 项"]
    if not read.missing:
        return "\n".join([*lines, "需由部署给出的数额均已给出"]) + "\n"
    lines.append(
        f"仍缺 {len(read.missing)} 项部署参数，依赖它们的款项在重放中待结算（用 --inputs FILE 给出）："
    )
    lines += [f"  {path}：{what}" for path, what in read.missing]
    return "\n".join(lines) + "\n"


def with_policy(policies: PolicySet, policy: Policy) -> PolicySet:
    """The policies with ``policy`` in place of the one it supersedes (same id or same start)."""
    kept = [
        known
        for known in policies
        if known.id != policy.id
        and (known.jurisdiction, known.effective_from) != (policy.jurisdiction, policy.effective_from)
    ]
    return PolicySet([*kept, policy])


@dataclass(frozen=True)
class Difference:
    """One account: what the live ledger holds, what the replay under the other policy gives."""

    account: str
    live_fen: int
    replayed_fen: int

    @property
    def difference_fen(self) -> int:
        return self.replayed_fen - self.live_fen


def applied_here(known: PolicySet, policy: Policy, jurisdiction: str) -> PolicySet:
    """The policies with ``policy`` governing ``jurisdiction``'s facts.

    A policy of the jurisdiction itself takes the place of the one it supersedes (``with_policy``), as
    ``rehab replay --policy`` does. A policy of another jurisdiction (Shapingba's measures tried on
    Liangjiang's archive) governs every business date in place of all of the jurisdiction's own: its
    figures, catalogue, funding sources and shares price every fact, under its id and version.
    """
    if policy.jurisdiction == jurisdiction:
        return with_policy(known, policy)
    here = policy.model_copy(
        update={"jurisdiction": jurisdiction, "effective_from": date.min, "effective_until": None}
    )
    others = [kept for kept in known if kept.jurisdiction != jurisdiction and kept.id != policy.id]
    return PolicySet([*others, here])


@dataclass(frozen=True)
class WhatIf:
    policy: Policy
    events: int
    payees: tuple[Difference, ...]
    funding_sources: tuple[Difference, ...]
    funding_levels: tuple[Difference, ...] = ()
    live: LedgerReport | None = None
    """The ledger compared with: the stored one, or the one as of a date under the policies in force."""
    replayed: LedgerReport | None = None
    """The ledger under the other policy."""
    unsettled: int | None = None
    """Facts the other policy leaves unsettled (a figure it does not state, an item it does not list)."""


def replay_under(engine: Engine, policy: Policy, policies: PolicySet | None = None) -> WhatIf:
    """Replay the whole archive with ``policy`` in force, in memory; compare with the stored ledger."""
    known = policies if policies is not None else load_policies()
    replacing = with_policy(known, policy)
    events, unsettled, replayed = _folded(engine, replacing, None)
    return _compared(policy, events, ledger_report(engine), replayed, known, replacing, unsettled)


def what_if(
    engine: Engine, policy: Policy, known: PolicySet, jurisdiction: str, day: date | None = None
) -> WhatIf:
    """The archive replayed in memory with ``policy`` applied to ``jurisdiction`` (``applied_here``).

    Without ``day`` it is compared with the stored (live) ledger; with ``day``, only the events received
    by the end of that day are replayed, and compared with the ledger as it stood that day."""
    replacing = applied_here(known, policy, jurisdiction)
    cutoff = None if day is None else end_of_day(day)
    events, unsettled, replayed = _folded(engine, replacing, cutoff)
    live = ledger_report(engine) if day is None else totals_as_of(engine, day, known).report
    return _compared(policy, events, live, replayed, known, replacing, unsettled)


def _folded(engine: Engine, policies: PolicySet, cutoff: datetime | None) -> tuple[int, int, LedgerReport]:
    """Events replayed, facts left unsettled and the totals, folded person by person from the fact log
    (or from the archive's envelopes when the log does not cover it)."""
    logged = fold_log(engine, policies, cutoff)
    if logged is not None:
        events, settled, report = logged
        return events, settled.unsettled, report
    envelopes = Counted(known_by(engine, cutoff))
    settled, report = fold_facts(facts_of(envelopes), policies)
    return envelopes.count, settled.unsettled, report


def _compared(
    policy: Policy,
    events: int,
    live: LedgerReport,
    replayed: LedgerReport,
    known: PolicySet,
    replacing: PolicySet,
    unsettled: int,
) -> WhatIf:
    levels = {**levels_of(known), **levels_of(replacing)}
    return WhatIf(
        policy=policy,
        events=events,
        payees=_differences(_received(live), _received(replayed), lambda account: not _is_fund(account)),
        funding_sources=_differences(_paid(live), _paid(replayed), _is_fund),
        funding_levels=_differences(
            _by_level(_paid(live), levels), _by_level(_paid(replayed), levels), lambda _level: True
        ),
        live=live,
        replayed=replayed,
        unsettled=unsettled,
    )


def levels_of(policies: PolicySet) -> dict[str, str]:
    """The government level 资金层级 of each fund account the policies name."""
    return {source.account: source.level for known in policies for source in known.funding.sources.values()}


def _by_level(paid: Mapping[str, int], levels: Mapping[str, str]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for account, amount in paid.items():
        if _is_fund(account):
            level = levels.get(account, f"unknown ({account})")
            totals[level] = totals.get(level, 0) + amount
    return totals


def _is_fund(account: str) -> bool:
    return account.startswith("fund:")


def _received(report: LedgerReport) -> dict[str, int]:
    """Credits less debits: what a payee received, net of claw-backs."""
    return {totals.account: totals.credit_fen - totals.debit_fen for totals in report.accounts}


def _paid(report: LedgerReport) -> dict[str, int]:
    """Debits less credits: what a fund paid, net of what claw-backs returned to it."""
    return {totals.account: totals.balance_fen for totals in report.accounts}


def _differences(
    live: Mapping[str, int], replayed: Mapping[str, int], wanted: Callable[[str], bool]
) -> tuple[Difference, ...]:
    accounts = sorted(account for account in live.keys() | replayed.keys() if wanted(account))
    rows = (Difference(account, live.get(account, 0), replayed.get(account, 0)) for account in accounts)
    return tuple(row for row in rows if row.difference_fen != 0)


def render_what_if(what_if: WhatIf) -> str:
    """A stable text in Chinese: the same archive, ledger and policy always print the same bytes."""
    policy = what_if.policy
    heading = [
        f"按政策 {policy.id} 第 {policy.version} 版（{policy.effective_from.isoformat()} 起施行）"
        "在内存中重放；实时台账未改动",
        f"重放事件数：{what_if.events}",
        *_ledger_totals(what_if),
        "差额 = 重放 - 实时（金额单位：元）；没有差额的账户不列出",
    ]
    sections = [
        _section("收款方（实收）", what_if.payees),
        _section("资金来源（实付）", what_if.funding_sources),
        _section("资金级次（实付）", what_if.funding_levels),
    ]
    return "\n".join([*heading, "", *sections[0], "", *sections[1], "", *sections[2]]) + "\n"


def _ledger_totals(what_if: WhatIf) -> list[str]:
    """The whole of each ledger, so that a 合计 of the accounts that differ is not read as all of it."""
    if what_if.live is None or what_if.replayed is None:
        return []
    live, replayed = what_if.live.total_credit_fen, what_if.replayed.total_credit_fen
    return [f"记账总额：实时 {yuan(live)} 元，重放 {yuan(replayed)} 元"]


def _section(title: str, rows: Sequence[Difference]) -> list[str]:
    if not rows:
        return [f"{title}：没有差额"]
    total = Difference("合计", sum(row.live_fen for row in rows), sum(row.replayed_fen for row in rows))
    return render_table(
        (title, "实时", "重放", "差额"),
        [(row.account, yuan(row.live_fen), yuan(row.replayed_fen), yuan(row.difference_fen)) for row in rows],
        (total.account, yuan(total.live_fen), yuan(total.replayed_fen), yuan(total.difference_fen)),
    )
