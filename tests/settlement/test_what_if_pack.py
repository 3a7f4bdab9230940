"""`rehab replay --policy FILE` replays a policy on the pack it belongs to, or says why it cannot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.settlement.commands import _on_the_policys_pack

SHAPINGBAS = Path("deploy/jurisdictions/shapingba/policies/shapingba-2023.toml")


def test_another_packs_policy_is_refused_when_the_deployment_names_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REHAB_REFERENCE", "liangjiang")

    with _on_the_policys_pack(SHAPINGBAS, "shapingba") as refused:
        assert refused is not None
        assert "属于辖区 shapingba" in refused and "REHAB_REFERENCE=liangjiang" in refused


def test_with_no_pack_named_the_policys_own_is_used_for_the_replay_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REHAB_REFERENCE", raising=False)

    with _on_the_policys_pack(SHAPINGBAS, "shapingba") as refused:
        assert refused is None
        assert os.environ["REHAB_REFERENCE"] == "shapingba"

    assert "REHAB_REFERENCE" not in os.environ  # the rest of the process keeps its default pack


def test_the_deployments_own_policy_goes_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_REFERENCE", "shapingba")

    with _on_the_policys_pack(SHAPINGBAS, "shapingba") as refused:
        assert refused is None
    assert os.environ["REHAB_REFERENCE"] == "shapingba"
