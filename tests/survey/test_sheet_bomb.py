"""An uploaded xlsx is bounded by what it unpacks to, not only by its size (issue 14, defect 11): a 66 KiB
workbook whose shared strings unpack to tens of MiB raised the service's memory by 80 MiB. The zip's
members are measured before openpyxl reads any of them."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

from fastapi.testclient import TestClient

from tests.problem_json import field_error_of
from tests.survey.sheets import base_row, xlsx_bytes

MiB = 1024 * 1024


SHARED_STRINGS = "xl/sharedStrings.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PACKAGE_PARTS = {
    "[Content_Types].xml": (
        "</Types>",
        f'<Override PartName="/{SHARED_STRINGS}" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    ),
    "xl/_rels/workbook.xml.rels": (
        "</Relationships>",
        '<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    ),
}


def bomb(unpacked_mib: int = 64) -> bytes:
    """A valid workbook whose shared strings (declared in the package, as Excel writes them) unpack to
    ``unpacked_mib`` MiB while the file stays small."""
    sheet = zipfile.ZipFile(io.BytesIO(xlsx_bytes([base_row()])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for member in sheet.infolist():
            content = sheet.read(member)
            if member.filename in PACKAGE_PARTS:
                end, declared = PACKAGE_PARTS[member.filename]
                content = content.decode().replace(end, declared).encode()
            out.writestr(member, content)
        entry = "<si><t>" + "康" * 500 + "</t></si>"
        count = unpacked_mib * MiB // len(entry.encode())
        with out.open(SHARED_STRINGS, "w") as strings:
            strings.write(f'<sst xmlns="{MAIN}" count="{count}" uniqueCount="{count}">'.encode())
            chunk = (entry * 1000).encode()
            for _ in range(count // 1000):
                strings.write(chunk)
            strings.write(b"</sst>")
    return buffer.getvalue()


def upload(client: TestClient, content: bytes) -> object:
    form = {"street": "鸳鸯", "survey_year": "2024", "surveyed_on": "2024-10-15", "surveyor": "张丽"}
    return client.post(
        "/imports/surveys", data=form, files={"file": ("鸳鸯.xlsx", content, "application/octet-stream")}
    )


def test_a_small_xlsx_that_unpacks_to_tens_of_mib_is_refused_before_it_is_read(client: TestClient) -> None:
    content = bomb()
    assert len(content) < 1 * MiB

    tracemalloc.start()
    started = time.monotonic()
    response = upload(client, content)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    error = field_error_of(response, 413)
    assert (error["field"], error["code"]) == ("file", "survey.file.unpacked_too_large")
    assert "解压" in error["message"]
    assert peak < 16 * MiB and elapsed < 2.0
    assert int(client.get("/health").json()["events"]["stored"]) == 0


def test_a_full_sheet_unpacks_well_within_the_bounds(client: TestClient) -> None:
    from services.survey.sheet import MAX_ROWS, MAX_SHARED_STRINGS_BYTES, MAX_UNPACKED_BYTES

    sample = 1000
    content = xlsx_bytes(
        [base_row(家庭住址="重庆市两江新区鸳鸯街道金渝大道88号3-2" * 3) for _ in range(sample)]
    )
    unpacked = sum(member.file_size for member in zipfile.ZipFile(io.BytesIO(content)).infolist())
    assert unpacked * MAX_ROWS / sample * 3 < MAX_UNPACKED_BYTES
    # Excel keeps the text in shared strings: less than the whole sheet unpacked, under their own bound
    assert unpacked * MAX_ROWS / sample < MAX_SHARED_STRINGS_BYTES
