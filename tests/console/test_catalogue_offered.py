"""The survey and assessment forms offer the items of the deployment's own catalogue."""

from __future__ import annotations

from console.labels import catalogue_of, offered
from kernel.reference import load_jurisdiction


def test_liangjiangs_forms_offer_its_eight_items_and_none_of_shapingbas_measures() -> None:
    catalogue = catalogue_of(load_jurisdiction("liangjiang"))

    assert len(catalogue) == 8
    assert catalogue["low_vision_training"] == "低视力视功能训练"
    assert "children_transport_living_allowance" not in catalogue


def test_shapingbas_forms_offer_its_monthly_allowance_and_medical_aid() -> None:
    catalogue = catalogue_of(load_jurisdiction("shapingba"))

    assert catalogue["children_transport_living_allowance"] == "残疾儿童交通、生活补贴"
    assert "inpatient_medical_aid" in catalogue
    assert "low_vision_training" not in catalogue


def test_an_item_already_chosen_stays_offered_when_the_catalogue_lacks_it() -> None:
    catalogue = catalogue_of(load_jurisdiction("anyang"))  # children's training only

    shown = offered(catalogue, ["children_rehab_training", "cataract_surgery"])

    assert list(shown) == ["children_rehab_training", "cataract_surgery"]
    assert shown["cataract_surgery"] == "白内障复明手术"


def test_a_pack_designating_no_institution_yet_offers_every_item() -> None:
    assert len(catalogue_of(load_jurisdiction("zhuhai"))) == 14
