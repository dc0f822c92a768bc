"""A backend that is an HTTP endpoint: POST the arguments as JSON, read
``{"ok": bool, "data": {...}, "error": "..."}`` (or a bare object as data).
Timeouts, connection errors and 5xx are retried; 4xx is an answer."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from ivr.frames import ActionResult
from ivr.log import get_logger

log = get_logger(__name__)


class Webhook:
    def __init__(self, name: str, url: str, timeout: float = 3.0, retries: int = 1,
                 headers: Mapping[str, str] | None = None, transport: Any = None, backoff: float = 0.1) -> None:
        self.name, self.url, self.timeout, self.retries = name, url, timeout, retries
        self.headers = dict(headers or {})
        self.transport = transport
        self.backoff = backoff

    def _answer(self, resp: httpx.Response) -> ActionResult | None:
        """A result, or None when the status says try again."""
        if resp.status_code >= 500:
            return None
        try:
            body = resp.json()
        except ValueError:
            return ActionResult(self.name, ok=False, error=f"HTTP {resp.status_code}: response is not JSON")
        if resp.status_code >= 400:
            err = body.get("error") if isinstance(body, dict) else None
            return ActionResult(self.name, ok=False, error=f"HTTP {resp.status_code}: {err or resp.reason_phrase}")
        if not isinstance(body, dict):
            return ActionResult(self.name, ok=True, data={"value": body})
        if "ok" in body or "data" in body:
            raw = body.get("data")
            data = raw if isinstance(raw, dict) else {}
            return ActionResult(self.name, ok=bool(body.get("ok", True)), data=data, error=str(body.get("error") or ""))
        return ActionResult(self.name, ok=True, data=body)

    def call(self, args: Mapping[str, Any], *, call_id: str | None = None) -> ActionResult:
        """Blocking form, for code with no event loop (``ivr chat``, scripts):
        the same retries as ``acall``, which is the one implementation."""
        return asyncio.run(self.acall(args, call_id=call_id))

    async def acall(self, args: Mapping[str, Any], *, call_id: str | None = None) -> ActionResult:
        last = "no attempt"
        headers = {**self.headers, **({"X-Ivr-Call-Id": call_id} if call_id else {})}
        async with httpx.AsyncClient(timeout=self.timeout, headers=headers, transport=self.transport) as client:
            for attempt in range(self.retries + 1):
                if attempt:
                    await asyncio.sleep(self.backoff * attempt)
                try:
                    res = self._answer(await client.post(self.url, json=dict(args)))
                    if res is not None:
                        return res
                    last = "server error"
                except httpx.TimeoutException:
                    last = f"timeout after {self.timeout:g}s"
                except httpx.HTTPError as e:
                    last = f"{type(e).__name__}: {e}"
                log.warning("webhook %s attempt %d failed: %s", self.name, attempt + 1, last)
        return ActionResult(self.name, ok=False, error=f"{self.url}: {last}")
