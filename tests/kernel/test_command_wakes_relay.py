"""A command's unit wakes the relay once its events are committed: ``RELAY_WAKE_SECONDS`` later on the loop
the request is served on, one wake-up for the commits of that while; at once outside a loop; never when it
recorded nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from pydantic import BaseModel

from kernel import http
from kernel.http import KeyedCommand, in_command_thread
from kernel.messaging.relay import OutboxRelay
from kernel.runtime import ServiceRuntime
from kernel.store.store import EventStore, create_store_engine
from tests.kernel.events import need_surveyed


class Relay:
    def __init__(self) -> None:
        self.woken = 0
        self.woken_at_once = asyncio.Event()

    def notify(self) -> None:
        self.woken += 1
        self.woken_at_once.set()


class Done(BaseModel):
    done: bool = True


def runtime_of(tmp_path: Path) -> tuple[ServiceRuntime, Relay]:
    store = EventStore(create_store_engine(f"sqlite:///{tmp_path / 'survey.db'}"), producer="survey")
    store.create_schema()
    relay = Relay()
    return cast(ServiceRuntime, SimpleNamespace(store=store, relay=relay)), relay


def test_commands_served_on_a_loop_share_one_wake_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime, relay = runtime_of(tmp_path)
    monkeypatch.setattr(http, "RELAY_WAKE_SECONDS", 3600.0)  # due long after both commands

    async def register(person: str) -> asyncio.TimerHandle:
        command = KeyedCommand(runtime, None)  # made on the loop, as a route makes it

        def in_its_unit() -> None:
            with command.unit() as unit:
                unit.append(person, 0, [need_surveyed()])
                command.answer(Done(), status=201)

        await in_command_thread(in_its_unit)
        await asyncio.sleep(0)  # the wake-up handed to the loop has been scheduled
        return http._WAKES[cast(OutboxRelay, relay)]

    async def two_commands() -> int:
        first = await register("person-1")
        assert await register("person-2") is first
        return relay.woken

    assert asyncio.run(two_commands()) == 0  # not before its time


def test_a_scheduled_wake_up_wakes_the_relay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime, relay = runtime_of(tmp_path)
    monkeypatch.setattr(http, "RELAY_WAKE_SECONDS", 0.0)

    async def one_command() -> int:
        command = KeyedCommand(runtime, None)

        def register() -> None:
            with command.unit() as unit:
                unit.append("person-1", 0, [need_surveyed()])

        await in_command_thread(register)
        await asyncio.wait_for(relay.woken_at_once.wait(), timeout=30)
        return relay.woken

    assert asyncio.run(one_command()) == 1


def test_a_unit_outside_a_loop_wakes_the_relay_at_its_commit(tmp_path: Path) -> None:
    runtime, relay = runtime_of(tmp_path)
    command = KeyedCommand(runtime, None)
    with command.unit() as unit:
        unit.append("person-1", 0, [need_surveyed()])
    assert relay.woken == 1


def test_an_answer_without_events_wakes_nothing(tmp_path: Path) -> None:
    runtime, relay = runtime_of(tmp_path)
    command = KeyedCommand(runtime, None)
    with command.unit():
        command.answer(Done())
    assert relay.woken == 0
