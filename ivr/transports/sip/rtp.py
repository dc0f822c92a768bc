"""RTP packets (RFC 3550) and a small jitter buffer.

``JitterBuffer`` puts packets back in sequence order before their audio
reaches the call: duplicates and packets older than what was already played
are dropped, a gap is waited for while fewer than ``depth`` later packets are
held, then counted lost and filled with ``None`` (the caller of ``push``
plays silence for it). Sequence numbers wrap at 2**16; they are unwrapped
against the highest seen, so a wrap is just the next number."""
from __future__ import annotations

import struct
from collections import deque
from dataclasses import dataclass

from ivr.errors import ProtocolError

_HEAD = struct.Struct("!BBHII")


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False

    def encode(self) -> bytes:
        return rtp_bytes(self.payload_type, self.seq, self.timestamp, self.ssrc, self.payload, self.marker)


def rtp_bytes(payload_type: int, seq: int, timestamp: int, ssrc: int, payload: bytes, marker: bool = False) -> bytes:
    """One packet's bytes (the pacer thread's path: no packet object)."""
    return _HEAD.pack(0x80, (0x80 if marker else 0) | (payload_type & 0x7F), seq & 0xFFFF,
                      timestamp & 0xFFFFFFFF, ssrc) + payload


def parse_rtp(data: bytes) -> RtpPacket:
    """One RTP packet; ``ProtocolError`` naming what is wrong."""
    if len(data) < 12:
        raise ProtocolError(f"RTP packet of {len(data)} bytes is shorter than its 12-byte header", "rtp")
    b0, b1, seq, ts, ssrc = _HEAD.unpack_from(data)
    if b0 >> 6 != 2:
        raise ProtocolError(f"RTP version {b0 >> 6}, expected 2", "rtp")
    start = 12 + 4 * (b0 & 0x0F)
    if b0 & 0x10:  # header extension: 16-bit profile, 16-bit length in words
        if len(data) < start + 4:
            raise ProtocolError("RTP header extension cut short", "rtp")
        start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
    end = len(data)
    if b0 & 0x20:  # padding: the last byte counts it
        end -= data[-1]
    if start > end:
        raise ProtocolError("RTP header longer than the packet", "rtp")
    return RtpPacket(b1 & 0x7F, seq, ts, ssrc, bytes(data[start:end]), bool(b1 & 0x80))


class JitterBuffer:
    def __init__(self, depth: int = 3) -> None:
        self.depth = depth
        self._held: dict[int, bytes] = {}
        self._next: int | None = None   # unwrapped sequence number to play next
        self._top = -1                  # highest unwrapped sequence number seen
        self._played: deque[int] = deque(maxlen=64)  # recently played: a repeat of one is a duplicate
        self.received = 0
        self.duplicates = 0
        self.late = 0
        self.lost = 0
        self.reordered = 0

    def _unwrap(self, seq: int) -> int:
        if self._top < 0:
            return seq
        base = self._top & ~0xFFFF
        cand = base + seq
        if cand - self._top > 0x8000:
            cand -= 0x10000
        elif self._top - cand > 0x8000:
            cand += 0x10000
        return cand

    def push(self, seq: int, payload: bytes) -> list[bytes | None]:
        """Take one packet; returns what can be played now, in order (``None`` = lost)."""
        n = self._unwrap(seq)
        if self._next is None:
            self._next = n
        if n in self._held or n in self._played:
            self.duplicates += 1
            return []
        if n < self._next:
            self.late += 1  # arrived after it was given up as lost
            return []
        self.received += 1
        if n < self._top:
            self.reordered += 1
        self._top = max(self._top, n)
        self._held[n] = payload
        return self._release(force=False)

    def _release(self, force: bool) -> list[bytes | None]:
        out: list[bytes | None] = []
        assert self._next is not None
        while self._held:
            if self._next in self._held:
                out.append(self._held.pop(self._next))
                self._played.append(self._next)
            elif force or len(self._held) >= self.depth:
                self.lost += 1
                out.append(None)
            else:
                break
            self._next += 1
        return out

    def flush(self) -> list[bytes | None]:
        """Everything held, gaps as ``None`` (the stream paused: nothing more is coming soon)."""
        return self._release(force=True) if self._next is not None else []

    def restart(self) -> None:
        """A new stream (SSRC change, re-INVITE): forget the old numbering."""
        self._held.clear()
        self._played.clear()
        self._next = None
        self._top = -1
