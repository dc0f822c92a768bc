"""Backends by name: Python callables and HTTP webhooks behind one call.
Every outcome, including a crash or a timeout, becomes an ``ActionResult``,
so a flow's failure branch runs instead of the call dropping."""
from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ivr.backends.webhook import Webhook
from ivr.errors import BackendError
from ivr.frames import ActionResult
from ivr.log import get_logger

log = get_logger(__name__)


def _to_result(name: str, out: Any) -> ActionResult:
    if isinstance(out, ActionResult):
        return out
    if out is None:
        return ActionResult(name=name, ok=True)
    if isinstance(out, Mapping):
        if out.get("ok") is False:
            return ActionResult(name=name, ok=False, data=dict(out.get("data") or {}),
                                error=str(out.get("error") or "failed"))
        data = dict(out.get("data", out)) if isinstance(out.get("data", out), Mapping) else {"value": out.get("data")}
        data.pop("ok", None)
        return ActionResult(name=name, ok=True, data=data)
    return ActionResult(name=name, ok=True, data={"value": out})


def _takes_call_id(fn: Callable[..., Any]) -> bool:
    """A backend that declares a ``call_id`` parameter is told which call it serves
    (for its audit trail); the value comes from the session, never from the flow."""
    try:
        return "call_id" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class BackendRegistry:
    """Backends by name. ``call``/``acall`` take the serving call's id: a Python
    backend gets it as ``call_id=`` when it declares that parameter, a webhook as
    the ``X-Ivr-Call-Id`` header."""

    def __init__(self) -> None:
        self._fns: dict[str, Callable[..., Any]] = {}
        self._hooks: dict[str, Webhook] = {}
        self._told_call: set[str] = set()  # backends that declare call_id (looked at once, when registered)

    def register(self, name: str, fn: Callable[..., Any]) -> None:
        self._fns[name] = fn
        if _takes_call_id(fn):
            self._told_call.add(name)
        else:
            self._told_call.discard(name)

    def register_webhook(self, name: str, url: str, timeout: float = 3.0, retries: int = 1,
                         headers: Mapping[str, str] | None = None, transport: Any = None) -> None:
        self._hooks[name] = Webhook(name, url, timeout=timeout, retries=retries, headers=headers, transport=transport)

    def names(self) -> set[str]:
        return set(self._fns) | set(self._hooks)

    def __contains__(self, name: object) -> bool:
        return name in self._fns or name in self._hooks

    def _args(self, name: str, args: Mapping[str, Any] | None, call_id: str | None) -> dict[str, Any]:
        out = dict(args or {})
        if name in self._told_call:
            out["call_id"] = call_id  # a flow cannot pass (or forge) it
        return out

    def call(self, name: str, args: Mapping[str, Any] | None = None, *, call_id: str | None = None) -> ActionResult:
        if name in self._hooks:
            return self._hooks[name].call(dict(args or {}), call_id=call_id)
        fn = self._fns.get(name)
        if fn is None:
            return ActionResult(name=name, ok=False, error=f"unknown backend '{name}'")
        args = self._args(name, args, call_id)
        try:
            out = fn(**args)
            if inspect.isawaitable(out):
                raise BackendError("async backend called synchronously; use acall", name)
        except BackendError as e:
            return ActionResult(name=name, ok=False, error=e.message)
        except Exception as e:  # any crash in a backend is a failed action, not a dropped call
            log.exception("backend %s crashed", name)
            return ActionResult(name=name, ok=False, error=f"{type(e).__name__}: {e}")
        return _to_result(name, out)

    async def acall(self, name: str, args: Mapping[str, Any] | None = None, *,
                    call_id: str | None = None) -> ActionResult:
        if name in self._hooks:
            return await self._hooks[name].acall(dict(args or {}), call_id=call_id)
        fn = self._fns.get(name)
        if fn is not None and inspect.iscoroutinefunction(fn):
            try:
                return _to_result(name, await fn(**self._args(name, args, call_id)))
            except BackendError as e:
                return ActionResult(name=name, ok=False, error=e.message)
            except Exception as e:  # see call()
                log.exception("backend %s crashed", name)
                return ActionResult(name=name, ok=False, error=f"{type(e).__name__}: {e}")
        return await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(self.call, name, args, call_id=call_id))
