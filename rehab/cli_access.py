"""`rehab users | token | audit`: who may sign in, their bearer tokens, and who read whose personal data."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.access.auth import AUDIT, Agency, Role, Scope
from rehab.services import SERVICES

if TYPE_CHECKING:
    from rehab.users import UserDirectory

AGENCIES = [*SERVICES, AUDIT]
ROLES = [str(role) for role in Role]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser(
        "users", help="add, list or disable the users tokens are issued to; set their console passwords"
    )
    users.add_argument("action", choices=("add", "list", "disable", "rotate-key", "set-password"))
    users.add_argument("name", nargs="?", help="with add/disable/set-password: the user, e.g. 孙干事")
    users.add_argument("--agency", choices=AGENCIES, help="with add: whose service the user works in")
    users.add_argument("--role", action="append", choices=ROLES, help="with add: a role (repeatable)")
    users.add_argument(
        "--scope",
        type=Scope.parse,
        help="with add: district, street:<街道>, community:<街道>/<社区> or institution:<id>",
    )
    users.add_argument(
        "--password-stdin",
        action="store_true",
        help="with add/set-password: read the console password from stdin (else set-password prints a "
        "generated one-time password); the user must change it at first login",
    )
    users.add_argument(
        "--console-var-dir",
        type=Path,
        default=Path(os.environ.get("REHAB_VAR_DIR", "var")),
        help="the staff console's var dir holding console.db (default $REHAB_VAR_DIR or var; "
        "$REHAB_CONSOLE_DATABASE_URL wins)",
    )
    _access_dir(users)
    users.set_defaults(run=_users)

    token = commands.add_parser("token", help="issue a bearer token to a user (printed on stdout)")
    token.add_argument("name")
    token.add_argument("--hours", type=float, default=8.0, help="lifetime in hours (default 8)")
    _access_dir(token)
    token.set_defaults(run=_token)

    audit = commands.add_parser("audit", help="who read which person's personal data, when and why")
    audit.add_argument("--service", choices=SERVICES, required=True)
    audit.add_argument("--user", help="only this user's reads")
    audit.add_argument("--subject", help="only reads of this person (person id) or application")
    audit.add_argument("--since", type=date.fromisoformat, metavar="DATE", help="from this day on (UTC)")
    audit.add_argument("--database-url", help="the service's store (default: SQLite in --var-dir)")
    audit.add_argument("--var-dir", type=Path, default=Path(os.environ.get("REHAB_VAR_DIR", "var")))
    audit.set_defaults(run=_audit)


def _access_dir(parser: argparse.ArgumentParser) -> None:
    var_dir = Path(os.environ.get("REHAB_VAR_DIR", "var"))
    default = Path(os.environ.get("REHAB_ACCESS_DIR", var_dir / "access"))
    parser.add_argument(
        "--access-dir",
        type=Path,
        default=default,
        help="users.json and the token key (default $REHAB_ACCESS_DIR or <var-dir>/access)",
    )


def _users(args: argparse.Namespace) -> int:
    from rehab.users import User, UserDirectory, UserUnknown

    directory = UserDirectory(args.access_dir)
    if args.action == "list":
        for user in directory.users():
            state = "" if user.enabled else "  (disabled)"
            print(f"{user.name}\t{user.agency}\t{','.join(sorted(user.roles))}\t{user.scope}{state}")
        return 0
    if args.action == "rotate-key":
        print(f"new token key {directory.rotate_key()}; tokens already issued stay valid until they expire")
        return 0
    if not args.name:
        print(f"rehab users {args.action} needs a user name", file=sys.stderr)
        return 2
    if args.action == "disable":
        try:
            directory.disable(args.name)
        except UserUnknown as unknown:
            print(unknown, file=sys.stderr)
            return 1
        print(f"{args.name} disabled: no new tokens; issued ones expire within their lifetime")
        return 0
    if args.action == "set-password":
        return _set_password(args, directory, generated=not args.password_stdin)
    if not (args.agency and args.role and args.scope):
        print("rehab users add needs --agency, at least one --role and --scope", file=sys.stderr)
        return 2
    directory.add(User(args.name, Agency(args.agency), frozenset(Role(r) for r in args.role), args.scope))
    print(f"{args.name} added ({args.agency}, {', '.join(args.role)}, {args.scope})")
    if args.password_stdin:
        return _set_password(args, directory, generated=False)
    print(f"console password: rehab users set-password {args.name}")
    return 0


def _set_password(args: argparse.Namespace, directory: UserDirectory, *, generated: bool) -> int:
    """The user's staff-console password: read from stdin, or generated and printed once."""
    from rehab.users import UserUnknown, console_store_url, set_console_password

    given = None if generated else sys.stdin.readline().rstrip("\r\n")
    try:
        password = set_console_password(directory, console_store_url(args.console_var_dir), args.name, given)
    except (UserUnknown, ValueError) as refused:
        print(f"rehab users {args.action}: {refused}", file=sys.stderr)
        return 1
    if generated:
        print(f"one-time console password of {args.name}: {password}")
    print(f"{args.name} must choose a new console password at first login (account unlocked)")
    return 0


def _token(args: argparse.Namespace) -> int:
    from rehab.users import UserDirectory, UserUnknown

    try:
        token = UserDirectory(args.access_dir).issue_token(args.name, lifetime=timedelta(hours=args.hours))
    except UserUnknown as unknown:
        print(unknown, file=sys.stderr)
        return 1
    print(token)
    return 0


def _audit(args: argparse.Namespace) -> int:
    from kernel.access.audit import AuditTrail, printable
    from kernel.runtime import ServiceSettings
    from kernel.store.store import create_store_engine

    settings = ServiceSettings(service=args.service, var_dir=args.var_dir, database_url=args.database_url)
    since = datetime.combine(args.since, time(), UTC) if args.since else None
    trail = AuditTrail(create_store_engine(settings.store_url))
    print("read_at\tuser\tagency\troles\tscope\taction\tsubject\tpurpose\tstatus")
    for entry in trail.entries(user=args.user, subject=args.subject, since=since):
        who = (entry.user, entry.agency, entry.roles, entry.scope)
        what = (entry.action, entry.subject, entry.purpose, str(entry.status))
        cells = (entry.read_at.isoformat(timespec="seconds"), *who, *what)
        print("\t".join(map(printable, cells)))  # a stored value cannot forge a row (issue 14)
    return 0
