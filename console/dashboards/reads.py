"""The settlement reads a dashboard draws from, each as the signed-in clerk with the read's purpose; a
chart the clerk's scope may not read comes back as the service's refusal, never as an error page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from console.agencies import Problem, ServiceRefused
from console.dashboards.charts import Chart
from console.dashboards.figures import coverage_chart, coverage_target, progress_chart, quota_chart
from console.dashboards.money import Fund, funding_chart, spending_chart, spending_of
from console.web import Clerk, console_of

SETTLEMENT = "settlement"
PURPOSE = "数据看板"


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
    """Settlement's answers for one clerk and year, each read at most once per page."""

    def __init__(self, request: Request, clerk: Clerk, year: int) -> None:
        self._request, self._clerk, self.year = request, clerk, year
        self._answers: dict[str, Any] = {}

    def get(self, path: str, **params: Any) -> Any:
        key = path + repr(sorted(params.items()))
        if key not in self._answers:
            agencies = console_of(self._request).agencies
            self._answers[key] = agencies.get(
                SETTLEMENT, path, user=self._clerk.name, purpose=PURPOSE, params=params
            )
        return self._answers[key]

    def coverage(self) -> Any:
        return self.get("/reports/coverage", year=self.year)


def _coverage(reads: Reads) -> Chart:
    return coverage_chart(reads.coverage())


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


CHARTS: dict[str, tuple[str, Callable[[Reads], Chart]]] = {
    "coverage": ("各街道康复服务覆盖率", _coverage),
    "progress": ("月度工作进展（累计）", _progress),
    "spending": ("经费支出（按经费类别）", _spending),
    "funding": ("经费来源（按政府层级）", _funding),
    "quota": ("任务完成情况（按县区、街道）", _quota),
}
"""Every chart of the dashboard in the page's order: its heading when it has no figures, and its reads."""


def panel(reads: Reads, key: str) -> Panel:
    """The chart, or the service's refusal of its figures (403 for the scope, 404 no quotas that year)."""
    try:
        return Panel(key, chart=CHARTS[key][1](reads))
    except ServiceRefused as refused:
        return Panel(key, refusal=refused.problem)
