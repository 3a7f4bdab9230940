"""`rehab forget <person-id>`: destroy a person's data key in the survey registry (删除个人信息)."""

from typing import Annotated
from uuid import UUID

import typer

from rehab.cli_failures import CommandFailed, ExitCode, say
from rehab.cli_options import DatabaseUrl, VarDir

HELP = (
    "销毁一个人的个人信息密钥：其个人信息在各处显示为（已删除），金额不变。\n\n在调查服务（survey）的数据库上运行"
    "（如 rehab replay 在结算的数据库上）：密钥被覆盖删除，并在同一事务中记录 survey.person_forgotten；"
    "运行中的调查服务发布该事件，各消费者丢弃缓存的密钥。不可撤销。"
)


def register(app: typer.Typer) -> None:
    app.command("forget", help=HELP)(forget)


def forget(
    person_id: Annotated[str, typer.Argument(help="人员编号（person id；调查服务的 GET /persons 列出）")],
    var_dir: VarDir,
    database_url: DatabaseUrl = None,
) -> int:
    from kernel.domain.rejections import CommandRejected
    from kernel.store.store import EventStore
    from rehab.cli_stores import existing_store
    from services.survey import handlers
    from services.survey.projection import tables

    try:
        person = UUID(person_id)
    except ValueError as wrong:
        raise CommandFailed(f"不是人员编号（not a person id）：{person_id!r}", ExitCode.USAGE) from wrong
    store = EventStore(existing_store("survey", var_dir, database_url), producer="survey")
    store.create_schema(tables)  # adds person_keys to a store that predates it; nothing else changes
    try:
        key_id = handlers.forget_person(store, person)
    except CommandRejected as refused:
        raise CommandFailed(f"{refused.code}: {refused.message}", ExitCode.PROBLEM) from refused
    destroyed = (
        f"数据密钥 {key_id} 已销毁（data key destroyed）"
        if key_id
        else "登记早于加密，没有数据密钥（no data key）"
    )
    say(f"已遗忘人员 {person}（forgotten）：{destroyed}；其个人信息此后显示为（已删除）")
    return ExitCode.OK
