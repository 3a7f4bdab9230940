"""`rehab`: run the agency services, the demo journey and settlement replays from one command."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.masking import install_log_masking
from rehab.services import SERVICES

if TYPE_CHECKING:  # imported where used, so each command loads only what it needs
    import redis

    from rehab.local_redis import LocalRedis
    from rehab.processes import ServiceProcesses

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
VOLATILE_OVERRIDE = "REHAB_ALLOW_VOLATILE_REDIS"
# Modules adding their own commands with register(commands): one per area, so areas grow apart.
COMMAND_MODULES = ("rehab.cli_settlement", "rehab.cli_security", "rehab.cli_access", "rehab.cli_privacy")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return int(args.run(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rehab",
        description="Precision rehabilitation services for disabled persons (残疾人精准康复服务).",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    up = commands.add_parser("up", help="start Redis (if needed) and all five services; Ctrl-C stops them")
    _deployment_options(up)
    _agency_users_option(up)
    up.add_argument(
        "--with-access",
        action="store_true",
        help="every API requires a bearer token (users and token key in <var-dir>/access: "
        "rehab users add …, rehab token NAME); the demo journey does not send tokens",
    )
    up.set_defaults(run=_up)

    serve = commands.add_parser(
        "serve", help="run one agency's service (for a department that runs only its own)"
    )
    serve.add_argument("service", choices=SERVICES)
    serve.add_argument("--port", type=int, help="HTTP port (default: 8101-8105 by service)")
    serve.add_argument("--host", help="interface to listen on (default $REHAB_HOST or 127.0.0.1)")
    serve.add_argument(
        "--database-url", help="SQLAlchemy URL of this service's store (default: SQLite in --var-dir)"
    )
    _deployment_options(serve)
    serve.set_defaults(run=_serve)

    demo = commands.add_parser("demo", help="drive a realistic sample of persons through the whole journey")
    demo.add_argument("--persons", type=int, default=300, help="how many persons to register (default 300)")
    demo.add_argument("--year", type=int, default=2025, help="the survey and service year (default 2025)")
    demo.add_argument("--seed", type=int, default=20250101, help="random seed, for a repeatable sample")
    demo.add_argument(
        "--start-services",
        action="store_true",
        help="start Redis and the five services first, and stop them at the end (data stays in --var-dir)",
    )
    demo.add_argument(
        "--fresh",
        action="store_true",
        help="with --start-services: first delete the previous demo's databases, Redis data and logs",
    )
    _deployment_options(demo)
    _agency_users_option(demo)
    demo.set_defaults(run=_demo)

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(commands)

    dlq = commands.add_parser("dlq", help="list dead letters, or re-deliver one (or all) after a fix")
    dlq.add_argument("action", choices=("list", "retry"))
    dlq.add_argument("dead_letter_id", nargs="?", help="with retry: the id `rehab dlq list` shows")
    dlq.add_argument(
        "--service", choices=SERVICES, help="whose dead letters (list and retry --all: default all)"
    )
    dlq.add_argument(
        "--all", action="store_true", help="with retry: every dead letter (of --service, with --reason)"
    )
    dlq.add_argument(
        "--reason", help="with retry --all: only dead letters whose reason contains this text (any case)"
    )
    dlq.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help=f"the shared Redis (default {DEFAULT_REDIS_URL})"
    )
    dlq.set_defaults(run=_dlq)

    verify = commands.add_parser(
        "verify", help="check invariants I1-I6 across every store and Redis (on a quiescent deployment)"
    )
    _deployment_options(verify)
    for service in SERVICES:
        verify.add_argument(
            f"--database-url-{service}",
            default=os.environ.get(f"REHAB_DATABASE_URL_{service.upper()}"),
            help=f"{service}'s store (default $REHAB_DATABASE_URL_{service.upper()} or SQLite in --var-dir)",
        )
    verify.set_defaults(run=_verify)
    return parser


def _deployment_options(parser: argparse.ArgumentParser) -> None:
    redis_url = os.environ.get("REHAB_REDIS_URL", DEFAULT_REDIS_URL)
    var_dir = Path(os.environ.get("REHAB_VAR_DIR", "var"))
    parser.add_argument(
        "--redis-url",
        default=redis_url,
        help=f"the shared Redis (default $REHAB_REDIS_URL or {DEFAULT_REDIS_URL})",
    )
    parser.add_argument(
        "--var-dir",
        type=Path,
        default=var_dir,
        help="where SQLite files and logs live (default $REHAB_VAR_DIR or ./var)",
    )


def _agency_users_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--agency-users",
        action="store_true",
        help="start rehab's own Redis with deploy/redis/users.acl and run each service as its own "
        "Redis user (as production does), not as the default user in demo mode",
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from kernel.runtime import ServiceSettings

    options = {"database_url": args.database_url, "port": args.port, "host": args.host}
    # Options not given on the command line fall back to REHAB_* variables, then to defaults.
    settings = ServiceSettings(
        service=args.service,
        var_dir=args.var_dir,
        redis_url=args.redis_url,
        **{name: value for name, value in options.items() if value is not None},
    )
    create_app = importlib.import_module(f"services.{args.service}.app").create_app
    uvicorn.run(create_app(settings), host=settings.host, port=settings.http_port, log_level="warning")
    return 0


def _up(args: argparse.Namespace) -> int:
    from urllib.parse import urlparse

    deployment = _deployment(
        args.var_dir, args.redis_url, agency_users=args.agency_users, with_access=args.with_access
    )
    with deployment as services:
        redis_at = urlparse(services.redis_url)
        print(f"rehab is up: Redis at {redis_at.hostname}:{redis_at.port or 6379}")
        for service in SERVICES:
            print(f"  {service:<11} {services.url(service)}/docs")
        if args.with_access:
            access_dir = args.var_dir / "access"
            print(f"access control on: rehab users add … / rehab token NAME --access-dir {access_dir}")
            _print_console(services)
        else:
            print("工作台 (staff console): needs access control, run `rehab up --with-access`")
        print("Ctrl-C stops everything.")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
        try:
            while all(process.poll() is None for process in services.processes.values()):
                time.sleep(0.5)
            print("a service exited; see the logs in", args.var_dir / "logs", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nstopping…")
    return 0


def _print_console(services: ServiceProcesses) -> None:
    """Start the staff console with the demo clerks (public passwords: a demo deployment) and print them."""
    from console.demo import demo_logins
    from console.labels import scope_label
    from console.settings import ConsoleSettings

    assert services.access is not None
    settings = ConsoleSettings(var_dir=services.var_dir, access_dir=services.access.folder)
    logins = demo_logins(services.access, settings.store_url)
    print(f"工作台 staff console: {services.start_console()}")
    for login in logins:
        print(f"  demo login {login.name} / {login.password}  ({scope_label(login.scope)})")


def _demo(args: argparse.Namespace) -> int:
    from rehab.demo import print_summary, run_demo
    from rehab.journey import StepFailed
    from rehab.processes import ServiceProcesses

    if args.fresh and args.start_services:
        _remove_demo_data(args.var_dir)
    try:
        if args.start_services:
            with _deployment(args.var_dir, args.redis_url, agency_users=args.agency_users) as services:
                summary = run_demo(services.url, persons=args.persons, year=args.year, seed=args.seed)
        else:
            urls = ServiceProcesses(args.var_dir, args.redis_url).url
            summary = run_demo(urls, persons=args.persons, year=args.year, seed=args.seed)
    except StepFailed as failure:
        print(f"demo stopped: {failure}", file=sys.stderr)
        print(
            f"(a second demo in the same --var-dir meets the first one's persons: add --fresh "
            f"to start from an empty {args.var_dir})",
            file=sys.stderr,
        )
        return 1
    print_summary(summary)
    return 0 if summary.ledger_balanced else 1


def _remove_demo_data(var_dir: Path) -> None:
    import shutil

    for service in SERVICES:
        for suffix in ("db", "db-wal", "db-shm"):
            (var_dir / f"{service}.{suffix}").unlink(missing_ok=True)
    for folder in ("redis", "logs"):
        shutil.rmtree(var_dir / folder, ignore_errors=True)


def _dlq(args: argparse.Namespace) -> int:
    import redis

    from rehab.dlq import DeadLetterNotFound, dead_letters, render, retry

    client = redis.Redis.from_url(args.redis_url)
    if args.action == "list":
        print(render(dead_letters(client, [args.service] if args.service else SERVICES)), end="")
        return 0
    if args.all:
        return _dlq_retry_all(client, args)
    if not (args.dead_letter_id and args.service):
        print("rehab dlq retry needs a dead-letter id and --service, or --all", file=sys.stderr)
        return 2
    try:
        entry_id = retry(client, args.service, args.dead_letter_id)
    except DeadLetterNotFound as missing:
        print(missing, file=sys.stderr)
        return 1
    print(f"re-published dead letter {args.dead_letter_id} as entry {entry_id}")
    return 0


def _dlq_retry_all(client: redis.Redis, args: argparse.Namespace) -> int:
    from rehab.dlq import retry_all

    if args.dead_letter_id:
        print("rehab dlq retry takes either a dead-letter id or --all", file=sys.stderr)
        return 2
    done = retry_all(client, [args.service] if args.service else SERVICES, reason=args.reason)
    if not done.dead_letters:
        print("no dead letters to re-publish")
        return 0
    print(
        f"re-published {done.dead_letters} dead letters of {', '.join(done.services)} ({done.events} events)"
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    from rehab.verify import StoreMissing, render, store_urls, verify_deployment

    overrides = {service: getattr(args, f"database_url_{service}") for service in SERVICES}
    try:
        results = verify_deployment(store_urls(args.var_dir, overrides), args.redis_url)
    except StoreMissing as missing:
        print(missing, file=sys.stderr)
        return 2
    print(render(results), end="")
    return 0 if all(result.ok for result in results) else 1


class _deployment:
    """Redis (ours, if none answers at the URL) plus the five services, stopped on exit."""

    def __init__(
        self, var_dir: Path, redis_url: str, *, agency_users: bool = False, with_access: bool = False
    ) -> None:
        self.var_dir = var_dir
        self.redis_url = redis_url
        self.agency_users = agency_users
        self.with_access = with_access
        self.redis: LocalRedis | None = None
        self.services: ServiceProcesses | None = None

    def __enter__(self) -> ServiceProcesses:
        self.services = self._agency_users() if self.agency_users else self._shared_user()
        try:
            return self.services.start()
        except BaseException:
            self.__exit__()
            raise

    def _shared_user(self) -> ServiceProcesses:
        """Services as one Redis user: the one answering at the URL, or a durable redis-server of ours."""
        from rehab.local_redis import LocalRedis, answers, unsafe_settings
        from rehab.processes import ServiceProcesses

        if not answers(self.redis_url):
            print(f"starting redis-server on port {self._port} (data in {self.var_dir / 'redis'})")
            self.redis = LocalRedis(self.var_dir / "redis", self._port).start()
        elif (problems := unsafe_settings(self.redis_url)) and not os.environ.get(VOLATILE_OVERRIDE):
            raise SystemExit(
                f"the Redis at {self.redis_url} may lose acknowledged events ({'; '.join(problems)}), "
                "so the services would refuse it. Give --redis-url a free port (e.g. "
                "redis://127.0.0.1:6390/0) and rehab starts a durable redis-server of its own, "
                f"or set {VOLATILE_OVERRIDE}=1 for a demo."
            )
        return ServiceProcesses(self.var_dir, self.redis_url, with_access=self.with_access)

    def _agency_users(self) -> ServiceProcesses:
        """Each service as its own ACL user of a redis-server of ours started with deploy/redis/users.acl."""
        from rehab.local_redis import AGENCY_USERS, LocalRedis, answers
        from rehab.processes import ServiceProcesses

        if answers(self.redis_url, even_unauthenticated=True):
            raise SystemExit(
                f"--agency-users starts a Redis of its own with {AGENCY_USERS.name}, but one already answers "
                f"at {self.redis_url}: give --redis-url a free port (e.g. redis://127.0.0.1:6390/0)"
            )
        print(f"starting redis-server on port {self._port} with the agencies' ACL users")
        self.redis = LocalRedis(self.var_dir / "redis", self._port, aclfile=AGENCY_USERS).start()
        return ServiceProcesses.with_agency_users(self.var_dir, self.redis, with_access=self.with_access)

    @property
    def _port(self) -> int:
        from urllib.parse import urlparse

        return urlparse(self.redis_url).port or 6379

    def __exit__(self, *_exc: object) -> None:
        if self.services is not None:
            self.services.stop()
        if self.redis is not None:
            self.redis.stop()


if __name__ == "__main__":
    sys.exit(main())
