"""The SIP transport's pure parts: RTP packets, the jitter buffer, RFC 4733
and SIP INFO digits, SDP offer/answer."""
from __future__ import annotations

import struct

import pytest

from ivr.errors import ProtocolError
from ivr.transports.sip.dtmf import Rfc4733Decoder, parse_info_body
from ivr.transports.sip.rtp import JitterBuffer, RtpPacket, parse_rtp
from ivr.transports.sip.sdp import PCMA, PCMU, answer_sdp, negotiate, parse_offer


def test_rtp_round_trip_and_header_extension_csrc_padding():
    pkt = RtpPacket(0, 65535, 123456, 0xDEADBEEF, b"\x7f" * 160, marker=True)
    assert parse_rtp(pkt.encode()) == pkt
    raw = bytearray(pkt.encode())
    raw[0] |= 0x10 | 0x20 | 0x01                      # extension, padding, one CSRC
    raw[12:12] = b"CSRC" + struct.pack("!HH", 0xBEDE, 1) + b"EXT1"
    raw += b"\x00\x00\x03"                           # 3 bytes of padding
    assert parse_rtp(bytes(raw)).payload == b"\x7f" * 160
    with pytest.raises(ProtocolError, match="shorter than its 12-byte header"):
        parse_rtp(b"\x80\x00")
    with pytest.raises(ProtocolError, match="version 1"):
        parse_rtp(b"\x40" + bytes(11))


def test_jitter_buffer_reorders_drops_duplicates_and_counts_loss():
    jb = JitterBuffer(depth=3)
    out: list[bytes | None] = []
    for seq in (10, 12, 11, 11, 13, 9):               # 12 before 11, 11 twice, 9 after it was passed
        out += jb.push(seq, bytes([seq]))
    assert out == [bytes([n]) for n in (10, 11, 12, 13)]
    assert (jb.reordered, jb.duplicates, jb.late) == (1, 1, 1)
    out = []
    for seq in (15, 16, 17):                          # 14 never comes: given up once 3 later ones wait
        out += jb.push(seq, bytes([seq]))
    assert out == [None, b"\x0f", b"\x10", b"\x11"] and jb.lost == 1


def test_jitter_buffer_across_the_sequence_wrap_and_flush():
    jb = JitterBuffer()
    out: list[bytes | None] = []
    for seq in (65534, 0, 65535, 1):
        out += jb.push(seq, seq.to_bytes(2, "big"))
    assert out == [n.to_bytes(2, "big") for n in (65534, 65535, 0, 1)]
    assert jb.push(3, b"c") == [] and jb.flush() == [None, b"c"]


def event(key: int, end: bool, duration: int) -> bytes:
    return struct.pack("!BBH", key, (0x80 if end else 0) | 10, duration)


def test_rfc4733_one_digit_per_event_despite_repeated_end_packets():
    dec = Rfc4733Decoder()
    got: list[str] = []
    for ts, key in ((1000, 1), (2000, 11), (3000, 1)):       # 1, #, 1 again (a new event)
        for d in (160, 320, 480):
            got += dec.push(ts, event(key, False, d))
        for _ in range(3):                                    # the end packet, sent three times
            got += dec.push(ts, event(key, True, 640))
    assert got == ["1", "#", "1"]


def test_rfc4733_event_whose_end_packets_were_all_lost_counts_once_at_the_next():
    dec = Rfc4733Decoder()
    assert dec.push(1000, event(5, False, 160)) == []
    assert dec.push(2000, event(7, False, 160)) == ["5"]
    assert dec.push(2000, event(7, True, 800)) == ["7"]
    assert dec.push(1000, event(5, True, 800)) == []          # a late end for 5: already counted


def test_rfc4733_a_replayed_event_later_is_a_new_press():
    dec = Rfc4733Decoder()
    assert dec.push(1000, event(1, True, 800), now=10.0) == ["1"]
    assert dec.push(1000, event(1, True, 800), now=10.04) == []     # a repeat of its end packet
    assert dec.push(1000, event(1, False, 160), now=12.0) == []     # the same recording played again...
    assert dec.push(1000, event(1, True, 800), now=12.1) == ["1"]   # ...is a second press


def test_rfc4733_repeats_read_late_by_a_stalled_loop_are_still_repeats():
    # the loop stalled 0.7 s between reading two end packets of one event: their
    # sequence numbers say they are one press, whatever the clock says
    dec = Rfc4733Decoder()
    assert dec.push(31040, event(3, True, 2240), now=10.0, seq=8092) == ["3"]
    assert dec.push(31040, event(3, True, 2240), now=10.7, seq=8093) == []
    assert dec.push(31040, event(3, True, 2240), now=10.71, seq=8094) == []
    assert dec.push(37120, event(4, True, 2240), now=11.0, seq=8128) == ["4"]
    # a recording replayed later carries its old sequence numbers: a new press
    assert dec.push(31040, event(3, False, 160), now=12.0, seq=8087) == []
    assert dec.push(31040, event(3, True, 2240), now=12.1, seq=8092) == ["3"]
    # the end packet's copies may share one sequence number (SIPp's dtmf_2833_*.pcap do)
    dec = Rfc4733Decoder()
    assert dec.push(23200, event(2, True, 2240), now=20.0, seq=8049) == ["2"]
    assert dec.push(23200, event(2, True, 2240), now=20.8, seq=8049) == []
    assert dec.push(23200, event(2, True, 2240), now=21.6, seq=8049) == []
    # the sequence number wraps: 65535 -> 0 still follows
    dec = Rfc4733Decoder()
    assert dec.push(5, event(9, True, 800), now=1.0, seq=65535) == ["9"]
    assert dec.push(5, event(9, True, 800), now=2.0, seq=0) == []


def test_sip_info_bodies():
    assert parse_info_body("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n") == "5"
    assert parse_info_body("application/dtmf-relay", "Signal= *\r\n") == "*"
    assert parse_info_body("application/dtmf", "11") == "#"
    assert parse_info_body("application/dtmf-relay", "Signal=X") is None
    assert parse_info_body("text/plain", "5") is None


OFFER = ("v=0\r\no=a 1 1 IN IP4 10.9.8.7\r\ns=-\r\nc=IN IP4 10.9.8.7\r\nt=0 0\r\n"
         "m=audio 4000 RTP/AVP 9 8 0 96\r\na=rtpmap:9 G722/8000\r\na=rtpmap:96 telephone-event/8000\r\n")


def test_sdp_takes_the_callers_first_g711_and_telephone_events():
    offer = parse_offer(OFFER)
    assert (offer.address, offer.port) == ("10.9.8.7", 4000)
    ans = negotiate(offer)
    assert (ans.codec, ans.event_pt, ans.direction) == (PCMA, 96, "sendrecv")
    text = answer_sdp(ans, "127.0.0.1", 5000)
    assert "m=audio 5000 RTP/AVP 8 96\r\n" in text and "a=ptime:20" in text
    assert negotiate(parse_offer(OFFER.replace(" 9 8 0 96", " 0 8"))).codec == PCMU


def test_sdp_hold_and_refusals():
    assert parse_offer(OFFER + "a=sendonly\r\n").on_hold
    assert negotiate(parse_offer(OFFER + "a=sendonly\r\n")).direction == "recvonly"
    with pytest.raises(ProtocolError, match="no PCMU/PCMA"):
        negotiate(parse_offer(OFFER.replace(" 9 8 0 96", " 9")))
    with pytest.raises(ProtocolError, match="no audio stream"):
        parse_offer(OFFER.replace("m=audio", "m=video"))


def test_ticked_sink_paces_one_frame_per_tick_and_clears_on_barge_in():
    import asyncio

    import numpy as np

    from ivr.frames import AudioFrame
    from ivr.transports.sip.pacing import TickedSink

    async def main() -> None:
        sent: list[tuple[float, bool]] = []
        cleared: list[bool] = []
        sink = TickedSink(lambda item, marker: sent.append((item, marker)), 8000, lambda f: float(f.array()[0]),
                          lookahead=0.06, on_clear=lambda: cleared.append(True))
        frames = [AudioFrame.from_array(np.full(160, i, dtype=np.int16), 8000, 0.0) for i in range(6)]
        for f in frames[:3]:
            await sink.write(f)              # 3 frames = the 60 ms lookahead: the 4th must wait
        blocked = asyncio.ensure_future(sink.write(frames[3]))
        await asyncio.sleep(0)
        assert not blocked.done()
        sink.tick()                          # one frame out (pacer thread) ...
        sink.service()                       # ... and the loop's housekeeping makes room
        await asyncio.sleep(0)
        assert blocked.done() and sent == [(0.0, True)] and sink.played_seconds == 0.0  # prepared, marker: a new spurt
        sink.tick()
        assert sent[1] == (1.0, False) and abs(sink.played_seconds - 0.02) < 1e-9
        assert abs(sink.clear() - 0.04) < 1e-9 and cleared == [True]   # barge-in: two frames dropped
        flushed = asyncio.ensure_future(sink.flush())
        sink.tick()                          # the queue ran dry, the last frame played
        sink.service()
        await asyncio.sleep(0)
        assert flushed.done() and abs(sink.played_seconds - 0.04) < 1e-9
        await sink.write(frames[4])
        sink.tick()
        assert sent[-1] == (4.0, True) and sink.underruns == 0   # after a barge-in: a new talkspurt
        await sink.write(frames[5])
        sink.tick()
        assert sent[-1] == (5.0, False)      # the same talkspurt
        sink.tick()                          # dry, and the loop declares the spurt over
        sink.service()
        await sink.write(frames[5])
        sink.tick()
        assert sent[-1] == (5.0, True) and sink.underruns == 0
        sink.tick()                          # dry inside a spurt: the loop did not refill in time
        await sink.write(frames[5])
        sink.tick()
        assert sink.underruns == 1 and sent[-1] == (5.0, False)

    asyncio.run(main())


def test_pacer_thread_ticks_every_sink_on_a_20_ms_schedule_and_survives_a_failing_send():
    import asyncio
    import time

    import numpy as np

    from ivr.frames import AudioFrame
    from ivr.transports.sip.pacing import Pacer, TickedSink

    async def main() -> None:
        times: list[float] = []

        def broken(item: int, marker: bool) -> None:
            raise ConnectionError("gone")

        good = TickedSink(lambda item, marker: times.append(time.monotonic()), 8000, lambda f: 0, lookahead=0.2)
        bad = TickedSink(broken, 8000, lambda f: 0, lookahead=0.2)
        frame = AudioFrame.from_array(np.zeros(160, dtype=np.int16), 8000, 0.0)
        pacer = Pacer()
        pacer.add(bad)
        pacer.add(good)
        for _ in range(10):
            await good.write(frame)
        await bad.write(frame)
        pacer.start()

        async def ten() -> None:
            while len(times) < 10:  # noqa: ASYNC110  the pacer thread appends
                await asyncio.sleep(0.01)

        try:
            await asyncio.wait_for(ten(), 5.0)
        finally:
            pacer.stop()
        bad.service()
        assert bad.closed and isinstance(bad.error, ConnectionError)
        span = times[-1] - times[0]
        assert 0.12 < span < 0.5, span     # nine 20 ms intervals (a loaded machine stretches, never shrinks)
        assert pacer.ticks >= 10 and sum(pacer.lateness) == pacer.ticks
        pacer.remove(good)
        assert pacer.sinks == (bad,)

    asyncio.run(main())


def test_ticker_counts_a_stalled_tick_as_late_even_when_its_schedule_restarts():
    import asyncio
    import time

    from ivr.transports.sip.pacing import LATENESS_BUCKETS_MS, Ticker

    lates: list[bool] = []

    async def main() -> Ticker:
        six = asyncio.Event()

        def each(late: bool) -> None:
            lates.append(late)
            if len(lates) == 3:
                time.sleep(0.06)   # the loop stalls three frames: the next tick is >= 40 ms behind its time
            if len(lates) == 6:
                six.set()

        ticker = Ticker(each)
        task = asyncio.ensure_future(ticker.run())
        await six.wait()
        task.cancel()
        return ticker

    ticker = asyncio.run(main())
    assert ticker.restarts >= 1 and lates[3]        # restarted, and still reported late
    assert sum(ticker.lateness) == ticker.ticks and ticker.lateness[len(LATENESS_BUCKETS_MS)] >= 1  # >= 20 ms


async def test_a_lost_rtp_packet_keeps_the_timeline_as_silence():
    """A lost packet is 20 ms of silence in its place (repeating the voice into the
    gap was measured worse for the recogniser: bench/plc.py)."""
    import numpy as np

    from ivr.audio.g711 import ulaw_encode
    from ivr.transports.sip.media import RtpEndpoint
    from ivr.transports.sip.sdp import MediaAnswer

    class Source:
        def __init__(self) -> None:
            self.frames: list[np.ndarray] = []

        def push_pcm(self, pcm: bytes) -> None:
            self.frames.append(np.frombuffer(pcm, "<i2"))

    t = np.arange(8000) / 8000
    voice = (8000 * np.sin(2 * np.pi * 150 * t)).astype(np.int16)
    src = Source()
    remote = ("127.0.0.1", 40000)
    ep = RtpEndpoint(src, MediaAnswer(PCMU, 101), remote, "test rtp")  # type: ignore[arg-type]
    for i in range(20):
        if i == 10:
            continue  # lost on the way
        payload = ulaw_encode(voice[i * 160:(i + 1) * 160])
        ep.datagram_received(RtpPacket(PCMU, 100 + i, i * 160, 1234, payload).encode(), remote)
    assert ep.jitter.lost == 1
    assert len(src.frames) >= 15 and all(f.size == 160 for f in src.frames)
    assert not src.frames[10].any()  # in its place, in time
    assert src.frames[9].any() and src.frames[11].any()
