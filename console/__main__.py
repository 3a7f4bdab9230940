"""`python -m console`: run the staff console (ADR 0012) against the agencies' services."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from console.settings import CONSOLE_PORT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description="康复服务工作台 (staff console)")
    parser.add_argument("--host", default=os.environ.get("REHAB_CONSOLE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("REHAB_CONSOLE_PORT", CONSOLE_PORT)))
    parser.add_argument("--var-dir", type=Path, help="where console.db lives (default $REHAB_VAR_DIR or var)")
    parser.add_argument("--access-dir", type=Path, help="the user directory (default <var-dir>/access)")
    parser.add_argument(
        "--proxy-headers", action="store_true", help="behind a TLS proxy: trust X-Forwarded-*"
    )
    args = parser.parse_args(argv)
    if args.var_dir is not None:
        os.environ["REHAB_VAR_DIR"] = str(args.var_dir)
    if args.access_dir is not None:
        os.environ["REHAB_ACCESS_DIR"] = str(args.access_dir)
    from console.app import create_console_app
    from console.settings import ConsoleSettings
    from kernel.masking import install_log_masking

    install_log_masking()

    app = create_console_app(ConsoleSettings(console_host=args.host, console_port=args.port))
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=args.proxy_headers, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
