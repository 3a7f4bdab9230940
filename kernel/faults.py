"""Fault points for the fault-injection suite: a process dies at a named point when told to.

``REHAB_FAULT=<name>`` makes the process exit at once (status 137, as after SIGKILL: no cleanup,
no flush, no rollback) the first time it reaches ``fault_point(<name>)``;
``REHAB_FAULT=<name>:<n>`` the n-th time. Without the variable a fault point does nothing.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

KILLED = 137
"""The exit status a shell reports for SIGKILL (128 + 9)."""

_hits: dict[str, int] = {}
_lock = threading.Lock()


def fault_point(name: str) -> None:
    """Die here if ``REHAB_FAULT`` names this point (and this is the hit it counts to)."""
    spec = os.environ.get("REHAB_FAULT")
    if not spec:
        return
    target, _, count = spec.partition(":")
    if target != name:
        return
    with _lock:
        _hits[name] = hits = _hits.get(name, 0) + 1
        if hits < int(count or 1):
            return
        log.critical("fault point %s reached (hit %d): exiting with status %d", name, hits, KILLED)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(KILLED)
