"""`rehab replay | explain | statement | annual-summary | coverage | quota-use`: settlement's read side.

Each reads settlement's existing store (never creating one) and never writes the live ledger.
"""

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from rehab.cli_failures import CommandFailed, ExitCode, first_line, warn
from rehab.cli_options import DATE_RANGE, FIRST_YEAR, LAST_YEAR, YEAR_RANGE, DatabaseUrl, VarDir, one_of
from rehab.cli_stores import existing_store

if TYPE_CHECKING:
    from sqlalchemy import Engine

Year = Annotated[
    int, typer.Option("--year", callback=YEAR_RANGE, help=f"年度（{FIRST_YEAR}-{LAST_YEAR}），如 2025")
]
User = Annotated[
    str | None,
    typer.Option(
        "--user",
        help="你自己的用户名（rehab users add）：rehab 用 --access-dir 的令牌密钥给你签发 15 分钟的令牌，"
        "向调查服务（survey）申领个人信息密钥，每次申领留审计记录",
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="REHAB_TOKEN", help="你自己的令牌（rehab token 用户名；默认 $REHAB_TOKEN）"
    ),
]
AccessDir = Annotated[
    Path | None,
    typer.Option(
        "--access-dir",
        help="--user 的用户和令牌密钥所在文件夹（默认 $REHAB_ACCESS_DIR，否则 <var-dir>/access）",
    ),
]
SurveyUrl = Annotated[
    str | None, typer.Option("--survey-url", help="调查服务地址（默认 $REHAB_SURVEY_URL，否则本机 8101）")
]

HELP = {
    "replay": "从事件存档重建结算台账（replay）并打印合计；--as-of 看某日的台账，--policy 看另一政策会付多少"
    "（--inputs 给出它另行规定的数额）",
    "explain": "说明一笔记账（posting）的金额为何如此：规则、政策条款和数值、输入、算式、来源事件",
    "statement": "某收款方（payee）某年或某月的对账单（statement），csv 或 xlsx；"
    "个人收款方印出姓名（留审计记录）",
    "annual-summary": "附件3《康复需求和康复服务情况汇总表》xlsx，按街道和社区；"
    "个人信息用你自己的令牌申领（留审计记录）",
    "coverage": "某年度各街道的覆盖率（coverage），对照政策目标",
    "quota-use": "某年度各区县的任务完成情况（quota use）：任务数对照已批准的儿童",
}


def register(app: typer.Typer) -> None:
    for name, command in (
        ("replay", replay),
        ("explain", explain),
        ("statement", statement),
        ("annual-summary", annual_summary),
        ("coverage", coverage),
        ("quota-use", quota_use),
    ):
        app.command(name, help=HELP[name])(command)


def replay(
    var_dir: VarDir,
    database_url: DatabaseUrl = None,
    as_of: Annotated[
        date | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            metavar="DATE",
            callback=DATE_RANGE,
            help="打印该日（北京时间）结束时的台账：只在内存中重放结算当时已收到的事件，不动实时台账"
            f"（{FIRST_YEAR}-01-01 至 {LAST_YEAR}-12-31）",
        ),
    ] = None,
    known_by: Annotated[
        str,
        typer.Option(
            callback=one_of(["received", "recorded"]),
            help="配合 --as-of：按结算收到事件的时间（received，台账当时的样子）"
            "或产生方记录的时间（recorded）",
        ),
    ] = "received",
    policy: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="在内存中按这份政策文件重放全部存档，打印与实时台账的差额（按收款方、资金来源和级次）",
        ),
    ] = None,
    inputs: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="配合 --policy：政策原文另行规定的数额（部署参数）取自这份 inputs.toml；"
            "默认取政策文件所在辖区包的 inputs.toml。仍缺的数额会逐项列出",
        ),
    ] = None,
    from_archive: Annotated[
        bool,
        typer.Option(help="先只从存档重新推导事实日志（逐个校验事件）再重建；默认读实时台账写的事实日志"),
    ] = False,
) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from rehab.cli_progress import working

    if policy is not None and as_of is not None:
        raise CommandFailed("--policy 和 --as-of 不能同时使用", ExitCode.USAGE)
    if inputs is not None and policy is None:
        raise CommandFailed("--inputs 只能配合 --policy 使用", ExitCode.USAGE)
    from services.settlement.ledger.jurisdiction_check import LedgerOfAnotherJurisdiction

    engine = existing_store("settlement", var_dir, database_url)
    try:
        with working("正在重放结算事件（replay）…"):
            return _replay_in(engine, as_of, known_by, (policy, inputs), from_archive)
    except LedgerOfAnotherJurisdiction as refused:
        raise CommandFailed(f"rehab replay：{refused}", ExitCode.PROBLEM) from refused
    except (ValueError, ArithmeticError, SQLAlchemyError) as error:  # a stored value, not a bug to trace
        warn(f"rehab replay：存档的事件无法重放：{_shown(error)}")
        _print_amounts_beyond_bound(engine, whole_archive=True)
        return ExitCode.PROBLEM


def _replay_in(
    engine: "Engine",
    as_of: date | None,
    known_by: str,
    policy_and_inputs: tuple[Path | None, Path | None],
    from_archive: bool,
) -> int:
    from services.settlement.ledger.replay import rebuild_ledger
    from services.settlement.ledger.report import render

    policy, inputs = policy_and_inputs
    if policy is not None:
        from services.settlement.commands import replay_under_policy

        return replay_under_policy(engine, policy, inputs)
    if as_of is not None:
        from services.settlement.commands import replay_as_of_date

        return replay_as_of_date(engine, as_of, "recorded" if known_by == "recorded" else "received")
    report = rebuild_ledger(engine, source="archive" if from_archive else "log")
    typer.echo(render(report), nl=False)
    beyond = _print_amounts_beyond_bound(engine, whole_archive=False)
    return ExitCode.OK if report.balanced and not beyond else ExitCode.PROBLEM


def _print_amounts_beyond_bound(engine: "Engine", *, whole_archive: bool) -> int:
    """Name each stored amount beyond MAX_AMOUNT_FEN (issue 14: recorded before the bound existed)."""
    from kernel.access.audit import printable
    from rehab.verify_amounts import stored_amounts_beyond_bound

    with engine.connect() as connection:
        lines = stored_amounts_beyond_bound(connection, whole_archive=whole_archive)
    for line in lines:
        warn(f"rehab replay：存档金额超出上限（stored beyond the bound）：{printable(line)}")
    return len(lines)


def _shown(error: BaseException) -> str:
    from kernel.access.audit import printable

    return printable(f"{type(error).__name__}: {first_line(error)}")


def explain(
    posting_id: Annotated[str, typer.Argument(help="记账编号（posting id；GET /ledger/postings 列出）")],
    var_dir: VarDir,
    database_url: DatabaseUrl = None,
) -> int:
    from services.settlement.book.policy import load_policies
    from services.settlement.deployment import deployment_jurisdiction
    from services.settlement.documents.explain import explain_posting, render_explanation
    from services.settlement.documents.labels import AccountNames

    try:
        wanted = UUID(posting_id)
    except ValueError as wrong:
        raise CommandFailed(f"不是记账编号（posting id）：{posting_id!r}", ExitCode.USAGE) from wrong
    engine = existing_store("settlement", var_dir, database_url)
    policies = load_policies()
    explanation = explain_posting(engine, wanted, policies, AccountNames(deployment_jurisdiction(), policies))
    if explanation is None:
        raise CommandFailed(f"台账中没有这笔记账（no posting）：{posting_id}", ExitCode.PROBLEM)
    typer.echo(render_explanation(explanation), nl=False)
    return ExitCode.OK


def statement(
    var_dir: VarDir,
    payee: Annotated[str, typer.Option(metavar="ACCOUNT", help="收款方账户，如 street:鸳鸯、person:<编号>")],
    period: Annotated[str, typer.Option(help="年份（2025）或月份（2025-03）")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format", callback=one_of(["csv", "xlsx"]), help="格式（默认按 --out 的后缀，否则 csv）"
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="写入的文件（默认 csv 输出到屏幕）")] = None,
    user: User = None,
    token: Token = None,
    access_dir: AccessDir = None,
    survey_url: SurveyUrl = None,
    database_url: DatabaseUrl = None,
) -> int:
    from rehab.documents import KeyHolder, write_statement

    holder = KeyHolder(_access_dir(access_dir, var_dir), user, token, survey_url)
    engine = existing_store("settlement", var_dir, database_url)
    return write_statement(engine, payee, period, format, out, holder)


def annual_summary(
    var_dir: VarDir,
    year: Year,
    street: Annotated[str, typer.Option(help="街道，如 鸳鸯")],
    out: Annotated[Path, typer.Option(help="写入的 .xlsx 文件")],
    community: Annotated[str | None, typer.Option(help="只要一个社区（默认每个社区一张表）")] = None,
    preparer: Annotated[str, typer.Option(help="填表人")] = "",
    reviewer: Annotated[str, typer.Option(help="审核人")] = "",
    filled_on: Annotated[date | None, typer.Option(formats=["%Y-%m-%d"], help="填表日期（默认留空）")] = None,
    user: User = None,
    token: Token = None,
    access_dir: AccessDir = None,
    survey_url: SurveyUrl = None,
    database_url: DatabaseUrl = None,
) -> int:
    from rehab.documents import KeyHolder, write_annual_summary
    from services.settlement.documents.annual_summary import Signatures

    holder = KeyHolder(_access_dir(access_dir, var_dir), user, token, survey_url)
    engine = existing_store("settlement", var_dir, database_url)
    signatures = Signatures(preparer, reviewer, filled_on)
    return write_annual_summary(engine, year, street, community, out, signatures, holder)


def _access_dir(given: Path | None, var_dir: Path) -> Path:
    """The deployment's access folder: --access-dir, $REHAB_ACCESS_DIR, else <var-dir>/access."""
    from rehab.settings import operator_settings

    return given or operator_settings().access_dir or var_dir / "access"


def coverage(year: Year, var_dir: VarDir, database_url: DatabaseUrl = None) -> int:
    from services.settlement.commands import print_coverage

    return print_coverage(existing_store("settlement", var_dir, database_url), year)


def quota_use(
    year: Year,
    var_dir: VarDir,
    database_url: DatabaseUrl = None,
    jurisdiction: Annotated[
        str | None, typer.Option(help="按谁的政策定任务数（如 anyang）；默认本部署的（REHAB_REFERENCE）")
    ] = None,
) -> int:
    from services.settlement.commands import print_quota_use

    return print_quota_use(existing_store("settlement", var_dir, database_url), year, jurisdiction)
