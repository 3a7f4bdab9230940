"""Builders of valid (and deliberately broken) person details for the survey tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from services.survey.domain import Guardian, NeedsSurveyRequest, PersonDetails
from services.survey.identity import check_character

STREETS = ("鸳鸯", "人和", "天宫殿", "翠云", "大竹林", "礼嘉", "金山", "康美")
TODAY = date(2024, 11, 1)


def make_id(born: date, sequence: str = "231", region: str = "500112") -> str:
    """A valid 18-character ID number; an odd last sequence digit makes a man."""
    body = f"{region}{born:%Y%m%d}{sequence}"
    return body + check_character(body)


def adult(**changes: Any) -> PersonDetails:
    """A certified man with vision disability, grade 2, born 1958-04-12."""
    born = changes.pop("birth_date", date(1958, 4, 12))
    id_number = changes.pop("id_number", make_id(born))
    details = PersonDetails(
        street="鸳鸯",
        community="金渝社区",
        name="李明",
        sex="male",
        ethnicity="汉族",
        birth_date=born,
        phone="13800138000",
        address="重庆市渝北区鸳鸯街道金渝大道88号3-2",
        household_registration="重庆市渝北区",
        residence="重庆市两江新区鸳鸯街道",
        id_number=id_number,
        certificate_number=id_number + "12",
        disability_categories=("vision",),
        disability_grade="grade_2",
        economic_status="subsistence_allowance",
        medical_insurance=("urban_rural_resident",),
    )
    return replace(details, **changes)


def mother() -> Guardian:
    return Guardian(
        name="王芳",
        sex="female",
        phone="13900139000",
        relation="母亲",
        id_number=make_id(date(1985, 3, 15), "242"),
    )


def child(**changes: Any) -> PersonDetails:
    """An uncertified girl with hearing disability, born 2019-06-01, with her mother as guardian."""
    born = changes.pop("birth_date", date(2019, 6, 1))
    id_number = changes.pop("id_number", make_id(born, "124"))
    base = adult(
        birth_date=born,
        id_number=id_number,
        name="李小雨",
        sex="female",
        certificate_number=None,
        disability_categories=("hearing",),
        disability_grade="ungraded",
        guardian=mother(),
    )
    return replace(base, **changes)


def survey_request(**changes: Any) -> NeedsSurveyRequest:
    request = NeedsSurveyRequest(
        survey_year=2024,
        surveyed_on=date(2024, 10, 15),
        has_needs=True,
        needed_items=("low_vision_training",),
        home_visit_required=False,
        surveyor="张丽",
    )
    return replace(request, **changes)


def person_body(**changes: Any) -> dict[str, Any]:
    """The JSON body of POST /persons for the certified adult above."""
    details = adult()
    body: dict[str, Any] = {name: value for name, value in vars(details).items() if name != "guardian"}
    body["birth_date"] = details.birth_date.isoformat()
    body["disability_categories"] = list(details.disability_categories)
    body["medical_insurance"] = list(details.medical_insurance)
    body.update(changes)
    return body
