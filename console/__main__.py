"""`python -m console`: run the staff console (ADR 0012) against the agencies' services."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from console.settings import CONSOLE_PORT, ConsoleSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description="康复服务工作台 (staff console)")
    parser.add_argument("--host", help="default $REHAB_CONSOLE_HOST or 127.0.0.1")
    parser.add_argument("--port", type=int, help=f"default $REHAB_CONSOLE_PORT or {CONSOLE_PORT}")
    parser.add_argument("--var-dir", type=Path, help="where console.db lives (default $REHAB_VAR_DIR or var)")
    parser.add_argument("--access-dir", type=Path, help="the user directory (default <var-dir>/access)")
    parser.add_argument(
        "--proxy-headers", action="store_true", help="behind a TLS proxy: trust X-Forwarded-*"
    )
    parser.add_argument(
        "--demo-logins",
        action="store_true",
        help="a demo deployment: add the demo clerks (public passwords, console/demo.py) and print them",
    )
    args = parser.parse_args(argv)
    if args.var_dir is not None:
        os.environ["REHAB_VAR_DIR"] = str(args.var_dir)
    if args.access_dir is not None:
        os.environ["REHAB_ACCESS_DIR"] = str(args.access_dir)
    from console.app import create_console_app
    from kernel.masking import install_log_masking

    install_log_masking()

    given = {"console_host": args.host, "console_port": args.port}
    settings = ConsoleSettings(**{field: value for field, value in given.items() if value is not None})
    host, port = settings.console_host, settings.console_port
    app = create_console_app(settings)
    print(f"工作台 staff console: http://{host}:{port}", flush=True)
    if args.demo_logins:
        print_demo_logins(settings)
    uvicorn.run(app, host=host, port=port, proxy_headers=args.proxy_headers, log_level="warning")
    return 0


def print_demo_logins(settings: ConsoleSettings) -> None:
    from console.demo import demo_logins
    from console.labels import AGENCY_LABELS, ROLE_LABELS, scope_label
    from kernel.reference import load_jurisdiction
    from kernel.reference.jurisdiction import deployment_reference
    from rehab.users import UserDirectory

    jurisdiction = load_jurisdiction(deployment_reference())
    names = {institution.id: institution.name for institution in jurisdiction.assessment_institutions}
    names.update({institution.id: institution.name for institution in jurisdiction.service_institutions})

    for login in demo_logins(UserDirectory(settings.user_directory), settings.store_url):
        roles = "、".join(ROLE_LABELS[role] for role in sorted(login.roles))
        where = f"{AGENCY_LABELS[login.agency]} · {scope_label(login.scope, names)} · {roles}"
        password = login.password if login.password is not None else "(its own password, unchanged)"
        print(f"  demo login {login.name} / {password}  ({where})", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
