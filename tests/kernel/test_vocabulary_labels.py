"""A code outside a closed vocabulary is refused listing the allowed codes with their Chinese labels,
read from the API's own JSON Schema (issue 18: the message listed only the English codes)."""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field
from rehab_contracts.vocabulary import DisabilityGrade, SubsidyMode

from kernel.web.errors import install_error_handlers
from kernel.web.problems import Vocabularies, labels_in_description
from tests.problem_json import field_error_of


class Decision(BaseModel):
    subsidy_mode: SubsidyMode
    grade: DisabilityGrade = DisabilityGrade.UNGRADED
    signer: Literal["person", "guardian"] = Field(
        default="person", description="Who signs: person 残疾人本人, guardian 监护人."
    )


def decisions_api() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/decisions")
    def decide(decision: Decision) -> dict[str, str]:
        return {"subsidy_mode": decision.subsidy_mode}

    return TestClient(app)


def test_a_wrong_subsidy_mode_lists_the_codes_with_their_chinese_labels() -> None:
    refused = decisions_api().post("/decisions", json={"subsidy_mode": "gratis"})
    error = field_error_of(refused, 422)
    assert error["field"] == "subsidy_mode"
    assert error["message"] == "应为以下之一：free（免费）、fixed_amount（定额补助）"


def test_a_literal_field_takes_its_labels_from_the_field_description() -> None:
    refused = decisions_api().post("/decisions", json={"subsidy_mode": "free", "signer": "friend"})
    assert field_error_of(refused, 422)["message"] == "应为以下之一：person（残疾人本人）、guardian（监护人）"


def test_codes_a_description_does_not_label_are_listed_bare() -> None:
    refused = decisions_api().post("/decisions", json={"subsidy_mode": "free", "grade": "grade_9"})
    message = field_error_of(refused, 422)["message"]
    assert message.startswith("应为以下之一：grade_1（一级）、grade_2、grade_3、grade_4（四级）")
    assert message.endswith("ungraded（未定级）")


def test_a_label_is_the_chinese_word_after_its_code() -> None:
    described = "补贴方式 decided by 区残联办: free 免费, fixed_amount 定额补助."
    assert labels_in_description(["free", "fixed_amount"], described) == {
        "free": "免费",
        "fixed_amount": "定额补助",
    }
    assert labels_in_description(["other"], "Other (English only) other reasons") == {}


def test_a_vocabulary_is_found_by_exactly_its_codes() -> None:
    vocabularies = Vocabularies.of_schema(
        {"enum": ["male", "female"], "description": "性别: male 男, female 女."}
    )
    assert vocabularies.labels(["female", "male"]) == {"male": "男", "female": "女"}
    assert vocabularies.labels(["male"]) == {}
