"""Alembic's environment for a service's store.

Run by ``kernel.store.schema`` at start-up, which hands over a connection whose transaction already
holds the schema lock (``config.attributes["connection"]``), and by the ``alembic`` command line
(``alembic -x url=postgresql+psycopg://… upgrade survey@head``), which opens its own and
takes the same lock first.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from kernel.store.schema import hold_schema_lock
from kernel.store.sqlite import create_store_engine

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_from_the_command_line() -> None:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("REHAB_DATABASE_URL")
    if not url:
        raise SystemExit("give the store's URL: alembic -x url=… (or set REHAB_DATABASE_URL)")
    engine = create_store_engine(url)
    try:
        with engine.begin() as connection:
            hold_schema_lock(connection)
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit(
        "offline (--sql) migrations are not supported: each store is migrated on its own database"
    )
given: Connection | None = config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    run_from_the_command_line()
