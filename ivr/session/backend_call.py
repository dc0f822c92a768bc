"""Running one ``CallBackend`` action: through the backend registry (sync or
async), under a timeout on the call's clock. Every outcome, a crash or a
timeout included, comes back as an ``ActionResult`` for the dialog's failure
branch; the call never drops over a backend."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ivr.frames import ActionResult, CallBackend


async def run_backend(backends: Callable[..., Any] | None, action: CallBackend, clock: Any,
                      offload: Callable[..., Awaitable[Any]], timeout: float) -> ActionResult:
    if backends is None:
        return ActionResult(action.name, False, error="no backend registry configured")
    if asyncio.iscoroutinefunction(backends):
        call = asyncio.ensure_future(backends(action.name, dict(action.args)))
    else:  # a blocking registry (argon2, HTTP): off the event loop
        call = asyncio.ensure_future(offload(backends, action.name, dict(action.args)))
    sleep = asyncio.ensure_future(clock.sleep(timeout))
    try:
        await asyncio.wait({call, sleep}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleep.cancel()
        timed_out = not call.done()
        if timed_out:
            call.cancel()
    if timed_out:
        return ActionResult(action.name, False, error=f"timed out after {timeout:g} s")
    if call.exception() is not None:
        return ActionResult(action.name, False, error=f"{type(call.exception()).__name__}: {call.exception()}")
    return call.result()
