"""Writes the JSON Schema snapshots of the envelope and every payload: ``python -m rehab_contracts.snapshot``.

Each payload's snapshot is named ``<event_type>.v<schema_version>.json`` and is kept forever, so
the schemas of stored events stay on record. Regenerating refuses to overwrite a snapshot with a
breaking change: bump the payload's ``schema_version`` instead (``--allow-breaking`` exists only
for schemas no event has been stored under yet).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from rehab_contracts.compatibility import breaking_changes
from rehab_contracts.envelope import EventEnvelope, EventPayload
from rehab_contracts.registry import EARLIER_PAYLOAD_CLASSES, PAYLOAD_CLASSES

SCHEMA_DIR = Path(__file__).with_name("schemas")
ENVELOPE_SNAPSHOT = "envelope.json"


class BreakingChange(ValueError):
    """A regenerated snapshot would break events stored under the same schema version."""


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of a model, as snapshotted."""
    return model.model_json_schema()


def render(schema: dict[str, Any]) -> str:
    """The snapshot text of a schema: stable key order, readable Chinese, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def snapshot_name(payload_class: type[EventPayload]) -> str:
    return f"{payload_class.event_type}.v{payload_class.schema_version}.json"


def current_schemas() -> dict[str, dict[str, Any]]:
    """Snapshot file name -> current schema, for the envelope and every payload."""
    schemas = {ENVELOPE_SNAPSHOT: schema_of(EventEnvelope)}
    schemas.update(
        {snapshot_name(cls): schema_of(cls) for cls in (*PAYLOAD_CLASSES, *EARLIER_PAYLOAD_CLASSES)}
    )
    return schemas


def load_snapshot(name: str, directory: Path = SCHEMA_DIR) -> dict[str, Any] | None:
    """The committed snapshot called ``name``, or None when there is none."""
    path = directory / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def write_snapshots(directory: Path = SCHEMA_DIR, *, allow_breaking: bool = False) -> list[str]:
    """(Re)write every snapshot that differs from the current schema; returns the names written.

    Raises BreakingChange, writing nothing, when an existing snapshot would change incompatibly.
    """
    pending: dict[str, str] = {}
    problems: list[str] = []
    for name, schema in current_schemas().items():
        old = load_snapshot(name, directory)
        if old is not None and not allow_breaking:
            problems += [f"{name}: {change}" for change in breaking_changes(old, schema)]
        text = render(schema)
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            pending[name] = text
    if problems:
        raise BreakingChange(
            "breaking changes; bump the payload's schema_version instead:\n  " + "\n  ".join(problems)
        )
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in pending.items():
        (directory / name).write_text(text, encoding="utf-8")
    return sorted(pending)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--directory", type=Path, default=SCHEMA_DIR, help="where the snapshots live")
    parser.add_argument(
        "--allow-breaking", action="store_true", help="overwrite incompatibly (unreleased schemas only)"
    )
    arguments = parser.parse_args(argv)
    try:
        written = write_snapshots(arguments.directory, allow_breaking=arguments.allow_breaking)
    except BreakingChange as error:
        print(error, file=sys.stderr)
        return 1
    for name in written:
        print(f"wrote {arguments.directory / name}")
    if not written:
        print("snapshots are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
