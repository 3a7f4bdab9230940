"""Printable forms as PDF: 附件1, 附件2, 附件3, 附件4 (issue 15)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/print")
