"""The reporting chain's reports from the dashboards page: the monthly progress report 月报 and the
year-end summary 年终汇总 of the clerk's unit (or, for the district, any unit of the chain), as the
workbook settlement writes or as a PDF printed from settlement's figures (printing/chain_report.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from console.agencies import Problem, ServiceRefused
from console.settlement.accounts import LEVEL_LABELS
from console.web import Clerk, SignedIn, console_of
from kernel.domain.clock import today
from printing import FontsMissing
from printing.chain_report import ChainReport, ChainRow, Money, chain_report_pdf

router = APIRouter()
SETTLEMENT = "settlement"
PURPOSE = "数据看板：逐级上报报表"
KINDS = {"progress": "progress", "year-end": "year_end"}
"""The console's path of each report and settlement's name of it."""
LEVELS: tuple[tuple[str, str], ...] = (
    ("province", "省"),
    ("city", "市"),
    ("district", "区（县）"),
    ("street", "街道"),
    ("community", "社区"),
)


@dataclass(frozen=True)
class ReportForm:
    """What the page's report form offers the clerk: the levels they may report for and the streets."""

    levels: tuple[tuple[str, str], ...]
    streets: tuple[str, ...]
    street: str | None
    community: str | None
    months: range = range(1, 13)


def report_form(request: Request, clerk: Clerk) -> ReportForm:
    """The district chooses any level and street; a street its street and communities; a community itself."""
    if clerk.community is not None:
        levels = LEVELS[4:]
    elif clerk.street is not None:
        levels = LEVELS[3:]
    else:
        levels = LEVELS
    streets = tuple(request.app.state.jurisdiction.streets) if clerk.street is None else (clerk.street,)
    return ReportForm(levels, streets, clerk.street, clerk.community)


Kind = Annotated[Literal["progress", "year-end"], Path(description="月报 progress or 年终汇总 year-end.")]


def _params(
    year: int | None,
    month: int,
    level: str | None,
    street: str | None,
    community: str | None,
    request: Request,
) -> dict[str, Any]:
    """The unit asked for; a street or community the level does not need is left out (a district clerk's
    form sends the street even for the district's report)."""
    below_street = level in ("street", "community")
    return {
        "year": year or console_of(request).year(),
        "month": month,
        "level": level or None,
        "street": (street or None) if below_street or level is None else None,
        "community": (community or None) if level == "community" or level is None else None,
    }


@router.get("/reports/{kind}.xlsx")
def report_xlsx(
    request: Request,
    clerk: SignedIn,
    kind: Kind,
    year: int | None = None,
    month: Annotated[int, Query(ge=1, le=12)] = 12,
    level: str | None = None,
    street: str | None = None,
    community: str | None = None,
) -> Response:
    """The report's workbook as settlement writes it (numbers as numbers), under settlement's file name."""
    params = _params(year, month, level, street, community, request)
    if kind == "year-end":
        params.pop("month")
    found = console_of(request).agencies.download(
        SETTLEMENT, f"/reports/{kind}.xlsx", user=clerk.name, purpose=PURPOSE, params=params
    )
    headers = {"Content-Disposition": found.headers.get("content-disposition", "attachment")}
    return Response(found.content, media_type=found.headers.get("content-type"), headers=headers)


@router.get("/reports/{kind}.pdf")
def report_pdf(
    request: Request,
    clerk: SignedIn,
    kind: Kind,
    year: int | None = None,
    month: Annotated[int, Query(ge=1, le=12)] = 12,
    level: str | None = None,
    street: str | None = None,
    community: str | None = None,
) -> Response:
    """The report printed on A4 from settlement's figures (GET /reports/chain)."""
    params = _params(year, month, level, street, community, request) | {"kind": KINDS[kind]}
    body = console_of(request).agencies.get(
        SETTLEMENT, "/reports/chain", user=clerk.name, purpose=PURPOSE, params=params
    )
    report = printed_report(body)
    try:
        pdf = chain_report_pdf(report)
    except FontsMissing as missing:
        raise ServiceRefused(Problem(503, "console.print.fonts_missing", str(missing))) from missing
    top = body["rows"][0]["name"]
    what = "年终汇总" if kind == "year-end" else f"月报-{body['month']:02d}"
    filename = f"{what}-{body['year']}-{top}.pdf"
    disposition = f"inline; filename=\"chain-{kind}-{body['year']}.pdf\"; filename*=UTF-8''{quote(filename)}"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})


def printed_report(body: dict[str, Any]) -> ChainReport:
    """Settlement's report as the printed form takes it."""
    rows = tuple(
        ChainRow(
            depth=int(row["depth"]),
            level_name=str(row["level_name"]),
            name=str(row["name"]),
            surveyed=int(row["surveyed"]),
            with_needs=int(row["with_needs"]),
            served=int(row["served"]),
            coverage_percent=None
            if row["coverage_percent"] is None
            else Decimal(str(row["coverage_percent"])),
            target_met=row["target_met"],
        )
        for row in body["rows"]
    )
    target = body.get("target_percent")
    return ChainReport(
        title=str(body["title"]),
        reporter=f"{rows[0].name}（{rows[0].level_name}）",
        # Settlement dates a report at its month's last day; a month not yet over counts up to today.
        as_of=min(date.fromisoformat(str(body["as_of"])), today()),
        rows=rows,
        target_percent=None if target is None else Decimal(str(target)),
        money=None if body.get("spending") is None else _money(body["spending"], rows[0].name),
    )


def _money(spending: dict[str, Any], unit: str) -> Money:
    """The year-end summary's spending: each 经费类别 and each level of government, net of claw-backs."""
    return Money(
        title=f"{spending['year']}年度经费支出（{unit}）",
        by_rule=tuple((str(row["name"]), int(row["fen"])) for row in spending["by_rule"]),
        by_level=tuple(
            (LEVEL_LABELS.get(row["level"] or "", "（未写明层级的资金）"), int(row["fen"]))
            for row in spending["by_level"]
        ),
        total_fen=int(spending["total_fen"]),
    )
