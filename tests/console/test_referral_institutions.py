"""The referral form offers only the service institutions the pack designates for the items the record
still refers, each with those items: no institution the assessment service would refuse."""

from __future__ import annotations

from console.assessment.pages import designated_for, referable_items
from kernel.reference import load_jurisdiction

LIANGJIANG = load_jurisdiction("liangjiang")


def record(*needs: str, escalate: tuple[str, ...] = (), referred: tuple[str, ...] = ()) -> dict[str, object]:
    referrals = [{"to_kind": "service_institution", "items": list(referred)}] if referred else []
    return {"assessed_needs": list(needs), "items_to_escalate": list(escalate), "referrals": referrals}


def offered(found: dict[str, object]) -> dict[str, list[str]]:
    return {id_: items for id_, _name, items in designated_for(found, LIANGJIANG.service_institutions)}


def test_low_vision_training_is_offered_only_its_two_designated_eye_hospitals() -> None:
    assert offered(record("low_vision_training")) == {
        "cqmu-second": ["low_vision_training"],
        "cq-aier-eye": ["low_vision_training"],
    }


def test_an_institution_is_offered_with_the_items_it_serves_among_those_to_refer() -> None:
    choices = offered(record("cataract_surgery", "orientation_mobility_training"))
    assert choices["lj-first-hospital"] == ["cataract_surgery", "orientation_mobility_training"]
    assert choices["lj-second-hospital"] == ["orientation_mobility_training"]
    assert choices["cqmu-second"] == ["cataract_surgery"]
    assert "lj-rehab-centre" not in choices


def test_items_escalated_or_already_referred_no_longer_choose_the_institutions() -> None:
    found = record("low_vision_training", "support_service_mental", referred=("low_vision_training",))
    assert referable_items(found) == ["support_service_mental"]
    assert list(offered(found)) == ["lj-rehab-centre"]
    escalated = record("cataract_surgery", "low_vision_training", escalate=("cataract_surgery",))
    assert set(offered(escalated)) == {"cqmu-second", "cq-aier-eye"}


def test_every_pack_offers_each_institution_only_for_items_it_is_designated_for() -> None:
    for name in ("liangjiang", "shapingba", "anyang", "zhuhai"):
        pack = load_jurisdiction(name)
        for institution in pack.service_institutions:
            needs = sorted(institution.designated_items)
            for id_, _name, items in designated_for(record(*needs), pack.service_institutions):
                served = next(i for i in pack.service_institutions if i.id == id_)
                assert set(items) <= served.designated_items and items
