"""Adjustments 调整: what a correction changes in a subject's payments, as new postings (history stays).

A subject (``survey_fee:<person>:<year>``, ``service_subsidy:<delivery>`` …) has the postings made
for it so far, and, after a correcting event, the postings a fresh settlement would make now. Per
(fund, payee) pair the difference is posted: a top-up (fund -> payee) when more is due, a claw-back
追回 (payee -> fund) when less is. Earlier postings are never changed or deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from services.settlement.book.dues import Posting, posting_id_text

ADJUSTMENT_SUFFIX = "_adjustment"
TOP_UP = "top_up"
CLAW_BACK = "claw_back"

Pair = tuple[str, str]
"""(fund account, payee account): the direction of an ordinary payment."""


def base_rule(rule: str) -> str:
    """The rule a posting or its adjustment belongs to: ``survey_fee`` for ``survey_fee_adjustment``."""
    return rule.removesuffix(ADJUSTMENT_SUFFIX)


def is_claw_back(posting: Posting) -> bool:
    return posting.inputs.get("adjustment") == CLAW_BACK


def pair_of(posting: Posting) -> Pair:
    """The (fund, payee) pair a posting moves money between, whichever way it moves it."""
    if is_claw_back(posting):
        return posting.credit_account, posting.debit_account
    return posting.debit_account, posting.credit_account


def signed_amount(posting: Posting) -> int:
    """What the posting paid the payee: negative for a claw-back."""
    return -posting.amount_fen if is_claw_back(posting) else posting.amount_fen


def net_by_pair(history: Sequence[Posting]) -> dict[Pair, int]:
    net: dict[Pair, int] = {}
    for posting in history:
        pair = pair_of(posting)
        net[pair] = net.get(pair, 0) + signed_amount(posting)
    return net


def adjustments(
    key: str, history: Sequence[Posting], desired: Sequence[Posting], cause_event_id: str, day: date
) -> list[Posting]:
    """The postings that take the subject ``key`` from ``history`` to ``desired``, dated ``day``."""
    net = net_by_pair(history)
    wanted = {pair_of(posting): posting for posting in desired}
    result = []
    for pair in sorted(net.keys() | wanted.keys()):
        due_fen = wanted[pair].amount_fen if pair in wanted else 0
        posted_fen = net.get(pair, 0)
        if due_fen == posted_fen:
            continue
        template = wanted.get(pair) or next(p for p in reversed(history) if pair_of(p) == pair)
        adjusted = [posting_id_text(p.key) for p in history if pair_of(p) == pair]
        result.append(_adjustment(key, pair, template, adjusted, posted_fen, due_fen, cause_event_id, day))
    return result


def _adjustment(
    key: str,
    pair: Pair,
    template: Posting,
    adjusted: list[str],
    posted_fen: int,
    due_fen: int,
    cause_event_id: str,
    day: date,
) -> Posting:
    fund, payee = pair
    kind = TOP_UP if due_fen > posted_fen else CLAW_BACK
    debit, credit = (fund, payee) if kind == TOP_UP else (payee, fund)
    adjustment_key = f"{key}|adjustment:{cause_event_id}|{payee}|{fund}"
    sources = (cause_event_id, *(event for event in template.source_event_ids if event != cause_event_id))
    inputs = {
        **template.inputs,
        "adjustment": kind,
        "correcting_event_id": cause_event_id,
        "adjusts_posting_ids": adjusted,
        "posted_before_fen": posted_fen,
        "due_now_fen": due_fen,
    }
    return Posting(
        rule=base_rule(template.rule) + ADJUSTMENT_SUFFIX,
        key=adjustment_key,
        business_date=day,
        debit_account=debit,
        credit_account=credit,
        amount_fen=abs(due_fen - posted_fen),
        policy_id=template.policy_id,
        policy_version=template.policy_version,
        source_event_ids=sources,
        inputs=inputs,
    )
