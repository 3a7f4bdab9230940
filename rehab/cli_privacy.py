"""`rehab forget <person-id>`: destroy a person's data key in the survey registry (删除个人信息)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from uuid import UUID


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    forget = commands.add_parser(
        "forget",
        help="destroy a person's data key: their personal details read （已删除） everywhere; money is kept",
        description=(
            "Runs against the survey service's store (like `rehab replay` against settlement's): the key "
            "is overwritten and deleted and survey.person_forgotten recorded in one transaction; the running "
            "survey service publishes the event, and consumers drop any key they cached. Irreversible."
        ),
    )
    forget.add_argument("person_id", help="the person id (GET /persons on the survey service lists them)")
    forget.add_argument("--database-url", help="the survey service's store (default: SQLite in --var-dir)")
    forget.add_argument("--var-dir", type=Path, default=Path("var"))
    forget.set_defaults(run=_forget)


def _forget(args: argparse.Namespace) -> int:
    from kernel.domain.rejections import CommandRejected
    from kernel.runtime import ServiceSettings
    from kernel.store.store import EventStore, create_store_engine
    from services.survey import handlers
    from services.survey.projection import tables

    try:
        person_id = UUID(args.person_id)
    except ValueError:
        print(f"not a person id: {args.person_id!r}", file=sys.stderr)
        return 2
    settings = ServiceSettings(service="survey", var_dir=args.var_dir, database_url=args.database_url)
    store = EventStore(create_store_engine(settings.store_url), producer="survey")
    store.create_schema(tables)  # adds person_keys to a store that predates it; nothing else changes
    try:
        key_id = handlers.forget_person(store, person_id)
    except CommandRejected as refused:
        print(f"{refused.code}: {refused.message}", file=sys.stderr)
        return 1
    destroyed = f"data key {key_id} destroyed" if key_id else "registered before sealing: no data key"
    print(f"person {person_id} forgotten ({destroyed}); their personal details now read （已删除）")
    return 0
