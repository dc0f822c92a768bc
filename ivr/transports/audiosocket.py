"""Asterisk AudioSocket over TCP.

Frames: 1-byte type, 2-byte big-endian payload length, payload.
0x01 call UUID (16 bytes, first), 0x03 DTMF (one ASCII digit), 0x10 signed
linear 8 kHz 16-bit LE audio, 0x00 hangup, 0xFF error. We send 0x10 audio
back paced at 20 ms, and 0x00 when the call is over (the dialplan then
continues, e.g. into the agent queue the session already filled).

A peer that sends garbage gets a one-line log naming it; malformed frames are
skipped where the framing still holds, and only that connection is closed
when it does not. Other calls never notice.
"""
from __future__ import annotations

import asyncio
import struct
import uuid
from typing import TYPE_CHECKING

from ivr.clock import Clock
from ivr.errors import ProtocolError
from ivr.frames import AudioFrame
from ivr.log import LimitedLog, get_logger
from ivr.transports.base import CallInfo, CallTable, SessionFactory
from ivr.transports.channel import PacedSink, StreamSource

if TYPE_CHECKING:
    from ivr.session.metrics import SessionMetrics

log = get_logger(__name__)

KIND_HANGUP, KIND_UUID, KIND_DTMF, KIND_AUDIO, KIND_ERROR = 0x00, 0x01, 0x03, 0x10, 0xFF
RATE = 8000
DTMF_KEYS = "0123456789*#ABCD"


def encode_frame(kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > 0xFFFF:
        raise ValueError(f"AudioSocket payload of {len(payload)} bytes exceeds 65535")
    return struct.pack(">BH", kind, len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One frame; ``asyncio.IncompleteReadError`` at end of stream."""
    head = await reader.readexactly(3)
    kind, n = struct.unpack(">BH", head)
    return kind, (await reader.readexactly(n) if n else b"")


class AudioSocketServer:
    name = "audiosocket"

    def __init__(self, factory: SessionFactory, clock: Clock, metrics: SessionMetrics | None = None,
                 calls: CallTable | None = None, first_frame_timeout: float = 5.0) -> None:
        self.factory = factory
        self.clock = clock
        self.metrics = metrics
        self.calls = calls if calls is not None else {}  # call_id -> running session (shared with the server)
        self.first_frame_timeout = first_frame_timeout
        self.server: asyncio.base_events.Server | None = None
        self._warn: dict[str, LimitedLog] = {}  # peer -> its connection's warnings

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._handle, host, port)
        return self.server.sockets[0].getsockname()[:2]

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def _bad(self, peer: str, what: str) -> None:
        if self.metrics is not None:
            self.metrics.protocol_errors.labels("audiosocket").inc()
        warn = self._warn.get(peer)
        if warn is None:
            log.warning("%s", ProtocolError(what, f"audiosocket {peer}"))
        else:
            warn.warning(what)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = "{}:{}".format(*tuple(writer.get_extra_info("peername") or ("?", 0))[:2])
        self._warn[peer] = LimitedLog(log, f"audiosocket {peer}")
        try:
            await self._call(reader, writer, peer)
        except Exception as e:  # one broken call must never take the server down
            log.exception("audiosocket %s: call handler failed: %s", peer, e)
        finally:
            self._warn.pop(peer).close()
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _call(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> None:
        try:
            kind, payload = await asyncio.wait_for(read_frame(reader), self.first_frame_timeout)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            self._bad(peer, "no UUID frame at call start")
            return
        if kind != KIND_UUID or len(payload) != 16:
            self._bad(peer, f"first frame must be a 16-byte UUID (0x01), got type 0x{kind:02x} of {len(payload)} bytes")
            writer.write(encode_frame(KIND_ERROR, b"\x03"))
            return
        info = CallInfo(str(uuid.UUID(bytes=payload)), "audiosocket", peer)
        source = StreamSource(RATE, self.clock)

        def send(frame: AudioFrame) -> None:
            if writer.is_closing():
                raise ConnectionError("peer closed")
            writer.write(encode_frame(KIND_AUDIO, frame.pcm))

        sink = PacedSink(send, RATE, self.clock)
        session = self.factory(info, source, sink)
        self.calls[info.call_id] = session
        run = asyncio.ensure_future(session.run())
        pump = asyncio.ensure_future(self._pump(reader, source, peer))
        try:
            await asyncio.wait({run, pump}, return_when=asyncio.FIRST_COMPLETED)
            if pump.done():
                if not pump.cancelled() and (exc := pump.exception()) is not None:
                    log.error("audiosocket %s: stream reader failed (%s: %s); ending the call", peer,
                              type(exc).__name__, str(exc)[:200])
                source.hangup()  # the peer hung up or the stream broke: the session ends the call
            await run
        finally:
            pump.cancel()
            sink.close()
            self.calls.pop(info.call_id, None)
        if not writer.is_closing():
            writer.write(encode_frame(KIND_HANGUP))
            try:
                await asyncio.wait_for(writer.drain(), 2.0)
            except (TimeoutError, ConnectionError, OSError):
                pass

    async def _pump(self, reader: asyncio.StreamReader, source: StreamSource, peer: str) -> None:
        while True:
            try:
                kind, payload = await read_frame(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            if kind == KIND_AUDIO:
                if len(payload) % 2:
                    self._bad(peer, f"audio frame of odd length {len(payload)}; dropped")
                    continue
                source.push_pcm(payload)
            elif kind == KIND_DTMF:
                digit = payload[:1].decode("ascii", "replace")
                if len(payload) != 1 or digit not in DTMF_KEYS:
                    self._bad(peer, f"DTMF frame {payload[:8]!r} is not one key; dropped")
                    continue
                source.push_dtmf(digit)
            elif kind == KIND_HANGUP:
                return
            elif kind == KIND_ERROR:
                log.warning("audiosocket %s: peer reported error %s", peer, payload.hex() or "(none)")
                return
            elif kind == KIND_UUID:
                self._bad(peer, "second UUID frame; ignored")
            else:
                self._bad(peer, f"unknown frame type 0x{kind:02x} ({len(payload)} bytes); skipped")
