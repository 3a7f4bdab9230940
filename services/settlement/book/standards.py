"""Arithmetic of the standards in integer fen: insurance first, caps, percentages, months, funding split."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services.settlement.book.policy import (
    Cap,
    DeploymentInput,
    FixedAmount,
    Free,
    Monthly,
    Percentage,
    Range,
    Subsidy,
    Unstated,
    fen_of,
)


class StandardUnstated(Exception):
    """The amount cannot be computed: the policy leaves a figure it needs unstated, or an input is missing."""


@dataclass(frozen=True)
class Claim:
    """What a service record brings to a standard: the charge, what insurance paid, what is already paid."""

    charge_fen: int
    insurance_paid_fen: int = 0
    already_paid_fen: int = 0
    months: int | None = None
    decided_fen: int | None = None
    cases: int = 1
    """例: the cases a figure per case 每例 is paid for so far (Shapingba's cataract: each eye operated)."""

    @property
    def self_paid_fen(self) -> int:
        """自付部分: what is left after insurance, medical aid and other programmes paid."""
        return max(self.charge_fen - self.insurance_paid_fen, 0)


def subsidy_amount(
    charge_fen: int, insurance_paid_fen: int, cap_fen: int | None, already_paid_fen: int
) -> int:
    """Insurance first: the subsidy covers the self-paid part, up to what is left of the cap."""
    self_paid = max(charge_fen - insurance_paid_fen, 0)
    if cap_fen is None:
        return self_paid
    return max(min(self_paid, cap_fen - already_paid_fen), 0)


def percent_of(amount_fen: int, percent: Decimal) -> int:
    """``percent`` % of an amount, rounded half up to the fen (四舍五入; no seed states a rounding)."""
    return int((Decimal(amount_fen) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percentage_amount(self_paid_fen: int, percent: Decimal, cap_fen: int, already_paid_fen: int) -> int:
    """A share of the self-paid part, up to what is left of the cap (e.g. 80%, at most 10,000 a year)."""
    return max(min(percent_of(self_paid_fen, percent), cap_fen - already_paid_fen), 0)


def pro_rated(monthly_fen: int, months: int, max_months: int | None) -> int:
    """The monthly standard times the months, counting at most ``max_months`` (Anyang: 10)."""
    if months < 0:
        raise ValueError("months cannot be negative")
    counted = months if max_months is None else min(months, max_months)
    return monthly_fen * counted


def amount_due(subsidy: Subsidy, claim: Claim) -> int:
    """What a tier pays for a claim; raises ``StandardUnstated`` when the policy leaves it open."""
    match subsidy:
        case Free(standard_fen=standard):
            # No stated standard (nor one the deployment gave): 免费 pays the whole self-paid part (the
            # approval is the only limit). Not named ``cap``: the cases below bind that name to a figure.
            limit = fen_of(standard)
            return subsidy_amount(claim.charge_fen, claim.insurance_paid_fen, limit, claim.already_paid_fen)
        case Cap(cap_fen=cap):
            return subsidy_amount(
                claim.charge_fen, claim.insurance_paid_fen, _figure(cap), claim.already_paid_fen
            )
        case FixedAmount(amount_fen=amount, per=per):
            return max(_figure(amount) * _cases(per, claim) - claim.already_paid_fen, 0)
        case Percentage(percent=percent, cap_fen=cap):
            if isinstance(percent, Unstated):
                raise StandardUnstated(f"补助比例未载明：{percent.unstated}")
            return percentage_amount(claim.self_paid_fen, percent, _figure(cap), claim.already_paid_fen)
        case Monthly():
            return _monthly(subsidy, claim)
        case Range():
            return _range(subsidy, claim)
    raise TypeError(f"not a subsidy: {subsidy!r}")


def _cases(per: str, claim: Claim) -> int:
    """How many times a fixed amount is due: once per case 每例 counted, else once."""
    return claim.cases if per == "case" else 1


def _monthly(subsidy: Monthly, claim: Claim) -> int:
    if claim.months is None:
        raise StandardUnstated("服务月数未知")
    max_months = subsidy.max_months
    if isinstance(max_months, Unstated):
        raise StandardUnstated(f"补助月数上限未载明：{max_months.unstated}")
    entitled = pro_rated(_figure(subsidy.monthly_fen), claim.months, max_months)
    if subsidy.against_cost:
        return max(min(claim.self_paid_fen, entitled - claim.already_paid_fen), 0)
    return max(entitled - claim.already_paid_fen, 0)


def _range(subsidy: Range, claim: Claim) -> int:
    low, high = _figure(subsidy.min_fen), _figure(subsidy.max_fen)
    if claim.decided_fen is None:
        raise StandardUnstated("区间内的补助金额由区残联办决定，审批未给出金额")
    if not low <= claim.decided_fen <= high:
        raise StandardUnstated(
            f"审批金额 {_yuan(claim.decided_fen)} 元不在标准区间 {_yuan(low)}–{_yuan(high)} 元之内"
        )
    return max(claim.decided_fen - claim.already_paid_fen, 0)


def _figure(figure: int | Unstated | DeploymentInput) -> int:
    amount = fen_of(figure)
    if amount is None:
        raise StandardUnstated(f"补助标准{_why(figure)}")
    return amount


def _why(figure: int | Unstated | DeploymentInput) -> str:
    """Why a figure has no amount, for the unsettled list."""
    if isinstance(figure, DeploymentInput):
        return f"是部署参数，尚未填写：{figure.deployment_input}"
    return f"未载明：{figure.unstated}" if isinstance(figure, Unstated) else "已载明"


def months_trained(
    periods: Iterable[tuple[date | None, date | None]],
    within: Iterable[tuple[date | None, date | None]] | None = None,
) -> int | None:
    """训练月数: the calendar months the service periods cover, each counted once, and when ``within`` is
    given only those it covers too (an allowance's months that recorded training covers); None when a record
    carries no period. A month with any day counts (the seeds do not define part of a month)."""
    months = _months_of(periods)
    if months is not None and within is not None:
        covering = _months_of(within)
        months = None if covering is None else months & covering
    return None if months is None else len(months)


def _months_of(periods: Iterable[tuple[date | None, date | None]]) -> set[int] | None:
    months: set[int] = set()
    for start, end in periods:
        if start is None or end is None:
            return None
        months.update(range(start.year * 12 + start.month, end.year * 12 + end.month + 1))
    return months


def bound_of(subsidy: Subsidy, claim: Claim) -> int | None:
    """The most a tier pays for a claim, its standard 标准 (Anyang: the monthly standard times the months
    trained); None when the policy leaves it open. It bounds a fixed amount 区残联办 approves."""
    match subsidy:
        case FixedAmount(amount_fen=figure, per=per):
            amount = fen_of(figure)
            return None if amount is None else amount * _cases(per, claim)
        case (
            Free(standard_fen=figure)
            | Cap(cap_fen=figure)
            | Percentage(cap_fen=figure)
            | Range(max_fen=figure)
        ):
            return fen_of(figure)
        case Monthly():
            return _months_bound(subsidy, claim)
    return None


def _months_bound(subsidy: Monthly, claim: Claim) -> int | None:
    if claim.months is None:
        raise StandardUnstated("训练月数未知：服务记录没有服务周期")
    max_months = subsidy.max_months if isinstance(subsidy.max_months, int) else None
    monthly = fen_of(subsidy.monthly_fen)
    if monthly is not None:
        return pro_rated(monthly, claim.months, max_months)
    if max_months is not None and claim.months >= max_months:
        return None  # a full training: the months change nothing, the approval is the only limit
    why = _why(subsidy.monthly_fen)
    raise StandardUnstated(f"训练 {claim.months} 个月按每月补助标准支付，而该标准{why}")


def split_fen(amount_fen: int, shares: Mapping[str, Decimal]) -> dict[str, int]:
    """Split an amount by percentage shares, to the fen, adding up exactly (largest remainder).

    Each source first gets its share rounded down; the fen left over go one each to the sources
    with the largest remainders, ties to the larger share, then to the source id first in order.
    So 滑县 65/35 of 10,001 fen is 6,501 / 3,500, and 50/50 of 10,001 is 5,001 / 5,000.
    """
    if amount_fen < 0:
        raise ValueError("cannot split a negative amount")
    if sum(shares.values()) != 100:
        raise ValueError("shares must add up to 100")
    exact = {source: Decimal(amount_fen) * Decimal(share) / 100 for source, share in shares.items()}
    parts = {source: int(value) for source, value in exact.items()}
    left = amount_fen - sum(parts.values())
    order = sorted(shares, key=lambda source: (-(exact[source] - parts[source]), -shares[source], source))
    for source in order[:left]:
        parts[source] += 1
    return parts


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"
