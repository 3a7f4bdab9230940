"""Dashboards 数据看板: coverage per street against the policy's target (each street's bar leading to its
persons), the year's monthly progress, spending by 经费类别 and by 资金来源, quota use per county and facts
not settled by reason (settlement); overdue reviews (approval, on the approval offices' own page and for
auditors); the reporting chain's reports (issue 15). Each chart is drawn in the browser from the table
printed under it; its figures are also a CSV file written here."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from console.agencies import Problem, ServiceRefused
from console.dashboards.persons import router as persons_router
from console.dashboards.reads import (
    APPROVAL_CHARTS,
    CHARTS,
    SETTLEMENT,
    SETTLEMENT_CHARTS,
    Panel,
    Reads,
    panel,
)
from console.dashboards.reports import report_form
from console.dashboards.reports import router as reports_router
from console.web import Clerk, SignedIn, console_of, render

router = APIRouter(prefix="/dashboards")

Year = Annotated[int | None, Query(description="The year shown; this year when absent.")]
ACCESS_REFUSALS = (401, 403)


@router.get("")
def dashboards(request: Request, clerk: SignedIn, year: Year = None) -> Response:
    """数据看板: every settlement chart the clerk's scope may read (the others say why not, in the service's
    words), and approval's overdue reviews when approval gives them to this clerk too (an auditor)."""
    shown = _year(request, year)
    reads = Reads(request, clerk, shown)
    panels = [panel(reads, key) for key in SETTLEMENT_CHARTS]
    if _all_refused(panels):
        if clerk.agency == "approval":
            return RedirectResponse(f"/dashboards/approval?year={shown}", status_code=303)
        raise ServiceRefused(_first_refusal(panels))
    if clerk.agency != SETTLEMENT:  # settlement's tokens read no approval figures: not asked
        panels += [
            found for found in (panel(reads, key) for key in APPROVAL_CHARTS) if found.chart is not None
        ]
    return _page(request, clerk, panels, shown, reports=True)


@router.get("/approval")
def approval_dashboards(request: Request, clerk: SignedIn, year: Year = None) -> Response:
    """The approval offices' own 数据看板: their overdue reviews (their tokens read no settlement figures)."""
    shown = _year(request, year)
    panels = [panel(Reads(request, clerk, shown), key) for key in APPROVAL_CHARTS]
    if _all_refused(panels):
        raise ServiceRefused(_first_refusal(panels))
    return _page(request, clerk, panels, shown, reports=False)


def _page(request: Request, clerk: Clerk, panels: list[Panel], year: int, *, reports: bool) -> Response:
    this_year = console_of(request).year()
    return render(
        request,
        "dashboards/index.html",
        panels=panels,
        year=year,
        years=range(this_year, this_year - 6, -1),
        report_form=report_form(request, clerk) if reports else None,
    )


def _refused_access(found: Panel) -> bool:
    return found.refusal is not None and found.refusal.status in ACCESS_REFUSALS


def _first_refusal(panels: list[Panel]) -> Problem:
    refusal = panels[0].refusal
    assert refusal is not None
    return refusal


def _all_refused(panels: list[Panel]) -> bool:
    """The service takes none of this clerk's reads: one refusal page rather than a page of notices."""
    return all(_refused_access(found) for found in panels)


@router.get("/{key}.csv")
def chart_csv(
    request: Request,
    clerk: SignedIn,
    key: Annotated[str, Path(pattern="^[a-z]+$")],
    year: Year = None,
) -> Response:
    """A chart's figures as CSV (UTF-8 with BOM: Excel opens the Chinese), named by the year and title."""
    if key not in CHARTS:
        return Response(status_code=404)
    chart = CHARTS[key][1](Reads(request, clerk, _year(request, year)))
    filename = f"{chart.file_name}.csv"
    disposition = f"attachment; filename=\"{key}-{chart.year}.csv\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        chart.csv(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


def _year(request: Request, year: int | None) -> int:
    return year if year is not None else console_of(request).year()


router.include_router(reports_router)  # 逐级上报报表: the monthly progress report and the year-end summary
router.include_router(persons_router)  # a street's persons behind its coverage bar
