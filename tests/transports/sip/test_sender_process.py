"""The RTP sender process (offload.RtpSender + sender.py), against a real UDP
receiver on loopback: it paces a call's frames from the call's own RTP port,
a barge-in clear stops the queued audio at once, a killed sender falls back
to the in-process pacer without losing the call, and no sender process
outlives its server (stopped, or the server killed)."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from ivr.frames import AudioFrame
from ivr.transports.sip import SipOptions
from ivr.transports.sip.media import RtpEndpoint, open_rtp
from ivr.transports.sip.offload import OffloadedSink, RtpSender
from ivr.transports.sip.sdp import PCMU, MediaAnswer
from tests.transports.sip.harness import SipServerThread, needs_sipp, run_sipp, scenario, sipp_report

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.timeout(60)


class Receiver(asyncio.DatagramProtocol):
    """The caller's side: every packet with its arrival time and source."""

    def __init__(self) -> None:
        self.got: list[tuple[float, bytes, tuple[str, int]]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.append((time.monotonic(), data, addr))

    def packets(self) -> list[tuple[int, int, int, bool, int]]:
        """(seq, timestamp, first payload byte, marker, source port) per packet."""
        out = []
        for _, data, addr in self.got:
            b1, seq, ts = struct.unpack_from("!xBHI", data)
            out.append((seq, ts, data[12], bool(b1 & 0x80), addr[1]))
        return out


def frame(level: int) -> AudioFrame:
    # a constant level per frame: its encoded byte tells the frames apart at the receiver
    return AudioFrame.from_array(np.full(160, level, dtype=np.int16), 8000, 0.0)


async def until(cond, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:  # noqa: ASYNC110  polled, bounded
        await asyncio.sleep(0.01)
    assert cond(), "condition not reached in time"


async def a_call(sender: RtpSender) -> tuple[Receiver, RtpEndpoint, OffloadedSink, asyncio.DatagramTransport]:
    loop = asyncio.get_running_loop()
    transport, receiver = await loop.create_datagram_endpoint(Receiver, local_addr=("127.0.0.1", 0))
    remote = transport.get_extra_info("sockname")[:2]
    rtp = await open_rtp("127.0.0.1", lambda: RtpEndpoint(None, MediaAnswer(PCMU, 101), remote, "test rtp"))
    sink = sender.open(rtp)
    housekeeping = asyncio.ensure_future(serviced(sink))   # the server's 20 ms Ticker does this for a call
    transport.close = _also_cancel(transport.close, housekeeping)  # type: ignore[method-assign]
    return receiver, rtp, sink, transport


async def serviced(sink: OffloadedSink) -> None:
    while not sink.closed:
        sink.service()
        await asyncio.sleep(0.02)


def _also_cancel(close, task):
    def both() -> None:
        task.cancel()
        close()
    return both


def state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()[:400]
    except OSError as e:
        return str(e)


def alive(pid: int) -> bool:
    """Running (a zombie, or no process at all, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_the_sender_process_paces_a_call_from_its_own_port_with_continuous_numbering():
    sender = RtpSender(process=True)
    sender.start()
    try:
        assert sender.proc is not None and sender.proc.pid != os.getpid() and not sender.in_process
        receiver, rtp, sink, tr = await a_call(sender)
        rtp.keep_send_times = True
        levels = list(range(0, 40 * 256, 256))   # 40 frames, each a different level
        for level in levels:
            await sink.write(frame(level))       # waits while 0.2 s is queued: the sender's reports free room
        await until(lambda: len(receiver.got) == len(levels))
        await until(lambda: sink.sent_frames == len(levels))
        flushed = asyncio.ensure_future(sink.flush())
        await until(flushed.done)
        pkts = receiver.packets()
        assert {p[4] for p in pkts} == {rtp.local_port}          # symmetric RTP: sent from the receive port
        assert [p[2] for p in pkts] == [rtp.prepare(frame(v))[1][0] for v in levels]  # every frame, in order
        assert all((b[0] - a[0]) & 0xFFFF == 1 for a, b in pairwise(pkts))
        assert all((b[1] - a[1]) & 0xFFFFFFFF == 160 for a, b in pairwise(pkts))
        assert [p[3] for p in pkts] == [True] + [False] * (len(pkts) - 1)   # one talkspurt: one marker
        # the sender's own send times (its reports; arrival here would measure this test's loop): a 20 ms
        # schedule, counted loosely (a shared machine stretches some)
        assert len(rtp.send_times) == len(levels) and rtp.spurt_starts == {0}
        gaps = [(b - a) * 1000 for a, b in pairwise(rtp.send_times)]
        paced = sum(10 <= g <= 30 for g in gaps)
        assert paced >= 0.8 * len(gaps), gaps
        assert sum(gaps) >= 0.7 * 20 * len(gaps)  # not sent in a burst
        assert rtp.sent == len(levels) and rtp.numbering()[0] == (pkts[-1][0] + 1) & 0xFFFF
        assert sink.played_seconds == pytest.approx(0.02 * len(levels))
        assert sender.ticks > 0 and sum(sender.lateness) == sender.ticks
        sender.close(sink)
        rtp.close()
        tr.close()
    finally:
        sender.stop()


async def test_a_barge_in_clear_drops_the_queued_audio_at_once_and_the_next_prompt_starts_a_talkspurt():
    sender = RtpSender(process=True)
    sender.start()
    try:
        receiver, rtp, sink, tr = await a_call(sender)
        for level in range(50):                  # 1 s of prompt: queued ahead in the sender without waiting
            await sink.write(frame(level * 256))
        await until(lambda: len(receiver.got) >= 2)
        dropped = sink.clear()
        at_clear = len(receiver.got)
        assert dropped >= 0.8
        await asyncio.sleep(0.6)                 # uncleared, some 30 more frames would arrive meanwhile
        # at most what was on its way (a few, if this test's loop was slow to read them): not the queue
        assert len(receiver.got) <= at_clear + 5, (at_clear, len(receiver.got))
        before = len(receiver.got)
        await sink.write(frame(77 * 256))
        await until(lambda: len(receiver.got) == before + 1)
        pkts = receiver.packets()
        assert pkts[-1][3] and pkts[-1][2] == rtp.prepare(frame(77 * 256))[1][0]   # a new talkspurt: marker
        assert (pkts[-1][0] - pkts[-2][0]) & 0xFFFF == 1   # numbering goes on from the last packet sent
        sender.close(sink)
        rtp.close()
        tr.close()
    finally:
        sender.stop()


async def test_a_killed_sender_process_falls_back_to_the_pacer_thread_and_the_call_goes_on(caplog):
    sender = RtpSender(process=True)
    sender.start()
    try:
        receiver, rtp, sink, tr = await a_call(sender)
        for level in range(5):
            await sink.write(frame(level * 256))
        await until(lambda: len(receiver.got) >= 5 and sink.sent_frames == 5)   # sent, and reported sent
        assert sender.proc is not None
        pid = sender.proc.pid
        with caplog.at_level(logging.INFO):
            os.kill(pid, signal.SIGKILL)
            await until(lambda: sender.fell_back)
        lines = [r for r in caplog.records if "RTP sender process" in r.getMessage() and r.levelno >= logging.ERROR]
        assert len(lines) == 1 and "exit code -9" in lines[0].getMessage()
        assert sender.in_process and sender.proc is None and not alive(pid)   # reaped: no zombie left
        for level in range(5, 25):
            await sink.write(frame(level * 256))
        await until(lambda: len(receiver.got) >= 25)
        pkts = receiver.packets()
        assert {p[4] for p in pkts} == {rtp.local_port}
        assert [p[2] for p in pkts[-20:]] == [rtp.prepare(frame(v * 256))[1][0] for v in range(5, 25)]
        assert pkts[5][3]   # the first packet from the pacer thread opens a talkspurt
        assert all((b[0] - a[0]) & 0xFFFF == 1 for a, b in pairwise(pkts))
        assert sender.local.ticks > 0
        sender.close(sink)
        rtp.close()
        tr.close()
    finally:
        sender.stop()


async def test_stop_leaves_no_sender_process():
    sender = RtpSender(process=True)
    sender.start()
    assert sender.proc is not None
    pid = sender.proc.pid
    await until(lambda: sender.ticks > 0)     # it runs and reports
    sender.stop()
    assert not alive(pid)
    await asyncio.sleep(0.05)
    assert sender.in_process and not sender.fell_back   # our own stop: no fallback, no error line


async def test_the_sender_process_runs_at_real_time_priority_when_it_may():
    sender = RtpSender(process=True, realtime=10)
    sender.start()
    try:
        assert sender.proc is not None
        await until(lambda: sender.ticks > 0)   # past its start-up: it has asked for its priority
        policy = os.sched_getscheduler(sender.proc.pid)
        if os.geteuid() == 0:   # CAP_SYS_NICE: SCHED_FIFO at the asked priority
            assert policy == os.SCHED_FIFO and os.sched_getparam(sender.proc.pid).sched_priority == 10
        else:                   # without it: an ordinary process (it says so on its stderr) that still sends
            assert policy == os.SCHED_OTHER
    finally:
        sender.stop()


PARENT = """
import asyncio, sys
from ivr.transports.sip.offload import RtpSender

async def main():
    s = RtpSender(process=True)
    s.start()
    print(s.proc.pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def test_a_killed_server_leaves_no_sender_process():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT)
    try:
        line = parent.stdout.readline()
        assert line.strip().isdigit(), (line, parent.stderr.read() if parent.poll() is not None else "")
        pid = int(line)
        assert alive(pid), state(pid)
        parent.kill()                          # no stop(): the sender sees its socket end and exits
        parent.wait(10)
        end = time.monotonic() + 20
        while alive(pid) and time.monotonic() < end:
            time.sleep(0.02)
        assert not alive(pid), state(pid)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)


def test_the_sender_refuses_a_record_it_does_not_know():
    from ivr.transports.sip import sender as wire

    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        with pytest.raises(ValueError, match="unknown record kind 99 at byte 0"):
            wire.Sender(a).take(wire.HEAD.pack(99, 1), [])
    finally:
        a.close()
        b.close()


@needs_sipp
def test_a_sipp_call_goes_on_when_the_sender_process_is_killed_mid_prompt_and_stop_leaves_no_process(tmp_path):
    import threading

    srv = SipServerThread(tmp_path, SipOptions(no_media_seconds=60))
    killed: list[int] = []

    def kill_when_talking() -> None:   # the first call's sink has sent a few packets: the welcome prompt is playing
        end = time.monotonic() + 30
        while time.monotonic() < end and not killed:
            for call in list(srv.sip.active.values()):
                sink = call.sink
                if sink is not None and sink.sent_frames >= 5 and srv.sip.pacer.proc is not None:
                    killed.append(srv.sip.pacer.proc.pid)
                    os.kill(killed[0], signal.SIGKILL)
                    return
            time.sleep(0.01)

    try:
        assert srv.sip.pacer.proc is not None and not srv.sip.pacer.in_process
        watcher = threading.Thread(target=kill_when_talking, daemon=True)
        watcher.start()
        sf = scenario(tmp_path, "uac_balance.xml", SPEECH_PCAP="/usr/share/sip-tester/dtmf_2833_1.pcap",
                      SPEECH_MS="1500")
        proc = run_sipp(tmp_path, sf, srv.port, timeout=40)
        watcher.join(5)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        assert srv.wait_idle()
        assert killed and srv.sip.pacer.fell_back and srv.sip.pacer.in_process and not alive(killed[0])
        (call_id,) = srv.records.call_ids()
        rec = srv.records.get(call_id)
        assert (rec.outcome, rec.end_reason) == ("self_served", "completed")
        assert rec.turns[-1]["dtmf"] == "1234"
        (call,) = list(srv.sip.finished)
        assert call.stats["out"] > 5 and srv.sip.pacer.local.ticks > 0   # the rest went out from the pacer thread
    finally:
        srv.stop()


@needs_sipp
def test_a_server_stopped_after_a_call_leaves_no_sender_process(tmp_path):
    srv = SipServerThread(tmp_path)
    try:
        assert srv.sip.pacer.proc is not None
        pid = srv.sip.pacer.proc.pid
        sf = scenario(tmp_path, "uac_balance.xml", SPEECH_PCAP="/usr/share/sip-tester/dtmf_2833_1.pcap",
                      SPEECH_MS="1500")
        proc = run_sipp(tmp_path, sf, srv.port, timeout=40)
        assert proc.returncode == 0, sipp_report(tmp_path, proc)
        assert srv.wait_idle()
        (call,) = list(srv.sip.finished)
        assert call.stats["out"] > 0 and call.stats["send_dropped"] == 0
        assert alive(pid) and not srv.sip.pacer.fell_back
    finally:
        srv.stop()
    assert not alive(pid), state(pid)
