"""A what-if policy reads the deployment inputs of its pack, and names those nobody gave: over HTTP (a policy
of the registry) and from a file (``read_policy_with_inputs``, what `rehab replay --policy` reads)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from kernel.reference.jurisdiction import JURISDICTIONS_DIR
from kernel.reference.pack import PackError
from kernel.runtime import ServiceSettings
from services.settlement.app import create_app
from services.settlement.ledger.what_if import read_policy_with_inputs, render_inputs
from tests.acceptance.anyang_children import child_events, consume

MONTHLY = "items.children_rehab_training.standards.ten-months.subsidy.monthly_fen"
VISION = "items.children_rehab_training.standards.vision.subsidy.cap_fen"
ANYANG_POLICY = JURISDICTIONS_DIR / "anyang" / "policies" / "anyang-2021.toml"


def inputs_giving(path: Path, figure: str, fen: int) -> Path:
    path.write_text(
        f'[[inputs]]\nfile = "policies/anyang-2021.toml"\npath = "{figure}"\nfen = {fen}\n'
        'source = "what-if"\n',
        encoding="utf-8",
    )
    return path


def test_the_shipped_pack_gives_neither_of_anyangs_deferred_standards_and_both_are_named() -> None:
    read = read_policy_with_inputs(ANYANG_POLICY)

    assert read.inputs_file == JURISDICTIONS_DIR / "anyang" / "inputs.toml"
    assert read.given == ()
    assert [path for path, _ in read.missing] == [MONTHLY, VISION]
    assert all("安政办〔2019〕23号" in what for _, what in read.missing)


def test_a_copy_of_the_pack_with_the_monthly_standard_fills_it_and_leaves_the_vision_standard_missing(
    tmp_path: Path,
) -> None:
    pack = tmp_path / "anyang"
    shutil.copytree(JURISDICTIONS_DIR / "anyang", pack)
    inputs_giving(pack / "inputs.toml", MONTHLY, 120_000)

    read = read_policy_with_inputs(pack / "policies" / "anyang-2021.toml")

    item = read.policy.items["children_rehab_training"]
    assert item.standards["ten-months"].subsidy.monthly_fen.fen == 120_000  # type: ignore[union-attr]
    assert (read.given, [path for path, _ in read.missing]) == ((MONTHLY,), [VISION])
    assert (
        render_inputs(read).splitlines()[1]
        == "仍缺 1 项部署参数，依赖它们的款项在重放中待结算（用 --inputs FILE 给出）："
    )


def test_inputs_for_another_file_of_the_pack_leave_the_policy_as_written(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.toml"
    inputs.write_text(
        '[[inputs]]\nfile = "jurisdiction.toml"\npath = "review_deadline"\nworking_days = 5\nsource = "x"\n',
        encoding="utf-8",
    )
    read = read_policy_with_inputs(ANYANG_POLICY, inputs)
    assert (read.inputs_file, read.given, len(read.missing)) == (inputs, (), 2)


def test_an_input_naming_a_stated_figure_is_refused_with_its_path(tmp_path: Path) -> None:
    inputs = inputs_giving(tmp_path / "inputs.toml", "items.children_rehab_training.name", 1)
    with pytest.raises(
        PackError, match=r"items\.children_rehab_training\.name 不是按分（fen）给出的部署参数"
    ):
        read_policy_with_inputs(ANYANG_POLICY, inputs)


@pytest.fixture
def anyang(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("REHAB_REFERENCE", "anyang")
    settings = ServiceSettings(
        service="settlement", database_url=f"sqlite:///{tmp_path}/settlement.db", redis_url=redis_url
    )
    with TestClient(create_app(settings)) as client:
        consume(client, child_events("北关区", date(2021, 3, 1), date(2021, 4, 30)))
        yield client


def test_the_http_what_if_names_the_figures_its_pack_does_not_give(anyang: TestClient) -> None:
    body = anyang.get("/replay/what-if", params={"policy": "anyang-2021"}).json()

    assert [row["path"] for row in body["missing_inputs"]] == [MONTHLY, VISION]
    assert "当地每月补助标准" in body["missing_inputs"][0]["deferred_to"]
    assert body["unsettled"] == 1  # the 2-month training waits for the monthly standard
