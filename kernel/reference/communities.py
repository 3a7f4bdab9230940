"""The communities 社区 (and villages 村) of each service area, from a pack's communities.toml (issue 14).

Where an area's communities are listed, survey refuses a person of that area registered, corrected or
imported with any other community. Where the pack's source names none, the pack says so in ``unlisted``
and the check is off for those areas: community names are copied from a document, never invented.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_COMMUNITY_LENGTH = 50
"""As survey's ``community`` field: the longest name a form may hold."""

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
"""The characters survey refuses in any text (kernel/web/text_guard.py): a listed name holds none."""


def _printable(name: str) -> str:
    if name != name.strip():
        raise ValueError(f"社区名“{name}”的首尾有空白")
    if any(unicodedata.category(char) in _HIDDEN_CATEGORIES for char in name):
        raise ValueError(f"社区名 {name!r} 含有控制字符或不可见字符")
    return name


def _each_once(names: tuple[str, ...]) -> tuple[str, ...]:
    if not names:
        raise ValueError("社区名录为空；未列出时请删除该行，并在 unlisted 中写明原因")
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"社区“{'、'.join(twice)}”列了两次")
    return names


CommunityName = Annotated[
    str, Field(min_length=1, max_length=MAX_COMMUNITY_LENGTH), AfterValidator(_printable)
]
CommunityList = Annotated[tuple[CommunityName, ...], AfterValidator(_each_once)]


class Communities(BaseModel):
    """communities.toml: the listed areas, and why the others are not listed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unlisted: str | None = Field(
        default=None,
        min_length=1,
        description="Why the areas absent from ``areas`` have no list (the source names none, and who "
        "will give it); their community is not checked. None: every area must be listed.",
        examples=["渝两江管发〔2024〕18号未列出各街道的社区"],
    )
    areas: dict[str, CommunityList] = Field(
        default_factory=dict,
        description="Area (street or county) -> its communities and villages, as the source names them.",
        examples=[{"鸳鸯": ["金鹏社区", "星光社区"]}],
    )

    def unknown_areas(self, streets: tuple[str, ...]) -> list[str]:
        """Areas listed here that the pack's jurisdiction.toml does not have."""
        return [area for area in self.areas if area not in streets]

    def areas_left_without_reason(self, streets: tuple[str, ...]) -> list[str]:
        """Areas neither listed nor covered by ``unlisted``."""
        return [] if self.unlisted is not None else [area for area in streets if area not in self.areas]

    @property
    def listed(self) -> Mapping[str, frozenset[str]]:
        """Area -> the communities survey accepts there; an area absent is not checked."""
        return {area: frozenset(names) for area, names in self.areas.items()}


NOT_CHECKED = Communities(unlisted="未给出社区名录（测试或单独的 .toml 文件）")
"""For a Jurisdiction built without a pack's communities.toml: no community is checked."""
