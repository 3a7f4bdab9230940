"""`rehab dlq | verify`: the operator's dead letters and the invariants across every store and Redis."""

import re
from typing import TYPE_CHECKING, Annotated

import typer

from rehab.cli_failures import CommandFailed, ExitCode, say, warn
from rehab.cli_options import SERVICE_CHOICE, RedisUrl, VarDir
from rehab.services import SERVICES

if TYPE_CHECKING:  # imported where used: `rehab serve` starts each service and needs no Redis client here
    import redis

DEAD_LETTER_ID = re.compile(r"^\d+(-\d+)?$")
"""A Redis stream entry id as `rehab dlq list` shows it (1700000000000-0)."""


def _store_option(service: str) -> typer.models.OptionInfo:
    variable = f"REHAB_DATABASE_URL_{service.upper()}"
    return typer.Option(
        f"--database-url-{service}",
        help=f"{service} 的数据库（默认 ${variable}，否则 --var-dir 中的 SQLite）",
    )


Service = Annotated[
    str | None,
    typer.Option("--service", callback=SERVICE_CHOICE, help="哪个服务的死信（默认全部）"),
]


def register(app: typer.Typer) -> None:
    dlq = typer.Typer(
        help="死信（dead letters）：列出消费者放弃的条目及原因；修复后重新投递一条或全部",
        no_args_is_help=True,
    )
    dlq.command("list", help="列出死信及原因")(dlq_list)
    dlq.command("retry", help="重新投递一条死信（编号和 --service），或 --all 全部")(dlq_retry)
    app.add_typer(dlq, name="dlq")
    app.command(
        "verify",
        help="在静止的部署上检查不变式 I1-I6（每个数据库和 Redis：不丢、不重、重放等于实时）；死信算违反",
    )(verify)


def dlq_list(redis_url: RedisUrl, service: Service = None) -> int:
    import redis

    from rehab.cli_tables import add_row, show, table
    from rehab.dlq import DEAD_LETTER_HEADINGS, dead_letter_rows, dead_letters

    client = redis.Redis.from_url(redis_url)
    rows = dead_letter_rows(dead_letters(client, [service] if service else SERVICES))
    if not rows:
        say("没有死信（no dead letters）")
        return ExitCode.OK
    listed = table(*DEAD_LETTER_HEADINGS)
    for row in rows:
        add_row(listed, row)
    show(listed)
    return ExitCode.OK


def dlq_retry(
    redis_url: RedisUrl,
    dead_letter_id: Annotated[
        str | None, typer.Argument(help="死信编号（rehab dlq list 显示的 dead letter id）")
    ] = None,
    service: Service = None,
    every: Annotated[bool, typer.Option("--all", help="全部死信（--service 的，含 --reason 的）")] = False,
    reason: Annotated[
        str | None,
        typer.Option(
            help="配合 --all：只投递原因（reason）、代码（code，如 event.rejected）"
            "或技术细节（detail）含这段文字的死信，不分大小写"
        ),
    ] = None,
) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    if every:
        return _retry_all(client, dead_letter_id, service, reason)
    if not (dead_letter_id and service):
        raise CommandFailed("rehab dlq retry 需要死信编号和 --service，或 --all", ExitCode.USAGE)
    if not DEAD_LETTER_ID.match(dead_letter_id):
        raise CommandFailed(
            f"{dead_letter_id!r} 不是死信编号（Invalid stream ID）："
            "编号形如 1700000000000-0，见 rehab dlq list",
            ExitCode.USAGE,
        )
    from rehab.dlq import CannotRetry, DeadLetterNotFound, retry

    try:
        entry_id = retry(client, service, dead_letter_id)
    except (DeadLetterNotFound, CannotRetry) as refused:
        raise CommandFailed(f"{service}：{refused}", ExitCode.PROBLEM) from refused
    say(f"已重新投递死信 {dead_letter_id}，新条目 {entry_id}（re-published）")
    return ExitCode.OK


def _retry_all(
    client: "redis.Redis", dead_letter_id: str | None, service: str | None, reason: str | None
) -> int:
    from rehab.dlq import retry_all

    if dead_letter_id:
        raise CommandFailed(
            "rehab dlq retry 只接受死信编号或 --all 之一（either a dead-letter id or --all）", ExitCode.USAGE
        )
    done = retry_all(client, [service] if service else SERVICES, reason=reason)
    for refused_service, letter_id, why in done.refused:
        warn(f"{refused_service} 的死信 {letter_id} 未重新投递，留在原处：{why}")
    if not done.dead_letters:
        say("没有要重新投递的死信（no dead letters to re-publish）")
        return ExitCode.PROBLEM if done.refused else ExitCode.OK
    say(
        f"已重新投递 {', '.join(done.services)} 的 {done.dead_letters} 条死信（{done.events} 个事件）"
        f"（re-published {done.dead_letters} dead letters of {', '.join(done.services)} "
        f"({done.events} events)）"
    )
    return ExitCode.PROBLEM if done.refused else ExitCode.OK


def verify(
    redis_url: RedisUrl,
    var_dir: VarDir,
    survey: Annotated[str | None, _store_option("survey")] = None,
    assessment: Annotated[str | None, _store_option("assessment")] = None,
    approval: Annotated[str | None, _store_option("approval")] = None,
    delivery: Annotated[str | None, _store_option("delivery")] = None,
    settlement: Annotated[str | None, _store_option("settlement")] = None,
) -> int:
    from rehab.cli_progress import working
    from rehab.cli_tables import add_row, show, table
    from rehab.settings import operator_settings
    from rehab.verify import store_urls, verify_deployment
    from rehab.verify_report import SUMMARY_HEADINGS, details, summary_rows, verdict

    given = {"survey": survey, "assessment": assessment, "approval": approval}
    given |= {"delivery": delivery, "settlement": settlement}
    configured = operator_settings()
    overrides = {service: url or configured.store_url_of(service) for service, url in given.items()}
    with working("正在读取各服务的数据库和 Redis 并检查不变式…"):
        results = verify_deployment(store_urls(var_dir, overrides), redis_url)
    typer.echo(details(results), nl=False)
    summary = table(*SUMMARY_HEADINGS)
    for row in summary_rows(results):
        add_row(summary, row)
    show(summary)
    say(verdict(results))
    return ExitCode.OK if all(result.ok for result in results) else ExitCode.PROBLEM
