"""Every call's outgoing RTP, paced in a process of its own.

The server's event loop (every call's caller audio, sessions and flows) and
sippy's threads share one GIL; a pacer thread in the same process waits for
it, and at a hundred calls a tick that waits is a late packet for every call
at once. ``RtpSender`` starts ``sender.py`` as a child process with its own
GIL (``SipOptions.rtp_sender == "process"``) and hands it each call's RTP
socket (SCM_RIGHTS: the packets leave from the port the SDP named, the one the
caller's RTP comes in on), the destination, and the frames the session
writes, encoded here. The sender owns the 20 ms schedule and the RTP
numbering and reports after every tick what it sent. It asks for a
real-time priority (SCHED_FIFO ``SipOptions.rtp_realtime``, default 10; it
needs CAP_SYS_NICE, else nice -10): on a 2-core machine shared with other
work, waiting for a core, not the GIL, is then what makes a tick late
(bench/sip.py: the process at ordinary priority still missed 5 ms p95 at 128
calls under load; at real-time priority it did not).

``OffloadedSink`` is one call's ``AudioSink`` (a ``TickedSink``): it keeps
each frame until the sender reports it sent, so the writer waits while
``lookahead`` seconds are unsent (the only queue, bounded by it: the
sender's copy is a subset, and it caps its own at 2 s anyway), a clear
(barge-in) drops them here and tells the sender to drop its copies, and if
the sender process dies the frames not yet sent are still here: the server
logs one line and paces them on the in-process ``Pacer`` thread from then on
(``rtp_sender == "thread"`` starts that way). The process ends with
``stop()``, and by itself when the server's end of the socket closes (the
server died), so it never outlives the server."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from ivr.log import get_logger
from ivr.transports.sip import sender as wire
from ivr.transports.sip.media import RATE, RtpEndpoint
from ivr.transports.sip.pacing import Pacer, TickedSink, _Schedule

log = get_logger(__name__)
SENDER = Path(wire.__file__)
MAX_DATAGRAM = 32 * 1024             # records per datagram to the sender (under the socket's buffer)
MAX_BACKLOG = 4 * 1024 * 1024        # bytes unsent to a sender that stopped reading: it is stuck; replaced
SILENT_SECONDS = 2.0                 # no tick report for this long: the sender is stuck; replaced
# Audio queued ahead per call. The pacer thread sends late when the loop is slow (the GIL), so 0.2 s is
# plenty; the sender process sends on time whatever the loop does, so a loop that stalls longer than what
# is queued is a gap in the prompt (measured: 0.2 s ran dry at 128 calls on a loaded machine). A clear
# (barge-in) drops the queue in the sender at once, so a longer queue is not heard. The writer is woken
# once the queue is down to ``REFILL``: a batch of frames per wake-up, not one per tick.
THREAD_LOOKAHEAD, PROCESS_LOOKAHEAD, PROCESS_REFILL = 0.2, 1.0, 0.6
Item = tuple[int, bytes]             # (payload type, payload): RtpEndpoint.prepare


class OffloadedSink(TickedSink[Item]):
    """One call's bot audio: frames go to the sender process (``host``) until
    it is gone, then to the in-process pacer (``host`` None)."""

    def __init__(self, rtp: RtpEndpoint, host: RtpSender | None, call: int, lookahead: float = 0.2,
                 refill: float | None = None) -> None:
        super().__init__(rtp.send_prepared, RATE, rtp.prepare, lookahead, refill=refill)
        self.rtp = rtp
        self.host = host
        self.call = call
        self.dest = rtp.remote
        self._head = 1                 # the sender's number of the frame at _q[0]
        self._next = 1                 # the number of the next frame written
        self._marks: set[int] = set()  # numbers of frames sent with the marker bit (a talkspurt's first)

    def _queued(self, item: Item) -> None:
        """A frame queued here goes to the sender too (not once it is gone: then the
        pacer thread takes it from this queue)."""
        host = self.host
        if host is None:
            return
        marker = self._spurt_over
        self._spurt_over = False
        if marker:
            self._marks.add(self._next)
        self._next += 1
        self._follow()
        host.post_frame(self.call, marker, item)

    def _follow(self) -> None:
        """The caller's address changed (the latch onto its RTP port, a re-INVITE): tell the sender."""
        if self.host is not None and self.rtp.remote != self.dest:
            self.dest = self.rtp.remote
            self.host.post_dest(self.call, self.dest)

    def service(self) -> None:
        self._follow()
        super().service()

    def clear(self) -> float:
        self._head = self._next
        self._marks.clear()
        if self.host is not None:
            self.host.post_plain(wire.CLEAR, self.call)
        return super().clear()

    def close(self) -> None:
        if not self.closed and self.host is not None:
            self._head = self._next
            self.host.post_plain(wire.CLEAR, self.call)  # nothing more to a party who left
        super().close()

    def report(self, last: int, seq: int, ts: int, sent: int, late: int, underruns: int, dropped: int,
               when: float, flags: int) -> None:
        """The sender's tick (on the loop): frames up to number ``last`` are out."""
        self.played_seconds += self._in_flight
        self._in_flight = 0.0
        while self._head <= last and self._q:
            duration, _ = self._q.popleft()
            self._marks.discard(self._head)
            self._head += 1
            self._in_flight += duration
            self.sent_frames += 1
        self.late_frames, self.underruns = late, underruns
        now = bool(flags & wire.SENT_NOW)
        self.rtp.sent_elsewhere(seq, ts, sent, dropped, when if now else None, bool(flags & wire.MARKER))
        self.service()  # room for the writer now, not at the loop's next housekeeping tick

    def failed(self, why: str) -> None:
        self.error = ConnectionError(why)

    def go_local(self) -> None:
        """The sender process is gone: the frames it had not sent are paced here from now on."""
        self.host = None
        self.lookahead = self.refill = THREAD_LOOKAHEAD
        self._marks.clear()
        self._spurt_over = True  # another sender: a new talkspurt for the caller's jitter buffer


class RtpSender(_Schedule):
    """Sends every call's RTP: by the sender process (``process``), or by the
    in-process ``Pacer`` thread (``local``; also once the process died).
    Counts the process's ticks (lateness, late ticks, and how much of their
    lateness it sat without a core) as the ``Pacer`` counts its own."""

    def __init__(self, process: bool = True, nice: int = -10, realtime: int = 10) -> None:
        super().__init__(lambda late: None)
        self.process = process
        self.nice = nice
        self.realtime = realtime       # the sender's SCHED_FIFO priority (0: none, ``nice`` instead)
        self.local = Pacer(nice)
        self.proc: subprocess.Popen[bytes] | None = None
        self.late_ms = 0.0
        self.waited_ms = 0.0
        self.fell_back = False
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sinks: dict[int, OffloadedSink] = {}
        self._ids = 0
        self._out: list[tuple[bytearray, int | None]] = []   # datagrams to send (an OPEN's with its fd)
        self._backlog = 0
        self._flushing = False
        self._heard = 0.0              # monotonic time of the last report
        self._watch: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def in_process(self) -> bool:
        return self._sock is None

    @property
    def stats(self) -> _Schedule:
        """Whichever schedule is sending now (tick counts, lateness histogram)."""
        return self.local if self.in_process else self

    # -- life -------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not self.process:
            self.local.start()
            return
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        except (OSError, AttributeError) as e:  # no AF_UNIX/SOCK_SEQPACKET here
            self._no_process(e)
            return
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", str(SENDER), str(theirs.fileno()), str(self.nice), str(self.realtime)],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as e:
            ours.close()
            self._no_process(e)
            return
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._heard = time.monotonic()
        self._loop.add_reader(ours, self._readable)
        self._watch = asyncio.ensure_future(self._watchdog())
        log.info("sip: RTP sender process %d started", self.proc.pid)

    def _no_process(self, e: BaseException) -> None:
        log.error("sip: cannot start the RTP sender process (%s); sending RTP from this process", e)
        self.fell_back = True
        self.local.start()

    def stop(self) -> None:
        """End the sender process and the pacer thread (any thread may call this)."""
        self._stopping = True
        self.local.stop()
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(2.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(2.0)
        loop = self._loop
        if loop is None or loop.is_closed() or self._on_loop():
            self._detach()
        else:
            loop.call_soon_threadsafe(self._detach)

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def _detach(self) -> None:
        sock, self._sock = self._sock, None
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(sock)
            sock.close()
        for _, fd in self._out:
            if fd is not None:
                os.close(fd)
        self._out.clear()
        self._backlog = 0

    def _lost(self, why: str) -> None:
        """The sender process is gone or stuck: one line, and the calls go on paced in-process."""
        if self._stopping or self._sock is None:
            self._detach()  # our own stop(): no fallback
            return
        proc, self.proc = self.proc, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            try:
                code = proc.wait(2.0)
            except subprocess.TimeoutExpired:
                pass
        log.error("sip: RTP sender process %s (exit code %s); %d calls' RTP is sent from this process from now on",
                  why, code, len(self._sinks))
        self.fell_back = True
        self._detach()
        self.local.start()
        for sink in self._sinks.values():
            sink.go_local()
            self.local.add(sink)

    async def _watchdog(self) -> None:
        while self._sock is not None:
            await asyncio.sleep(SILENT_SECONDS / 2)
            if time.monotonic() - self._heard > SILENT_SECONDS:
                self._readable()  # a stalled loop may not have read yet
                if self._sock is not None and time.monotonic() - self._heard > SILENT_SECONDS:
                    self._lost(f"sent no tick report for {SILENT_SECONDS:g} s")

    # -- calls (on the loop) ------------------------------------------------------
    def open(self, rtp: RtpEndpoint) -> OffloadedSink:
        """A call's sink, its socket handed to the sender (or the sink on the pacer thread)."""
        self._ids += 1
        call = self._ids
        sink = (OffloadedSink(rtp, None, call, THREAD_LOOKAHEAD) if self.in_process else
                OffloadedSink(rtp, self, call, PROCESS_LOOKAHEAD, PROCESS_REFILL))
        self._sinks[call] = sink
        if sink.host is None:
            self.local.add(sink)
            return sink
        assert rtp.sock is not None
        seq, ts = rtp.numbering()
        body = bytearray(wire.HEAD.pack(wire.OPEN, call) + wire.OPEN_BODY.pack(rtp.ssrc, seq, ts, 0))
        body += _dest(rtp.remote)
        self._queue(body, os.dup(rtp.sock.fileno()))
        return sink

    def close(self, sink: OffloadedSink) -> None:
        self._sinks.pop(sink.call, None)
        if sink.host is not None:
            self.post_plain(wire.CLOSE, sink.call)
        self.local.remove(sink)

    @property
    def sinks(self) -> list[OffloadedSink]:
        return list(self._sinks.values())

    def post_frame(self, call: int, marker: bool, item: Item) -> None:
        pt, payload = item
        self._record(wire.HEAD.pack(wire.FRAME, call) + wire.FRAME_BODY.pack(marker, pt, len(payload)) + payload)

    def post_dest(self, call: int, dest: tuple[str, int]) -> None:
        self._record(wire.HEAD.pack(wire.DEST, call) + _dest(dest))

    def post_plain(self, kind: int, call: int) -> None:
        self._record(wire.HEAD.pack(kind, call))

    # -- to the sender: records batched per loop iteration ---------------------------
    def _record(self, record: bytes) -> None:
        if self._sock is None:
            return
        if self._out and self._out[-1][1] is None and len(self._out[-1][0]) + len(record) <= MAX_DATAGRAM:
            self._out[-1][0].extend(record)
        else:
            self._out.append((bytearray(record), None))
        self._backlog += len(record)
        self._schedule_flush()

    def _queue(self, datagram: bytearray, fd: int) -> None:
        if self._sock is None:
            os.close(fd)
            return
        self._out.append((datagram, fd))
        self._backlog += len(datagram)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flushing and self._loop is not None:
            self._flushing = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flushing = False
        sock = self._sock
        while self._out and sock is not None:
            data, fd = self._out[0]
            try:
                if fd is None:
                    sock.send(data)
                else:
                    socket.send_fds(sock, [data], [fd])
            except BlockingIOError:  # the sender is behind: retry shortly (one retry pending at a time)
                if self._backlog > MAX_BACKLOG:
                    self._lost(f"stopped taking frames ({self._backlog} bytes waiting)")
                    return
                assert self._loop is not None
                self._flushing = True
                self._loop.call_later(0.005, self._flush)
                return
            except OSError as e:
                self._lost(f"is gone ({e.strerror or e})")
                return
            self._out.pop(0)
            self._backlog -= len(data)
            if fd is not None:
                os.close(fd)  # the sender holds its own copy now

    # -- from the sender ------------------------------------------------------------
    def _readable(self) -> None:
        sock = self._sock
        while sock is not None and self._sock is sock:
            try:
                data = sock.recv(1 << 17)
            except BlockingIOError:
                return
            except OSError as e:
                self._lost(f"is gone ({e.strerror or e})")
                return
            if not data:
                self._lost("exited")
                return
            self._take(data)

    def _take(self, data: bytes) -> None:
        kind, call = wire.HEAD.unpack_from(data)
        at = wire.HEAD.size
        if kind == wire.TICKED:
            self._heard = time.monotonic()
            _tick, behind, waited, n = wire.TICK_HEAD.unpack_from(data, at)
            at += wire.TICK_HEAD.size
            if self._count(behind):
                self.late_ms += behind
                self.waited_ms += max(0.0, waited)
            for entry in wire.ENTRY.iter_unpack(data[at:at + n * wire.ENTRY.size]):
                sink = self._sinks.get(entry[0])
                if sink is not None and sink.host is self:
                    sink.report(*entry[1:])
        elif kind == wire.ERROR:
            (n,) = wire.ERROR_BODY.unpack_from(data, at)
            text = data[at + wire.ERROR_BODY.size:at + wire.ERROR_BODY.size + n].decode(errors="replace")
            sink = self._sinks.get(call)
            if sink is not None:
                sink.failed(f"RTP send failed in the sender process: {text}")


def _dest(dest: tuple[str, int]) -> bytes:
    host = dest[0].encode()
    return wire.DEST_BODY.pack(dest[1], len(host)) + host


def sender_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc; 0 when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


__all__ = ["RtpSender", "OffloadedSink", "sender_cpu_seconds"]
