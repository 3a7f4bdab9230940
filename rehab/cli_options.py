"""Options several `rehab` commands share, written once: the deployment's Redis, var and access folders."""

from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from rehab.cli_stores import default_access_dir, default_var_dir
from rehab.services import SERVICES
from rehab.settings import DEFAULT_REDIS_URL, operator_settings


def default_redis_url() -> str:
    return operator_settings().redis_url


RedisUrl = Annotated[
    str,
    typer.Option(
        "--redis-url",
        default_factory=default_redis_url,
        show_default=False,
        help=f"共享的 Redis（默认 $REHAB_REDIS_URL，否则 {DEFAULT_REDIS_URL}）",
    ),
]
VarDir = Annotated[
    Path,
    typer.Option(
        "--var-dir",
        default_factory=default_var_dir,
        show_default=False,
        help="部署的 var 文件夹：SQLite 数据库和日志（默认 $REHAB_VAR_DIR，否则 ./var）",
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="该服务数据库（store）的 SQLAlchemy URL（默认 --var-dir 中的 SQLite）"
    ),
]
AccessDir = Annotated[
    Path,
    typer.Option(
        "--access-dir",
        default_factory=default_access_dir,
        show_default=False,
        help="users.json 和令牌密钥（token key）所在文件夹（默认 $REHAB_ACCESS_DIR，否则 <var-dir>/access）",
    ),
]
AgencyUsers = Annotated[
    bool,
    typer.Option(
        "--agency-users",
        help="启动 rehab 自己的 Redis（deploy/redis/users.acl），每个服务以自己的 Redis 用户运行，如生产环境",
    ),
]
BasePort = Annotated[
    int | None,
    typer.Option(
        "--base-port",
        help="工作台用这个端口，五个服务依次用其后的端口"
        "（如 9100：工作台 9100，survey 9101 … settlement 9105）；"
        "默认工作台 8100、服务按 deploy/services.toml（8101-8105）",
    ),
]
PortList = Annotated[
    str | None,
    typer.Option(
        "--ports",
        help="逐个指定端口：名称=端口，逗号分隔（如 survey=9101,console=9100），名称为服务名或 console；"
        "可与 --base-port 合用，这里写的优先",
    ),
]
FIRST_YEAR, LAST_YEAR = 2000, 2100
"""The years a year option takes, as the services' year queries do (``ge=2000, le=2100``)."""

Chosen = TypeVar("Chosen", str, list[str], None)
Number = TypeVar("Number", int, int | None)


def within(low: int, high: int) -> Callable[[Number], Number]:
    """A callback refusing (exit 2) a number outside ``low``..``high``, naming the range."""

    def check(value: Number) -> Number:
        if value is not None and not low <= value <= high:
            raise typer.BadParameter(f"应在 {low} 至 {high} 之间，这里是 {value}")
        return value

    return check


YEAR_RANGE = within(FIRST_YEAR, LAST_YEAR)


def dates_within(first: date, last: date) -> Callable[[date | None], date | None]:
    """A callback refusing (exit 2) a date outside ``first``..``last``, naming the range."""

    def check(value: date | None) -> date | None:
        if value is not None and not first <= _day(value) <= last:
            raise typer.BadParameter(f"应在 {first} 至 {last} 之间，这里是 {_day(value)}")
        return value

    return check


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


DATE_RANGE = dates_within(date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31))
"""The business dates an option takes: the years of :data:`YEAR_RANGE`."""


def one_of(allowed: Sequence[str]) -> Callable[[Chosen], Chosen]:
    """A callback refusing (exit 2) a value, or a repeated option's value, that is not one of ``allowed``."""

    def check(value: Chosen) -> Chosen:
        given: list[str] = [value] if isinstance(value, str) else list(value or [])
        for one in given:
            if one not in allowed:
                raise typer.BadParameter(f"{one!r} 不是可选值之一：{'、'.join(allowed)}")
        return value

    return check


SERVICE_CHOICE = one_of(SERVICES)
