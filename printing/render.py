"""HTML of a form from its template, and the PDF WeasyPrint lays out from it.

The templates and their print CSS live in ``printing/templates``; the CSS is inlined, so a form never
fetches anything: WeasyPrint's URL fetcher refuses every URL (no file, no network), whatever a
person's address or name holds.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import jinja2
import markupsafe
import weasyprint

from printing.fonts import require_fonts

TEMPLATES = Path(__file__).resolve().parent / "templates"
BLANK_DATE = "　　年　　月　　日"
"""A date not yet written: left for the pen, as the paper form prints it."""
TICKED, UNTICKED = "☑", "□"


def cn_date(day: date | None) -> str:
    """2024年3月5日, or the blank 年 月 日 of the paper form."""
    if day is None:
        return BLANK_DATE
    return f"{day.year}年{day.month}月{day.day}日"


def cn_month(day: date | None) -> str:
    """出生年月 as the form writes it: 1958年4月."""
    return "" if day is None else f"{day.year}年{day.month}月"


def yuan(fen: int | None) -> str:
    """An amount in fen as 1,200.00元; blank for none."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}元"


def tick(ticked: bool) -> str:
    return TICKED if ticked else UNTICKED


def printable(text: object) -> str:
    """Text with control characters shown as escapes: a value stored before they were refused (issue 14)
    prints as 康美\\x01社区 instead of breaking the layout."""
    if isinstance(text, markupsafe.Markup):  # the templates' own markup (a macro's output)
        return text
    shown = "" if text is None else str(text)
    return "".join(char.encode("unicode_escape").decode() if _invisible(char) else char for char in shown)


def _invisible(char: str) -> bool:
    """Control, format (bidi overrides, zero-width), surrogate, private and unassigned characters."""
    return char != "\n" and unicodedata.category(char).startswith("C")


@cache
def environment() -> jinja2.Environment:
    loaded = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=printable,
    )
    loaded.filters.update(cn_date=cn_date, cn_month=cn_month, yuan=yuan, tick=tick)
    loaded.globals.update(TICKED=TICKED, UNTICKED=UNTICKED, BLANK_DATE=BLANK_DATE)
    return loaded


def html_of(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def _no_fetching(url: str, *_args: Any, **_kwargs: Any) -> NoReturn:
    raise ValueError(f"a printed form fetches nothing ({url[:40]})")


def pdf_of(html: str) -> bytes:
    """The PDF of a form's HTML (A4, fonts from the system's fontconfig: Noto CJK); ``FontsMissing``
    rather than a PDF of empty boxes when those fonts are not installed."""
    require_fonts()
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetching)
    pdf: bytes = document.write_pdf()
    return pdf
