"""Device calls off Flet's event loop: the one way the screens reach the device.

Flet runs every session's rendering and event handlers on one asyncio loop. A call that waits on SQLite,
a PIN hash or the centre would freeze every tablet that the same `--web` process serves, so screens
never call the device directly: handlers `await off_loop(device.something, ...)`, and what a screen
shows is loaded with `use_loaded(...)`, both on a pool of worker threads of their own (the loop's
default pool is small and shared with Flet's own work).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

import flet as ft

from clienteling.device import DeviceError

T = TypeVar("T")
log = logging.getLogger(__name__)

# Enough workers that a few calls stuck on a hanging centre never hold up the others.
_POOL = ThreadPoolExecutor(max_workers=24, thread_name_prefix="clienteling-device")


async def off_loop(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `call(*args, **kwargs)` on a worker thread and wait for it without holding up the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, partial(call, *args, **kwargs))


def in_background(call: Callable[..., Any], *args: Any) -> None:
    """Start `call(*args)` on a worker thread and do not wait for it (a record nobody waits to see)."""

    def logged() -> None:
        try:
            call(*args)
        except Exception:
            log.exception("background device call %s failed", getattr(call, "__name__", call))

    _POOL.submit(logged)


@dataclass(frozen=True)
class Loaded(Generic[T]):
    """What a screen loaded from the device: its value, or the error that says why there is none."""

    value: T | None = None
    error: DeviceError | None = None
    ready: bool = False


LOADING: Loaded[Any] = Loaded()


def use_loaded(load: Callable[[], T], deps: Sequence[Any]) -> Loaded[T]:
    """`load()` run off the loop whenever `deps` change; the component renders `LOADING` until it is done.

    A load that is overtaken by newer `deps` (the screen moved on) is cancelled and its answer dropped.
    """
    result, set_result = ft.use_state(LOADING)
    loaded_for = ft.use_ref(None)
    key = tuple(deps)

    def start():
        async def work():
            try:
                value = await off_loop(load)
            except DeviceError as problem:
                loaded_for.current = key
                set_result(Loaded(error=problem, ready=True))
                return
            loaded_for.current = key
            set_result(Loaded(value=value, ready=True))

        return asyncio.create_task(work()).cancel

    ft.use_effect(start, list(deps))
    if loaded_for.current != key:  # deps changed since the last answer: never show the previous screen's data
        return LOADING
    return result
