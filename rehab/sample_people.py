"""A repeatable, realistic sample of disabled persons in Liangjiang's eight streets (for the demo)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

STREETS = ("鸳鸯", "人和", "天宫殿", "翠云", "大竹林", "礼嘉", "金山", "康美")
COMMUNITIES = ("第一社区", "第二社区", "第三社区")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国红梅志鹏飞小燕文"
MINORITY = (("土家族", "阿依古丽·买买提"), ("苗族", None), ("回族", None))
# 身份证 address code of Chongqing Yubei District (渝北区), where most of Liangjiang lies.
AREA_CODE = "500112"
CATEGORY_DIGIT = {"vision": 1, "hearing": 2, "speech": 3, "physical": 4, "intellectual": 5, "mental": 6}
GRADE_DIGIT = {"grade_1": 1, "grade_2": 2, "grade_3": 3, "grade_4": 4}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_character(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def resident_id(birth: date, sequence: int, male: bool) -> str:
    order = sequence % 500 * 2 + (1 if male else 0)
    first17 = f"{AREA_CODE}{birth:%Y%m%d}{order:03d}"
    return first17 + check_character(first17)


@dataclass
class SamplePerson:
    """One person of the sample, with the needs the survey will find."""

    registration: dict[str, object]
    is_child: bool
    categories: list[str]
    needs: list[str] = field(default_factory=list)
    home_visit: bool = False
    outcome: str = "served"
    """How the year ends for a person with needs: served, rejected (by 区残联办) or in_progress."""


def needs_for(categories: list[str], is_child: bool, rng: random.Random) -> list[str]:
    """Catalogue items a person of these categories plausibly needs."""
    if is_child:
        return ["children_rehab_training"]
    options: dict[str, list[str]] = {
        "vision": ["orientation_mobility_training", "low_vision_training", "support_service_midlife_blind"],
        "hearing": ["assistive_device_fitting"],
        "speech": ["assistive_device_fitting"],
        "physical": ["assistive_device_fitting"],
        "intellectual": ["assistive_device_fitting"],
        "mental": ["support_service_mental"],
    }
    pool = sorted({item for category in categories for item in options[category]})
    return sorted(rng.sample(pool, k=1 if len(pool) == 1 or rng.random() < 0.8 else 2))


def sample_people(count: int, year: int, seed: int) -> list[SamplePerson]:
    rng = random.Random(seed)
    return [_person(index, year, rng) for index in range(count)]


def _person(index: int, year: int, rng: random.Random) -> SamplePerson:
    is_child = rng.random() < 0.12
    age = rng.randint(3, 16) if is_child else rng.randint(19, 85)
    birth = date(year - age, 1, 1) + timedelta(days=rng.randint(0, 364))
    male = rng.random() < 0.55
    categories = _categories(rng)
    grade = rng.choice(list(GRADE_DIGIT))
    id_number = resident_id(birth, index, male)
    certified = not is_child or rng.random() < 0.5
    certificate = None
    if certified:
        category_digit = 7 if len(categories) > 1 else CATEGORY_DIGIT[categories[0]]
        certificate = f"{id_number}{category_digit}{GRADE_DIGIT[grade]}"
    ethnicity, name = "汉族", _han_name(rng)
    if rng.random() < 0.05:
        ethnicity, special = rng.choice(MINORITY)
        name = special or name
    street = rng.choice(STREETS)
    registration: dict[str, object] = {
        "street": street,
        "community": f"{street}{rng.choice(COMMUNITIES)}",
        "name": name,
        "sex": "male" if male else "female",
        "ethnicity": ethnicity,
        "birth_date": birth.isoformat(),
        "phone": f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
        "address": f"重庆市渝北区{street}街道{rng.randint(1, 300)}号",
        "household_registration": f"重庆市渝北区{street}街道",
        "residence": f"重庆市渝北区{street}街道",
        "id_number": id_number,
        "certificate_number": certificate,
        "disability_categories": categories,
        "disability_grade": grade if certified else "ungraded",
        "economic_status": rng.choices(["subsistence_allowance", "low_income", "other"], [15, 15, 70])[0],
        "medical_insurance": _insurance(rng),
    }
    if is_child:
        registration["guardian"] = {
            "name": _han_name(rng),
            "sex": rng.choice(["male", "female"]),
            "phone": f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
            "relation": rng.choice(["父亲", "母亲"]),
        }
    person = SamplePerson(registration=registration, is_child=is_child, categories=categories)
    if rng.random() < 0.75:
        person.needs = needs_for(categories, is_child, rng)
        person.home_visit = rng.random() < 0.1
        person.outcome = rng.choices(["served", "rejected", "in_progress"], [90, 4, 6])[0]
    return person


def _insurance(rng: random.Random) -> list[str]:
    basic = rng.choices(["urban_employee", "urban_rural_resident", "none"], [30, 65, 5])[0]
    if basic != "none" and rng.random() < 0.1:
        return [basic, "medical_aid"]
    return [basic]


def _categories(rng: random.Random) -> list[str]:
    first = rng.choices(list(CATEGORY_DIGIT), [15, 15, 5, 40, 10, 15])[0]
    if rng.random() < 0.08:
        second = rng.choice([c for c in CATEGORY_DIGIT if c != first])
        return sorted([first, second])
    return [first]


def _han_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
