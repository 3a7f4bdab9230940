"""Progress of long commands on stderr (issue 18): a bar per demo stage, the bytes of an upload."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from rehab.cli_progress import DemoBar, Upload


def test_the_demo_bar_writes_a_line_per_stage_where_no_terminal_draws_it() -> None:
    log = io.StringIO()
    with DemoBar(Console(file=log, force_terminal=False)) as bar:
        bar.stage("登记与需求调查（街道）", 3)
        for _ in range(3):
            bar.advance()
        bar.stage("结算", None)
    assert log.getvalue().splitlines() == ["演示：登记与需求调查（街道）（3）…", "演示：结算…"]


def test_an_upload_reads_like_the_file_it_wraps_and_says_its_length(tmp_path: Path) -> None:
    sheet = tmp_path / "鸳鸯.xlsx"
    sheet.write_bytes(b"x" * 200_000)
    with sheet.open("rb") as file, Upload(file, "上传 鸳鸯.xlsx", then="校验…") as upload:
        assert upload.seek(0, 2) == 200_000 and upload.seek(0) == 0
        chunks = list(iter(lambda: upload.read(65_536), b""))
        assert b"".join(chunks) == b"x" * 200_000 and upload.tell() == 200_000
        assert upload.fileno() == file.fileno()
