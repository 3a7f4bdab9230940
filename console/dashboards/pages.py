"""Dashboards: coverage, monthly progress, budget and quota use, with charts (issue 15)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/dashboards")
