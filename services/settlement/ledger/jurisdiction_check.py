"""A ledger is rebuilt only for the jurisdiction it was settled for: a pack named by mistake
(``REHAB_REFERENCE`` unset on a county's deployment) would otherwise replace it with another place's."""

from __future__ import annotations

from sqlalchemy import Connection, inspect, select

from kernel.domain.rejections import StateConflict
from services.settlement.book.policy import PolicySet
from services.settlement.ledger.tables import postings_table


class LedgerOfAnotherJurisdiction(StateConflict):
    """The live ledger was settled under another jurisdiction's policies than the pack now names: 409."""

    def __init__(self, settled: str, named: str) -> None:
        super().__init__(
            f"实时台账是按辖区 {settled} 的政策结算的，而本次按辖区包 {named}（REHAB_REFERENCE）：重放会把它"
            f"换成另一个辖区的台账，未重放。请在 REHAB_REFERENCE={settled} 下重放",
            code="settlement.ledger.another_jurisdiction",
        )
        self.settled, self.named = settled, named


def refuse_another_jurisdiction(connection: Connection, policies: PolicySet, jurisdiction: str) -> None:
    """Raise ``LedgerOfAnotherJurisdiction`` when the ledger's postings follow a policy of a jurisdiction
    other than ``jurisdiction`` (a deployment settles for one; a posting of a policy no longer known says
    nothing). An empty or missing ledger passes."""
    if not inspect(connection).has_table(postings_table.name):
        return
    policy_id = connection.execute(select(postings_table.c.policy_id).limit(1)).scalar()
    policy = policies.get(policy_id) if policy_id is not None else None
    if policy is not None and policy.jurisdiction != jurisdiction:
        raise LedgerOfAnotherJurisdiction(policy.jurisdiction, jurisdiction)
