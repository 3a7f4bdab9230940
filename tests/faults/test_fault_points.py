"""A fault point does nothing unless REHAB_FAULT names it; then the process dies there (exit 137)."""

from __future__ import annotations

import os
import subprocess
import sys

from kernel.faults import KILLED

SCRIPT = """
from kernel.faults import fault_point
for hit in range(1, 4):
    fault_point("other.point")
    print("before", hit, flush=True)
    fault_point("relay.after_xadd")
print("survived", flush=True)
"""


def run_with(fault: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "REHAB_FAULT"}
    if fault is not None:
        env["REHAB_FAULT"] = fault
    return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=30)


def test_without_the_variable_a_fault_point_does_nothing() -> None:
    result = run_with(None)
    assert (result.returncode, result.stdout.split()[-1]) == (0, "survived")


def test_a_named_fault_point_kills_the_process_on_its_first_hit_and_logs_why() -> None:
    result = run_with("relay.after_xadd")
    assert result.returncode == KILLED
    assert result.stdout.split() == ["before", "1"]
    assert "fault point relay.after_xadd reached" in result.stderr


def test_a_count_kills_the_process_on_that_hit() -> None:
    result = run_with("relay.after_xadd:3")
    assert result.returncode == KILLED
    assert result.stdout.split() == ["before", "1", "before", "2", "before", "3"]
