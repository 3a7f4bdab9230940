"""The base of every ``REHAB_*`` settings object, kept importable here for the services, the console
and the command line; it lives in :mod:`kernel.config`, at the bottom of the kernel, so the store and
messaging layers may read their settings too."""

from __future__ import annotations

from kernel.config import PREFIX, RehabSettings, SettingsInvalid, variable_of

__all__ = ["PREFIX", "RehabSettings", "SettingsInvalid", "variable_of"]
