"""The reads a dashboard draws from (settlement's reports, approval's overdue list), each as the signed-in
clerk with the read's purpose; a chart the clerk's scope may not read comes back as the service's
refusal, never as an error page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from console.agencies import Problem, ServiceRefused, ServiceUnavailable
from console.dashboards.charts import Chart
from console.dashboards.figures import coverage_chart, coverage_target, progress_chart, quota_chart
from console.dashboards.money import Fund, funding_chart, spending_chart, spending_of
from console.dashboards.waiting import overdue_chart, unsettled_chart
from console.web import Clerk, console_of

SETTLEMENT = "settlement"
APPROVAL = "approval"
PURPOSE = "数据看板"
UNSETTLED_PAGE = 500
"""Unsettled facts per read (the service's largest page)."""


@dataclass(frozen=True)
class Panel:
    """One chart of the page, or why the service would not give its figures (its own words)."""

    key: str
    chart: Chart | None = None
    refusal: Problem | None = None

    @property
    def heading(self) -> str:
        return self.chart.title if self.chart is not None else CHARTS[self.key][0]


class Reads:
    """The services' answers for one clerk and year, each read at most once per page."""

    def __init__(self, request: Request, clerk: Clerk, year: int) -> None:
        self._request, self._clerk, self.year = request, clerk, year
        self._answers: dict[str, Any] = {}

    def get(self, path: str, service: str = SETTLEMENT, **params: Any) -> Any:
        key = service + path + repr(sorted(params.items()))
        if key not in self._answers:
            agencies = console_of(self._request).agencies
            self._answers[key] = agencies.get(
                service, path, user=self._clerk.name, purpose=PURPOSE, params=params
            )
        return self._answers[key]

    def unsettled(self) -> list[dict[str, Any]]:
        """Every unsettled fact the clerk's scope reads, a page at a time (X-Total-Count says how many)."""
        agencies = console_of(self._request).agencies
        found: list[dict[str, Any]] = []
        while True:
            params = {"limit": UNSETTLED_PAGE, "offset": len(found)}
            page = agencies.download(
                SETTLEMENT, "/ledger/unsettled", user=self._clerk.name, purpose=PURPOSE, params=params
            )
            items = page.json()
            found.extend(items)
            if not items or len(found) >= int(page.headers.get("X-Total-Count", len(found))):
                return found

    @property
    def streets(self) -> tuple[str, ...]:
        return tuple(self._request.app.state.jurisdiction.streets)

    @property
    def policy_titles(self) -> dict[str, str]:
        return dict(getattr(self._request.app.state, "policy_titles", {}))

    def coverage(self) -> Any:
        return self.get("/reports/coverage", year=self.year)


def _coverage(reads: Reads) -> Chart:
    return coverage_chart(reads.coverage(), reads.policy_titles)


def _progress(reads: Reads) -> Chart:
    try:
        target = coverage_target(reads.coverage())
    except ServiceRefused:
        target = None
    return progress_chart(reads.get("/reports/progress", year=reads.year), target)


def _quota(reads: Reads) -> Chart:
    return quota_chart(reads.get("/reports/quota-use", year=reads.year))


def _flows(reads: Reads) -> tuple[dict[tuple[str, str], int], dict[str, Fund]]:
    return spending_of(reads.get("/reports/spending", year=reads.year))


def _spending(reads: Reads) -> Chart:
    flows, funds = _flows(reads)
    return spending_chart(flows, reads.year, funds)


def _funding(reads: Reads) -> Chart:
    flows, funds = _flows(reads)
    return funding_chart(flows, reads.year, funds)


def _unsettled(reads: Reads) -> Chart:
    return unsettled_chart(reads.unsettled(), reads.year)


def _overdue(reads: Reads) -> Chart:
    return overdue_chart(reads.get("/applications/overdue", service=APPROVAL), reads.streets, reads.year)


CHARTS: dict[str, tuple[str, Callable[[Reads], Chart]]] = {
    "coverage": ("各街道康复服务覆盖率", _coverage),
    "progress": ("月度工作进展（累计）", _progress),
    "spending": ("经费支出（按经费类别）", _spending),
    "funding": ("经费来源（按政府层级）", _funding),
    "quota": ("任务完成情况（按县区、街道）", _quota),
    "unsettled": ("未结算事项（按原因）", _unsettled),
    "overdue": ("逾期未审批的申请（按街道）", _overdue),
}
"""Every chart of the dashboards in the page's order: its heading when it has no figures, and its reads."""

SETTLEMENT_CHARTS = ("coverage", "progress", "spending", "funding", "quota", "unsettled")
APPROVAL_CHARTS = ("overdue",)
"""Approval's tokens do not read settlement, nor settlement's approval: each agency's charts apart."""


def panel(reads: Reads, key: str) -> Panel:
    """The chart, or the service's refusal of its figures (403 for the scope, 404 no quotas that year,
    503 the service did not answer)."""
    try:
        return Panel(key, chart=CHARTS[key][1](reads))
    except ServiceRefused as refused:
        return Panel(key, refusal=refused.problem)
    except ServiceUnavailable as down:  # one service down leaves the other charts of the page drawn
        return Panel(key, refusal=Problem(503, "console.service_unavailable", str(down)))
