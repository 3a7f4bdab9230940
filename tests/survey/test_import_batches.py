"""The sheet import streams its rows and writes them a batch at a time: a few statements per batch whatever
its size, no savepoint, and still all or nothing per sheet with every error of every row reported."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from kernel.store.store import EventStore, outbox_table
from services.survey import imports, projection, sheet
from services.survey.import_rows import SurveyCampaign
from services.survey.imports import SheetRejected, import_survey_file
from services.survey.schemas import SheetReport
from tests.backends import BACKENDS, store_on
from tests.problem_json import field_error_of, problem_of
from tests.survey.people import make_id, person_body
from tests.survey.sheets import MAN_ID, base_row, csv_bytes, four_people, xlsx_bytes

FORM = {"street": "鸳鸯", "survey_year": "2024", "surveyed_on": "2024-10-15", "surveyor": "张丽"}


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)


def upload(client: TestClient, content: bytes, filename: str = "鸳鸯.csv", **headers: str) -> Any:
    return client.post(
        "/imports/surveys",
        data=FORM,
        files={"file": (filename, content, "text/csv")},
        headers=headers,
    )


def men(count: int) -> list[dict[str, Any]]:
    """``count`` certified men with distinct ID numbers."""
    rows = []
    for n in range(count):
        born = date(1950, 1, 1 + n % 28)
        id_number = make_id(born, f"{n // 28 * 2 + 101:03d}")
        rows.append(
            base_row(
                姓名=f"李{n}", 出生日期=born.isoformat(), 身份证号=id_number, 残疾人证号=id_number + "12"
            )
        )
    return rows


def problems(response: Any) -> list[tuple[int, str, str]]:
    return [(p["row"], p["column"], p["code"]) for p in problem_of(response, 422)["errors"]]


class Statements:
    """The SQL statements the store's engine runs, each with whether it ran for many rows."""

    def __init__(self, client: TestClient) -> None:
        self.engine = client.app.state.runtime.store.engine  # type: ignore[attr-defined]
        self.seen: list[tuple[str, bool]] = []

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(
        self, _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool
    ) -> None:
        self.seen.append((" ".join(statement.split()[:3]).upper(), many))

    def inserts(self) -> list[tuple[str, bool]]:
        """INSERTs only: the relay, publishing meanwhile, reads and updates the outbox from its thread."""
        return [(text, many) for text, many in self.seen if text.startswith("INSERT")]


def test_a_sheet_spanning_several_batches_imports_every_row(client: TestClient, small_batches: None) -> None:
    response = upload(client, csv_bytes(men(7)))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["rows"], body["registered"], body["surveyed"]) == (7, 7, 7)
    assert [person["row"] for person in body["persons"]] == list(range(2, 9))
    store: EventStore = client.app.state.runtime.store  # type: ignore[attr-defined]
    # Every event has its outbox row: counted published or not, since the relay may publish them meanwhile.
    with store.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(outbox_table)) == 14
    assert store.counts()["stored"] == 14
    assert client.get("/persons").json()["total"] == 7


def test_the_statements_per_sheet_do_not_grow_with_its_rows_and_no_savepoint_is_taken(
    client: TestClient,
) -> None:
    with Statements(client) as few:
        assert upload(client, csv_bytes(men(3))).status_code == 201
    with Statements(client) as many:
        assert upload(client, csv_bytes(men(40)[3:])).status_code == 201
    assert many.inserts() == few.inserts()
    assert {text for text, _ in many.inserts()} == {
        "INSERT INTO PERSON_KEYS",
        "INSERT INTO EVENTS",
        "INSERT INTO OUTBOX",
        "INSERT INTO SURVEY_PERSONS",
        "INSERT INTO SURVEY_RESULTS",
    }
    assert not any(text.startswith(("SAVEPOINT", "RELEASE")) for text, _ in many.seen)


def test_an_error_in_a_later_batch_rolls_back_the_batches_already_written(
    client: TestClient, small_batches: None
) -> None:
    rows = men(7)
    rows[6]["性别"] = "男的"
    response = upload(client, csv_bytes(rows))
    assert problems(response) == [(8, "性别", "survey.import.invalid_choice")]
    store = client.app.state.runtime.store  # type: ignore[attr-defined]
    assert store.counts()["stored"] == 0 and client.get("/persons").json()["total"] == 0


def test_every_error_of_every_batch_is_reported_cells_duplicates_and_domain_rules(
    client: TestClient, small_batches: None
) -> None:
    rows = men(6)
    rows[0]["联系电话"] = ""
    rows[3]["残疾人证号"] = ""  # an adult without certificate: the aggregate refuses it
    rows[5]["身份证号"] = rows[1]["身份证号"]  # the same person again, three batches later
    response = upload(client, csv_bytes(rows))
    assert problems(response) == [
        (2, "联系电话", "survey.import.required"),
        (5, "残疾人证号", "survey.certificate_number.required_for_adult"),
        (7, "身份证号", "survey.import.duplicate_in_sheet"),
    ]
    assert "第 3 行" in problem_of(response)["errors"][2]["message"]
    report = SheetReport.model_validate(problem_of(response))
    assert (report.rows, report.failed_rows, report.imported) == (6, 3, 0)
    assert (
        report.errors[1].field == "file.5.残疾人证号"
        and report.errors[1].detail_field == "certificate_number"
    )


def test_persons_registered_before_are_found_in_any_batch_and_only_surveyed(
    client: TestClient, small_batches: None
) -> None:
    registered = client.post("/persons", json=person_body()).json()["person_id"]
    rows = [*four_people()[1:], base_row()]  # the registered man comes in the second batch
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["registered"], body["surveyed"]) == (3, 4)
    [man] = [person for person in body["persons"] if person["row"] == 5]
    assert man["person_id"] == registered and man["newly_registered"] is False
    assert [s["survey_id"] for s in client.get(f"/persons/{registered}/surveys").json()] == [man["survey_id"]]


def test_an_idempotency_key_keeps_the_imports_answer_and_a_retry_records_nothing_more(
    client: TestClient, small_batches: None
) -> None:
    content = csv_bytes(four_people())
    first = upload(client, content, **{"Idempotency-Key": "import-1"})
    again = upload(client, content, **{"Idempotency-Key": "import-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert client.app.state.runtime.store.counts()["stored"] == 8  # type: ignore[attr-defined]


def test_more_rows_than_the_limit_are_refused_and_nothing_is_recorded(
    client: TestClient, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheet, "MAX_ROWS", 5)
    response = upload(client, xlsx_bytes(men(6)), filename="鸳鸯.xlsx")
    assert problems(response) == [(0, "", "survey.import.too_many_rows")]
    assert "5 行" in problem_of(response)["errors"][0]["message"]
    assert client.app.state.runtime.store.counts()["stored"] == 0  # type: ignore[attr-defined]


def test_the_row_limit_is_twenty_thousand() -> None:
    assert sheet.MAX_ROWS >= 20_000


def test_a_declared_size_over_the_limit_is_a_413_in_chinese_before_the_form_is_read(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.survey.import_api.MAX_BYTES", 1024 * 1024)
    content = csv_bytes([base_row(家庭住址="重" * 200)] * 2000)  # 1.5 MB: over 1 MB and the form's margin
    response = upload(client, content)
    error = field_error_of(response, 413)
    assert (error["field"], error["code"]) == ("file", "survey.file.too_large")
    assert error["message"] == "文件超过 1 MB，请分批导入"


def test_a_file_larger_than_the_spool_is_read_from_disk(client: TestClient) -> None:
    """Starlette spools an upload to a temporary file past 1 MiB; the sheet is streamed from it."""
    padding = {"家庭住址": "两江新区鸳鸯街道金渝大道88号" + "甲" * 150}
    rows = [{**row, **padding} for row in men(1500)]
    content = csv_bytes(rows)
    assert len(content) > 1024 * 1024
    response = upload(client, content)
    assert response.status_code == 201, response.text[:500]
    assert response.json()["registered"] == 1500


def test_a_csv_with_a_byte_order_mark_keeps_its_first_header(client: TestClient) -> None:
    content = "\ufeff".encode() + csv_bytes([base_row(身份证号=MAN_ID)])
    assert upload(client, content).status_code == 201


@pytest.fixture(params=BACKENDS)
def survey_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    """Survey's store, with its read tables and keys, on SQLite and on a real PostgreSQL."""
    with store_on(request, tmp_path, "survey", projection.tables) as store:
        yield store


def import_into(store: EventStore, rows: list[dict[str, Any]], year: int) -> list[imports.ImportedRow]:
    campaign = SurveyCampaign("鸳鸯", year, date(year, 10, 15), "张丽")
    with store.transaction() as unit:
        return import_survey_file(unit, ["鸳鸯"], campaign, io.BytesIO(csv_bytes(rows)), "鸳鸯.csv")


def test_on_every_backend_batches_register_then_next_year_only_survey_with_every_event_in_the_outbox(
    survey_store: EventStore, small_batches: None
) -> None:
    first = import_into(survey_store, four_people(), 2024)
    again = import_into(survey_store, four_people(), 2025)
    assert [row.newly_registered for row in first] == [True] * 4
    assert [row.newly_registered for row in again] == [False] * 4
    assert [row.person_id for row in again] == [row.person_id for row in first]
    events = survey_store.read()
    assert [event.envelope.event_type for event in events].count("survey.need_surveyed") == 8
    with survey_store.reading() as unit:
        outbox = unit.session.execute(select(outbox_table.c.position, outbox_table.c.event_id)).all()
    assert sorted(outbox) == [(event.position, str(event.envelope.event_id)) for event in events]


def test_on_every_backend_a_failing_last_batch_leaves_the_store_as_it_was(
    survey_store: EventStore, small_batches: None
) -> None:
    rows = men(5)
    rows[4]["康复需求"] = "也许"
    with pytest.raises(SheetRejected) as refused:
        import_into(survey_store, rows, 2024)
    assert [(error.row, error.column) for error in refused.value.errors] == [(6, "康复需求")]
    assert survey_store.counts() == {"stored": 0, "published": 0, "unpublished": 0, "received": 0}
