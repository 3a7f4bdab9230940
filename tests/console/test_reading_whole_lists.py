"""The console reads a whole list page after page: a district's worklist is longer than one page."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Query, Request, Response
from fastapi.testclient import TestClient

from console.agencies import LIST_PAGE, AgencyClient
from kernel.web.paging import MAX_PAGE, page_of

APPLICATIONS: list[dict[str, object]] = [
    {"serial_number": number, "street": "鸳鸯" if number % 3 else "人和"} for number in range(1203)
]


def paged_service() -> FastAPI:
    """A list route paged as the agencies page theirs (``kernel.web.paging``)."""
    app = FastAPI()

    @app.get("/applications")
    def applications(
        request: Request,
        response: Response,
        street: str | None = None,
        limit: Annotated[int, Query(le=MAX_PAGE)] = MAX_PAGE,
        offset: int = 0,
    ) -> list[dict[str, object]]:
        found = [item for item in APPLICATIONS if street is None or item["street"] == street]
        return list(page_of(found, limit=limit, offset=offset, request=request, response=response))

    return app


def agencies_of(app: FastAPI) -> AgencyClient:
    agencies = AgencyClient(urls={"approval": "http://testserver"}, token_for=lambda user: "a-clerks-token")
    agencies.client = TestClient(app)
    return agencies


def test_every_item_of_a_list_longer_than_one_page_is_read_in_order() -> None:
    agencies = agencies_of(paged_service())

    found = agencies.every("approval", "/applications", user="区残联办经办人", purpose="审批：待审批申请")

    assert len(found) == 1203 > LIST_PAGE
    assert [item["serial_number"] for item in found] == list(range(1203))


def test_the_filters_are_kept_on_every_page() -> None:
    agencies = agencies_of(paged_service())

    found = agencies.every(
        "approval",
        "/applications",
        user="鸳鸯街道经办人",
        purpose="审批：待审批申请",
        params={"street": "鸳鸯"},
    )

    assert len(found) == 802
    assert {item["street"] for item in found} == {"鸳鸯"}
