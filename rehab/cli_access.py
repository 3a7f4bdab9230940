"""`rehab users | token | audit`: who may sign in, their bearer tokens, and who read whose personal data."""

import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kernel.access.auth import AUDIT, Role
from rehab.cli_failures import CommandFailed, ExitCode, say
from rehab.cli_options import SERVICE_CHOICE, AccessDir, DatabaseUrl, VarDir, one_of
from rehab.cli_stores import default_var_dir
from rehab.services import SERVICES

if TYPE_CHECKING:
    from rehab.users import UserDirectory

AGENCIES = [*SERVICES, AUDIT]
ROLES = [str(role) for role in Role]

UserName = Annotated[str, typer.Argument(help="用户名，如 孙干事")]
ConsoleVarDir = Annotated[
    Path,
    typer.Option(
        "--console-var-dir",
        default_factory=default_var_dir,
        show_default=False,
        help="工作台 console.db 所在的 var 文件夹"
        "（默认 $REHAB_VAR_DIR 或 var；$REHAB_CONSOLE_DATABASE_URL 优先）",
    ),
]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="从标准输入读工作台密码（否则 set-password 打印一个一次性密码）；用户首次登录须改密码",
    ),
]


def register(app: typer.Typer) -> None:
    users = typer.Typer(help="可签发令牌的用户：添加、列出、停用；设置工作台密码", no_args_is_help=True)
    users.command("add", help="添加用户：机构、角色、范围（scope 须是本辖区的街道、社区或机构）")(add)
    users.command("list", help="列出用户")(list_users)
    users.command("disable", help="停用用户：不再签发新令牌，已签发的到期失效")(disable)
    users.command("rotate-key", help="换一把令牌密钥；已签发的令牌到期前仍有效")(rotate_key)
    users.command("set-password", help="设置用户的工作台密码（首次登录须更改，并解除锁定）")(set_password)
    app.add_typer(users, name="users")
    app.command("token", help="给用户签发令牌（bearer token），打印到标准输出")(token)
    app.command("audit", help="谁在何时、为何查阅了哪个人的个人信息（审计记录）")(audit)


def add(
    name: UserName,
    access_dir: AccessDir,
    console_var_dir: ConsoleVarDir,
    agency: Annotated[str, typer.Option(callback=one_of(AGENCIES), help="用户所在机构的服务")],
    role: Annotated[list[str], typer.Option(callback=one_of(ROLES), help="角色（可重复）")],
    scope: Annotated[
        str,
        typer.Option(help="范围：district、street:<街道>、community:<街道>/<社区> 或 institution:<机构编号>"),
    ],
    password_stdin: PasswordStdin = False,
    replace: Annotated[bool, typer.Option("--replace", help="替换同名的已有用户")] = False,
) -> int:
    from kernel.access.audit import printable
    from kernel.access.auth import Agency
    from rehab.scopes import jurisdiction_scope
    from rehab.users import User, UserDirectory, UserUnknown

    if (shown := printable(name)) != name or not name.strip():
        raise CommandFailed(
            f"用户名“{shown}”含控制字符或为空：用户名会出现在表格、令牌和审计记录中，只能是可见的文字",
            ExitCode.USAGE,
        )
    checked = jurisdiction_scope(scope)
    directory = UserDirectory(access_dir)
    try:
        existing = directory.user(name)
    except UserUnknown:
        existing = None
    if existing is not None and not replace:
        raise CommandFailed(
            f"已有用户 {name}（{existing.agency}，{existing.scope}）：要替换它请加 --replace",
            ExitCode.PROBLEM,
        )
    directory.add(User(name, Agency(agency), frozenset(Role(r) for r in role), checked))
    say(f"已添加用户 {name}：{agency}，{'、'.join(role)}，{checked}")
    if password_stdin:
        return _set_password(directory, console_var_dir, name, generated=False)
    say(f"工作台密码：rehab users set-password {name}")
    return ExitCode.OK


def list_users(access_dir: AccessDir) -> int:
    from rehab.cli_tables import add_row, show, table

    users = _existing(access_dir).users()
    if not users:
        say(f"{access_dir} 中没有用户（no users）：用 rehab users add 添加")
        return ExitCode.OK
    listed = table("用户（user）", "机构（agency）", "角色（roles）", "范围（scope）", "状态（state）")
    for user in users:
        state = "可用" if user.enabled else "已停用（disabled）"
        roles = ",".join(sorted(user.roles))
        add_row(listed, (user.name, str(user.agency), roles, str(user.scope), state))
    show(listed)
    return ExitCode.OK


def _existing(access_dir: Path) -> "UserDirectory":
    """The deployment's users; an access folder that does not exist (another folder, a typo) is
    refused, not read as a deployment without users."""
    from rehab.users import UserDirectory

    if not access_dir.is_dir():
        raise CommandFailed(
            f"用户文件夹 {access_dir.absolute()} 不存在：请在部署的文件夹里运行，或用 --access-dir / "
            "REHAB_ACCESS_DIR 指向部署的 access 文件夹（新部署先 rehab users add 添加第一个用户）",
            ExitCode.USAGE,
        )
    return UserDirectory(access_dir)


def disable(name: UserName, access_dir: AccessDir) -> int:
    from rehab.users import UserUnknown

    try:
        _existing(access_dir).disable(name)
    except UserUnknown as unknown:
        raise CommandFailed(str(unknown), ExitCode.PROBLEM) from unknown
    say(f"{name} 已停用：不再签发新令牌；已签发的在有效期内到期")
    return ExitCode.OK


def rotate_key(access_dir: AccessDir) -> int:
    from rehab.users import UserDirectory

    say(f"新的令牌密钥 {UserDirectory(access_dir).rotate_key()}；已签发的令牌到期前仍有效")
    return ExitCode.OK


def set_password(
    name: UserName,
    access_dir: AccessDir,
    console_var_dir: ConsoleVarDir,
    password_stdin: PasswordStdin = False,
) -> int:

    return _set_password(_existing(access_dir), console_var_dir, name, generated=not password_stdin)


def _set_password(directory: "UserDirectory", console_var_dir: Path, name: str, *, generated: bool) -> int:
    """The user's staff-console password: read from stdin, or generated and printed once."""
    from rehab.users import UserUnknown, console_store_url, set_console_password

    given = None if generated else sys.stdin.readline().rstrip("\r\n")
    try:
        password = set_console_password(directory, console_store_url(console_var_dir), name, given)
    except (UserUnknown, ValueError) as refused:
        raise CommandFailed(f"没有设置 {name} 的工作台密码：{refused}", ExitCode.PROBLEM) from refused
    if generated:
        say(f"{name} 的一次性工作台密码（one-time password）：{password}")
    say(f"{name} 首次登录工作台时须设置新密码（账号已解锁）")
    return ExitCode.OK


def token(
    name: UserName,
    access_dir: AccessDir,
    hours: Annotated[float, typer.Option(min=0.01, help="有效期（小时）")] = 8.0,
) -> int:
    from rehab.users import UserUnknown

    try:
        issued = _existing(access_dir).issue_token(name, lifetime=timedelta(hours=hours))
    except UserUnknown as unknown:
        raise CommandFailed(f"不能签发令牌：{unknown}", ExitCode.PROBLEM) from unknown
    say(issued)
    return ExitCode.OK


def audit(
    service: Annotated[str, typer.Option(callback=SERVICE_CHOICE, help="哪个服务的审计记录")],
    var_dir: VarDir,
    database_url: DatabaseUrl = None,
    user: Annotated[str | None, typer.Option(help="只看这个用户的查阅")] = None,
    subject: Annotated[str | None, typer.Option(help="只看对这个人（人员编号）或申请的查阅")] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], metavar="DATE", help="从这天起（UTC）")
    ] = None,
) -> int:
    from kernel.access.audit import AuditTrail, printable
    from rehab.cli_stores import existing_store

    start = datetime.combine(date(since.year, since.month, since.day), time(), UTC) if since else None
    trail = AuditTrail(existing_store(service, var_dir, database_url))
    say(
        "查阅时间 read_at\t用户 user\t机构 agency\t角色 roles\t范围 scope\t"
        "操作 action\t对象 subject\t目的 purpose\t状态 status"
    )
    for entry in trail.entries(user=user, subject=subject, since=start):
        who = (entry.user, entry.agency, entry.roles, entry.scope)
        what = (entry.action, entry.subject, entry.purpose, str(entry.status))
        cells = (entry.read_at.isoformat(timespec="seconds"), *who, *what)
        say("\t".join(map(printable, cells)))  # a stored value cannot forge a row (issue 14)
    return ExitCode.OK
