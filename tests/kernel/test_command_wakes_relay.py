"""A command's unit wakes the relay once its events are committed: after its answer has been sent when it
gave one (the relay's pass does not hold the answer up), at once when it gave none; never when it recorded
nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from pydantic import BaseModel

from kernel.http import KeyedCommand
from kernel.runtime import ServiceRuntime
from kernel.store.store import EventStore, create_store_engine
from tests.kernel.events import need_surveyed


class Relay:
    def __init__(self) -> None:
        self.woken = 0

    def notify(self) -> None:
        self.woken += 1


class Done(BaseModel):
    done: bool = True


def command_of(tmp_path: Path) -> tuple[KeyedCommand, Relay]:
    store = EventStore(create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}"), producer="survey")
    store.create_schema()
    relay = Relay()
    runtime = cast(ServiceRuntime, SimpleNamespace(store=store, relay=relay))
    return KeyedCommand(runtime, None), relay


def test_the_relay_is_woken_once_the_answer_has_been_sent(tmp_path: Path) -> None:
    command, relay = command_of(tmp_path)
    with command.unit() as unit:
        unit.append("person-1", 0, [need_surveyed()])
        answer = command.answer(Done(), status=201)
    assert relay.woken == 0
    assert answer.background is not None  # Starlette runs it after the answer's last byte
    asyncio.run(cast(Any, answer.background)())
    assert relay.woken == 1


def test_a_unit_without_an_answer_wakes_the_relay_at_its_commit(tmp_path: Path) -> None:
    command, relay = command_of(tmp_path)
    with command.unit() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    assert relay.woken == 1


def test_an_answer_without_events_wakes_nothing(tmp_path: Path) -> None:
    command, relay = command_of(tmp_path)
    with command.unit():
        answer = command.answer(Done())
    assert answer.background is None
    assert relay.woken == 0
