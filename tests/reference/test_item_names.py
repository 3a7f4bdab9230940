"""Every catalogue item the contracts know has a Chinese name wherever a clerk reads one."""

from __future__ import annotations

import pytest
from rehab_contracts.vocabulary import CatalogueItem

from kernel.reference.catalogue import ITEM_NAMES
from services.settlement.book.names import ITEM_NAMES as SETTLEMENT_ITEM_NAMES
from services.survey.labels import ITEM_LABELS

NAMED_IN = {
    "messages of survey, approval and delivery": ITEM_NAMES,
    "the survey form and sheet": ITEM_LABELS,
    "settlement's reasons and documents": SETTLEMENT_ITEM_NAMES,
}


@pytest.mark.parametrize("where", sorted(NAMED_IN))
def test_every_catalogue_item_has_a_chinese_name(where: str) -> None:
    names = NAMED_IN[where]

    unnamed = [item.value for item in CatalogueItem if item.value not in names]

    assert unnamed == [], f"{where}: no Chinese name for {unnamed}"
    assert all(any("\u4e00" <= character <= "\u9fff" for character in names[item]) for item in CatalogueItem)
