"""``REHAB_*`` settings: a wrong value is refused naming the variable the operator set (issue 18)."""

from __future__ import annotations

import pytest
from pydantic import Field

from console.settings import ConsoleSettings
from kernel.settings import RehabSettings, SettingsInvalid, variable_of


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
