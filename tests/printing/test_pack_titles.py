"""The forms print the titles, issuer, catalogue and institutions of the deployment's pack: another pack
changes them, Liangjiang's prints as its seed (the other printing tests read its pack)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from console.printing.approval_form import designated_institutions
from console.printing.service_card import issuer
from kernel.reference import Jurisdiction, load_jurisdiction
from printing.annual_summary import annual_summary_html
from printing.approval_form import approval_form_html
from printing.handbook import handbook_html
from printing.service_card import service_card_html
from tests.printing import samples

LIANGJIANGS = (
    "两江新区残疾人精准康复服务补助",
    "两 江 新 区",
    "重庆市残疾人联合会两江新区办事处",
    "《两江新区残疾人基本康复服务目录》",
    "两江新区残疾人康复需求和康复服务情况汇总表",
)
"""What only Liangjiang's pack says (the samples' persons and institutions live in Liangjiang)."""


def _request(jurisdiction: Jurisdiction) -> object:
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(jurisdiction=jurisdiction)))


@pytest.fixture(params=["anyang", "shapingba"])
def other(request: pytest.FixtureRequest) -> Jurisdiction:
    return load_jurisdiction(request.param)


def test_another_packs_forms_print_none_of_liangjiangs_titles(other: Jurisdiction) -> None:
    pages = (
        approval_form_html(samples.approval_form(other)),
        handbook_html(samples.handbook(other)),
        annual_summary_html(samples.annual_summary(jurisdiction=other)),
    )

    assert [(page, said) for page in range(3) for said in LIANGJIANGS if said in pages[page]] == []


def test_anyangs_forms_are_titled_and_issued_as_its_pack_says() -> None:
    anyang = load_jurisdiction("anyang")

    application = approval_form_html(samples.approval_form(anyang))
    handbook = handbook_html(samples.handbook(anyang))
    summary = annual_summary_html(samples.annual_summary(jurisdiction=anyang))

    assert "<h1>安阳市残疾儿童康复救助<br>申请审批表</h1>" in application
    assert '<p class="place sans">安 阳 市</p>' in handbook
    assert '<p class="title sans">残 疾 儿 童 康 复 救 助<br>服 务 手 册</p>' in handbook
    assert "河南省安阳市残疾人联合会制" in handbook and "《残疾人基本康复服务目录》" in handbook
    assert "<h1>安阳市残疾儿童康复需求和康复服务情况汇总表</h1>" in summary
    assert "依照《残疾人基本康复服务目录》" in summary


def test_a_title_without_a_place_prints_no_place_line_on_the_cover() -> None:
    zhuhai = load_jurisdiction("zhuhai")

    handbook = handbook_html(samples.handbook(zhuhai))

    assert 'class="place' not in handbook
    assert '<p class="title sans">残 疾 人 精 准 康 复<br>服 务 手 册</p>' in handbook


def test_the_approval_form_offers_the_packs_designated_institutions_only(other: Jurisdiction) -> None:
    offered = designated_institutions(_request(other))  # type: ignore[arg-type]
    form = replace(samples.approval_form(other), institution_choices=offered)

    page = approval_form_html(form)

    assert "区第一人民医院" not in page and "重医附二院 " not in page  # Liangjiang's lines 4 and 5
    assert (
        '<p>☑5. 低视力视功能训练\n（服务机构：<span class="value">重庆爱尔眼科</span>）' in page
    )  # as chosen


def test_liangjiangs_form_offers_its_designated_institutions_as_the_seed_prints_them() -> None:
    offered = designated_institutions(_request(samples.liangjiang()))  # type: ignore[arg-type]

    assert offered["orientation_mobility_training"] == ("区第一人民医院", "区第二人民医院")
    assert offered["low_vision_training"] == ("重医附二院", "重庆爱尔眼科")


@pytest.mark.parametrize(
    ("pack", "area", "card_issuer", "title"),
    [
        ("liangjiang", "鸳鸯", "重庆市残疾人联合会两江新区办事处", "残疾人精准康复服务卡"),
        ("shapingba", "小龙坎", "重庆市沙坪坝区残疾人联合会", "精准康复服务卡"),
        # seeds/001 (四)2: 区残联 「发放《残疾人精准康复服务卡》」, each district its own persons'.
        ("zhuhai", "斗门区", "珠海市斗门区残疾人联合会", "残疾人精准康复服务卡"),
    ],
)
def test_the_card_is_issued_and_named_as_the_pack_says(
    pack: str, area: str, card_issuer: str, title: str
) -> None:
    jurisdiction = load_jurisdiction(pack)

    assert issuer(_request(jurisdiction), area) == card_issuer  # type: ignore[arg-type]
    card = replace(samples.service_card(), issuer=card_issuer, title=jurisdiction.forms.service_card)
    page = service_card_html(card)
    assert f"<h1>{title}</h1>" in page and f'发卡单位：<span class="value">{card_issuer}</span>' in page
