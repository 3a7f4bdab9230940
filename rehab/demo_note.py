"""What `rehab demo` leaves in the var dir (``demo.json``: the pack and the year it ran), and the commands
that follow it: `rehab up` and every command that opens a store of that var dir."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from kernel.reference.jurisdiction import REFERENCE_VARIABLE

DEMO_NOTE = "demo.json"


def note_the_demo(var_dir: Path, jurisdiction: str, year: int) -> None:
    note = {"jurisdiction": jurisdiction, "year": year}
    (var_dir / DEMO_NOTE).write_text(json.dumps(note, ensure_ascii=False), encoding="utf-8")


def follow_the_demo(var_dir: Path, tell: Callable[[str], None], *, console_year: bool = False) -> None:
    """Run on the pack the demo in ``var_dir`` ran on (and, with ``console_year``, the console on its
    year) unless ``REHAB_REFERENCE`` / ``REHAB_CONSOLE_YEAR`` say otherwise: Anyang's 2021 data read or
    replayed under Liangjiang's pack would name no county and pay by another policy."""
    try:
        note = json.loads((var_dir / DEMO_NOTE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    pack, year = note.get("jurisdiction"), note.get("year")
    if isinstance(pack, str) and REFERENCE_VARIABLE not in os.environ:
        os.environ[REFERENCE_VARIABLE] = pack
        tell(f"辖区包：{pack}（{var_dir} 中的演示数据所用；用 {REFERENCE_VARIABLE} 可改）")
    if console_year and isinstance(year, int) and "REHAB_CONSOLE_YEAR" not in os.environ:
        os.environ["REHAB_CONSOLE_YEAR"] = str(year)
        tell(f"工作台年度：{year}（演示数据的年度；用 REHAB_CONSOLE_YEAR 可改）")
