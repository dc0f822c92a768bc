"""One SIP call on the asyncio side: SDP answer, RTP endpoint, the
``CallSession`` it feeds, the no-media timeout and the transfer.

Life: INVITE -> ``offered`` (negotiate, open RTP, 180/200 after the ring
time) -> ``answered`` (our 200 is out: the session starts; sippy repeats the
200 until the ACK and, with none in 32 s, ends the dialog) -> the session ends
(BYE from us) or the caller leaves (``ended``: BYE, or CANCEL before the 200;
or no RTP for ``no_media_seconds``): the session is told at once, like any
transport's hangup, and records the call as abandoned."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ivr.clock import Clock
from ivr.errors import ProtocolError
from ivr.log import get_logger
from ivr.transports.base import CallInfo, CallTable, SessionFactory
from ivr.transports.channel import StreamSource
from ivr.transports.sip.media import RATE, RtpEndpoint, open_rtp
from ivr.transports.sip.offload import OffloadedSink, RtpSender
from ivr.transports.sip.sdp import PCMU, MediaAnswer, answer_sdp, negotiate, offer_sdp, parse_offer
from ivr.transports.sip.tcp import TcpLimits
from ivr.transports.sip.transfer import ReferringHandoff, Transferor
from ivr.transports.sip.ua import SipLeg

if TYPE_CHECKING:
    from ivr.session.session import CallSession

log = get_logger(__name__)


@dataclass
class SipOptions:
    media_host: str = "127.0.0.1"       # the address RTP binds to and the SDP names
    ring_seconds: float = 0.0           # 180 Ringing this long before the 200 OK
    no_media_seconds: float = 30.0      # no RTP at all for this long (not on hold): hang up
    max_calls: int = 100                # more at once: 486 Busy Here
    transfer_uri: str = ""              # REFER target for a Transfer, e.g. sip:{queue}@pbx.example.com
    refer_wait_seconds: float = 8.0     # after 202 Accepted, wait this long for the NOTIFY's final code
    measure_send: bool = False          # keep each RTP send time (bench/sip.py: the bot's packet jitter)
    transport: str = "udp"              # SIP over "udp" or "tcp" (RFC 3261 18.3 framing, tcp.SipTcp)
    tcp_limits: TcpLimits = field(default_factory=TcpLimits)
    rtp_sender: str = "process"         # the bot's RTP paced by a child "process" (own GIL) or a "thread" here
    rtp_realtime: int = 10              # the sender process's SCHED_FIFO priority (0: or without CAP_SYS_NICE, nice)


class SipCall:
    def __init__(self, call_id: str, caller: str, peer: str, factory: SessionFactory, clock: Clock,
                 calls: CallTable, options: SipOptions, on_done: Callable[[SipCall], None], pacer: RtpSender) -> None:
        self.call_id, self.caller, self.peer = call_id, caller, peer
        self.pacer = pacer                      # the server's RTP sender (a process, or a thread)
        self.factory, self.clock, self.calls, self.options = factory, clock, calls, options
        self.on_done = on_done
        self.leg: SipLeg | None = None
        self.rtp: RtpEndpoint | None = None
        self.answer: MediaAnswer | None = None
        self.source: StreamSource | None = None  # made at the answer: its frames count from then
        self.sink: OffloadedSink | None = None
        self.session: CallSession | None = None
        self.end_reason = ""
        self.on_hold = False
        self.transferor: Transferor | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._answered = False
        self._hung_up = False
        self._done = False
        self.final_code: int | None = None      # outbound: the callee's failure code (486, 404...)
        self.late_frames = 0                    # bot frames sent behind their 20 ms schedule
        self.underruns = 0                      # the bot's queue ran dry mid-prompt (the loop fell behind)
        self.stats: dict[str, float | int | str] = {}
        self.done: asyncio.Future[str] | None = None  # outbound: why the call ended (set by place())

    def _spawn(self, aw: Coroutine[object, object, None]) -> None:
        fut = asyncio.ensure_future(aw)
        self._tasks.add(fut)
        fut.add_done_callback(self._tasks.discard)

    # -- LegEvents (called on the asyncio loop) -----------------------------
    def offered(self, sdp: str | None) -> None:
        self._spawn(self._offered(sdp))

    async def _offered(self, sdp: str | None) -> None:
        assert self.leg is not None
        if sdp is None:
            self._refuse(488, "Not Acceptable Here", "INVITE without an SDP offer (late offer is not supported)")
            return
        try:
            offer = parse_offer(sdp)
            answer = negotiate(offer)
        except ProtocolError as e:
            self._refuse(488, "Not Acceptable Here", str(e))
            return
        remote = (offer.address, offer.port)
        log.debug("sip %s: offer %s:%d %s", self.call_id, offer.address, offer.port, offer.payload_types)
        if self.rtp is not None:  # a re-INVITE: hold/unhold or a codec change
            self.on_hold = offer.on_hold
            self.answer = answer
            self.rtp.update(answer, remote)
            self.rtp.last_packet = self.rtp._clock()
            self.leg.ring_and_answer(answer_sdp(answer, self.options.media_host, self.rtp.local_port), ring=False)
            log.info("sip %s: re-INVITE %s", self.call_id, "hold" if offer.on_hold else "resume")
            return
        self.answer = answer
        rtp = await open_rtp(self.options.media_host,
                             lambda: RtpEndpoint(None, answer, remote, f"sip {self.call_id} rtp"))
        if self._done:  # CANCEL while the socket opened: nothing to answer, nothing to leak
            rtp.close()
            return
        self.rtp = rtp
        self.rtp.keep_send_times = self.options.measure_send
        self.on_hold = offer.on_hold
        if self.options.ring_seconds > 0:
            self.leg.ring()
            await asyncio.sleep(self.options.ring_seconds)
            if self._done:
                return
        self.leg.ring_and_answer(answer_sdp(answer, self.options.media_host, self.rtp.local_port),
                                 ring=self.options.ring_seconds <= 0)

    def _refuse(self, code: int, reason: str, why: str) -> None:
        log.warning("sip %s: %d %s: %s", self.call_id, code, reason, why)
        assert self.leg is not None
        self.leg.reject(code, reason)
        self.ended("refused")

    # -- outbound -------------------------------------------------------------
    async def place(self, host: str, port: int, user: str, caller: str) -> None:
        """Open RTP and send our offer (PCMU, PCMA, telephone-event)."""
        assert self.leg is not None
        self.done = asyncio.get_running_loop().create_future()
        placeholder = MediaAnswer(PCMU, 101)
        self.rtp = await open_rtp(self.options.media_host,
                                  lambda: RtpEndpoint(None, placeholder, ("0.0.0.0", 0), f"sip {self.call_id} rtp"))
        self.leg.invite(self.call_id, host, port, user, caller, offer_sdp(self.options.media_host, self.rtp.local_port))

    def connected(self, sdp: str | None) -> None:
        """The callee answered (sippy has ACKed): take its answer, start the session."""
        assert self.rtp is not None
        try:
            if sdp is None:
                raise ProtocolError("200 OK without an SDP answer", "sip")
            offer = parse_offer(sdp)
            answer = negotiate(offer)
        except ProtocolError as e:
            log.warning("sip %s: callee's answer unusable (%s); hanging up", self.call_id, e)
            self._finish("bad answer")
            return
        self.answer = answer
        self.on_hold = offer.on_hold
        self.rtp.update(answer, (offer.address, offer.port))
        self.rtp.last_packet = self.rtp._clock()
        self.answered()

    def progress(self, code: int) -> None:
        self.final_code = code

    def answered(self) -> None:
        if self._answered or self._done:
            return
        self._answered = True
        self._spawn(self._run())

    def ended(self, why: str) -> None:
        """The far end is gone (BYE, CANCEL, no ACK) or we refused the call."""
        if why != "refused":
            self._hung_up = True
        if self.session is not None:
            self._caller_left()
        elif self._answered and not self._done:
            pass  # answered, the session not made yet: ``_run`` starts it already hung up, so it is recorded
        else:  # CANCEL before the answer, a refusal
            self._finish(why)

    def _caller_left(self) -> None:
        """End the session now, as every transport does on a hangup: playback
        stops (no more RTP to a party who left), the source ends, and the session
        records the call as abandoned and takes a queued ticket out of the queue.
        A BYE after the transferee accepted our REFER is the transfer going through."""
        assert self.source is not None
        if self.transferor is not None and self.transferor.accepted and not self.transferor.outcome:
            self.transferor.completed_by_bye()
            return
        if self.sink is not None:
            self.sink.close()
        self.source.hangup()  # the session ends the call as a hangup and writes the record

    def info_digit(self, key: str) -> None:
        if self.source is not None:
            self.source.push_dtmf(key)

    def refer_result(self, code: int, final: bool) -> None:
        if self.transferor is not None:
            self.transferor.result(code, final)

    # -- the call -----------------------------------------------------------
    async def _run(self) -> None:
        assert self.rtp is not None
        rtp = self.rtp
        rtp.source = self.source = StreamSource(RATE, self.clock)
        sink = self.sink = self.pacer.open(rtp)
        info = CallInfo(self.call_id, "sip", self.peer, self.caller)
        session = self.session = self.factory(info, self.source, sink)
        if self.options.transfer_uri and session.handoff is not None:
            self.transferor = Transferor(self, self.options)
            session.handoff = ReferringHandoff(session.handoff, self.transferor.start)
        self.calls[self.call_id] = session
        if self._hung_up:  # the BYE came before the session was made: it runs only to be recorded
            self._caller_left()
        try:
            await session.run()
        except Exception as e:  # one broken call never takes the server down
            log.error("sip %s: session failed (%s: %s)", self.call_id, type(e).__name__, e)
        finally:
            self.pacer.close(sink)
            self.sink = None
            self.late_frames = sink.late_frames
            self.underruns = sink.underruns
            sink.close()
            self.calls.pop(self.call_id, None)
            self._finish(self.end_reason or ("hangup" if self._hung_up else "completed"))

    def tick(self, late: bool) -> None:
        """Every 20 ms on the loop (the server's housekeeping ``Ticker``; the
        frames themselves go out from the sender process or the pacer thread): room in the bot's queue,
        comfort silence in, and the no-media timeout."""
        sink, rtp, session = self.sink, self.rtp, self.session
        if sink is None or rtp is None or session is None:
            return
        sink.service()
        rtp.tick()
        if not self.on_hold and not self.end_reason and rtp.idle_seconds() >= self.options.no_media_seconds:
            log.warning("sip %s: no RTP for %.0f s; the caller is gone, hanging up", self.call_id, rtp.idle_seconds())
            self.end_reason = "no_media"   # the BYE goes out and the dialer reports it; the record says hangup
            self._caller_left()            # as the other transports end a call whose stream died

    def end_transferred(self) -> None:
        """The REFER went through: the caller is with the PBX now."""
        self.end_reason = "transferred"
        if self.session is not None:
            self.session.end("transferred")

    def _finish(self, why: str) -> None:
        if self._done:
            return
        self._done = True
        if not self._hung_up and self.leg is not None:
            self.leg.hangup()
        stats = ""
        if self.rtp is not None:
            self.rtp.close()
            j, r = self.rtp.jitter, self.rtp
            self.stats = {"end": why, "in": j.received, "lost": j.lost, "late": j.late, "dup": j.duplicates,
                          "reordered": j.reordered, "foreign": r.foreign, "bad": r.bad, "digits": r.digits,
                          "out": r.sent, "late_frames": self.late_frames,
                          "underruns": self.underruns, "send_dropped": r.send_dropped}
            stats = "; rtp " + ", ".join(f"{k} {v}" for k, v in self.stats.items() if k != "end")
        log.info("sip %s: call over (%s)%s", self.call_id, why, stats)
        if self.done is not None and not self.done.done():
            self.done.set_result(why)
        self.on_done(self)

