"""Persons for the end-to-end tests, with valid resident ID and certificate numbers."""

from __future__ import annotations

from datetime import date
from typing import Any

from rehab.sample_people import resident_id


def certified_adult(
    sequence: int, street: str = "鸳鸯", category: str = "vision", digit: int = 1
) -> dict[str, Any]:
    """A certified adult, category grade 2 (证号 = ID + category digit + grade digit)."""
    birth = date(1970, 5, 1 + sequence % 27)
    id_number = resident_id(birth, 100 + sequence, male=True)
    return {
        "street": street,
        "community": f"{street}第一社区",
        "name": f"测试{'甲乙丙丁戊己庚辛'[sequence % 8]}",
        "sex": "male",
        "ethnicity": "汉族",
        "birth_date": birth.isoformat(),
        "phone": f"1380013{sequence:04d}",
        "address": f"重庆市渝北区{street}街道{sequence}号",
        "household_registration": f"重庆市渝北区{street}街道",
        "residence": f"重庆市渝北区{street}街道",
        "id_number": id_number,
        "certificate_number": f"{id_number}{digit}2",
        "disability_categories": [category],
        "disability_grade": "grade_2",
        "economic_status": "other",
        "medical_insurance": ["urban_rural_resident"],
    }


def uncertified_child(sequence: int, street: str = "金山") -> dict[str, Any]:
    """A girl of five, intellectual disability, uncertified (未持证残疾儿童), her mother as guardian."""
    birth = date(2020, 3, 1 + sequence % 27)
    mother_birth = date(1990, 8, 1 + sequence % 27)
    return {
        "street": street,
        "community": f"{street}第一社区",
        "name": f"童{'甲乙丙丁戊己庚辛'[sequence % 8]}",
        "sex": "female",
        "ethnicity": "汉族",
        "birth_date": birth.isoformat(),
        "phone": f"1390013{sequence:04d}",
        "address": f"重庆市渝北区{street}街道{sequence}号",
        "household_registration": f"重庆市渝北区{street}街道",
        "residence": f"重庆市渝北区{street}街道",
        "id_number": resident_id(birth, 200 + sequence, male=False),
        "disability_categories": ["intellectual"],
        "disability_grade": "ungraded",
        "economic_status": "other",
        "medical_insurance": ["urban_rural_resident"],
        "guardian": {
            "name": f"母亲{sequence}",
            "sex": "female",
            "phone": f"1370013{sequence:04d}",
            "relation": "母亲",
            "id_number": resident_id(mother_birth, 300 + sequence, male=False),
        },
    }
