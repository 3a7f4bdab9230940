"""Sheet import benchmark (issue 17): rows/s of survey's import beside openpyxl reading the same sheet.

    .venv/bin/python -m bench.import_sheet                 # 20,000 rows, 3 rounds
    .venv/bin/python -m bench.import_sheet --rows 5000 --rounds 3
    .venv/bin/python -m bench.import_sheet --rows 20000 --memory   # peak RSS of one import, own process

Generates one xlsx of N valid rows (every person new, as a street's first import is), then, interleaved
``--rounds`` times:

(a)  rehab: ``POST /imports/surveys`` to the real survey app in process (FastAPI TestClient, its own
     SQLite store in a fresh temp dir each round, access control off), timed from the request to the
     201 answer: the upload, reading, validating, deciding and writing every row, and the answer;
(b)  baseline: openpyxl reading the same file read-only, ``iter_rows(values_only=True)``, every row.

Prints the medians and the ratio (a)/(b), with the load average, and the ratio by CPU time of the process
(the import's threads included), which other processes on a shared machine disturb less. ``--memory``
runs one import in a child process and prints its peak resident set size (VmHWM) beside the
same for a bare openpyxl read.
Redis need not run: the app's relay waits for it in the background.
"""

from __future__ import annotations

import argparse
import gc
import io
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from kernel.runtime import FREEZE_AFTER_START, ServiceSettings
from rehab.sample_people import resident_id
from services.survey.app import create_app

HEADERS = (
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "身份证号",
    "残疾人证号",
    "残疾类别",
    "残疾等级",
    "联系电话",
    "家庭住址",
    "户籍所在地",
    "现居住地",
    "社区",
    "家庭经济状况",
    "医疗保险",
    "监护人姓名",
    "监护人性别",
    "与残疾人关系",
    "监护人联系电话",
    "监护人身份证号",
    "康复需求",
    "康复需求项目",
    "行动不便",
)
FORM = {"street": "鸳鸯", "survey_year": "2024", "surveyed_on": "2024-10-15", "surveyor": "张丽"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国红梅志鹏飞小燕文"
CATEGORIES = (
    ("视力", 1, "低视力视功能训练"),
    ("肢体", 4, "辅助器具免费适配"),
    ("听力", 2, "辅助器具免费适配"),
)


def sheet_rows(count: int, seed: int = 17) -> Iterator[list[object]]:
    """``count`` adults of 鸳鸯, each with a distinct valid ID number and certificate, as clerks type them."""
    rng = random.Random(seed)
    for index in range(count):
        born = date(1940, 1, 1) + timedelta(days=index // 250 * 7 + index % 7)
        male = index % 2 == 0
        id_number = resident_id(born, index % 250, male)
        category, digit, item = CATEGORIES[index % len(CATEGORIES)]
        grade = 1 + index % 4
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        yield [
            name,
            "男" if male else "女",
            "汉族",
            born.isoformat(),
            id_number,
            f"{id_number}{digit}{grade}",
            category,
            "一二三四"[grade - 1] + "级",
            f"138{rng.randrange(10**8):08d}",
            f"两江新区鸳鸯街道金渝大道{rng.randrange(1, 300)}号{rng.randrange(1, 30)}-{rng.randrange(1, 9)}",
            "重庆市渝北区",
            "两江新区鸳鸯街道",
            "金渝社区",
            ("低保家庭", "低收入家庭", "其他")[index % 3],
            "城乡居民基本医疗保险",
            None,
            None,
            None,
            None,
            None,
            "有" if index % 5 else "无",
            item if index % 5 else None,
            "是" if index % 11 == 0 else None,
        ]


def sheet_bytes(count: int) -> bytes:
    """An xlsx of ``count`` rows under the template's headers (openpyxl writes its text inline, Excel in
    shared strings: both readers read the same file)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("康复需求调查")
    sheet.append(list(HEADERS))
    for row in sheet_rows(count):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def openpyxl_read(content: bytes) -> tuple[float, float, int]:
    """Seconds (wall, CPU) openpyxl takes to read every row's values, read-only, and the rows read."""
    started, cpu = time.perf_counter(), time.process_time()
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    rows = sum(1 for _ in workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return time.perf_counter() - started, time.process_time() - cpu, rows - 1


def rehab_import(content: bytes, *, freeze: bool = True) -> tuple[float, float, int]:
    """Seconds (wall, CPU of the process) survey takes to answer the upload of the sheet, into a fresh
    store, and the rows imported."""
    with tempfile.TemporaryDirectory() as folder:
        settings = ServiceSettings(
            service="survey",
            database_url=f"sqlite:///{folder}/survey.db",
            redis_url="redis://127.0.0.1:1/0",  # nobody answers: the relay waits
        )
        app = create_app(settings)
        if freeze:  # as `rehab serve` runs the service (kernel.runtime.FREEZE_AFTER_START)
            setattr(app.state, FREEZE_AFTER_START, True)
        with TestClient(app) as client:
            started, cpu = time.perf_counter(), time.process_time()
            response = client.post(
                "/imports/surveys", data=FORM, files={"file": ("鸳鸯街道.xlsx", content, XLSX)}
            )
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    gc.unfreeze()  # this process makes an app per round: its cycles must stay collectable
    if response.status_code != 201:
        raise SystemExit(f"import refused: {response.status_code} {response.text[:2000]}")
    return elapsed, cpu, int(response.json()["rows"])


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def peak_rss(content: bytes, what: str) -> float:
    """Peak RSS in MiB of a fresh process (the bench's modules imported, the app's among them) that does
    ``what`` (import, read or nothing) with the sheet ``content``."""
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as sheet:
        sheet.write(content)
        sheet.flush()
        code = "import sys; from bench.import_sheet import _child; _child(sys.argv[1], sys.argv[2])"
        child = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", code, sheet.name, what], capture_output=True, text=True
        )
    if child.returncode:
        raise SystemExit(f"the {what} process failed: {child.stdout[-2000:]} {child.stderr[-2000:]}")
    output = child.stdout
    return float(output.strip().splitlines()[-1])


def _child(path: str, what: str) -> None:
    logging.disable(logging.WARNING)
    content = Path(path).read_bytes()
    if what == "import":
        rehab_import(content)
    elif what == "read":
        openpyxl_read(content)
    print(f"{peak_resident_kib() / 1024:.1f}")


def peak_resident_kib() -> int:
    """This process's peak resident set (VmHWM): unlike ``ru_maxrss``, not inherited from the parent's
    fork across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the best there is


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory", action="store_true", help="also the peak RSS of one import")
    parser.add_argument(
        "--no-freeze", action="store_true", help="leave the app's objects to the collector (an app in a test)"
    )
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    content = sheet_bytes(args.rows)
    print(f"sheet: {args.rows:,} rows, {len(content) / 1024 / 1024:.1f} MiB xlsx")
    rehab, baseline, cpu_ratios = [], [], []
    for round_ in range(1, args.rounds + 1):
        seconds, baseline_cpu, read = openpyxl_read(content)
        baseline.append(read / seconds)
        seconds, rehab_cpu, imported = rehab_import(content, freeze=not args.no_freeze)
        rehab.append(imported / seconds)
        cpu_ratios.append((imported / rehab_cpu) / (read / baseline_cpu))
        print(
            f"round {round_}: rehab {rehab[-1]:,.0f} rows/s, openpyxl {baseline[-1]:,.0f} rows/s"
            f" = {rehab[-1] / baseline[-1]:.3f}; CPU time {rehab_cpu:.1f} s / {baseline_cpu:.1f} s"
            f" = {cpu_ratios[-1]:.3f}"
        )
    ours, theirs = statistics.median(rehab), statistics.median(baseline)
    print(
        f"sheet import, {args.rows:,} rows: rehab {ours:,.0f} rows/s"
        f" / openpyxl read-only {theirs:,.0f} rows/s"
        f" = {ours / theirs:.3f}; by CPU time {statistics.median(cpu_ratios):.3f}"
        f" (medians of {args.rounds}; load average {load_average()})"
    )
    if args.memory:
        rehab_rss, openpyxl_rss = peak_rss(content, "import"), peak_rss(content, "read")
        print(
            f"peak RSS, {args.rows:,} rows: rehab import {rehab_rss:.0f} MiB,"
            f" openpyxl read {openpyxl_rss:.0f} MiB, the same process doing nothing"
            f" {peak_rss(content, 'nothing'):.0f} MiB"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
