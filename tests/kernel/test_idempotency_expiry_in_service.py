"""A running service deletes Idempotency-Keys older than REHAB_IDEMPOTENCY_KEY_DAYS on its own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from fastapi.testclient import TestClient
from sqlalchemy import update

from kernel.runtime import ServiceRuntime, forget_old_idempotency_keys
from kernel.store.store import idempotency_keys_table
from tests.kernel.test_idempotent_commands import post, store_of, survey_app


def test_the_service_forgets_keys_past_their_days_and_a_retry_after_that_is_a_new_command(
    tmp_path: Path, redis_url: str
) -> None:
    with TestClient(survey_app(tmp_path / "survey.db", redis_url)) as client:
        person = uuid4()
        assert post(client, person, "k-old").status_code == 201
        assert post(client, uuid4(), "k-new").status_code == 201
        store = store_of(client)
        with store.engine.begin() as connection:  # k-old was recorded 31 days ago
            connection.execute(
                update(idempotency_keys_table)
                .where(idempotency_keys_table.c.key == "k-old")
                .values(recorded_at=datetime.now(UTC) - timedelta(days=31))
            )
        runtime: ServiceRuntime = client.app.state.runtime  # type: ignore[attr-defined]

        async def one_pass() -> None:
            loop = asyncio.create_task(forget_old_idempotency_keys(runtime, every_seconds=3600))
            while store.idempotency_record("k-old") is not None:
                await asyncio.sleep(0.05)
            loop.cancel()

        asyncio.run(asyncio.wait_for(one_pass(), timeout=10))

        assert store.idempotency_record("k-new") is not None
        retried = post(client, person, "k-old")
        assert retried.status_code == 201 and retried.headers.get("Idempotent-Replayed") is None
