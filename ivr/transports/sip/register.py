"""REGISTER to a PBX or trunk, with digest authentication (RFC 3261 §22),
by sippy's ``SipRegistrationAgent``: it answers a 401/407 challenge and
registers again when the granted binding runs out (a refusal is retried a
minute later). The password goes to sippy's digest code only: it is never
logged, and ``state`` names the AOR and the outcome, not the credentials."""
from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from ivr.errors import IvrError
from ivr.log import get_logger
from ivr.transports.sip.stack import Reactor

if TYPE_CHECKING:
    from ivr.transports.sip.server import SipServer

log = get_logger(__name__)


class Registration:
    def __init__(self, server: SipServer, aor: str, *, user: str | None = None, password: str | None = None,
                 expires: int = 300) -> None:
        self.server = server
        self.aor = aor
        self.user = user
        self._password = password
        self.expires = expires
        self.state = "idle"            # registering | registered | refused <status line>
        self.registrations = 0         # successful REGISTERs (the first and each renewal)
        self.until: float | None = None  # wall-clock end of the current binding
        self._agent: Any = None
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self, wait: float = 10.0) -> str:
        """Send the first REGISTER; returns the state after the first answer (or ``registering``)."""
        srv = self.server
        if srv.tm is None or srv.address is None:
            raise IvrError("the SIP server is not started", "sip register")
        self._loop = asyncio.get_running_loop()
        host, port = srv.address
        contact_host = srv.options.media_host if host in ("", "0.0.0.0") else host
        made = threading.Event()
        self.state = "registering"

        def begin() -> None:
            from sippy.SipRegistrationAgent import SipRegistrationAgent  # type: ignore[import-untyped]
            from sippy.SipURL import SipURL  # type: ignore[import-untyped]

            try:
                aor = SipURL(self.aor)
                contact = SipURL(username=aor.username, host=contact_host, port=port)
                self._agent = SipRegistrationAgent(srv.tm.global_config, aor, contact, user=self.user,
                                                   passw=self._password, exp=self.expires, rok_cb=self._ok,
                                                   rfail_cb=self._fail)
                self._agent.doregister()
            except Exception as e:
                self._post(f"refused (bad AOR {self.aor!r}: {type(e).__name__})", None)
            made.set()

        Reactor.call(begin)
        await asyncio.to_thread(made.wait, 5.0)
        try:
            await asyncio.wait_for(self._changed.wait(), wait)
        except TimeoutError:
            log.warning("sip register %s: no answer in %.0f s; still trying", self.aor, wait)
        return self.state

    def stop(self) -> None:
        agent, self._agent = self._agent, None
        if agent is not None:
            Reactor.call(agent.stopregister)

    # -- reactor thread --------------------------------------------------------
    def _ok(self, until: float, contact: Any, arg: Any) -> None:
        self._post("registered", float(until))

    def _fail(self, status_line: Any, arg: Any) -> None:
        self._post(f"refused {str(status_line)[:80]}", None)

    def _post(self, state: str, until: float | None) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._set, state, until)

    def _set(self, state: str, until: float | None) -> None:
        if state == "registered":
            self.registrations += 1
            if self.state != "registered":
                log.info("sip register %s: registered", self.aor)
        else:
            log.warning("sip register %s: %s", self.aor, state)
        self.state, self.until = state, until
        self._changed.set()
