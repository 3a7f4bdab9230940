"""Data-key release benchmark: persons/s settlement gets keys at, one per request vs batched; asserts nothing.

    .venv/bin/python -m bench.key_release                  # 1,000 persons
    .venv/bin/python -m bench.key_release --persons 5000

Starts the real survey app in process (FastAPI TestClient, its own SQLite store in a temp dir, access
control on with a fresh token key, so every released key is audited as in production), mints the
keys of N persons straight into its ``person_keys`` table, then lets settlement's ``PersonKeys``
fetch all N keys with an empty cache, best of ``--repeat`` runs:

(a)  one by one, ``GET /persons/{id}/data-key`` per person (``key_for`` on each miss);
(b)  in batches, ``POST /persons/data-keys:batch`` of up to 500 (``prefetch``, then ``key_for``).

Redis need not run: the app's relay waits for it in the background and the key routes never use it.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from rehab_contracts.sealed import DataKey

from kernel.access.auth import Role, Scope
from kernel.runtime import ServiceSettings
from rehab.users import User, UserDirectory
from services.settlement.documents.person_keys import PersonKeys, SurveyKeyClient
from services.survey.app import create_app
from services.survey.keys import create_key


def survey_app(folder: Path) -> tuple[FastAPI, str]:
    """The survey app with access control on, and a bearer token of settlement."""
    users = UserDirectory(folder / "access")
    users.rotate_key()
    users.add(User("结算", "settlement", frozenset({Role.STAFF}), Scope.parse("district")))
    token = users.issue_token("结算", lifetime=timedelta(hours=1))
    settings = ServiceSettings(
        service="survey",
        database_url=f"sqlite:///{folder}/survey.db",
        redis_url="redis://127.0.0.1:1/0",  # nobody answers: the relay waits, keys do not need it
        access_dir=folder / "access",
    )
    return create_app(settings), token


def mint_keys(app: FastAPI, persons: int) -> list[str]:
    """Keys of ``persons`` new person ids, as registration mints them, in one transaction."""
    person_ids = [uuid4() for _ in range(persons)]
    with app.state.runtime.store.transaction() as unit:
        for person_id in person_ids:
            create_key(unit.session, person_id)
    return [str(person_id) for person_id in person_ids]


def one_by_one(keys: PersonKeys, person_ids: list[str]) -> list[DataKey | str]:
    return [keys.key_for(person_id) for person_id in person_ids]


def batched(keys: PersonKeys, person_ids: list[str]) -> list[DataKey | str]:
    keys.prefetch(person_ids)
    return [keys.key_for(person_id) for person_id in person_ids]


Fetch = Callable[[PersonKeys, list[str]], list[DataKey | str]]


def best_of(repeat: int, fetch: Fetch, source: SurveyKeyClient, person_ids: list[str]) -> float:
    """Seconds of the fastest run, each with an empty cache; every key must come back."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        found = fetch(PersonKeys(source), person_ids)
        best = min(best, time.perf_counter() - started)
        assert all(isinstance(key, DataKey) for key in found), "a key was not released"
    return best


def report(label: str, persons: int, seconds: float) -> None:
    rate, each = persons / seconds, seconds / persons * 1000
    print(f"{label:30} {persons:>6} keys in {seconds:7.3f} s = {rate:9,.0f} persons/s ({each:.2f} ms each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    logging.getLogger("kernel.runtime").setLevel(logging.ERROR)  # "waits for Redis", on purpose
    with tempfile.TemporaryDirectory() as folder:
        app, token = survey_app(Path(folder))
        with TestClient(app) as client:
            person_ids = mint_keys(app, arguments.persons)
            source = SurveyKeyClient(client, token)
            for label, fetch in (
                ("one by one (GET per person)", one_by_one),
                ("batches of 500 (POST)", batched),
            ):
                seconds = best_of(arguments.repeat, fetch, source, person_ids)
                report(label, arguments.persons, seconds)
            audited = len(app.state.audit_trail.entries(limit=10**9))
            print(f"audit entries written: {audited:,} (one per released key)")


if __name__ == "__main__":
    main()
