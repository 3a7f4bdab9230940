"""The institution in charge 服务机构 of an approved item over a service period: one rule, shared by delivery
(which refuses a record of another institution) and settlement (which pays the one in charge).

An institution is fixed for the year; 区残联办 may approve a change (确需变更的，须报区残联办核定), in
force from its day. A service period belongs to the institution in charge on its first day: a record
of June signed in July, after a change of 1 July, is the old institution's last period (delivery
refuses a period that spans a change, so each institution records its own part).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple


class InstitutionMove(NamedTuple):
    """An approved change of institution: from one to another, in force from ``effective_on``."""

    from_institution: str
    to_institution: str
    effective_on: date


def institution_in_charge(
    approved: str, moves: Sequence[InstitutionMove], period_start: date
) -> tuple[str, tuple[int, ...]]:
    """The institution in charge of a period beginning on ``period_start``, and the indexes of the moves
    that put it there: the approved institution, moved by each change (oldest first) in force on that day.
    A move from an institution that is not the one in charge at that point moves nothing."""
    institution, applied = approved, []
    for index, move in enumerate(moves):
        if move.effective_on > period_start:
            break
        if move.from_institution == institution:
            institution = move.to_institution
            applied.append(index)
    return institution, tuple(applied)
