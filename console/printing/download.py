"""A printed form as the browser receives it: a PDF with its Chinese file name, never cached."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.responses import Response

PDF = "application/pdf"


def pdf_download(content: bytes, filename: str, ascii_name: str) -> Response:
    """The PDF shown in the browser's viewer (inline), saved under ``filename`` (RFC 6266 / RFC 5987:
    ``filename*`` in UTF-8 for the Chinese name, ``ascii_name`` for clients without it); ``no-store``
    because every form carries personal data."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("_") or "form.pdf"
    disposition = f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
    return Response(
        content, media_type=PDF, headers={"Content-Disposition": disposition, "Cache-Control": "no-store"}
    )
