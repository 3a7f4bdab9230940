"""Python's cyclic garbage collector paused around bulk work, then resumed.

A replay or a consumed batch allocates thousands of objects that reference counting frees, or that live
on (a person's book); the collector's passes over them meanwhile find next to nothing to collect (a
replay's were a third of its time). Paused, it runs once the work is done, over what is left. Several
threads may pause it at once (the stream subscribers' workers): it resumes when the last of them is
done, if it was running when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_resume = False
"""Whether the collector ran when the current pauses began."""


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Pause the cyclic collector for the ``with`` block (reference counting still frees as usual)."""
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()
