"""``ivr serve --sip HOST:PORT``: a SIP user agent server (UDP, or TCP with
``--sip-transport tcp``: ``tcp.SipTcp``).

Out-of-dialog requests are decided here, on the reactor thread: INVITE
starts a ``SipCall`` (486 Busy Here at ``max_calls``, 503 with Retry-After
while draining), OPTIONS is answered 200 so a proxy can health-check the
worker, anything else gets 405 or 481. In-dialog requests (ACK, BYE,
CANCEL, INFO, re-INVITE, NOTIFY) go to the call's sippy UA.

``close()`` (SIGTERM) drains: the socket stays open for the calls in flight
(their BYEs, transfers), new INVITEs get 503; once the last call is over
the socket is shut."""
from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from ivr.clock import Clock
from ivr.errors import ProtocolError
from ivr.log import LimitedLog, get_logger
from ivr.transports.base import CallTable, SessionFactory
from ivr.transports.sip.call import SipCall, SipOptions
from ivr.transports.sip.offload import RtpSender
from ivr.transports.sip.pacing import Ticker
from ivr.transports.sip.stack import Reactor, free_udp_port, make_transaction_manager
from ivr.transports.sip.tcp import SipTcp
from ivr.transports.sip.ua import SipLeg, named_header

if TYPE_CHECKING:
    from ivr.session.metrics import SessionMetrics

log = get_logger(__name__)
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY"


class SipServer:
    name = "sip"

    def __init__(self, factory: SessionFactory, clock: Clock, metrics: SessionMetrics | None = None,
                 calls: CallTable | None = None, options: SipOptions | None = None) -> None:
        self.factory = factory
        self.clock = clock
        self.metrics = metrics
        self.calls = calls if calls is not None else {}
        self.options = options or SipOptions()
        self.active: dict[str, SipCall] = {}   # Call-ID -> call (touched on the asyncio loop only)
        self.count = 0                          # calls admitted and not yet over (read on the reactor)
        self.draining = False
        self.tm: Any = None
        self.stream: SipTcp | None = None       # the TCP transport (options.transport == "tcp")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.address: tuple[str, int] | None = None
        self._warn = LimitedLog(log, "sip")
        self._lock = threading.Lock()
        self.refused: dict[int, int] = {}       # status code -> how many INVITEs got it
        self._closing: asyncio.Future[None] | None = None
        self.finished: deque[SipCall] = deque(maxlen=1000)  # the last calls over, with their RTP counts
        self.pacer = RtpSender(self.options.rtp_sender == "process", realtime=self.options.rtp_realtime)  # offload.py
        self.ticker = Ticker(self._tick)        # the loop's 20 ms housekeeping (queues, comfort silence, timeouts)
        self._ticking: asyncio.Task[None] | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.loop = asyncio.get_running_loop()
        host = host if host not in ("", "0.0.0.0") else "0.0.0.0"
        kind = self.options.transport
        if kind not in ("udp", "tcp"):
            raise ValueError(f"SIP transport {kind!r}: udp or tcp")
        if self.options.rtp_sender not in ("process", "thread"):
            raise ValueError(f"SIP RTP sender {self.options.rtp_sender!r}: process or thread")
        if self.options.media_host in ("", "0.0.0.0") and host != "0.0.0.0":
            self.options.media_host = host
        if kind == "tcp":
            self.stream = SipTcp(self.loop, self._from_stream, self._garbage, self.options.tcp_limits)
            try:
                port = (await self.stream.listen(host, port))[1]
            except OSError as e:
                raise OSError(f"cannot listen on tcp {host}:{port}: {e.strerror or e}") from None
        else:
            port = port or free_udp_port(host)
        done: asyncio.Future[None] = self.loop.create_future()

        def make() -> None:
            try:
                self.tm = make_transaction_manager(host, port, self._on_request, self._garbage, self.stream)
                self.loop.call_soon_threadsafe(done.set_result, None)  # type: ignore[union-attr]
            except Exception as e:
                err = OSError(f"cannot listen on {kind} {host}:{port}: {e}")
                self.loop.call_soon_threadsafe(done.set_exception, err)  # type: ignore[union-attr]

        Reactor.call(make)
        await asyncio.wait_for(done, 10.0)
        self._ticking = asyncio.ensure_future(self.ticker.run())
        self.pacer.start()
        self.address = (host, port)
        return self.address

    def close(self) -> None:
        """Refuse new calls (503); calls in flight run on; the socket closes after the last."""
        if self.draining:
            return
        self.draining = True
        if self.loop is not None:
            self._closing = asyncio.ensure_future(self._close_when_idle())

    async def _close_when_idle(self) -> None:
        while self.active:  # noqa: ASYNC110  calls remove themselves as they end
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # the last BYE's reply
        self.shutdown()

    async def stop(self, settle_seconds: float = 1.0) -> None:
        """``shutdown()`` once sippy's thread has handed over what it is sending.

        sippy tells us a call failed before it ACKs the final response (and a
        BYE's 200 may still be on its way): a marker sent through the reactor
        comes back to the loop after those sends, so the connections close
        behind them, not ahead (a process that exits right after ``dial``)."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            passed: asyncio.Future[None] = loop.create_future()

            def back() -> None:
                if not passed.done():
                    passed.set_result(None)

            Reactor.call(lambda: loop.call_soon_threadsafe(back))
            try:
                await asyncio.wait_for(passed, settle_seconds)
            except TimeoutError:
                self._warn.warning(f"sip: reactor did not settle within {settle_seconds:g} s; shutting down anyway")
        self.shutdown()
        await asyncio.sleep(0.05)  # the connections' close callbacks (a write still buffered goes out first)

    def shutdown(self) -> None:
        """Stop answering (tests, the end of a drain). The socket itself stays
        bound until the process exits: sippy's socket threads must not end
        while its loop runs (see ``stack.Reactor``)."""
        if self.tm is not None:
            self.tm.closed = True
        if self.stream is not None:
            self.stream.shutdown()
        self.pacer.stop()
        if self._ticking is not None and self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._ticking.cancel)  # may be called from another thread
        self._warn.close()

    def _from_stream(self, data: bytes, peer: tuple[str, int]) -> None:
        """A message framed off a TCP connection (loop): to sippy's thread."""
        Reactor.call(lambda: self.tm is not None and self.tm.stream_in(data, peer))

    # -- reactor thread -----------------------------------------------------
    def _garbage(self, peer: str, problem: str) -> None:
        self._warn.warning(f"{peer}: {problem}")
        if self.metrics is not None:
            self.metrics.protocol_errors.labels("sip").inc()

    def _reply(self, req: Any, code: int, reason: str, headers: tuple[tuple[str, str], ...] = ()) -> Any:
        from sippy.SipHeader import SipHeader  # type: ignore[import-untyped]

        resp = req.genResponse(code, reason)
        for name, value in headers:
            resp.appendHeader(SipHeader(name=name, body=named_header(name, value)))
        return (resp, None, None)

    def _on_request(self, req: Any, sip_t: Any) -> Any:
        method = req.getMethod()
        if method == "OPTIONS":
            return self._reply(req, 200, "OK", (("Allow", ALLOW), ("Accept", "application/sdp")))
        if req.getHFBody("to").getTag() is not None:
            return self._reply(req, 481, "Call/Transaction Does Not Exist")
        if method != "INVITE":
            return self._reply(req, 405, "Method Not Allowed", (("Allow", ALLOW),))
        if self.draining:
            return self._refuse(req, 503, "Service Unavailable", (("Retry-After", "30"),))
        with self._lock:
            if self.count >= self.options.max_calls:
                return self._refuse(req, 486, "Busy Here")
            self.count += 1
        call_id = str(req.getHFBody("call-id"))
        caller = str(req.getHFBody("from").getUrl().username or "")
        src = req.getSource()
        peer = "{}:{}".format(*tuple(getattr(src, "address", src) or ("?", 0))[:2])
        assert self.loop is not None
        call = SipCall(call_id, caller, peer, self.factory, self.clock, self.calls, self.options, self._call_done,
                       self.pacer)
        called = str(getattr(req.getRURI(), "username", None) or "ivr")
        leg = call.leg = SipLeg(self.tm.global_config, self.loop, call, user=called)
        self.loop.call_soon_threadsafe(self.active.__setitem__, call_id, call)
        return leg.ua.recvRequest(req, sip_t)

    def _refuse(self, req: Any, code: int, reason: str, headers: tuple[tuple[str, str], ...] = ()) -> Any:
        self.refused[code] = self.refused.get(code, 0) + 1
        log.info("sip: INVITE refused %d %s", code, reason)
        return self._reply(req, code, reason, headers)

    # -- asyncio loop -------------------------------------------------------
    def _tick(self, late: bool) -> None:
        for call in list(self.active.values()):
            try:
                call.tick(late)
            except Exception as e:  # one call's fault must not stop every call's audio
                log.error("sip %s: media tick failed (%s: %s)", call.call_id, type(e).__name__, e)

    def _call_done(self, call: SipCall) -> None:
        self.active.pop(call.call_id, None)
        self.finished.append(call)
        with self._lock:
            self.count -= 1


def sip_transport(options: SipOptions) -> Any:
    """A ``TransportFactory`` for ``IvrServer`` with these options."""

    def make(factory: SessionFactory, clock: Clock, metrics: SessionMetrics | None, calls: CallTable) -> SipServer:
        return SipServer(factory, clock, metrics, calls, options)

    return make


__all__ = ["SipServer", "SipOptions", "sip_transport", "ProtocolError"]
