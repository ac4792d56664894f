"""Waiting for something to happen: poll a predicate until it gives a true value.

A test that proves that nothing happened does not wait here; it drains what could make
it happen (``hook_delivery.drain``) and then looks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float, interval: float = 0.2) -> T:
    """The first true value of ``predicate()``, asked every ``interval`` seconds; an
    AssertionError (with the last value) when ``timeout`` seconds pass without one.
    The predicate may itself assert, say that a process it waits on is still alive."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {value!r})")
        time.sleep(interval)


async def wait_for_async(
    predicate: Callable[[], Awaitable[T]], timeout: float, interval: float = 0.2
) -> T:
    """``wait_for`` for a coroutine predicate, sleeping without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {value!r})")
        await asyncio.sleep(interval)
