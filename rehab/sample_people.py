"""A repeatable, realistic sample of disabled persons of one jurisdiction (for the demo): Liangjiang's
eight streets by default, Shapingba's streets and towns, or Anyang's nine counties (children only)."""

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


@dataclass(frozen=True)
class Population:
    """Who a jurisdiction's sample is: where they live, how many are children, what adults need.

    The items are those the jurisdiction's policy prices and the forms can carry today (issue 13 lists the
    others: Shapingba's allowances and medical aid wait for the survey to record them)."""

    streets: tuple[str, ...]
    area_code: str
    """身份证 address code of the place (the sample's ID numbers are valid, not real)."""
    place: str
    """The address up to the area: 重庆市渝北区 (then 鸳鸯街道), 河南省安阳市 (then 滑县)."""
    area_suffix: str = ""
    child_share: float = 0.12
    child_ages: tuple[int, int] = (3, 16)
    category_weights: tuple[int, ...] = (15, 15, 5, 40, 10, 15)
    """Weights of the categories in CATEGORY_DIGIT's order."""
    adult_needs: dict[str, list[str]] = field(default_factory=dict)
    economic_weights: tuple[int, int, int] = (15, 15, 70)
    """低保, 低收入, 其他."""


LIANGJIANG = Population(
    streets=STREETS,
    area_code=AREA_CODE,
    place="重庆市渝北区",
    area_suffix="街道",
    adult_needs={
        "vision": ["orientation_mobility_training", "low_vision_training", "support_service_midlife_blind"],
        "hearing": ["assistive_device_fitting"],
        "speech": ["assistive_device_fitting"],
        "physical": ["assistive_device_fitting"],
        "intellectual": ["assistive_device_fitting"],
        "mental": ["support_service_mental"],
    },
)


def shapingba(streets: tuple[str, ...]) -> Population:
    """Children 0-14 trained (惠残2023: 0-6, and 7-14 of 困难 families), adults with cataracts (1,200 yuan
    a case for 困难 patients): more 低保 and 低收入 families than elsewhere, as the programme targets them."""
    return Population(
        streets=streets,
        area_code="500106",  # 沙坪坝区
        place="重庆市沙坪坝区",
        child_share=0.35,
        child_ages=(1, 14),
        adult_needs={"vision": ["cataract_surgery"]},
        category_weights=(35, 15, 10, 20, 15, 5),
        economic_weights=(30, 30, 40),
    )


def anyang(counties: tuple[str, ...]) -> Population:
    """Children's rehabilitation assistance only (2021年残疾儿童康复救助), hearing, speech, physical,
    intellectual and some vision-impaired children."""
    return Population(
        streets=counties,
        area_code="410502",  # 安阳市文峰区
        place="河南省安阳市",
        child_share=1.0,
        child_ages=(1, 14),
        category_weights=(5, 25, 20, 25, 25, 0),
    )


def check_character(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def resident_id(birth: date, sequence: int, male: bool, area_code: str = AREA_CODE) -> str:
    order = sequence % 500 * 2 + (1 if male else 0)
    first17 = f"{area_code}{birth:%Y%m%d}{order:03d}"
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


def needs_for(
    categories: list[str], is_child: bool, rng: random.Random, population: Population = LIANGJIANG
) -> list[str]:
    """Catalogue items a person of these categories plausibly needs (none where the policy has none)."""
    if is_child:
        return ["children_rehab_training"]
    pool = sorted({item for category in categories for item in population.adult_needs.get(category, [])})
    if not pool:
        return []
    return sorted(rng.sample(pool, k=1 if len(pool) == 1 or rng.random() < 0.8 else 2))


def sample_people(
    count: int, year: int, seed: int, population: Population = LIANGJIANG
) -> list[SamplePerson]:
    rng = random.Random(seed)
    return [_person(index, year, rng, population) for index in range(count)]


def _person(index: int, year: int, rng: random.Random, population: Population) -> SamplePerson:
    is_child = rng.random() < population.child_share
    age = rng.randint(*population.child_ages) if is_child else rng.randint(19, 85)
    birth = date(year - age, 1, 1) + timedelta(days=rng.randint(0, 364))
    male = rng.random() < 0.55
    categories = _categories(rng, population.category_weights)
    grade = rng.choice(list(GRADE_DIGIT))
    id_number = resident_id(birth, index, male, population.area_code)
    certified = not is_child or rng.random() < 0.5
    certificate = None
    if certified:
        category_digit = 7 if len(categories) > 1 else CATEGORY_DIGIT[categories[0]]
        certificate = f"{id_number}{category_digit}{GRADE_DIGIT[grade]}"
    ethnicity, name = "汉族", _han_name(rng)
    if rng.random() < 0.05:
        ethnicity, special = rng.choice(MINORITY)
        name = special or name
    street = rng.choice(population.streets)
    area = f"{population.place}{street}{population.area_suffix}"
    registration: dict[str, object] = {
        "street": street,
        "community": f"{street}{rng.choice(COMMUNITIES)}",
        "name": name,
        "sex": "male" if male else "female",
        "ethnicity": ethnicity,
        "birth_date": birth.isoformat(),
        "phone": f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}",
        "address": f"{area}{rng.randint(1, 300)}号",
        "household_registration": area,
        "residence": area,
        "id_number": id_number,
        "certificate_number": certificate,
        "disability_categories": categories,
        "disability_grade": grade if certified else "ungraded",
        "economic_status": rng.choices(
            ["subsistence_allowance", "low_income", "other"], population.economic_weights
        )[0],
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
        person.needs = needs_for(categories, is_child, rng, population)
        person.home_visit = rng.random() < 0.1
        person.outcome = rng.choices(["served", "rejected", "in_progress"], [90, 4, 6])[0]
    return person


def _insurance(rng: random.Random) -> list[str]:
    basic = rng.choices(["urban_employee", "urban_rural_resident", "none"], [30, 65, 5])[0]
    if basic != "none" and rng.random() < 0.1:
        return [basic, "medical_aid"]
    return [basic]


def _categories(rng: random.Random, weights: tuple[int, ...]) -> list[str]:
    first = rng.choices(list(CATEGORY_DIGIT), weights)[0]
    if rng.random() < 0.08:
        second = rng.choice(
            [c for c in CATEGORY_DIGIT if c != first and weights[list(CATEGORY_DIGIT).index(c)]]
        )
        return sorted([first, second])
    return [first]


def _han_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
