"""Login defences for the agent desktop.

- Backoff per *client* (IP address), never per target agent id: a flood of
  wrong passwords for ``alice`` locks out the flooding address, not Alice.
- A global cap on login attempts per second, so many addresses together
  cannot keep the password hasher busy either. Addresses that logged in
  successfully before (a bounded, expiring list: the call-centre desks) are
  exempt from it and get a reserved hashing slot, so a distributed flood
  cannot keep the agents out either.
- Both tables are bounded and pruned: an attacker cycling addresses or agent
  ids cannot grow memory.
- Same-origin checks for state-changing requests and the WebSocket; tokens in
  URLs are refused (they end up in proxy logs and browser history).

The password hashing itself runs in its own one-thread pool with a short
queue (``ivr.handoff.auth.PasswordPool``), so calls never wait behind it."""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class _Client:
    failures: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class LoginGuard:
    """``retry_after(client)`` before trying a login (seconds to wait, 0 = go
    ahead); then ``failed(client)`` or ``succeeded(client)``."""

    def __init__(self, *, free_failures: int = 5, lock_seconds: float = 60.0, max_lock_seconds: float = 900.0,
                 forget_after: float = 3600.0, max_clients: int = 10_000, global_per_second: float = 10.0,
                 global_burst: int = 20, clock: Callable[[], float] = time.monotonic) -> None:
        self.free_failures = free_failures
        self.lock_seconds = lock_seconds
        self.max_lock_seconds = max_lock_seconds
        self.forget_after = forget_after
        self.max_clients = max_clients
        self.rate, self.burst = global_per_second, float(global_burst)
        self.clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()  # least recently failed first
        self._trusted: OrderedDict[str, float] = OrderedDict()  # address -> last successful login
        self.trust_seconds = 7 * 24 * 3600.0
        self._tokens = float(global_burst)
        self._refill_at = clock()
        self.refused_client = 0
        self.refused_global = 0

    def __len__(self) -> int:
        return len(self._clients) + len(self._trusted)

    def retry_after(self, client: str) -> tuple[float, str]:
        """(seconds, why): 0 when this attempt may go ahead (it then uses one
        token of the global budget)."""
        now = self.clock()
        c = self._clients.get(client)
        if c is not None and now < c.locked_until:
            self.refused_client += 1
            return c.locked_until - now, "client"
        if self.trusted(client):
            return 0.0, ""
        self._tokens = min(self.burst, self._tokens + (now - self._refill_at) * self.rate)
        self._refill_at = now
        if self._tokens < 1.0:
            self.refused_global += 1
            return (1.0 - self._tokens) / self.rate, "global"
        self._tokens -= 1.0
        return 0.0, ""

    def failed(self, client: str) -> None:
        now = self.clock()
        c = self._clients.pop(client, None) or _Client()
        if now - c.last > self.forget_after:
            c = _Client()
        c.failures += 1
        c.last = now
        if c.failures >= self.free_failures:
            # doubling per failure past the free ones, capped
            backoff = self.lock_seconds * 2 ** (c.failures - self.free_failures)
            c.locked_until = now + min(self.max_lock_seconds, backoff)
        self._clients[client] = c
        self._prune(now)

    def succeeded(self, client: str) -> None:
        self._clients.pop(client, None)
        self._trusted.pop(client, None)
        self._trusted[client] = self.clock()
        while len(self._trusted) > self.max_clients:
            self._trusted.popitem(last=False)

    def trusted(self, client: str) -> bool:
        """Logged in successfully from this address within ``trust_seconds``."""
        at = self._trusted.get(client)
        return at is not None and self.clock() - at < self.trust_seconds

    def _prune(self, now: float) -> None:
        # oldest failure first: drop the forgotten, and the oldest while over the cap (an
        # attacker with more addresses than the cap meets the global limit instead)
        while self._clients:
            key, c = next(iter(self._clients.items()))
            if now - c.last > self.forget_after or len(self._clients) > self.max_clients:
                del self._clients[key]
            else:
                break


def same_origin(headers: Mapping[str, str], allowed: frozenset[str] = frozenset()) -> bool:
    """True unless the request carries an Origin that is neither this host nor
    explicitly allowed. Browsers send Origin on every cross-site POST and every
    WebSocket handshake; scripts (curl, the CLI) send none and authenticate
    with a bearer token, which a cross-site page cannot read."""
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin in allowed:
        return True
    if origin == "null":
        return False
    parts = urlsplit(origin)
    host = headers.get("host", "")
    return bool(parts.scheme in ("http", "https") and parts.netloc and parts.netloc.lower() == host.lower())
