"""A replay under another jurisdiction's pack than the ledger was settled for leaves the ledger as it is
(the money audit: `rehab replay` on Anyang's var dir without REHAB_REFERENCE emptied its ledger)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from kernel.domain.rejections import StateConflict
from kernel.reference.jurisdiction import REFERENCE_VARIABLE
from kernel.store.store import create_store_engine
from kernel.store.store import metadata as kernel_metadata
from services.settlement.ledger import fact_log, replay
from services.settlement.ledger.jurisdiction_check import LedgerOfAnotherJurisdiction
from services.settlement.ledger.replay import rebuild_ledger
from services.settlement.ledger.tables import facts_table, postings_table
from services.settlement.ledger.tables import metadata as ledger_metadata
from tests.settlement.test_settlement_replay_by_person import POLICIES, journeys


def postings(engine: object) -> int:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return int(connection.execute(select(func.count()).select_from(postings_table)).scalar())


def test_a_ledger_settled_for_liangjiang_is_not_replayed_under_anyangs_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/settlement.db")
    with engine.begin() as connection:
        kernel_metadata.create_all(connection)
        ledger_metadata.create_all(connection)
        fact_log.rewrite(connection, facts_table, journeys())
    monkeypatch.setattr(replay, "covers_archive", lambda *_args: True)  # a log without its archive
    monkeypatch.delenv(REFERENCE_VARIABLE, raising=False)
    rebuild_ledger(engine, POLICIES)
    settled = postings(engine)
    assert settled > 0

    monkeypatch.setenv(REFERENCE_VARIABLE, "anyang")
    with pytest.raises(LedgerOfAnotherJurisdiction) as refused:
        rebuild_ledger(engine, POLICIES)

    assert postings(engine) == settled
    assert isinstance(refused.value, StateConflict)  # 409 from POST /ledger/rebuild
    assert "liangjiang" in str(refused.value) and "anyang" in str(refused.value)


def test_an_empty_ledger_is_replayed_under_any_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path}/settlement.db")
    with engine.begin() as connection:
        kernel_metadata.create_all(connection)
        ledger_metadata.create_all(connection)
    monkeypatch.setattr(replay, "covers_archive", lambda *_args: True)
    monkeypatch.setenv(REFERENCE_VARIABLE, "anyang")

    assert rebuild_ledger(engine, POLICIES).balanced
