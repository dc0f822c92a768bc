"""Out-of-band DTMF: RFC 4733 telephone-events in RTP, and SIP INFO bodies.

An RFC 4733 key press is one event: every packet of it carries the same RTP
timestamp (the event's start); the last three or so carry the end bit and are
repeats for redundancy. A digit is reported once per event timestamp: at its
first end packet, or, if every end packet was lost, when the next event
starts. A packet of an event already reported is a repeat while it comes
within ``REPEAT_WINDOW`` of that event's last packet, or whenever its RTP
sequence number equals or closely follows that packet's (a busy loop may
read a repeat long after it arrived; senders such as SIPp's recordings send
the end packet's three copies with one sequence number); otherwise the same timestamp is a new press
(a sender replaying a recorded event, its old sequence numbers and all).
Events 0-15 are keys; others (flash, tones) are ignored."""
from __future__ import annotations

import struct

KEYS = "0123456789*#ABCD"
REPEAT_WINDOW = 0.5  # seconds: end-packet repeats come within a few tens of ms
REPEAT_SEQ = 16      # a packet at most this many sequence numbers after the event's last one is a repeat


class Rfc4733Decoder:
    def __init__(self) -> None:
        self._current: int | None = None        # timestamp of the event in progress
        self._current_key = ""
        # timestamp reported -> when its last packet came, and that packet's sequence number
        self._done: dict[int, tuple[float, int | None]] = {}

    def _report(self, ts: int, key: str, now: float, seq: int | None) -> str:
        self._remember(ts, now, seq)
        if self._current == ts:
            self._current = None
        return key

    def _remember(self, ts: int, now: float, seq: int | None) -> None:
        self._done[ts] = (now, seq)
        if len(self._done) > 8:
            self._done.pop(next(iter(self._done)))

    def push(self, timestamp: int, payload: bytes, now: float = 0.0, seq: int | None = None) -> list[str]:
        """Digits this packet completes (0, 1, or 2 when it also closes a lost-end event).
        ``now``: arrival time in seconds (any monotonic clock); ``seq``: its RTP sequence number."""
        if len(payload) < 4:
            return []
        event, flags, _duration = struct.unpack_from("!BBH", payload)
        end = bool(flags & 0x80)
        out: list[str] = []
        done = self._done.get(timestamp)
        if done is not None:
            last, last_seq = done
            follows = seq is not None and last_seq is not None and (seq - last_seq) & 0xFFFF <= REPEAT_SEQ
            if now - last < REPEAT_WINDOW or follows:
                self._done[timestamp] = (now, seq)
                return out  # a repeat of an event already reported
        self._done.pop(timestamp, None)
        if self._current is not None and self._current != timestamp and self._current_key:
            out.append(self._report(self._current, self._current_key, now, None))  # its end packets were all lost
        key = KEYS[event] if event < len(KEYS) else ""
        self._current, self._current_key = timestamp, key
        if end:
            self._current = None
            if key:
                out.append(self._report(timestamp, key, now, seq))
            else:
                self._remember(timestamp, now, seq)
        return out


def parse_info_body(content_type: str, body: str) -> str | None:
    """The key of a SIP INFO ``application/dtmf-relay`` (``Signal=5``) or
    ``application/dtmf`` (``5``) body; None if it holds none."""
    ctype = content_type.split(";")[0].strip().lower()
    value = ""
    if ctype == "application/dtmf-relay":
        for line in body.splitlines():
            name, sep, v = line.partition("=")
            if sep and name.strip().lower() == "signal":
                value = v.strip()
                break
    elif ctype == "application/dtmf":
        value = body.strip()
    else:
        return None
    if value.isdigit() and len(value) <= 2 and int(value) < 16:  # some phones send the event number
        value = KEYS[int(value)] if len(value) == 2 else value
    value = value.upper()
    return value if len(value) == 1 and value in KEYS else None
