"""One call's RTP: an asyncio datagram endpoint that decodes the caller's
G.711 into the call's ``StreamSource`` (through the jitter buffer), turns
RFC 4733 events into digits, and sends the bot's frames as RTP: encoded on
the loop (``prepare``), sent on the server's pacer thread (``send_prepared``,
straight to the socket ``open_rtp`` made).

Only packets from the address the caller's SDP named are taken (the port
latches to the first packet from that host: symmetric RTP behind NAT). When
the caller stops sending (silence suppression, hold), ``tick`` fills the gap
with comfort silence in real time, so the endpointer still sees a turn end;
``idle_seconds`` is how long nothing at all has arrived (the no-media
timeout)."""
from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Callable

from ivr.audio.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from ivr.errors import ProtocolError
from ivr.frames import AudioFrame
from ivr.log import LimitedLog, get_logger
from ivr.transports.channel import StreamSource
from ivr.transports.sip.dtmf import Rfc4733Decoder
from ivr.transports.sip.rtp import JitterBuffer, parse_rtp, rtp_bytes
from ivr.transports.sip.sdp import PCMA, MediaAnswer

log = get_logger(__name__)
RATE, FRAME = 8000, 160
SILENCE_PCM = bytes(2 * FRAME)
COMFORT_NOISE_PT = 13


class RtpEndpoint(asyncio.DatagramProtocol):
    def __init__(self, source: StreamSource | None, answer: MediaAnswer, remote: tuple[str, int], where: str,
                 on_problem: Callable[[str], None] | None = None) -> None:
        self.source = source
        self.answer = answer
        self.remote = remote
        self.where = where
        self.on_problem = on_problem
        self.jitter = JitterBuffer()
        self.events = Rfc4733Decoder()
        self.transport: asyncio.DatagramTransport | None = None
        self._warn = LimitedLog(log, where)
        self._ssrc_in: int | None = None
        self._latched = False
        loop = asyncio.get_running_loop()
        self._clock = loop.time
        self.last_packet = self._clock()
        self._filled_until = self.last_packet
        self.foreign = 0
        self.bad = 0
        self.digits = 0
        # our stream
        self.ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self.sock: socket.socket | None = None  # set by ``open_rtp``: the pacer thread sends on it
        self.sent = 0
        self.send_dropped = 0  # the socket's buffer was full
        self.send_times: list[float] = []  # loop time of each packet sent (for the jitter benchmark)
        self.digit_times: list[float] = []  # loop time each RFC 4733 digit ended (its first end packet)
        self.spurt_starts: set[int] = set()  # indexes into send_times of marker packets
        self.keep_send_times = False

    # -- set-up -------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a datagram endpoint's own transport

    @property
    def local_port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def update(self, answer: MediaAnswer, remote: tuple[str, int]) -> None:
        """A re-INVITE changed the codec or the address."""
        if remote[0] != self.remote[0]:
            self._latched = False
        self.answer, self.remote = answer, remote
        self.jitter.restart()

    def close(self) -> None:
        self._warn.close()
        if self.transport is not None:
            self.transport.close()

    def _bad(self, what: str) -> None:
        self.bad += 1
        self._warn.warning(what)
        if self.on_problem is not None:
            self.on_problem(what)

    # -- caller -> us --------------------------------------------------------
    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if addr[0] != self.remote[0] or (self._latched and addr[1] != self.remote[1]):
            self.foreign += 1  # not the address the SDP named: ignored (RTP injection, a stale stream)
            return
        if not self._latched:
            self._latched = True
            self.remote = (addr[0], addr[1])
        try:
            pkt = parse_rtp(data)
        except ProtocolError as e:
            self._bad(str(e))
            return
        self.last_packet = self._clock()
        if self._ssrc_in is not None and pkt.ssrc != self._ssrc_in:
            self.jitter.restart()  # a new stream (the far end switched sources)
        self._ssrc_in = pkt.ssrc
        if self.source is None:
            return  # early media, before the call is answered: nobody listens yet
        if pkt.payload_type == self.answer.event_pt:
            for key in self.events.push(pkt.timestamp, pkt.payload, self.last_packet, pkt.seq):
                self.digits += 1
                if self.keep_send_times:
                    self.digit_times.append(self.last_packet)
                self.source.push_dtmf(key)
            return
        if pkt.payload_type == COMFORT_NOISE_PT:
            return  # the caller is silent; tick() plays silence
        if pkt.payload_type != self.answer.codec:
            self._bad(f"RTP payload type {pkt.payload_type} was not negotiated (using {self.answer.codec}); dropped")
            return
        for payload in self.jitter.push(pkt.seq, pkt.payload):
            self._play(payload)

    def _play(self, payload: bytes | None) -> None:
        assert self.source is not None
        if payload is None:
            self.source.push_pcm(SILENCE_PCM)  # lost: a frame of silence keeps the timeline
            return
        decode = alaw_decode if self.answer.codec == PCMA else ulaw_decode
        self.source.push_pcm(decode(payload).astype("<i2").tobytes())
        self._filled_until = self._clock()

    def tick(self) -> None:
        """Called every 20 ms: after 60 ms without audio, play what the jitter
        buffer holds, then comfort silence up to now."""
        now = self._clock()
        if self.source is None or now - self.last_packet < 0.06:
            return
        for payload in self.jitter.flush():
            self._play(payload)
        start = max(self._filled_until, self.last_packet)
        frames = min(int((now - start) / 0.02), 50)
        if frames > 0:
            self.source.push_pcm(SILENCE_PCM * frames)
            self._filled_until = start + frames * 0.02

    def idle_seconds(self) -> float:
        return self._clock() - self.last_packet

    def error_received(self, exc: Exception) -> None:
        self._warn.warning(f"RTP socket error: {exc}")

    # -- us -> caller (the pacer thread) ----------------------------------------
    def prepare(self, frame: AudioFrame) -> tuple[int, bytes]:
        """A frame's payload in the codec of now (on the loop, ahead of its tick)."""
        codec = self.answer.codec
        return codec, (alaw_encode if codec == PCMA else ulaw_encode)(frame.array())

    def send_prepared(self, item: tuple[int, bytes], marker: bool) -> None:
        """One packet out, on the pacer thread: straight to the socket (asyncio's
        transport is the loop's only); a full socket buffer drops the packet."""
        sock = self.sock
        if sock is None or self.transport is None or self.transport.is_closing():
            raise ConnectionError("RTP endpoint closed")
        codec, payload = item
        try:
            sock.sendto(rtp_bytes(codec, self._seq, self._ts, self.ssrc, payload, marker), self.remote)
        except BlockingIOError:
            self.send_dropped += 1
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts += len(payload)
        self.sent += 1
        if self.keep_send_times:
            self._sent_at(time.monotonic(), marker)  # the loop's clock (asyncio's time() is monotonic)

    def _sent_at(self, when: float, marker: bool) -> None:
        self.send_times.append(when)
        if marker:  # a talkspurt's first packet: the interval before it is a pause, not jitter
            self.spurt_starts.add(len(self.send_times) - 1)

    def numbering(self) -> tuple[int, int]:
        """The next packet's sequence number and timestamp."""
        return self._seq, self._ts & 0xFFFFFFFF

    def sent_elsewhere(self, seq: int, ts: int, sent: int, dropped: int, when: float | None, marker: bool) -> None:
        """The sender process's counts of our stream (``sender.py``: it sends on
        a copy of ``sock``); the numbering goes on from them if we send again."""
        self._seq, self._ts, self.sent, self.send_dropped = seq, ts, sent, dropped
        if when is not None and self.keep_send_times:
            self._sent_at(when, marker)


async def open_rtp(host: str, make: Callable[[], RtpEndpoint]) -> RtpEndpoint:
    """An ``RtpEndpoint`` on a fresh UDP port of ``host``, its socket kept for the pacer's sends."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        sock.bind((host, 0))
        _, endpoint = await asyncio.get_running_loop().create_datagram_endpoint(make, sock=sock)
    except BaseException:
        sock.close()
        raise
    endpoint.sock = sock
    return endpoint
