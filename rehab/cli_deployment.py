"""The deployment `rehab up` and `rehab demo --start-services` run: Redis (ours, if none answers at the
URL) plus the five services, stopped on exit; a taken port or a Redis that may lose events refused first.
Their ports are deploy/services.toml's unless `--base-port` or `--ports` says otherwise."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from rehab.cli_failures import CommandFailed, ExitCode, say
from rehab.settings import operator_settings

if TYPE_CHECKING:  # imported where used: `rehab serve` starts each service and needs neither
    from rehab.local_redis import LocalRedis
    from rehab.processes import ServiceProcesses

VOLATILE_OVERRIDE = "REHAB_ALLOW_VOLATILE_REDIS"
FREE_PORT_EXAMPLE = "redis://127.0.0.1:6390/0"


CONSOLE = "console"
"""The staff console's name in `--ports` (console=9100)."""
PORT_OPTIONS = "--base-port / --ports"


@dataclass(frozen=True)
class Ports:
    """The HTTP ports of one deployment's services and of its staff console."""

    services: dict[str, int] = field(default_factory=dict)
    console: int = 0

    @classmethod
    def configured(cls) -> Ports:
        """deploy/services.toml's ports (REHAB_SERVICES_FILE) and the console's 8100."""
        from console.settings import CONSOLE_PORT
        from kernel.deployment import load_deployment

        return cls(dict(load_deployment().ports), CONSOLE_PORT)

    @classmethod
    def chosen(cls, base_port: int | None = None, ports: str | None = None) -> Ports:
        """The configured ports, or the console at ``base_port`` and each service after it in workflow
        order (9100: console 9100, survey 9101 … settlement 9105); then ``ports`` (``survey=9201,…``)."""
        configured = cls.configured()
        services, console = configured.services, configured.console
        if base_port is not None:
            if not 1 <= base_port <= 65535 - len(services):
                raise CommandFailed(
                    f"--base-port {base_port} 无效：应在 1 到 {65535 - len(services)} 之间", ExitCode.USAGE
                )
            console = base_port
            services = {name: base_port + offset for offset, name in enumerate(services, start=1)}
        if ports:
            given = _named_ports(ports, [*services, CONSOLE])
            console = given.pop(CONSOLE, console)
            services = services | given
        chosen = cls(services, console)
        chosen._refuse_shared()
        return chosen

    def _refuse_shared(self) -> None:
        named = {CONSOLE: self.console, **self.services}
        for name, port in named.items():
            if sharing := [other for other, taken in named.items() if taken == port and other != name]:
                raise CommandFailed(
                    f"端口 {port} 同时分给了 {name} 和 {'、'.join(sharing)}："
                    f"每个服务要有自己的端口（{PORT_OPTIONS}）",
                    ExitCode.USAGE,
                )


def _named_ports(text: str, names: list[str]) -> dict[str, int]:
    """``survey=9201,console=9200`` as {name: port}; a name or port that is not one, refused (exit 2)."""
    given: dict[str, int] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, equals, number = (piece.strip() for piece in part.partition("="))
        if not equals or name not in names:
            raise CommandFailed(
                f"--ports 中的 {part!r} 无效：应写成 名称=端口，用逗号分隔，名称为 {'、'.join(names)}"
                "（如 --ports survey=9101,console=9100）",
                ExitCode.USAGE,
            )
        if not number.isdigit() or not 1 <= int(number) <= 65535:
            raise CommandFailed(
                f"--ports 中 {name} 的端口 {number!r} 无效：应为 1 到 65535 的整数", ExitCode.USAGE
            )
        given[name] = int(number)
    return given


DURABILITY_PROBLEMS = (
    (
        re.compile(r"appendonly is not 'yes'.*"),
        "未开启 AOF（appendonly 不是 yes），Redis 崩溃会丢失已确认的条目",
    ),
    (re.compile(r"appendfsync is (.*), not .*"), r"appendfsync 为 \1，应为 always 或 everysec"),
    (
        re.compile(r"maxmemory-policy is (.*), not .*"),
        r"maxmemory-policy 为 \1，应为 noeviction（内存满时不删条目）",
    ),
    (
        re.compile(r"cannot read Redis persistence settings \((.*)\);.*"),
        r"读不到 Redis 的持久化设置（\1）：须允许 INFO",
    ),
)
"""kernel.messaging.durability's findings (English, for the services' logs), as the operator reads them."""


def _in_chinese(problem: str) -> str:
    for english, chinese in DURABILITY_PROBLEMS:
        if english.fullmatch(problem):
            return english.sub(chinese, problem)
    return problem


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something already listens on (or holds) ``host:port``."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def refuse_taken_ports(
    ports: dict[str, int], *, instead: str = PORT_OPTIONS, host: str = "127.0.0.1"
) -> None:
    """Exit 5 naming the first port taken and the option choosing another, before anything is started
    (not a service dying in its log)."""
    for name, port in ports.items():
        if port_taken(port, host):
            raise CommandFailed(
                f"端口 {port} 已被占用（port in use），{name} 无法启动：先停止占用它的程序"
                f"（也许是另一个 rehab up；ss -ltnp | grep {port} 可查），或用 {instead} 换用空闲的端口",
                ExitCode.PORT_IN_USE,
            )


class Deployment:
    """Redis plus the services of one var folder; a context manager that stops what it started."""

    def __init__(
        self,
        var_dir: Path,
        redis_url: str,
        *,
        agency_users: bool = False,
        with_access: bool = False,
        ports: Ports | None = None,
    ) -> None:
        self.var_dir = var_dir
        self.redis_url = redis_url
        self.agency_users = agency_users
        self.with_access = with_access
        self.ports = ports or Ports.configured()
        self.redis: LocalRedis | None = None
        self.services: ServiceProcesses | None = None

    @property
    def redis_address(self) -> str:
        return f"{urlparse(self.redis_url).hostname}:{self._port}"

    def __enter__(self) -> ServiceProcesses:
        console = {"工作台（console）": self.ports.console} if self.with_access else {}
        if self.agency_users:
            self._refuse_a_redis_that_answers()  # a wrong use of the options, said before any port
        refuse_taken_ports(self.ports.services | console)  # before Redis is started
        self.services = self._agency_users() if self.agency_users else self._shared_user()
        try:
            return self.services.start()
        except RuntimeError as failed:  # a service exited or never became healthy: its log says why
            self.__exit__(None, None, None)
            raise CommandFailed(f"服务启动失败：{failed}", ExitCode.PROBLEM) from failed
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def _shared_user(self) -> ServiceProcesses:
        """Services as one Redis user: the one answering at the URL, or a durable redis-server of ours."""
        from rehab.local_redis import LocalRedis, answers, unsafe_settings
        from rehab.processes import ServiceProcesses

        if not answers(self.redis_url):
            refuse_taken_ports({"redis-server": self._port}, instead=f"--redis-url（如 {FREE_PORT_EXAMPLE}）")
            say(f"正在启动 redis-server，端口 {self._port}（数据在 {self.var_dir / 'redis'}）")
            self.redis = LocalRedis(self.var_dir / "redis", self._port).start()
        elif (problems := unsafe_settings(self.redis_url)) and not operator_settings().allow_volatile_redis:
            found = "；".join(map(_in_chinese, problems))
            raise CommandFailed(
                f"{self.redis_url} 上的 Redis 可能丢失已确认的事件（{found}），服务会拒绝它。"
                f"给 --redis-url 一个空闲端口（如 {FREE_PORT_EXAMPLE}），rehab 会启动自己的持久化 "
                f"redis-server；或演示时设置 {VOLATILE_OVERRIDE}=1",
                ExitCode.USAGE,
            )
        return ServiceProcesses(
            self.var_dir,
            self.redis_url,
            ports=self.ports.services,
            console_port=self.ports.console,
            with_access=self.with_access,
        )

    def _refuse_a_redis_that_answers(self) -> None:
        from rehab.local_redis import AGENCY_USERS, answers

        if answers(self.redis_url, even_unauthenticated=True):
            raise CommandFailed(
                f"--agency-users 会用 {AGENCY_USERS.name} 启动 rehab 自己的 Redis，但 {self.redis_url} "
                f"已有 Redis 应答：给 --redis-url 一个空闲端口（free port），如 {FREE_PORT_EXAMPLE}",
                ExitCode.USAGE,
            )

    def _agency_users(self) -> ServiceProcesses:
        """Each service as its own ACL user of a redis-server of ours started with deploy/redis/users.acl."""
        from rehab.local_redis import AGENCY_USERS, LocalRedis
        from rehab.processes import ServiceProcesses

        self._refuse_a_redis_that_answers()
        say(f"正在启动 redis-server，端口 {self._port}，各机构以自己的 ACL 用户连接")
        self.redis = LocalRedis(self.var_dir / "redis", self._port, aclfile=AGENCY_USERS).start()
        return ServiceProcesses.with_agency_users(
            self.var_dir,
            self.redis,
            ports=self.ports.services,
            console_port=self.ports.console,
            with_access=self.with_access,
        )

    @property
    def _port(self) -> int:
        return urlparse(self.redis_url).port or 6379

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        if self.services is not None:
            self.services.stop()
        if self.redis is not None:
            self.redis.stop()
