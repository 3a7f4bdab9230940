"""`rehab import`: a street's survey sheet sent to the survey service's import (POST /imports/surveys).

The service takes the sheet whole or not at all and answers once it has checked every row, so the
command shows the upload as a bar and the service's work as a spinner, then the report: the rows
imported, or every row and column refused with the reason, in Chinese. The sheet's content names the
request (its Idempotency-Key), so running it again after a lost answer imports nothing twice.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, cast

import typer

from rehab.cli_failures import CommandFailed, ExitCode, say
from rehab.cli_options import AccessDir

if TYPE_CHECKING:
    import httpx

SHEET_SUFFIXES = (".xlsx", ".csv")
OPTION_OF_FIELD = {
    "street": "--street",
    "survey_year": "--year",
    "surveyed_on": "--surveyed-on",
    "surveyor": "--surveyor",
}
"""The form field the service names in a refusal, and the option that gives it."""
REFUSED_HEADINGS = ("行（row）", "列（column）", "原因")
HELP = (
    "把街道的康复需求调查表（xlsx 或 csv，表头同模板）导入调查服务：整张表导入或全部不导入；"
    "显示上传进度，打印导入结果或每个出错的行和列"
)


def register(app: typer.Typer) -> None:
    app.command("import", help=HELP)(import_sheet)


def import_sheet(
    sheet: Annotated[
        Path, typer.Argument(help="调查表文件（.xlsx 或 .csv，模板：GET /imports/surveys/template）")
    ],
    street: Annotated[str, typer.Option("--street", help="这张表所属的街道（本辖区的）")],
    surveyor: Annotated[str, typer.Option("--surveyor", help="调查人")],
    access_dir: AccessDir,
    surveyed_on: Annotated[
        str | None, typer.Option("--surveyed-on", help="调查日期，如 2025-03-01（默认今天）")
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="调查年度（默认调查日期的年份）")] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="以哪个用户导入（从 --access-dir 签发 15 分钟的令牌）")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="REHAB_TOKEN", help="你自己的令牌（rehab token 用户名；默认 $REHAB_TOKEN）"
        ),
    ] = None,
    survey_url: Annotated[
        str | None, typer.Option("--survey-url", help="调查服务地址（默认 $REHAB_SURVEY_URL，否则本机 8101）")
    ] = None,
) -> int:
    from rehab.documents import operator_bearer

    if sheet.suffix.lower() not in SHEET_SUFFIXES:
        raise CommandFailed(f"只能导入 .xlsx 或 .csv 表格（这里是 {sheet.name}）", ExitCode.USAGE)
    day = surveyed_on or date.today().isoformat()
    form = {"street": street, "survey_year": str(year or day[:4]), "surveyed_on": day, "surveyor": surveyor}
    bearer = operator_bearer(access_dir, user, token)
    with sheet.open("rb") as content:
        answer = _send(_survey_url(survey_url), form, sheet.name, content, bearer)
    return _report(answer, sheet)


def _survey_url(given: str | None) -> str:
    from kernel.deployment import load_deployment
    from rehab.settings import operator_settings

    configured = given or operator_settings().survey_url
    return (configured or f"http://127.0.0.1:{load_deployment().spec('survey').port}").rstrip("/")


def _send(
    url: str, form: dict[str, str], name: str, content: IO[bytes], bearer: str | None
) -> httpx.Response:
    """POST the form with the sheet, the upload drawn as a bar and the service's checking as a spinner."""
    import httpx

    from rehab.cli_progress import Upload

    headers = {"Idempotency-Key": _idempotency_key(form, content)}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    timeout = httpx.Timeout(10.0, read=600.0)  # 20,000 rows are checked before the service answers
    upload = Upload(content, f"上传 {name}", then="调查服务正在校验每一行并导入…")
    with http_client(url, timeout) as client, upload:
        sheet = cast("IO[bytes]", upload)  # read like the file it wraps
        return client.post("/imports/surveys", data=form, files={"file": (name, sheet)}, headers=headers)


def http_client(url: str, timeout: httpx.Timeout) -> httpx.Client:
    """The client of the survey service (a test gives the survey app's own)."""
    import httpx

    return httpx.Client(base_url=url, timeout=timeout)


def _idempotency_key(form: dict[str, str], content: IO[bytes]) -> str:
    digest = hashlib.sha256(repr(sorted(form.items())).encode())
    for chunk in iter(lambda: content.read(1 << 20), b""):
        digest.update(chunk)
    content.seek(0)
    return f"rehab-import-{digest.hexdigest()[:48]}"


def _report(answer: httpx.Response, sheet: Path) -> int:
    if answer.status_code == 201:
        return _imported(answer.json(), replayed=answer.headers.get("Idempotent-Replayed") == "true")
    problem = _problem(answer)
    detail = str(problem.get("detail") or problem.get("title") or answer.reason_phrase)
    if answer.status_code in (401, 403):
        raise CommandFailed(
            f"调查服务拒绝导入（HTTP {answer.status_code}）：{detail}。"
            "开启访问控制的部署须用街道工作人员自己的令牌：--user 用户名 或 --token",
            ExitCode.ACCESS,
        )
    if rows := [error for error in problem.get("errors", []) if isinstance(error, dict) and "row" in error]:
        _show_refused_rows(rows)
        raise CommandFailed(f"{sheet.name} 未导入（imported 0）：{detail}", ExitCode.PROBLEM)
    fields = [str(error.get("field")) for error in problem.get("errors", []) if isinstance(error, dict)]
    if option := next((OPTION_OF_FIELD[field] for field in fields if field in OPTION_OF_FIELD), None):
        raise CommandFailed(f"{option} 无效：{detail}", ExitCode.USAGE)
    raise CommandFailed(f"{sheet.name} 未导入（HTTP {answer.status_code}）：{detail}", ExitCode.PROBLEM)


def _imported(body: dict[str, Any], *, replayed: bool) -> int:
    again = "这张表此前已导入，这次没有重复导入（Idempotent-Replayed）。" if replayed else ""
    say(
        f"{again}已导入 {body['street']} {body['survey_year']} 年的调查表（imported）：{body['rows']} 行，"
        f"新登记 {body['registered']} 人，记录调查 {body['surveyed']} 份（调查日期 {body['surveyed_on']}）"
    )
    return ExitCode.OK


def _problem(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {"detail": answer.text[:200]}
    return body if isinstance(body, dict) else {}


def _show_refused_rows(rows: list[dict[str, Any]]) -> None:
    from rehab.cli_tables import add_row, show, table

    refused = table(*REFUSED_HEADINGS)
    for error in rows:
        row = str(error["row"]) if error["row"] else "（整张表）"
        add_row(refused, (row, str(error.get("column") or ""), str(error.get("message", ""))))
    show(refused)
