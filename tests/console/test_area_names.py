"""Areas as clerks say them: a street gets 街道, a county or town keeps the name that says its level."""

from __future__ import annotations

import pytest

from console.labels import area_name, scope_label
from kernel.access.auth import Scope


@pytest.mark.parametrize(
    ("area", "said"),
    [
        ("鸳鸯", "鸳鸯街道"),
        ("滑县", "滑县"),
        ("文峰区", "文峰区"),
        ("林州市", "林州市"),
        ("歌乐山镇", "歌乐山镇"),
    ],
)
def test_an_area_is_named_as_clerks_say_it(area: str, said: str) -> None:
    assert area_name(area) == said


def test_a_county_scope_is_not_called_a_street() -> None:
    assert scope_label(Scope("street", "文峰区")) == "文峰区"
    assert scope_label(Scope.parse("community:文峰区/文峰区第一社区")) == "文峰区文峰区第一社区"
    assert scope_label(Scope.parse("community:鸳鸯/鸳鸯第一社区")) == "鸳鸯街道鸳鸯第一社区"
