"""`rehab`: run the agency services, the demo journey and settlement replays from one command."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
VOLATILE_OVERRIDE = "REHAB_ALLOW_VOLATILE_REDIS"
SERVICES = ("survey", "assessment", "approval", "delivery", "settlement")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
    demo.set_defaults(run=_demo)

    replay = commands.add_parser(
        "replay", help="rebuild settlement's ledger from its event archive and print totals"
    )
    replay.add_argument("--database-url", help="settlement's store (default: SQLite in --var-dir)")
    replay.add_argument("--var-dir", type=Path, default=Path("var"))
    replay.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="DATE",
        help="print the ledger as it stood at the end of DATE (CST), replayed in memory from events "
        "settlement had received by then; the live ledger is not touched",
    )
    replay.add_argument(
        "--known-by",
        choices=("received", "recorded"),
        default="received",
        help="with --as-of: count events by when settlement received them (default: what the ledger "
        "showed) or by when their producer recorded them (what it would have shown without delays)",
    )
    replay.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="replay the whole archive in memory under this policy file (in place of the policy with its "
        "id) and print the difference from the live ledger per payee and funding source",
    )
    replay.set_defaults(run=_replay)

    _settlement_document_commands(commands)

    dlq = commands.add_parser("dlq", help="list dead letters, or re-deliver one after a fix")
    dlq.add_argument("action", choices=("list", "retry"))
    dlq.add_argument("dead_letter_id", nargs="?", help="with retry: the id `rehab dlq list` shows")
    dlq.add_argument("--service", choices=SERVICES, help="whose dead letters (list: default all)")
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


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from services.eventing.runtime import ServiceSettings

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
    with _deployment(args.var_dir, args.redis_url) as services:
        print(f"rehab is up: Redis at {services.redis_url}")
        for service in SERVICES:
            print(f"  {service:<11} {services.url(service)}/docs")
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


def _demo(args: argparse.Namespace) -> int:
    from rehab.demo import print_summary, run_demo
    from rehab.journey import StepFailed
    from rehab.processes import ServiceProcesses

    if args.fresh and args.start_services:
        _remove_demo_data(args.var_dir)
    try:
        if args.start_services:
            with _deployment(args.var_dir, args.redis_url) as services:
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


def _replay(args: argparse.Namespace) -> int:
    from services.eventing.runtime import ServiceSettings
    from services.eventing.store import create_store_engine
    from services.settlement.replay import rebuild_ledger, render

    settings = ServiceSettings(service="settlement", var_dir=args.var_dir, database_url=args.database_url)
    if args.policy is not None and args.as_of is not None:
        print("--policy and --as-of cannot be combined", file=sys.stderr)
        return 2
    if args.policy is not None:
        from services.settlement.commands import replay_under_policy

        return replay_under_policy(create_store_engine(settings.store_url), args.policy)
    if args.as_of is not None:
        from services.settlement.commands import replay_as_of_date

        return replay_as_of_date(create_store_engine(settings.store_url), args.as_of, args.known_by)
    report = rebuild_ledger(create_store_engine(settings.store_url))
    print(render(report), end="")
    return 0 if report.balanced else 1


def _settlement_document_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """explain, statement, annual-summary and coverage: read settlement's store, never write it."""
    explain = commands.add_parser("explain", help="print why a settlement posting's amount is what it is")
    explain.add_argument("posting_id", help="the posting id (GET /ledger/postings lists them)")
    statement = commands.add_parser("statement", help="statement 对账单 of a payee for a year or a month")
    statement.add_argument("--payee", required=True, metavar="ACCOUNT", help="e.g. street:鸳鸯")
    statement.add_argument("--period", required=True, help="a year (2025) or a month (2025-03)")
    statement.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    statement.add_argument("--out", type=Path, help="file to write (default: csv to stdout)")
    summary = commands.add_parser("annual-summary", help="附件3 康复需求和康复服务情况汇总表 as xlsx")
    summary.add_argument("--year", type=int, required=True)
    summary.add_argument("--street", required=True, help="street 街道, e.g. 鸳鸯")
    summary.add_argument("--community", help="one community 社区 (default: a sheet per community)")
    summary.add_argument("--out", type=Path, required=True, help="the .xlsx file to write")
    summary.add_argument("--preparer", default="", help="填表人")
    summary.add_argument("--reviewer", default="", help="审核人")
    summary.add_argument("--filled-on", type=date.fromisoformat, help="填表日期 (default blank)")
    coverage = commands.add_parser(
        "coverage", help="coverage 覆盖率 of a year per street against the policy target"
    )
    coverage.add_argument("--year", type=int, required=True)
    runs = ((explain, _explain), (statement, _statement), (summary, _annual_summary), (coverage, _coverage))
    for command, run in runs:
        command.add_argument("--database-url", help="settlement's store (default: SQLite in --var-dir)")
        command.add_argument("--var-dir", type=Path, default=Path(os.environ.get("REHAB_VAR_DIR", "var")))
        command.set_defaults(run=run)


def _settlement_store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from services.eventing.runtime import ServiceSettings
    from services.eventing.store import create_store_engine

    settings = ServiceSettings(service="settlement", var_dir=args.var_dir, database_url=args.database_url)
    return create_store_engine(settings.store_url)


def _explain(args: argparse.Namespace) -> int:
    from services.settlement.commands import explain

    return explain(_settlement_store(args), args.posting_id)


def _statement(args: argparse.Namespace) -> int:
    from services.settlement.commands import write_statement

    return write_statement(_settlement_store(args), args.payee, args.period, args.format, args.out)


def _annual_summary(args: argparse.Namespace) -> int:
    from services.settlement.annual_summary import Signatures
    from services.settlement.commands import write_annual_summary

    signatures = Signatures(args.preparer, args.reviewer, args.filled_on)
    return write_annual_summary(
        _settlement_store(args), args.year, args.street, args.community, args.out, signatures
    )


def _coverage(args: argparse.Namespace) -> int:
    from services.settlement.commands import print_coverage

    return print_coverage(_settlement_store(args), args.year)


def _dlq(args: argparse.Namespace) -> int:
    import redis

    from rehab.dlq import DeadLetterNotFound, dead_letters, render, retry

    client = redis.Redis.from_url(args.redis_url)
    if args.action == "list":
        print(render(dead_letters(client, [args.service] if args.service else SERVICES)), end="")
        return 0
    if not (args.dead_letter_id and args.service):
        print("rehab dlq retry needs a dead-letter id and --service", file=sys.stderr)
        return 2
    try:
        entry_id = retry(client, args.service, args.dead_letter_id)
    except DeadLetterNotFound as missing:
        print(missing, file=sys.stderr)
        return 1
    print(f"re-published dead letter {args.dead_letter_id} as entry {entry_id}")
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

    def __init__(self, var_dir: Path, redis_url: str) -> None:
        self.var_dir = var_dir
        self.redis_url = redis_url
        self.redis = None
        self.services = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        from urllib.parse import urlparse

        from rehab.local_redis import LocalRedis, answers, unsafe_settings
        from rehab.processes import ServiceProcesses

        if not answers(self.redis_url):
            port = urlparse(self.redis_url).port or 6379
            print(f"starting redis-server on port {port} (data in {self.var_dir / 'redis'})")
            self.redis = LocalRedis(self.var_dir / "redis", port).start()
        elif (problems := unsafe_settings(self.redis_url)) and not os.environ.get(VOLATILE_OVERRIDE):
            raise SystemExit(
                f"the Redis at {self.redis_url} may lose acknowledged events ({'; '.join(problems)}), "
                "so the services would refuse it. Give --redis-url a free port (e.g. "
                "redis://127.0.0.1:6390/0) and rehab starts a durable redis-server of its own, "
                f"or set {VOLATILE_OVERRIDE}=1 for a demo."
            )
        self.services = ServiceProcesses(self.var_dir, self.redis_url)
        try:
            return self.services.start()
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *_exc: object) -> None:
        if self.services is not None:
            self.services.stop()
        if self.redis is not None:
            self.redis.stop()


if __name__ == "__main__":
    sys.exit(main())
