"""`rehab replay | explain | statement | annual-summary | coverage | quota-use`: settlement's read side."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        "id) and print the difference from the live ledger per payee, funding source and funding level",
    )
    replay.add_argument(
        "--from-archive",
        action="store_true",
        help="derive settlement's fact log again from the archive alone (validating every event) "
        "before rebuilding; by default the rebuild reads the fact log the live ledger wrote",
    )
    replay.set_defaults(run=_replay)

    _document_commands(commands)


def _replay(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    if args.policy is not None and args.as_of is not None:
        print("--policy and --as-of cannot be combined", file=sys.stderr)
        return 2
    engine = _settlement_store(args)
    try:
        return _replay_in(engine, args)
    except (ValueError, ArithmeticError, SQLAlchemyError) as error:  # a stored value, not a bug to trace
        print(f"rehab replay: the stored events cannot be replayed: {_shown(error)}", file=sys.stderr)
        _print_amounts_beyond_bound(engine, whole_archive=True)
        return 1


def _replay_in(engine: Engine, args: argparse.Namespace) -> int:
    from services.settlement.ledger.replay import rebuild_ledger
    from services.settlement.ledger.report import render

    if args.policy is not None:
        from services.settlement.commands import replay_under_policy

        return replay_under_policy(engine, args.policy)
    if args.as_of is not None:
        from services.settlement.commands import replay_as_of_date

        return replay_as_of_date(engine, args.as_of, args.known_by)
    report = rebuild_ledger(engine, source="archive" if args.from_archive else "log")
    print(render(report), end="")
    beyond = _print_amounts_beyond_bound(engine, whole_archive=False)
    return 0 if report.balanced and not beyond else 1


def _print_amounts_beyond_bound(engine: Engine, *, whole_archive: bool) -> int:
    """Name each stored amount beyond MAX_AMOUNT_FEN (issue 14: recorded before the bound existed)."""
    from kernel.access.audit import printable
    from rehab.verify_amounts import stored_amounts_beyond_bound

    with engine.connect() as connection:
        lines = stored_amounts_beyond_bound(connection, whole_archive=whole_archive)
    for line in lines:
        print(f"rehab replay: stored beyond the bound: {printable(line)}", file=sys.stderr)
    return len(lines)


def _shown(error: BaseException) -> str:
    from kernel.access.audit import printable

    first = str(error).splitlines()[0] if str(error) else ""
    return printable(f"{type(error).__name__}: {first}")


def _document_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    quota_use = commands.add_parser(
        "quota-use", help="quota use 任务完成情况 of a year per county: quotas against approved children"
    )
    quota_use.add_argument("--year", type=int, required=True)
    quota_use.add_argument(
        "--jurisdiction",
        help="whose policy sets the quotas (e.g. anyang); default: the deployment's (REHAB_REFERENCE)",
    )
    runs = (
        (explain, _explain),
        (statement, _statement),
        (summary, _annual_summary),
        (coverage, _coverage),
        (quota_use, _quota_use),
    )
    for command, run in runs:
        command.add_argument("--database-url", help="settlement's store (default: SQLite in --var-dir)")
        command.add_argument("--var-dir", type=Path, default=Path(os.environ.get("REHAB_VAR_DIR", "var")))
        command.set_defaults(run=run)


def _settlement_store(args: argparse.Namespace) -> Engine:
    from kernel.runtime import ServiceSettings
    from kernel.store.store import create_store_engine

    settings = ServiceSettings(service="settlement", var_dir=args.var_dir, database_url=args.database_url)
    return create_store_engine(settings.store_url)


def _explain(args: argparse.Namespace) -> int:
    from services.settlement.commands import explain

    return explain(_settlement_store(args), args.posting_id)


def _statement(args: argparse.Namespace) -> int:
    from services.settlement.commands import write_statement

    return write_statement(_settlement_store(args), args.payee, args.period, args.format, args.out)


def _annual_summary(args: argparse.Namespace) -> int:
    from services.settlement.commands import write_annual_summary
    from services.settlement.documents.annual_summary import Signatures

    signatures = Signatures(args.preparer, args.reviewer, args.filled_on)
    return write_annual_summary(
        _settlement_store(args), args.year, args.street, args.community, args.out, signatures
    )


def _coverage(args: argparse.Namespace) -> int:
    from services.settlement.commands import print_coverage

    return print_coverage(_settlement_store(args), args.year)


def _quota_use(args: argparse.Namespace) -> int:
    from services.settlement.commands import print_quota_use

    return print_quota_use(_settlement_store(args), args.year, args.jurisdiction)
