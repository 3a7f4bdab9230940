"""The answer of ``/health``: 200 when the service is ready, 503 with each reason when it is not.

A load balancer or an orchestrator reads the status code; an operator reads the reasons, each with a
stable code and a Chinese explanation (the same shape as the API's refusals). The body keeps what the
endpoint always showed (the service, its status, its event counts), ready or not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fastapi.responses import JSONResponse

Problem = tuple[str, str]
"""One reason the service is not ready: a stable code and what it means, in Chinese."""


def health_response(body: dict[str, object], problems: Sequence[Problem]) -> JSONResponse:
    """``body`` with ``problems`` listed; 503 when there is any, the status then saying so."""
    if problems and body.get("status") == "ok":
        body["status"] = "not ready"
    body["problems"] = [{"code": code, "reason": reason} for code, reason in problems]
    return JSONResponse(body, status_code=503 if problems else 200)


CONSUMER_LAGGING = "consumer.lagging"
DEAD_LETTERS = "dead_letters.over_bound"


def bound_problems(
    lag: Mapping[str, int], dead_letters: int | None, max_lag: int | None, max_dead_letters: int | None
) -> list[Problem]:
    """The bounds a ready service keeps: each consumed stream's lag at most ``max_lag`` entries, at most
    ``max_dead_letters`` entries waiting on its dead-letter stream (None: no bound)."""
    problems: list[Problem] = []
    if max_lag is not None:
        for stream, entries in sorted(lag.items()):
            if entries > max_lag:
                reason = (
                    f"消费组落后 {stream} {entries} 条，超过上限 {max_lag} 条（REHAB_READY_MAX_CONSUMER_LAG）"
                )
                problems.append((CONSUMER_LAGGING, reason))
    if max_dead_letters is not None and dead_letters is not None and dead_letters > max_dead_letters:
        reason = (
            f"死信流中有 {dead_letters} 条待处理，超过上限 {max_dead_letters} 条"
            "（REHAB_READY_MAX_DEAD_LETTERS）：请用 rehab dlq 查看并重放"
        )
        problems.append((DEAD_LETTERS, reason))
    return problems
