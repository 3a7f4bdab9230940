"""``REHAB_*`` settings: a wrong value is refused naming the variable the operator set (issue 18)."""

from __future__ import annotations

import pytest
from pydantic import Field

from console.settings import ConsoleSettings
from kernel.messaging.consumer import DEFAULT_MAX_RECORDS, ConsumerSettings, EventConsumer
from kernel.runtime import ServiceSettings, batch_size
from kernel.settings import RehabSettings, SettingsInvalid, variable_of
from kernel.store.sqlite import busy_timeout_seconds
from kernel.store.store import EventStore


class Timeouts(RehabSettings):
    """A settings object as a service would declare one."""

    reconcile_seconds: float = Field(default=30.0, gt=0, description="How often consumers reconcile.")


def test_a_field_is_read_from_its_rehab_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_RECONCILE_SECONDS", "5")
    assert Timeouts().reconcile_seconds == 5.0
    assert variable_of(Timeouts, "reconcile_seconds") == "REHAB_RECONCILE_SECONDS"


def test_a_wrong_value_is_refused_naming_the_variable_and_saying_why_in_chinese(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REHAB_RECONCILE_SECONDS", "often")
    with pytest.raises(SettingsInvalid) as refused:
        Timeouts()
    assert (
        str(refused.value)
        == "设置有误（invalid settings）：环境变量 REHAB_RECONCILE_SECONDS='often' 无效：应为数字"
    )


def test_a_value_out_of_range_says_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_RECONCILE_SECONDS", "0")
    with pytest.raises(SettingsInvalid, match="REHAB_RECONCILE_SECONDS='0' 无效：应大于 0"):
        Timeouts()


def test_a_value_given_in_code_is_named_by_its_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REHAB_RECONCILE_SECONDS", raising=False)
    with pytest.raises(SettingsInvalid, match="reconcile_seconds=-1 无效"):
        Timeouts(reconcile_seconds=-1)


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_RECONCILE_SECONDS", "")
    assert Timeouts().reconcile_seconds == 30.0


def test_the_console_refuses_a_port_that_is_no_number_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REHAB_CONSOLE_PORT", "eighty")
    with pytest.raises(SettingsInvalid, match="环境变量 REHAB_CONSOLE_PORT='eighty' 无效：应为整数"):
        ConsoleSettings()


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("REHAB_MAX_RECORDS", "abc", "应为整数"),
        ("REHAB_MAX_DELIVERIES", "five", "应为整数"),
        ("REHAB_CLAIM_IDLE_SECONDS", "soon", "应为数字"),
    ],
)
def test_a_consumer_refuses_a_wrong_bound_naming_its_variable(
    variable: str, value: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsInvalid, match=f"环境变量 {variable}='{value}' 无效：{reason}"):
        ConsumerSettings()


def test_a_consumer_reads_its_bounds_from_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHAB_MAX_RECORDS", "7")
    monkeypatch.setenv("REHAB_BACKOFF_SECONDS", "0.5")
    settings = ConsumerSettings()
    assert (settings.max_records, settings.backoff_seconds, settings.max_deliveries) == (7, 0.5, 5)


def test_settlement_reads_500_entries_at_a_time_the_services_clerks_type_into_100(
    monkeypatch: pytest.MonkeyPatch, sqlite_store: EventStore
) -> None:
    monkeypatch.delenv("REHAB_MAX_RECORDS", raising=False)
    assert batch_size(ServiceSettings(service="settlement")) == 500  # deploy/services.toml
    assert batch_size(ServiceSettings(service="survey")) is None
    assert EventConsumer(sqlite_store, "survey", []).max_records == DEFAULT_MAX_RECORDS == 100

    monkeypatch.setenv("REHAB_MAX_RECORDS", "50")
    assert batch_size(ServiceSettings(service="settlement")) == 50


def test_the_sqlite_busy_timeout_refuses_a_wrong_value_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REHAB_SQLITE_BUSY_SECONDS", "long")
    with pytest.raises(SettingsInvalid, match="环境变量 REHAB_SQLITE_BUSY_SECONDS='long' 无效：应为数字"):
        busy_timeout_seconds()
    monkeypatch.setenv("REHAB_SQLITE_BUSY_SECONDS", "2.5")
    assert busy_timeout_seconds() == 2.5
