"""Running one ``CallBackend`` action: through the backend registry (sync or
async), under a timeout on the call's clock. Every outcome, a crash or a
timeout included, comes back as an ``ActionResult`` for the dialog's failure
branch; the call never drops over a backend.

A backend's error text is not trusted: a webhook may echo the PIN it was sent
("wrong PIN 1234"), a stack trace may carry a DSN with its password. Before the
error reaches the dialog, the call record or a log it is cut to one line, every
argument value the call sent is blanked, URL secrets are masked and personal
numbers redacted (``clean_error``)."""
from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from ivr.dsn import mask_secrets
from ivr.frames import ActionResult, CallBackend
from ivr.redact import redact

ERROR_MAX_CHARS = 200
HIDDEN = "****"


def _arg_values(args: Any) -> list[str]:
    """Every scalar the call sent, as text, longest first (so 12345 is blanked before 123)."""
    out: list[str] = []
    stack = [args]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, (str, int)) and not isinstance(v, bool):
            text = str(v).strip()
            if len(text) >= 3:  # shorter values ("1", "zh") would blank ordinary words
                out.append(text)
    return sorted(set(out), key=len, reverse=True)


def clean_error(error: str, args: Any = None) -> str:
    """A backend's error as one safe line: no argument the caller gave, no URL
    secret, no personal number, at most ``ERROR_MAX_CHARS`` characters."""
    if not error:
        return error
    text = " ".join(str(error).split())
    for value in _arg_values(args or {}):
        text = text.replace(value, HIDDEN)
    text = redact(mask_secrets(text))
    if len(text) > ERROR_MAX_CHARS:
        text = text[: ERROR_MAX_CHARS - 1] + "…"
    return text


def _with_call_id(backends: Callable[..., Any], call_id: str | None) -> Callable[..., Any]:
    """The registry learns which call it serves (its audit trail); a plain
    ``(name, args)`` callable, as tests use, is passed through unchanged."""
    if call_id is None:
        return backends
    try:
        takes = "call_id" in inspect.signature(backends).parameters
    except (TypeError, ValueError):
        takes = False
    if not takes:
        return backends
    if asyncio.iscoroutinefunction(backends):
        async def acall(name: str, args: dict[str, Any]) -> Any:
            return await backends(name, args, call_id=call_id)
        return acall
    return lambda name, args: backends(name, args, call_id=call_id)


async def run_backend(backends: Callable[..., Any] | None, action: CallBackend, clock: Any,
                      offload: Callable[..., Awaitable[Any]], timeout: float,
                      call_id: str | None = None) -> ActionResult:
    if backends is not None:
        backends = _with_call_id(backends, call_id)
    result = await _run(backends, action, clock, offload, timeout)
    if result.error:
        error = clean_error(result.error, action.args)
        if error != result.error:
            result = ActionResult(result.name, result.ok, result.data, error)
    return result


async def _run(backends: Callable[..., Any] | None, action: CallBackend, clock: Any,
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
