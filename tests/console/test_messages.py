"""A service's message as the console shows it: field names in the forms' words, fen as 元."""

from __future__ import annotations

import httpx

from console.agencies import Problem
from console.messages import plain


def test_field_names_in_a_message_are_said_in_chinese() -> None:
    said = plain("不予批准须写明理由（reason），且不填 approved_items 和 rejected_items", "body")
    assert said == "不予批准须写明理由，且不填同意的项目和不予批准的项目"
    assert plain("请求有 1 处需要更正：outcome：应为 approved 或 rejected") == (
        "请求有 1 处需要更正：审批结果：应为 approved 或 rejected"
    )


def test_amounts_in_fen_are_said_in_yuan_with_two_decimals() -> None:
    assert plain("医保等已支付 400000 分，超过发票总额 350000 分", "insurance_paid_fen") == (
        "医保等已支付 4,000.00元，超过发票总额 3,500.00元"
    )
    field = "approved_items.0.amount_fen"
    assert plain("应不大于 100000000", field) == "应不大于 1,000,000.00元"
    assert plain("辅助器具免费适配：定额补助须填写大于 0 的金额（amount_fen，单位分）", field) == (
        "辅助器具免费适配：定额补助须填写大于 0 的金额"
    )
    assert plain("应不大于 500", "limit") == "应不大于 500"  # not an amount
    assert plain("每周2次，每次60分钟") == "每周2次，每次60分钟"  # minutes, not fen


def test_a_services_problem_reaches_the_form_in_the_clerks_words() -> None:
    body = {
        "status": 422,
        "code": "request.invalid",
        "detail": "请求有 2 处需要更正：body：不予批准须写明理由（reason）；"
        "approved_items.0.amount_fen：应不大于 100000000",
        "errors": [
            {"field": "body", "message": "不予批准须写明理由（reason）"},
            {"field": "approved_items.0.amount_fen", "message": "应不大于 100000000"},
        ],
    }
    problem = Problem.of(httpx.Response(422, json=body))
    assert problem.errors == (
        ("", "不予批准须写明理由"),
        ("approved_items.0.amount_fen", "应不大于 1,000,000.00元"),
    )
    assert "body" not in problem.detail and "100000000" not in problem.detail
    assert problem.body == body  # as the service sent it
