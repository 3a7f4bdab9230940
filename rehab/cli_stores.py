"""Where a command finds a service's store and the deployment's folders, never creating an empty one.

A read command run from the wrong folder, or with a mistyped ``--var-dir``, once made an empty
``var/settlement.db`` there and failed with ``no such table``; here it is told which file is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rehab.cli_failures import CommandFailed, ExitCode, warn
from rehab.demo_note import follow_the_demo
from rehab.settings import operator_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

SQLITE_PREFIX = "sqlite:///"


def default_var_dir() -> Path:
    """$REHAB_VAR_DIR, else ./var (the folder `rehab up` and the demo write to)."""
    return operator_settings().var_dir


def default_access_dir() -> Path:
    """$REHAB_ACCESS_DIR, else <var-dir>/access."""
    return operator_settings().access_folder


def existing_store_url(service: str, var_dir: Path, database_url: str | None) -> str:
    """The URL of ``service``'s store: ``database_url``, $REHAB_DATABASE_URL, or <var-dir>/<service>.db.

    A SQLite file that does not exist is refused (exit 2) rather than created empty.
    """
    url = database_url or operator_settings().database_url or f"{SQLITE_PREFIX}{var_dir / service}.db"
    if url.startswith(SQLITE_PREFIX):
        path = Path(url.removeprefix(SQLITE_PREFIX))
        if not path.is_file():
            raise CommandFailed(
                f"找不到 {service} 的数据库（store）：{path.absolute()} 不存在。"
                "请在部署的文件夹里运行，或用 --var-dir / REHAB_VAR_DIR 指向部署的 var 文件夹"
                "（PostgreSQL 用 --database-url）",
                ExitCode.USAGE,
            )
    return url


def existing_store(service: str, var_dir: Path, database_url: str | None) -> Engine:
    """An engine on ``service``'s existing store (see :func:`existing_store_url`), read under the pack a
    demo in ``var_dir`` ran on (``rehab.demo_note``), said on stderr."""
    from kernel.store.store import create_store_engine

    follow_the_demo(var_dir, warn)

    return create_store_engine(existing_store_url(service, var_dir, database_url))


def writable_file(path: Path) -> Path:
    """``path`` if its folder exists; else a failure naming the folder (never a FileNotFoundError)."""
    folder = path.absolute().parent
    if not folder.is_dir():
        raise CommandFailed(f"文件夹不存在：{folder}（先创建它，或给 --out 另一个路径）", ExitCode.USAGE)
    return path
