"""`rehab up | serve | demo`: run the deployment (safe by default), one agency's service, or the demo."""

import importlib
import logging
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from kernel.reference.jurisdiction import REFERENCE_VARIABLE
from rehab.cli_deployment import Deployment, Ports, refuse_taken_ports
from rehab.cli_failures import CommandFailed, ExitCode, say, warn
from rehab.cli_options import (
    FIRST_YEAR,
    LAST_YEAR,
    SERVICE_CHOICE,
    YEAR_RANGE,
    AgencyUsers,
    BasePort,
    PortList,
    RedisUrl,
    VarDir,
)
from rehab.demo_note import follow_the_demo, note_the_demo
from rehab.services import SERVICES

if TYPE_CHECKING:
    from rehab.demo import DemoSummary
    from rehab.journey import StepFailed
    from rehab.processes import ServiceProcesses

NO_ACCESS_WARNING = (
    "警告：访问控制已关闭（--no-access / --demo）。任何能连到这些端口的人都能读到完整的身份证号等个人信息，"
    "且不留审计记录。只在本机演示时这样运行。"
)


HELP = {
    "up": "启动 Redis（如无应答）、五个机构服务和工作台，默认开启访问控制；Ctrl-C 全部停止",
    "serve": "只运行一个机构的服务（只运行本部门服务的单位用）",
    "demo": "让一批真实感的残疾人走完全流程（调查、评估转介、审批、服务、结算），并打印汇总",
}


def register(app: typer.Typer) -> None:
    for name, command in (("up", up), ("serve", serve), ("demo", demo)):
        app.command(name, help=HELP[name])(command)


def up(
    redis_url: RedisUrl,
    var_dir: VarDir,
    agency_users: AgencyUsers = False,
    access: Annotated[
        bool,
        typer.Option(
            "--with-access/--no-access",
            help="访问控制（access control）：每个接口都要令牌（bearer token），个人信息的查阅留审计记录。"
            "默认开启；--no-access 只用于本机演示",
        ),
    ] = True,
    demo_mode: Annotated[
        bool, typer.Option("--demo", help="演示模式：同 --no-access，关闭访问控制（会有警告）")
    ] = False,
    base_port: BasePort = None,
    ports: PortList = None,
) -> int:
    chosen = Ports.chosen(base_port, ports)
    with_access = access and not demo_mode
    if not with_access:
        warn(NO_ACCESS_WARNING)
    follow_the_demo(var_dir, say, console_year=True)
    deployment = Deployment(
        var_dir, redis_url, agency_users=agency_users, with_access=with_access, ports=chosen
    )
    with deployment as services:
        say(f"rehab 已启动：Redis 在 {deployment.redis_address}")
        for service in SERVICES:
            say(f"  {service:<11} {services.url(service)}/docs")
        if with_access:
            folder = services.access.folder if services.access else var_dir / "access"
            say(f"访问控制已开启：rehab users add … / rehab token 用户名 --access-dir {folder}")
            _print_console(services)
        else:
            say("工作台（staff console）需要访问控制：去掉 --no-access / --demo 再运行 rehab up")
        say("Ctrl-C 停止全部服务。")
        return _wait_until_stopped(services, var_dir)


def _wait_until_stopped(services: "ServiceProcesses", var_dir: Path) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    try:
        while all(process.poll() is None for process in services.processes.values()):
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("\n正在停止…")
        return ExitCode.OK
    stopped = [name for name, process in services.processes.items() if process.poll() is not None]
    raise CommandFailed(f"{'、'.join(stopped)} 已退出：见日志 {var_dir / 'logs'}", ExitCode.PROBLEM)


def _print_console(services: "ServiceProcesses") -> None:
    """Start the staff console with the demo clerks (public passwords: a demo deployment) and print them."""
    from console.demo import demo_logins
    from console.labels import scope_label
    from console.settings import ConsoleSettings
    from kernel.reference import deployment_reference, load_jurisdiction

    assert services.access is not None
    settings = ConsoleSettings(var_dir=services.var_dir, access_dir=services.access.folder)
    logins = demo_logins(services.access, settings.store_url)
    try:
        address = services.start_console()
    except RuntimeError as failed:  # it exited or never answered: its log says why
        raise CommandFailed(f"工作台（staff console）启动失败：{failed}", ExitCode.PROBLEM) from failed
    say(f"工作台（staff console）：{address}")
    jurisdiction = load_jurisdiction(deployment_reference())
    institutions = {i.id: i.name for i in jurisdiction.assessment_institutions}
    institutions |= {i.id: i.name for i in jurisdiction.service_institutions}
    for login in logins:
        password = login.password if login.password is not None else "（已有本人的密码，未改动）"
        say(f"  演示登录 {login.name} / {password}（{scope_label(login.scope, institutions)}）")


def serve(
    service: Annotated[str, typer.Argument(callback=SERVICE_CHOICE, help="哪个机构的服务")],
    redis_url: RedisUrl,
    var_dir: VarDir,
    port: Annotated[int | None, typer.Option(help="HTTP 端口（默认按服务 8101-8105）")] = None,
    host: Annotated[str | None, typer.Option(help="监听的网卡地址（默认 $REHAB_HOST 或 127.0.0.1）")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="本服务数据库的 SQLAlchemy URL（默认 --var-dir 中的 SQLite）")
    ] = None,
) -> int:
    import uvicorn

    from kernel.runtime import FREEZE_AFTER_START, ServiceSettings

    logging.getLogger().setLevel(logging.INFO)  # a service's log (var/logs/<service>.log) tells what it did
    from kernel.web.logs import configure_logging

    configure_logging(service)  # one JSON object per line (REHAB_LOG_FORMAT), personal data masked

    options: dict[str, Any] = {"database_url": database_url, "port": port, "host": host}
    # Options not given on the command line fall back to REHAB_* variables, then to defaults.
    settings = ServiceSettings(
        service=service,
        var_dir=var_dir,
        redis_url=redis_url,
        **{name: value for name, value in options.items() if value is not None},
    )
    # Before migrations and consumers start: a taken port is one line and exit 5, not uvicorn's log.
    refuse_taken_ports({service: settings.http_port}, instead="--port（或 REHAB_PORT）", host=settings.host)
    create_app = importlib.import_module(f"services.{service}.app").create_app
    # log_config=None: uvicorn's own loggers pass their lines to the root's handler, without colour codes
    app = create_app(settings)
    setattr(app.state, FREEZE_AFTER_START, True)  # a service process: its app lives as long as it does
    uvicorn.run(app, host=settings.host, port=settings.http_port, log_level="warning", log_config=None)
    return ExitCode.OK


def demo(
    redis_url: RedisUrl,
    var_dir: VarDir,
    agency_users: AgencyUsers = False,
    persons: Annotated[int, typer.Option(min=1, help="登记多少人")] = 300,
    year: Annotated[
        int | None,
        typer.Option(
            callback=YEAR_RANGE,
            help=f"调查和服务年度（{FIRST_YEAR}-{LAST_YEAR}）；"
            "默认该辖区政策管辖的一年（两江 2025、安阳 2021）",
        ),
    ] = None,
    jurisdiction: Annotated[
        str | None,
        typer.Option(
            help="哪个辖区包（deploy/jurisdictions 下的文件夹：liangjiang、shapingba、anyang）；"
            "默认本部署的（REHAB_REFERENCE）。配合 --start-services 时服务也按它运行"
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="随机种子（seed），样本可重复")] = 20250101,
    start_services: Annotated[
        bool,
        typer.Option(help="先启动 Redis 和五个服务，结束时停止（数据留在 --var-dir）"),
    ] = False,
    fresh: Annotated[
        bool, typer.Option(help="配合 --start-services：先删除上次演示的数据库、Redis 数据和日志")
    ] = False,
    base_port: BasePort = None,
    ports: PortList = None,
) -> int:
    from rehab.demo import NoDemo, demo_plan, print_summary
    from rehab.journey import StepFailed
    from rehab.processes import ServiceProcesses

    try:
        plan = demo_plan(jurisdiction)
    except NoDemo as unknown:
        raise CommandFailed(str(unknown), ExitCode.USAGE) from unknown
    if start_services:  # the services it starts inherit the pack (a running deployment keeps its own)
        os.environ[REFERENCE_VARIABLE] = plan.name
    if fresh and start_services:
        _remove_demo_data(var_dir)
    chosen = Ports.chosen(base_port, ports)
    year = year or plan.year
    sample: dict[str, Any] = {"persons": persons, "year": year, "seed": seed, "jurisdiction": plan.name}
    try:
        if start_services:
            with Deployment(var_dir, redis_url, agency_users=agency_users, ports=chosen) as services:
                summary = _drive(services.url, sample)
        else:
            summary = _drive(ServiceProcesses(var_dir, redis_url, ports=chosen.services).url, sample)
    except StepFailed as failure:
        _demo_stopped(failure, var_dir, fresh=fresh, started=start_services)
    print_summary(summary)
    note_the_demo(var_dir, plan.name, year)
    same_ports = (f" --base-port {base_port}" if base_port else "") + (f" --ports {ports}" if ports else "")
    _say_how_to_look(var_dir, year, chosen, same_ports, started=start_services)
    if not summary.ledger_balanced:
        raise CommandFailed("结算台账借贷不平衡（NOT BALANCED）：见上面的台账", ExitCode.PROBLEM)
    return ExitCode.OK


def _drive(url: Callable[[str], str], sample: dict[str, Any]) -> "DemoSummary":
    """The demo with a progress bar per stage on stderr (600 persons take more than a minute)."""
    from rehab.cli_progress import DemoBar
    from rehab.demo import run_demo

    with DemoBar() as progress:
        return run_demo(url, progress=progress, **sample)


def _demo_stopped(failure: "StepFailed", var_dir: Path, *, fresh: bool, started: bool) -> NoReturn:
    from kernel.access.audit import printable

    answer = printable(str(failure))[:500]
    if failure.status in (401, 403):
        raise CommandFailed(
            f"演示中止：服务开启了访问控制（access control），演示不带令牌（{answer}）。"
            "请用 rehab demo --start-services（自带无访问控制的演示部署），"
            "或先以 rehab up --demo 启动服务再运行 rehab demo",
            ExitCode.ACCESS,
        )
    hint = ""
    if failure.status is not None and 400 <= failure.status < 500 and not (fresh and started):
        hint = (
            "（同一个 --var-dir 里的第二次演示会遇到第一次登记的人："
            f"用 rehab demo --start-services --fresh 从空的 {var_dir} 开始"
            + ("" if started else "；已在运行的服务须与 --jurisdiction 用同一辖区包（REHAB_REFERENCE）")
            + "）"
        )
    raise CommandFailed(f"演示中止：{answer}{hint}", ExitCode.PROBLEM)


def _say_how_to_look(var_dir: Path, year: int, ports: Ports, same_ports: str, *, started: bool) -> None:
    if not started:
        say(f"\n在工作台查看结果：http://127.0.0.1:{ports.console}（由 rehab up 启动）")
        return
    say(
        f"\n演示用的服务已停止，数据留在 {var_dir}。查看结果：运行 rehab up --var-dir {var_dir}{same_ports}，"
        f"在打印出的工作台地址用演示登录进入；或 rehab coverage --year {year} --var-dir {var_dir}"
    )


def _remove_demo_data(var_dir: Path) -> None:
    for service in SERVICES:
        for suffix in ("db", "db-wal", "db-shm"):
            (var_dir / f"{service}.{suffix}").unlink(missing_ok=True)
    for folder in ("redis", "logs"):
        shutil.rmtree(var_dir / folder, ignore_errors=True)
