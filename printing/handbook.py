"""附件1 《…残疾人精准康复服务手册》: the cover with its 使用说明, 残疾人基本信息, one
康复需求评估与转介记录 page per assessment and one 康复服务记录 page per service record; the title, the
issuer and the catalogue the notes name are the place's (its pack).

A page with nothing recorded yet prints blank, for the institution to fill in by hand, as the seed's
手册 is handed out at the survey (当场发放) and filled along the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from printing.person import CATEGORIES, GRADES, Person
from printing.render import html_of, pdf_of

GENERIC_TITLE = "残疾人精准康复服务手册"
GENERIC_CATALOGUE = "残疾人基本康复服务目录"
"""A 手册 built without the pack's forms: the names without a place."""
TITLE_SUBJECT = "残疾"
"""Where the place ends and the 手册's name begins (两江新区 | 残疾人精准康复服务手册)."""
TITLE_BREAK = "服务手册"


@dataclass(frozen=True)
class AssessmentPage:
    """康复需求评估与转介记录 (filled by the assessment institution)."""

    needs: tuple[str, ...] = ()
    """康复需求, as the catalogue names the items."""
    referral_needed: bool | None = None
    """是否需转介; None when not yet assessed."""
    referred_to: tuple[str, ...] = ()
    """转介至（机构）, one per referral."""
    institution: str = ""
    """评估机构名称."""
    assessor: str = ""
    assessed_on: date | None = None
    opinion: str = ""
    """评估意见 (e.g. to be re-assessed at the city level)."""


@dataclass(frozen=True)
class ServicePage:
    """康复服务记录 (filled by the service institution, signed by the person or guardian)."""

    item: str = ""
    frequency: str = ""
    period_start: date | None = None
    period_end: date | None = None
    institution: str = ""
    staff: str = ""
    signed_by: str = ""
    """残疾人或监护人 who signed (their name)."""
    signed_on: date | None = None


@dataclass(frozen=True)
class Handbook:
    person: Person
    assessments: tuple[AssessmentPage, ...] = ()
    services: tuple[ServicePage, ...] = ()
    issuer: str = ""
    """Who makes the 手册 (…制, …（盖章）); blank for the pen."""
    title: str = GENERIC_TITLE
    """The 手册's title as the place names it (the pack's ``forms.handbook``)."""
    catalogue: str = GENERIC_CATALOGUE
    """The catalogue the pages' notes name (the pack's ``forms.catalogue``)."""

    @property
    def cover(self) -> tuple[str, tuple[str, ...]]:
        """The cover's place over the 手册's name on two lines, each character spaced as the seed's
        cover prints them (两 江 新 区 / 残 疾 人 精 准 康 复 / 服 务 手 册); no place for a title
        without one."""
        start = self.title.find(TITLE_SUBJECT)
        place, name = (self.title[:start], self.title[start:]) if start > 0 else ("", self.title)
        head, found, tail = name.rpartition(TITLE_BREAK)
        lines = (head, found + tail) if found and head else (name,)
        return " ".join(place), tuple(" ".join(line) for line in lines)


def handbook_html(handbook: Handbook) -> str:
    return html_of(
        "handbook.html",
        handbook=handbook,
        person=handbook.person,
        assessments=handbook.assessments or (AssessmentPage(),),
        services=handbook.services or (ServicePage(),),
        CATEGORIES=CATEGORIES,
        GRADES=GRADES,
    )


def handbook_pdf(handbook: Handbook) -> bytes:
    """The 手册 on A4, one page per section (a blank page for a section with nothing recorded)."""
    return pdf_of(handbook_html(handbook))
