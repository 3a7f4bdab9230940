"""The forms are set in Noto CJK, embedded in the PDF; a host without those fonts refuses to print."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from printing import FontsMissing, approval_form_pdf, fonts
from tests.printing import samples


def test_the_pdf_embeds_the_noto_cjk_serif_and_sans_fonts() -> None:
    pdffonts = shutil.which("pdffonts")
    if pdffonts is None:
        pytest.skip("pdffonts is missing: scripts/setup installs poppler-utils from apt")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "form.pdf"
        path.write_bytes(approval_form_pdf(samples.approval_form()))
        listed = subprocess.run([pdffonts, str(path)], capture_output=True, text=True, check=True).stdout

    assert "Noto-Serif-CJK-SC" in listed and "Noto-Sans-CJK-SC" in listed


def test_a_host_without_the_cjk_fonts_refuses_to_print_instead_of_printing_empty_boxes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fonts, "installed_families", lambda: frozenset({"DejaVu Sans"}))

    with pytest.raises(FontsMissing) as refused:
        approval_form_pdf(samples.approval_form())

    assert refused.value.missing == fonts.FAMILIES
    assert "fonts-noto-cjk" in str(refused.value)
