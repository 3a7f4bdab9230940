"""`rehab statement` and `rehab annual-summary`: settlement's documents with persons named, or refused.

Personal details are sealed under each person's data key, which only the survey registry releases, to a
token of an entitled agency, auditing who asked. The command asks with the operator's own token (``--user``
or ``--token``), so the audit names the operator; a form whose names cannot be read is never written
(issue 15: 附件3 full of （不可用） reported success).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import typer

from rehab.cli_failures import CommandFailed, ExitCode, say
from rehab.cli_progress import working
from rehab.cli_stores import writable_file

if TYPE_CHECKING:
    import httpx
    from rehab_contracts.sealed import DataKey
    from sqlalchemy import Engine

    from services.settlement.documents.annual_summary import Signatures
    from services.settlement.documents.person_keys import SurveyKeyClient

TOKEN_LIFETIME = timedelta(minutes=15)
"""A document takes seconds; a token issued for it should not outlive the operator's session."""
NO_TOKEN = (
    "个人信息（姓名、身份证号等）须用你自己的令牌向调查服务申领密钥（留审计记录）：加 --user 你的用户名"
    "（rehab users add 用户名 --agency settlement --role staff --scope district），"
    "或 --token 令牌（$REHAB_TOKEN）"
)


@dataclass
class KeyHolder:
    """Asks the survey registry for persons' data keys with the operator's own token, on first need only.

    A key source of ``PersonKeys`` (``fetch_many``/``fetch``): persons registered before sealing need no
    key, so a document of them needs no token. A 401 or 403 of the registry ends the command (exit 4).
    """

    access_dir: Path
    user: str | None = None
    token: str | None = None
    survey_url: str | None = None
    purpose: str = "打印结算文书"
    _client: SurveyKeyClient | None = field(default=None, init=False, repr=False)

    def fetch_many(self, person_ids: Sequence[str]) -> dict[str, DataKey | str]:
        return self.client().fetch_many(person_ids)

    def fetch(self, person_id: str) -> DataKey | str:
        return self.client().fetch(person_id)

    def client(self) -> SurveyKeyClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> SurveyKeyClient:
        import httpx

        from rehab.settings import operator_settings
        from services.settlement.documents.person_keys import DEFAULT_SURVEY_URL, SurveyKeyClient

        base_url = self.survey_url or operator_settings().survey_url or DEFAULT_SURVEY_URL
        http = self.http_to(base_url)
        http.headers["X-Purpose"] = quote(self.purpose)  # the audit records why (percent-encoded: ASCII)
        http.event_hooks["response"] = [*http.event_hooks["response"], _refuse_unless_allowed]
        try:
            http.get("/health")
        except httpx.TransportError as error:
            raise CommandFailed(
                f"调查服务（survey）没有应答（{type(error).__name__}）：{base_url}。"
                "个人信息的密钥由它发放：先运行 rehab up，或用 --survey-url 指向它",
                ExitCode.UNREACHABLE,
            ) from error
        return SurveyKeyClient(http, self._bearer())

    def http_to(self, base_url: str) -> httpx.Client:
        """The HTTP client of the registry (a test gives the survey app's own)."""
        import httpx

        return httpx.Client(base_url=base_url, timeout=10.0)

    def _bearer(self) -> str:
        bearer = operator_bearer(self.access_dir, self.user, self.token)
        if bearer is None:
            raise CommandFailed(NO_TOKEN, ExitCode.ACCESS)
        return bearer


def operator_bearer(access_dir: Path, user: str | None, token: str | None) -> str | None:
    """The operator's own token: ``--token`` as given, or a short one issued to ``--user`` from
    ``access_dir``; None when neither is given."""
    if token:
        return token.strip()
    if not user:
        return None
    from rehab.users import UserDirectory, UserUnknown

    directory = UserDirectory(access_dir)
    if not directory.users_file.exists():
        raise CommandFailed(
            f"{access_dir} 中没有用户（users.json）：用 --access-dir 指向部署的 access 文件夹", ExitCode.USAGE
        )
    try:
        return directory.issue_token(user, lifetime=TOKEN_LIFETIME)
    except UserUnknown as unknown:
        raise CommandFailed(f"不能给 {user} 签发令牌：{unknown}", ExitCode.ACCESS) from unknown


def _refuse_unless_allowed(response: httpx.Response) -> None:
    """A 401/403 of the registry is the operator's to fix: say the registry's reason and stop."""
    if response.status_code not in (401, 403):
        return
    response.read()
    try:
        reason = str(response.json().get("detail", ""))
    except ValueError:
        reason = response.text[:200]
    raise CommandFailed(
        f"调查服务拒绝发放个人信息密钥（HTTP {response.status_code}）：{reason}"
        "（须是有权机构 settlement 的用户，且部署开启了访问控制）",
        ExitCode.ACCESS,
    )


@contextmanager
def _refused_as_usage() -> Iterator[None]:
    """A field 附件3 refuses (the service's 422) as a usage error naming the option (exit 2)."""
    from kernel.domain.rejections import CommandRejected

    try:
        yield
    except CommandRejected as refused:
        option = f"--{(refused.field or '').replace('_', '-')}"
        raise CommandFailed(f"'{option}' 的值无效：{refused.message}", ExitCode.USAGE) from refused


def write_annual_summary(
    engine: Engine,
    year: int,
    street: str,
    community: str | None,
    out: Path,
    signatures: Signatures,
    holder: KeyHolder,
) -> int:
    """附件3 with every personal field read, or nothing written (exit 1, 2, 3 or 4 with the reason)."""
    from kernel.domain.clock import today
    from services.settlement.deployment import deployment_jurisdiction
    from services.settlement.documents.annual_summary import (
        annual_summary_forms,
        annual_summary_xlsx,
        unreadable_persons,
    )
    from services.settlement.documents.person_keys import PersonKeys

    jurisdiction = deployment_jurisdiction()
    with _refused_as_usage():
        signatures.check(year, today())
    if street not in jurisdiction.streets:
        raise CommandFailed(
            f"{street} 不是{jurisdiction.name}的街道，可选：{'、'.join(jurisdiction.streets)}", ExitCode.USAGE
        )
    if out.suffix.lower() != ".xlsx":
        raise CommandFailed(f"附件3 写成 xlsx：--out 应以 .xlsx 结尾（这里是 {out.name}）", ExitCode.USAGE)
    writable_file(out)
    holder.purpose = f"打印附件3 {year}年 {street}街道"
    with working(f"正在生成附件3（{year}年 {street}街道）：读取台账、申领个人信息密钥、写表…"):
        with _refused_as_usage():
            forms = annual_summary_forms(
                engine, year, street, community, jurisdiction, keys=PersonKeys(holder)
            )
        if unreadable := unreadable_persons(forms):
            raise CommandFailed(
                f"附件3 未写出：{unreadable} 人的个人信息无法读取（（不可用））。"
                "见上面的日志，或 rehab --debug …",
                ExitCode.PROBLEM,
            )
        content = annual_summary_xlsx(forms, signatures)
    out.write_bytes(content)
    persons = sum(len(form.rows) for form in forms)
    say(f"已写出 {out}：{len(forms)} 个社区的表，{persons} 人")
    return ExitCode.OK


def write_statement(
    engine: Engine, account: str, period: str, format: str | None, out: Path | None, holder: KeyHolder
) -> int:
    """A payee's statement; a person payee named by the registry's key (audited), an unknown payee refused."""
    from services.settlement.documents.statements import FORMATS, BadPeriod, Period, statement

    try:
        chosen = Period.parse(period)
    except BadPeriod as bad:
        raise CommandFailed(f"'--period' 的值无效：{bad}", ExitCode.USAGE) from bad
    chosen_format = format or ("xlsx" if out is not None and out.suffix.lower() == ".xlsx" else "csv")
    if chosen_format == "xlsx" and out is None:
        raise CommandFailed("xlsx 对账单需要 --out 文件", ExitCode.USAGE)
    if out is not None and out.suffix.lower() != f".{chosen_format}":
        raise CommandFailed(
            f"对账单写成 {chosen_format}：--out 应以 .{chosen_format} 结尾（这里是 {out.name}），"
            "或用 .xlsx / .csv 结尾的文件名选格式",
            ExitCode.USAGE,
        )
    if out is not None:
        writable_file(out)
    with working(f"正在生成 {account} 的对账单（{period}）…"):
        names = _payee_names(engine, account, holder)
        content = FORMATS[chosen_format][1](statement(engine, account, chosen, names))
    if out is None:
        typer.echo(content.decode("utf-8-sig"), nl=False)
        return ExitCode.OK
    out.write_bytes(content)
    say(f"已写出 {out}")
    return ExitCode.OK


def _payee_names(engine: Engine, account: str, holder: KeyHolder) -> Callable[[str], str]:
    """Account names, a person payee's by their registered name: an unknown payee is refused (exit 2)."""
    from rehab_contracts.sealed import UNAVAILABLE

    from services.settlement.book.policy import load_policies
    from services.settlement.deployment import deployment_jurisdiction
    from services.settlement.documents.labels import AccountNames
    from services.settlement.documents.person_keys import PersonKeys
    from services.settlement.documents.statements import UnknownPayee, check_payee, person_name

    jurisdiction = deployment_jurisdiction()
    try:
        check_payee(engine, account, jurisdiction)
    except UnknownPayee as unknown:
        raise CommandFailed(str(unknown), ExitCode.USAGE) from unknown
    names = AccountNames(jurisdiction, load_policies())
    kind, _, person_id = account.partition(":")
    if kind != "person":
        return names
    holder.purpose = f"打印对账单 {account}"
    name = person_name(engine, person_id, PersonKeys(holder))
    if name is None or name == UNAVAILABLE:
        raise CommandFailed(f"对账单未写出：收款人 {person_id} 的姓名无法读取", ExitCode.PROBLEM)
    return lambda wanted: f"{name}（残疾人）" if wanted == account else names(wanted)
