"""The sippy side of one call: a ``UA`` (sippy's dialog state machine) whose
events are handed to asyncio as plain values.

Everything here runs on the reactor thread. ``SipLeg`` is what the asyncio
side calls (each method hops to the reactor); ``LegEvents`` is what it is
told: answered (ACK), ended (BYE, CANCEL, no ACK), DTMF by INFO, a re-INVITE's
new offer, REFER progress."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from ivr.log import get_logger
from ivr.transports.sip.dtmf import parse_info_body
from ivr.transports.sip.stack import Reactor

log = get_logger(__name__)


class LegEvents(Protocol):
    def offered(self, sdp: str | None) -> None: ...          # INVITE (first, or a re-INVITE)
    def answered(self) -> None: ...                           # ACK for our 200
    def ended(self, why: str) -> None: ...                    # BYE / CANCEL / failure
    def info_digit(self, key: str) -> None: ...
    def refer_result(self, code: int, final: bool) -> None: ...   # REFER reply, then NOTIFY sipfrag codes
    def connected(self, sdp: str | None) -> None: ...        # outbound: the callee's 200 OK (we ACKed it)
    def progress(self, code: int) -> None: ...               # outbound: a final failure code (486, 404...)


def _make_ua_class() -> Any:
    from sippy.UA import UA  # type: ignore[import-untyped]

    class IvrUA(UA):
        """sippy's UA, plus the in-dialog NOTIFY of a REFER subscription
        (RFC 3515), which sippy's Connected state leaves unanswered."""

        on_notify: Any = None

        def recvRequest(self, req: Any, sip_t: Any) -> Any:
            if req.getMethod() == "NOTIFY":
                body = req.getBody()
                if self.on_notify is not None and body is not None:
                    self.on_notify(str(body.localStr() if hasattr(body, "localStr") else body))
                return (req.genResponse(200, "OK", server=self.local_ua), None, None)
            return super().recvRequest(req, sip_t)

    return IvrUA


_UA_CLASS: Any = None


def named_header(name: str, value: str) -> Any:
    """A header body that keeps ``name``'s usual spelling (sippy writes an
    unknown header as ``User-to-user``; names are case-insensitive, but some
    peers and test tools match them exactly)."""
    from sippy.SipGenericHF import SipGenericHF  # type: ignore[import-untyped]

    class Named(SipGenericHF):
        def getCanName(self, _name: str, compact: bool = False) -> str:
            return name

        def getCopy(self) -> Any:
            return named_header(name, self.body)

    return Named(value, name)


def plain_contact(user: str) -> Any:
    """Our Contact as a bare ``<sip:user@host:port>``: sippy's default carries
    the display name ``Anonymous``, which some peers (SIPp's ``[next_url]``)
    copy into the Request-URI of the ACK and BYE they send back. Host and port
    are filled in by sippy when the message is sent, as for its default."""
    from sippy.SipAddress import SipAddress  # type: ignore[import-untyped]
    from sippy.SipContact import SipContact  # type: ignore[import-untyped]
    from sippy.SipURL import SipURL  # type: ignore[import-untyped]

    return SipContact(address=SipAddress(url=SipURL(username=user or None), hadbrace=True))


class SipLeg:
    """One dialog, built on the reactor thread: from an incoming INVITE, or
    (``outbound``) before ``invite`` places a call."""

    def __init__(self, global_config: dict[str, Any], loop: asyncio.AbstractEventLoop, events: LegEvents,
                 outbound: bool = False, user: str = "ivr") -> None:
        from sippy.CCEvents import CCEventTry  # type: ignore[import-untyped]

        global _UA_CLASS
        if _UA_CLASS is None:
            _UA_CLASS = _make_ua_class()
        self.loop = loop
        self.events = events
        self._try = CCEventTry
        self.ua = _UA_CLASS(global_config, event_cb=self._on_event, disc_cbs=(self._on_disc,),
                            fail_cbs=(self._on_fail,), conn_cbs=(self._on_conn,), dead_cbs=(self._on_dead,))
        self.ua.on_notify = self._on_notify
        self.ua.lContact = plain_contact(user)  # outbound: sippy puts the caller id in as its user part
        self.ua.godead_timeout = 4.0
        self._ended = False
        self._refer_final = False
        self.outbound = outbound

    # -- reactor thread: sippy -> us ----------------------------------------
    def _post(self, fn: Any, *args: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the asyncio loop is gone (process exiting)
            pass

    def _on_event(self, event: Any, ua: Any) -> None:
        from sippy.CCEvents import CCEventConnect, CCEventDisconnect, CCEventFail, CCEventInfo, CCEventUpdate

        if self.outbound and isinstance(event, CCEventConnect):
            body = event.getData()[2]
            self._post(self.events.connected, None if body is None else str(body.localStr()))
            return
        if self.outbound and isinstance(event, CCEventFail):
            self._post(self.events.progress, int(event.getData()[0]))
        if isinstance(event, (self._try, CCEventUpdate)):
            body = event.getData()[3] if isinstance(event, self._try) else event.getData()
            self._post(self.events.offered, None if body is None else str(body.localStr()))
        elif isinstance(event, CCEventInfo):
            body = event.getData()
            if body is not None:
                key = parse_info_body(body.getType(), str(body.localStr()))
                if key is not None:
                    self._post(self.events.info_digit, key)
        elif isinstance(event, (CCEventDisconnect, CCEventFail)):
            self._end("bye" if isinstance(event, CCEventDisconnect) else "failed")

    def _on_conn(self, ua: Any, rtime: Any, origin: Any) -> None:
        if not self.outbound:  # outbound: ``connected`` carries the answer
            self._post(self.events.answered)

    def _on_disc(self, ua: Any, rtime: Any, origin: Any, result: int = 0) -> None:
        self._end("bye")

    def _on_fail(self, ua: Any, rtime: Any, origin: Any, result: int = 0) -> None:
        if self.outbound and result and not self._ended:
            self._post(self.events.progress, int(result))  # before ``ended``: the dialer reports the code
        self._end("failed")

    def _on_dead(self, ua: Any, *args: Any) -> None:
        self._end("bye")

    def _end(self, why: str) -> None:
        if not self._ended:
            self._ended = True
            self._post(self.events.ended, why)

    def _on_notify(self, sipfrag: str) -> None:
        parts = sipfrag.split(None, 2)
        if len(parts) >= 2 and parts[0].upper().startswith("SIP/") and parts[1].isdigit():
            code = int(parts[1])
            self._post(self.events.refer_result, code, code >= 200)

    def _on_refer_reply(self, resp: Any) -> None:
        code = int(resp.getSCode()[0])
        if code >= 200:
            self._post(self.events.refer_result, code, code >= 300)  # 202: wait for the NOTIFY

    # -- asyncio -> reactor -------------------------------------------------
    def invite(self, call_id: str, host: str, port: int, user: str, caller: str, sdp: str) -> None:
        Reactor.call(self._invite, call_id, host, port, user, caller, sdp)

    def _invite(self, call_id: str, host: str, port: int, user: str, caller: str, sdp: str) -> None:
        from sippy.CCEvents import CCEventTry
        from sippy.MsgBody import MsgBody  # type: ignore[import-untyped]
        from sippy.SipCallId import SipCallId  # type: ignore[import-untyped]

        self.ua.setNextHop((host, port))
        self.ua.recvEvent(CCEventTry((SipCallId(call_id), caller, user, MsgBody(sdp), None, caller)))

    def ring_and_answer(self, sdp: str, ring: bool = True) -> None:
        Reactor.call(self._answer, sdp, ring)

    def _answer(self, sdp: str, ring: bool) -> None:
        from sippy.CCEvents import CCEventConnect, CCEventRing
        from sippy.MsgBody import MsgBody

        if self._ended:
            return
        if ring:
            self.ua.recvEvent(CCEventRing((180, "Ringing", None)))
        self.ua.recvEvent(CCEventConnect((200, "OK", MsgBody(sdp))))

    def ring(self) -> None:
        from sippy.CCEvents import CCEventRing

        Reactor.call(lambda: self._ended or self.ua.recvEvent(CCEventRing((180, "Ringing", None))))

    def reject(self, code: int, reason: str) -> None:
        from sippy.CCEvents import CCEventFail

        Reactor.call(lambda: self.ua.recvEvent(CCEventFail((code, reason))))

    def hangup(self) -> None:
        """BYE (or, before the 200, a final error reply)."""
        from sippy.CCEvents import CCEventDisconnect

        Reactor.call(lambda: self.ua.recvEvent(CCEventDisconnect()))

    def refer(self, target: str, headers: Sequence[tuple[str, str]]) -> None:
        Reactor.call(self._refer, target, tuple(headers))

    def _refer(self, target: str, headers: tuple[tuple[str, str], ...]) -> None:
        from sippy.SipHeader import SipHeader  # type: ignore[import-untyped]

        if self._ended or not getattr(self.ua.state, "connected", False):
            self._post(self.events.refer_result, 481, True)
            return
        req = self.ua.genRequest("REFER")
        for name, value in (("Refer-To", f"<{target}>"), ("Referred-By", f"<{self.ua.lUri.getUrl()}>"), *headers):
            req.appendHeader(SipHeader(name=name, body=named_header(name, value)))
        self.ua.newTransaction(req, resp_cb=self._on_refer_reply)
