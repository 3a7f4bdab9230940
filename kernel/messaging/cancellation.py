"""Honouring task cancellation that a library swallowed."""

import asyncio


def raise_if_cancelled() -> None:
    """Honour a cancellation some library swallowed, so a service's shutdown cannot hang.

    On Python 3.11, asyncio.wait_for (which redis-py uses for every socket write when a
    socket_timeout is set) returns normally when its operation completes just as the task is
    cancelled; the task stays "cancelling" but would loop on forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
