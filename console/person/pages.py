"""One person's whole journey, and forgetting a person (issue 12)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/persons")
