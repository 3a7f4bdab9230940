"""附件3 《…残疾人康复需求和康复服务情况汇总表》 per street and community, landscape, titled as the place
names it.

One section per community, in the jurisdiction's natural order (第一社区, 第二社区 … 第十社区, not the
code-point order that puts 第十 before 第二); the two header rows repeat on every page (thead), the
columns fit the width of an A4 landscape page, and 填表人 / 审核人 / 填表日期 close each community.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from printing.render import html_of, pdf_of

GENERIC_TITLE = "残疾人康复需求和康复服务情况汇总表"
GENERIC_CATALOGUE = "残疾人基本康复服务目录"
"""A summary built without the pack's forms: the names without a place."""
CHINESE_DIGITS = {char: value for value, char in enumerate("零一二三四五六七八九")} | {"两": 2}


@dataclass(frozen=True)
class SummaryRow:
    """One person: basic information, 有/无 needs, services received and their institutions."""

    name: str
    sex: str
    address: str
    id_number: str
    certificate_number: str
    phone: str
    has_needs: bool
    services: tuple[str, ...] = ()
    institutions: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommunityForm:
    community: str
    rows: tuple[SummaryRow, ...]


@dataclass(frozen=True)
class AnnualSummary:
    year: int
    street: str
    communities: tuple[CommunityForm, ...]
    preparer: str = ""
    reviewer: str = ""
    filled_on: date | None = None
    title: str = GENERIC_TITLE
    """The form's title as the place names it (the pack's ``forms.annual_summary``)."""
    catalogue: str = GENERIC_CATALOGUE
    """The catalogue note 2 names (the pack's ``forms.catalogue``)."""

    @property
    def notes(self) -> tuple[str, ...]:
        return (
            "注：1．此表由社区康复协调员填写。",
            f"2．“得到康复服务项目”依照《{self.catalogue}》“服务项目”填写。",
            "3．此表一式两份，每年12月20日前由街道汇总后上报，残联办、街道各留存一份。",
        )


def chinese_number(text: str) -> int | None:
    """一 -> 1, 十 -> 10, 十二 -> 12, 二十三 -> 23, 一百零五 -> 105; None if ``text`` is not one."""
    if not text or any(char not in CHINESE_DIGITS and char not in "十百" for char in text):
        return None
    total, digit = 0, 0
    for char in text:
        if char == "百":
            total, digit = total + (digit or 1) * 100, 0
        elif char == "十":
            total, digit = total + (digit or 1) * 10, 0
        else:
            digit = CHINESE_DIGITS[char]
    return total + digit


_NUMBER = re.compile(r"\d+|[零一二两三四五六七八九十百]+")


def natural_key(name: str) -> tuple[tuple[int, str | int], ...]:
    """A community's name as parts that sort naturally: numbers (Arabic or Chinese) by their value,
    before text where one name has a number and the other text."""
    parts: list[tuple[int, str | int]] = []
    position = 0
    for found in _NUMBER.finditer(name):
        if found.start() > position:
            parts.append((1, name[position : found.start()]))
        text = found.group()
        value = int(text) if text.isdigit() else chinese_number(text)
        parts.append((0, value) if value is not None else (1, text))
        position = found.end()
    if position < len(name):
        parts.append((1, name[position:]))
    return tuple(parts)


def in_natural_order(communities: Iterable[CommunityForm]) -> tuple[CommunityForm, ...]:
    return tuple(sorted(communities, key=lambda form: natural_key(form.community)))


def annual_summary_html(summary: AnnualSummary) -> str:
    return html_of(
        "annual_summary.html",
        summary=summary,
        communities=in_natural_order(summary.communities) or (CommunityForm("", ()),),
        TITLE=summary.title,
        NOTES=summary.notes,
    )


def annual_summary_pdf(summary: AnnualSummary) -> bytes:
    """附件3 on A4 landscape: a community per section, the headers on every page."""
    return pdf_of(annual_summary_html(summary))
