"""Issue 13's rules at approval, from the seed text: a fixed amount never above the catalogue standard,
and task numbers 任务数 that are minimums (应救尽救) never refuse a child."""

from __future__ import annotations

import pytest

from kernel.domain.rejections import CommandRejected
from kernel.reference import load_jurisdiction
from services.approval.events import ApplicationApproved, ItemApproval
from services.approval.quotas import QuotaUse
from tests.approval.test_domain import CATARACT, approve, endorsed, form
from tests.approval.test_quotas import CHILDREN, endorsed_child
from tests.approval.test_quotas import approve as approve_child

CATARACT_STANDARD_FEN = 120_000
"""002 三(一)3: 「对新增困难白内障患者实施1200元/例手术补贴」: 1,200 yuan x 100 = 120,000 fen per case."""


def approve_cataract(amount_fen: int) -> list:
    history = endorsed(form(CATARACT, disability_categories=frozenset({"vision"})))
    approval = ItemApproval("cataract_surgery", "fixed_amount", "lj-first-hospital", amount_fen)
    return approve(history, approval, standards={"cataract_surgery": CATARACT_STANDARD_FEN})


# -- rule 4: the office sees the standard when it approves a fixed amount ---------------------------------
def test_a_fixed_amount_above_the_items_standard_is_refused_with_the_standard_in_the_message():
    with pytest.raises(CommandRejected) as refused:
        approve_cataract(150_000)  # 1,500 yuan > 1,200 yuan/例
    error = refused.value
    assert (error.status_code, error.field, error.code) == (
        422,
        "approved_items",
        "approval.approved_items.amount_above_standard",
    )
    assert "定额 1,500.00 元高于目录标准 1,200.00 元" in error.message


def test_a_fixed_amount_at_the_standard_is_approved():
    [event] = approve_cataract(120_000)  # exactly 1,200 yuan
    assert isinstance(event, ApplicationApproved)


# -- rule 6: task numbers are minimums -------------------------------------------------------------------
# 004 附件 说明: 「各县（市、区）、省直管县任务数为最低任务数 ... 基本实现有需求残疾儿童应救尽救」.
def minimum(taken: int, places: int = 2) -> QuotaUse:
    return QuotaUse("鸳鸯", 2024, places, frozenset({"鸳鸯"}), CHILDREN, taken, minimum=True)


def test_a_child_beyond_a_minimum_task_number_is_approved_and_the_use_above_it_is_reported():
    [event] = approve_child(endorsed_child(), quota=minimum(taken=2))
    assert isinstance(event, ApplicationApproved)
    # 2 places, 3 approved: 1 above the target, none remaining.
    assert (minimum(taken=3).above_target, minimum(taken=3).remaining) == (1, 0)
    assert minimum(taken=1).above_target == 0


def test_anyangs_county_numbers_are_minimums_adding_up_to_1015():
    # 004 附件: 文峰区 140, 北关区 90, 殷都区 139, 龙安区 68, 林州市 100, 安阳县 90, 汤阴县 90, 内黄县 98,
    # 滑县 200: 140 + 90 + 139 + 68 + 100 + 90 + 90 + 98 + 200 = 1015.
    quotas = load_jurisdiction("anyang").quotas
    assert all(quota.minimum for quota in quotas)
    assert sum(quota.places for quota in quotas) == 1015
