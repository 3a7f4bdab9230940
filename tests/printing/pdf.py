"""What the printing tests read back from a PDF with poppler-utils: its text and its pages' sizes."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

A4_PORTRAIT = (595.28, 841.89)
"""A4 in PostScript points (210 × 297 mm)."""
A4_LANDSCAPE = (841.89, 595.28)


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"{tool} is missing: scripts/setup installs poppler-utils from apt")
    return found


def text_of(pdf: bytes, *, first: int | None = None, last: int | None = None, layout: bool = False) -> str:
    """The PDF's text (pages ``first`` to ``last``), as pdftotext extracts it."""
    command = [_poppler("pdftotext"), "-enc", "UTF-8"]
    if layout:
        command.append("-layout")
    if first is not None:
        command += ["-f", str(first)]
    if last is not None:
        command += ["-l", str(last)]
    return subprocess.run([*command, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()


def compact(text: str) -> str:
    """The text without white space: a label the form breaks over two lines reads as one word."""
    return re.sub(r"\s+", "", text)


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's width and height in points."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.pdf"
        path.write_bytes(pdf)
        shown = subprocess.run(
            [_poppler("pdfinfo"), "-f", "1", "-l", "999", str(path)],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    return [
        (float(width), float(height))
        for width, height in re.findall(r"Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+) pts", shown)
    ]


def is_a4(size: tuple[float, float], expected: tuple[float, float]) -> bool:
    return all(abs(side - want) < 1.0 for side, want in zip(size, expected, strict=True))
