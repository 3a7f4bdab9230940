"""Dashboards 数据看板: coverage per street against the policy's target, the year's monthly progress,
spending by 经费类别 and by 资金来源, and quota use per county (issue 15). Each chart is drawn in the
browser from the table printed under it; its figures are also a CSV file written here."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from console.agencies import ServiceRefused
from console.dashboards.reads import CHARTS, Reads, panel
from console.dashboards.reports import report_form
from console.dashboards.reports import router as reports_router
from console.web import SignedIn, console_of, render

router = APIRouter(prefix="/dashboards")

Year = Annotated[int | None, Query(description="The year shown; this year when absent.")]
ACCESS_REFUSALS = (401, 403)


@router.get("")
def dashboards(request: Request, clerk: SignedIn, year: Year = None) -> Response:
    """数据看板: every chart the clerk's scope may read; the others say why not, in the service's words."""
    shown = _year(request, year)
    reads = Reads(request, clerk, shown)
    panels = [panel(reads, key) for key in CHARTS]
    refusals = [found.refusal for found in panels if found.refusal is not None]
    if len(refusals) == len(panels) and all(refused.status in ACCESS_REFUSALS for refused in refusals):
        raise ServiceRefused(refusals[0])  # settlement takes none of this clerk's reads: one refusal page
    this_year = console_of(request).year()
    return render(
        request,
        "dashboards/index.html",
        panels=panels,
        year=shown,
        years=range(this_year, this_year - 6, -1),
        report_form=report_form(request, clerk),
    )


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
