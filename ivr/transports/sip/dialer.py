"""Outbound calls: the ``Dialer`` seam (what ``ivr dial`` and outbound
campaigns use) and its SIP implementation.

``await dialer.dial("sip:0912345678@pbx.example.com", caller="bank")``
places one call from the ``SipServer``'s socket (INVITE with our PCMU/PCMA/
telephone-event offer; sippy ACKs the 200), runs the server's session factory
on it — the flow the services were built with — and returns when the call is
over: answered or not, the callee's failure code, how it ended, its record.
One dialer places many calls at once (each ``dial`` is independent); the
server's ``max_calls`` counts inbound and outbound calls together."""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ivr.errors import IvrError
from ivr.log import get_logger
from ivr.transports.sip.call import SipCall
from ivr.transports.sip.stack import Reactor
from ivr.transports.sip.ua import SipLeg

if TYPE_CHECKING:
    from ivr.session.records import CallRecord
    from ivr.transports.base import SessionFactory
    from ivr.transports.sip.server import SipServer

log = get_logger(__name__)


@dataclass(frozen=True)
class DialResult:
    uri: str
    call_id: str
    answered: bool
    sip_code: int | None        # the callee's final failure (486 busy, 480/408 no answer, 404 ...), else None
    end: str                    # completed | hangup | transferred | no_media | no_answer | failed | busy ...
    record: CallRecord | None   # the session's record, when it was answered


class Dialer(Protocol):
    async def dial(self, uri: str, *, caller: str = "ivr", answer_timeout: float = 45.0,
                   call_id: str | None = None, factory: SessionFactory | None = None) -> DialResult: ...


def parse_sip_uri(uri: str) -> tuple[str, int, str]:
    """(host, port, user) of ``sip:user@host[:port]``, parsed by sippy; ``IvrError`` if it is not one."""
    Reactor.ensure()
    from sippy.SipURL import SipURL  # type: ignore[import-untyped]

    try:
        url = SipURL(uri.strip())
    except Exception as e:
        raise IvrError(f"not a SIP URI ({type(e).__name__}: {str(e)[:60]})", f"dial {uri!r}") from None
    if not url.host or not url.username:
        raise IvrError("expected sip:USER@HOST[:PORT]", f"dial {uri!r}")
    return str(url.host), int(url.port or 5060), str(url.username)


class SipDialer:
    def __init__(self, server: SipServer) -> None:
        self.server = server

    async def dial(self, uri: str, *, caller: str = "ivr", answer_timeout: float = 45.0,
                   call_id: str | None = None, factory: SessionFactory | None = None) -> DialResult:
        """``call_id``: the call's id, when the caller must know it first (a campaign
        registers the contact's data under it); ``factory``: this call's session instead
        of the server's (a campaign's: answering-machine detection before the flow)."""
        import secrets

        host, port, user = parse_sip_uri(uri)
        srv = self.server
        if srv.tm is None or srv.loop is None:
            raise IvrError("the SIP server is not started", "dial")
        with srv._lock:
            if srv.count >= srv.options.max_calls:
                return DialResult(uri, "", False, None, "busy", None)
            srv.count += 1
        call_id = call_id or secrets.token_hex(16)
        call = SipCall(call_id, user, f"{host}:{port}", factory or srv.factory, srv.clock, srv.calls, srv.options,
                       srv._call_done, srv.pacer)
        srv.active[call_id] = call
        made = threading.Event()

        def make_leg() -> None:
            call.leg = SipLeg(srv.tm.global_config, srv.loop, call, outbound=True)  # type: ignore[arg-type]
            made.set()

        Reactor.call(make_leg)
        await asyncio.to_thread(made.wait, 5.0)
        if call.leg is None:
            srv._call_done(call)
            raise IvrError("the SIP stack did not answer", "dial")
        await call.place(host, port, user, caller)
        assert call.done is not None
        try:
            await asyncio.wait_for(asyncio.shield(call.done), answer_timeout)
        except TimeoutError:
            if not call._answered:
                log.info("sip %s: no answer from %s in %.0f s; cancelling", call_id, uri, answer_timeout)
                call.end_reason = "no_answer"
                call.leg.hangup()  # CANCEL
        try:
            why = await asyncio.wait_for(call.done, 40.0)  # a CANCEL's 487 (sippy gives up after 32 s)
        except TimeoutError:
            call._finish("no_answer")
            why = "no_answer"
        record = call.session.record if call.session is not None else None
        code = call.final_code
        if not call._answered and not call.end_reason and code is not None:
            why = "busy" if code in (486, 600) else "no_answer" if code in (408, 480, 487) else "failed"
        return DialResult(uri, record.call_id if record else call_id, call._answered, code,
                          call.end_reason or why, record)
