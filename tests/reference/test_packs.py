"""Jurisdiction packs (ADR 0013): each place in one folder, read once and checked, every error naming the
file and the dotted path. Expected figures are the seeds', computed by hand, never read from the packs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from kernel.reference import load_jurisdiction
from kernel.reference.figures import DeploymentDays, Unstated, WorkingDays
from kernel.reference.jurisdiction import JURISDICTIONS_DIR, Jurisdiction
from kernel.reference.pack import PackError, load_pack, pack_names
from kernel.runtime import ServiceSettings
from services.approval.app import create_app
from services.settlement.book.policy import DeploymentInput, Monthly, load_policies

MONTHLY = "items.children_rehab_training.standards.ten-months.subsidy.monthly_fen"


def copy_of(name: str, tmp_path: Path) -> Path:
    """A pack copied out of the tree, to break it without touching the shipped one."""
    return Path(shutil.copytree(JURISDICTIONS_DIR / name, tmp_path / name))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- the four packs ---------------------------------------------------------------------------------
def test_the_tree_ships_one_pack_per_seed_jurisdiction() -> None:
    assert pack_names() == ["anyang", "liangjiang", "shapingba", "zhuhai"]


def test_every_shipped_pack_loads_and_its_policies_price_in_settlement() -> None:
    for name in pack_names():
        pack = load_pack(JURISDICTIONS_DIR / name)
        assert pack.jurisdiction.jurisdiction == name
        assert [policy.view.jurisdiction for policy in pack.policies] == [name]
    assert sorted(policy.id for policy in load_policies()) == [
        "anyang-2021",
        "liangjiang-2024",
        "shapingba-2023",
        "zhuhai-2017",
    ]


def test_liangjiang_prints_its_own_form_titles_and_numbers_its_cards_lj() -> None:
    liangjiang = load_jurisdiction("liangjiang")
    # 000 附件: 「3. 两江新区残疾人康复需求和康复服务情况汇总表」.
    assert liangjiang.forms.annual_summary == "两江新区残疾人康复需求和康复服务情况汇总表"
    assert liangjiang.forms.application == "两江新区残疾人精准康复服务补助申请审批表"
    assert liangjiang.card_prefix == "LJ"
    assert liangjiang.streets == ("鸳鸯", "人和", "天宫殿", "翠云", "大竹林", "礼嘉", "金山", "康美")
    # 附件3 「每年12月20日前由街道汇总后上报，残联办、街道各留存一份」.
    assert liangjiang.reporting_chain == ("社区", "街道", "区残联办")


@pytest.mark.parametrize(
    ("name", "city", "province"),
    [
        ("liangjiang", "重庆市", "重庆市"),  # a municipality: one body is both levels
        ("shapingba", "重庆市", "重庆市"),
        ("anyang", "安阳市", "河南省"),
        ("zhuhai", "珠海市", "广东省"),
    ],
)
def test_each_pack_names_the_city_and_province_its_figures_go_up_to(
    name: str, city: str, province: str
) -> None:
    reports_to = load_jurisdiction(name).reports_to
    assert (reports_to.city, reports_to.province) == (city, province)


def test_the_handbooks_issuer_and_catalogue_are_liangjiangs_own_and_elsewhere_the_places_federation() -> None:
    liangjiang, anyang = load_jurisdiction("liangjiang"), load_jurisdiction("anyang")
    # 附件1 cover: 「重庆市残疾人联合会两江新区办事处制」; its notes: 《两江新区残疾人基本康复服务目录》.
    assert liangjiang.issuing_federation == "重庆市残疾人联合会两江新区办事处"
    assert liangjiang.forms.catalogue == "两江新区残疾人基本康复服务目录"
    assert anyang.issuing_federation == "河南省安阳市残疾人联合会"
    assert anyang.forms.catalogue == "残疾人基本康复服务目录"


def test_zhuhais_cards_are_issued_by_the_persons_district_federation() -> None:
    zhuhai, liangjiang = load_jurisdiction("zhuhai"), load_jurisdiction("liangjiang")
    # seeds/001 (四)2: 「向区残联申请……区残联审核确定补助额度……并发放《残疾人精准康复服务卡》」.
    assert zhuhai.card_issuer_of("金湾区") == "珠海市金湾区残疾人联合会"
    assert zhuhai.card_issuer_of(None) == zhuhai.issuing_federation  # the area not known: the pack's issuer
    assert liangjiang.card_issuer_of("鸳鸯") == "重庆市残疾人联合会两江新区办事处"


def test_a_card_issuer_with_another_placeholder_than_area_is_refused() -> None:
    with pytest.raises(ValidationError):
        Jurisdiction.model_validate(
            {**load_jurisdiction("zhuhai").model_dump(), "card_issuer": "珠海市{county}残疾人联合会"}
        )


def test_liangjiangs_seed_sets_no_review_deadline_so_its_deployment_gives_one() -> None:
    pack = load_pack(JURISDICTIONS_DIR / "liangjiang")
    written = (JURISDICTIONS_DIR / "liangjiang" / "jurisdiction.toml").read_text(encoding="utf-8")
    assert 'review_deadline = { deployment_input = "原文未规定审核期限' in written
    assert pack.jurisdiction.review_deadline == DeploymentDays(
        deployment_input="原文未规定审核期限：由区残联办确定", working_days=5
    )
    assert pack.jurisdiction.review_working_days == 5
    assert not any("review_deadline" in warning for warning in pack.warnings)


def test_anyang_states_its_five_working_days_and_the_others_none() -> None:
    # 004: 「5个工作日内完成对申请人提交资料的审核」.
    assert load_jurisdiction("anyang").review_deadline == WorkingDays(working_days=5)
    for name in ("shapingba", "zhuhai"):
        deadline = load_jurisdiction(name).review_deadline
        assert isinstance(deadline, Unstated) and "未规定审核期限" in deadline.unstated
        assert load_jurisdiction(name).review_working_days is None


def test_anyangs_task_numbers_are_written_once_in_its_policy_and_read_by_approval_as_minimums() -> None:
    # 004 附件 2021年安阳市残疾儿童康复救助任务分配表, 「最低任务数」: 140 + 90 + 139 + 68 + 100 + 90 + 90
    # + 98 + 200 = 1,015.
    anyang = load_jurisdiction("anyang")
    places = {quota.area: quota.places for quota in anyang.quotas}
    assert places == {
        "文峰区": 140,
        "北关区": 90,
        "殷都区": 139,
        "龙安区": 68,
        "林州市": 100,
        "安阳县": 90,
        "汤阴县": 90,
        "内黄县": 98,
        "滑县": 200,
    }
    assert sum(places.values()) == 1015
    assert {quota.minimum for quota in anyang.quotas} == {True}
    jurisdiction_file = (JURISDICTIONS_DIR / "anyang" / "jurisdiction.toml").read_text(encoding="utf-8")
    assert "[[quotas]]" not in jurisdiction_file


def test_a_fixed_amount_is_bounded_by_the_standard_the_policy_states_once() -> None:
    # 002: 「对新增困难白内障患者实施1200元/例手术补贴」 = 120,000 fen; children 0-6 「20000元/人/年」 is the
    # highest tier of the training (7-14 困难 also 20,000).
    shapingba = load_jurisdiction("shapingba").item_standards_fen
    assert shapingba["cataract_surgery"] == 120_000
    assert shapingba["children_rehab_training"] == 2_000_000
    # 000: 「区残联办按照每人每年 200 元补贴给项目实施机构」; the catalogue's other standards are unpublished.
    assert load_jurisdiction("liangjiang").item_standards_fen == {
        "support_service_midlife_blind": 20_000,
        "support_service_mental": 20_000,
    }
    # Anyang's standards come from 安政办〔2019〕23号, not among the seeds: no bound until it is given.
    assert load_jurisdiction("anyang").item_standards_fen == {}


# -- deployment inputs --------------------------------------------------------------------------------
def test_anyangs_monthly_standard_waits_for_the_deployment_with_a_warning_naming_the_figure() -> None:
    # 004: 「救助内容和标准依据安政办〔2019〕23号执行」: the monthly standard and the vision standard.
    monthly, vision = load_pack(JURISDICTIONS_DIR / "anyang").warnings
    assert "policies/anyang-2021.toml" in monthly and MONTHLY in monthly
    assert "standards.vision.subsidy.cap_fen" in vision
    assert all("安政办〔2019〕23号" in warning for warning in (monthly, vision))


def test_every_figure_a_seed_defers_to_another_document_is_a_deployment_input() -> None:
    # 000: 「《两江新区残疾人基本康复服务目录》，另行发布」 and 「按 9 号文件执行」; 001: 附件1.
    liangjiang = load_pack(JURISDICTIONS_DIR / "liangjiang").warnings
    assert len(liangjiang) == 8 and all("liangjiang-2024.toml: items." in warning for warning in liangjiang)
    [zhuhai] = load_pack(JURISDICTIONS_DIR / "zhuhai").warnings
    assert "items.catalogue.standards.all.subsidy.standard_fen" in zhuhai and "附件1" in zhuhai
    assert load_pack(JURISDICTIONS_DIR / "shapingba").warnings == ()


def test_a_monthly_standard_given_in_inputs_reaches_settlement_and_approvals_bound(tmp_path: Path) -> None:
    pack = copy_of("anyang", tmp_path)
    (pack / "inputs.toml").write_text(
        "[[inputs]]\n"
        'file = "policies/anyang-2021.toml"\n'
        f'path = "{MONTHLY}"\n'
        "fen = 150000\n"
        'source = "a deployment\'s reading of 安政办〔2019〕23号 (a test figure)"\n',
        encoding="utf-8",
    )
    loaded = load_pack(pack)
    assert [MONTHLY in warning for warning in loaded.warnings] == [False]  # the vision standard still waits
    policy = load_policies(tmp_path).get("anyang-2021")
    assert policy is not None
    subsidy = policy.items["children_rehab_training"].standards["ten-months"].subsidy
    assert isinstance(subsidy, Monthly) and isinstance(subsidy.monthly_fen, DeploymentInput)
    assert subsidy.monthly_fen.fen == 150_000
    # 「康复训练时间为10个月」: 10 x 1,500 = 15,000 yuan bounds the tier; the item has no bound while its
    # 视力 tier stays unstated (「标准按安政办〔2019〕23号执行」).
    assert loaded.jurisdiction.item_standards_fen == {}
    [written] = loaded.policies
    ten_months = written.view.items["children_rehab_training"].standards["ten-months"]
    assert ten_months.bound_fen() == 1_500_000


def test_an_input_for_a_figure_that_is_no_deployment_input_is_refused(tmp_path: Path) -> None:
    pack = copy_of("liangjiang", tmp_path)
    edit(pack / "inputs.toml", 'path = "review_deadline"', 'path = "card_prefix"')
    with pytest.raises(PackError, match=r"inputs\[0\]: jurisdiction.toml 的 card_prefix 不是部署参数"):
        load_pack(pack)


def test_an_input_for_a_file_the_pack_does_not_have_is_refused(tmp_path: Path) -> None:
    pack = copy_of("liangjiang", tmp_path)
    edit(pack / "inputs.toml", 'file = "jurisdiction.toml"', 'file = "policies/liangjiang-2019.toml"')
    with pytest.raises(PackError, match=r"inputs\[0\]\.file: 本辖区包没有 policies/liangjiang-2019.toml"):
        load_pack(pack)


# -- errors name the file and the dotted path -------------------------------------------------------
def test_a_task_number_for_an_area_the_pack_does_not_have_names_the_policy_file_and_path(
    tmp_path: Path,
) -> None:
    pack = copy_of("anyang", tmp_path)
    edit(pack / "policies" / "anyang-2021.toml", '"滑县" = 200', '"滑 县" = 200')
    with pytest.raises(PackError, match=re.escape("anyang-2021.toml: quotas[0].by_area.滑 县")):
        load_pack(pack)


def test_a_funding_split_for_an_unknown_area_names_the_split(tmp_path: Path) -> None:
    pack = copy_of("anyang", tmp_path)
    edit(pack / "policies" / "anyang-2021.toml", 'areas = ["滑县"]', 'areas = ["华县"]')
    with pytest.raises(
        PackError, match=re.escape("funding.splits.huaxian.areas: 华县 不是河南省安阳市的区域")
    ):
        load_pack(pack)


def test_an_institution_serving_an_item_outside_the_catalogue_is_refused(tmp_path: Path) -> None:
    pack = copy_of("anyang", tmp_path)
    edit(
        pack / "jurisdiction.toml",
        'designated_items = ["children_rehab_training"]\n\n[[service',
        'designated_items = ["cataract_surgery"]\n\n[[service',
    )
    with pytest.raises(
        PackError, match=re.escape("assessment_institutions[0].designated_items: cataract_surgery")
    ):
        load_pack(pack)


def test_a_pack_must_say_its_review_deadline_even_when_its_seed_states_none(tmp_path: Path) -> None:
    pack = copy_of("zhuhai", tmp_path)
    edit(
        pack / "jurisdiction.toml",
        'review_deadline = { unstated = "区残联审核确定补助额度；原文未规定审核期限" }',
        "",
    )
    with pytest.raises(PackError, match=r"jurisdiction.toml: review_deadline: 辖区包必须写明"):
        load_pack(pack)


def test_task_numbers_written_in_jurisdiction_toml_are_refused_they_belong_to_a_policy(
    tmp_path: Path,
) -> None:
    pack = copy_of("liangjiang", tmp_path)
    with (pack / "jurisdiction.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[[quotas]]\nyear = 2025\narea = "鸳鸯"\nplaces = 40\n')
    with pytest.raises(PackError, match=r"jurisdiction.toml: quotas: 写在 policies/"):
        load_pack(pack)


def test_a_malformed_field_names_the_file_and_its_dotted_path(tmp_path: Path) -> None:
    pack = copy_of("zhuhai", tmp_path)
    edit(pack / "jurisdiction.toml", 'card_prefix = "ZH"', 'card_prefix = "zh"')
    edit(pack / "jurisdiction.toml", 'service_card = "残疾人精准康复服务卡"', 'service_card = ""')
    with pytest.raises(PackError) as refused:
        load_pack(pack)
    lines = str(refused.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["card_prefix", "forms.service_card"]
    assert all(line.startswith(str(pack / "jurisdiction.toml")) for line in lines)


def test_two_policies_governing_one_day_are_refused(tmp_path: Path) -> None:
    pack = copy_of("shapingba", tmp_path)
    later = (pack / "policies" / "shapingba-2023.toml").read_text(encoding="utf-8")
    later = later.replace('id = "shapingba-2023"', 'id = "shapingba-2024"')
    later = later.replace("effective_from = 2023-12-27", "effective_from = 2024-07-01")
    (pack / "policies" / "shapingba-2024.toml").write_text(later, encoding="utf-8")
    with pytest.raises(
        PackError, match=re.escape("shapingba-2024.toml: effective_from: 2024-07-01 仍在 shapingba-2023")
    ):
        load_pack(pack)


def test_a_policy_of_another_jurisdiction_in_a_pack_is_refused(tmp_path: Path) -> None:
    pack = copy_of("zhuhai", tmp_path)
    edit(pack / "policies" / "zhuhai-2017.toml", 'jurisdiction = "zhuhai"', 'jurisdiction = "anyang"')
    with pytest.raises(
        PackError, match=re.escape("zhuhai-2017.toml: jurisdiction: 'anyang' 不是本辖区包 'zhuhai'")
    ):
        load_pack(pack)


def test_adding_a_jurisdiction_is_adding_a_folder(tmp_path: Path) -> None:
    copy_of("shapingba", tmp_path)
    copy_of("liangjiang", tmp_path)
    assert pack_names(tmp_path) == ["liangjiang", "shapingba"]
    assert sorted(policy.id for policy in load_policies(tmp_path)) == ["liangjiang-2024", "shapingba-2023"]
    assert load_jurisdiction(str(tmp_path / "shapingba")).card_prefix == "SPB"


def test_a_service_refuses_to_start_on_a_broken_pack_naming_the_file_and_path(tmp_path: Path) -> None:
    pack = copy_of("anyang", tmp_path)
    edit(
        pack / "jurisdiction.toml",
        "review_deadline = { working_days = 5 }",
        "review_deadline = { working_days = 0 }",
    )
    settings = ServiceSettings(service="approval", database_url=f"sqlite:///{tmp_path}/approval.db")
    with pytest.raises(
        PackError, match=r"anyang/jurisdiction.toml: review_deadline\.WorkingDays\.working_days"
    ):
        create_app(settings, jurisdiction=str(pack))


def test_an_unknown_pack_is_refused_naming_the_packs_there_are() -> None:
    with pytest.raises(
        PackError, match="没有名为 lianjiang 的辖区包：deploy/jurisdictions 下有 anyang、liangjiang"
    ):
        load_jurisdiction("lianjiang")
