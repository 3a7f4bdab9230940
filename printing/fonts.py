"""The CJK fonts every form is set in, checked before printing: without them fontconfig would silently
substitute a font with no Chinese glyphs and the PDF would print boxes (豆腐) where the names are."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC")
"""Debian's fonts-noto-cjk (installed by scripts/setup); print.css names them."""


class FontsMissing(RuntimeError):
    """A font family of the forms is not installed on this host."""

    def __init__(self, missing: tuple[str, ...]) -> None:
        super().__init__(
            f"本机未安装打印表格所需的字体（{'、'.join(missing)}），无法生成PDF；"
            "请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）后重试"
        )
        self.missing = missing


@cache
def installed_families() -> frozenset[str] | None:
    """The font families fontconfig knows, or None when fc-list is not there to ask."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    listed = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, check=False).stdout
    return frozenset(family.strip() for line in listed.splitlines() for family in line.split(","))


def require_fonts() -> None:
    """Raise ``FontsMissing`` unless every family of ``FAMILIES`` is installed (unknown: let it print)."""
    families = installed_families()
    if families is None:
        return
    missing = tuple(family for family in FAMILIES if family not in families)
    if missing:
        raise FontsMissing(missing)
