"""The RTP sender process: paces every call's bot audio out of a process of
its own, so no Python work of the server (its event loop, sippy's threads)
holds this process's GIL when a 20 ms tick is due.

Run as a script (``python -I sender.py FD NICE REALTIME``, started by
``offload.ProcessPacer``); it imports nothing but the standard library, so it
starts in tens of milliseconds and never loads the server's packages. FD is
its end of a ``SOCK_SEQPACKET`` socket pair with the server.

Server -> sender: datagrams of records (little-endian, each ``<BI`` kind,
call):

- OPEN, with the call's RTP socket passed as an fd (SCM_RIGHTS; one OPEN per
  datagram): ``<IHIB`` ssrc, next sequence number, next timestamp, flags,
  then a destination. The sender sends on that socket, so the packets leave
  from the port the SDP named and the caller's RTP comes in on: symmetric RTP.
- FRAME ``<BBH`` marker, payload type, length, then the payload: queued for
  the call; frames are numbered 1, 2, ... per call in the order they arrive.
- DEST (a re-INVITE or the latch onto the caller's port): ``<HB`` port,
  host length, host.
- CLEAR (barge-in): the call's queued frames are dropped at once.
- CLOSE: the call's socket copy is closed and the call forgotten.

Sender -> server, after every tick: TICK ``<IffH`` tick number, how late it
was (ms), how much of that it sat runnable without a core (ms), count; then
per call that sent this tick or the one before (``ENTRY``): the number of
the last frame sent, the next sequence number and timestamp, packets sent,
sent on a late tick, underruns (the queue ran dry inside a talkspurt),
dropped by a full socket buffer, the send time (monotonic, shared by the
processes) and flags. ERROR ``<IH`` call, length, text: a send failed (the
call's socket is gone); nothing more is sent for that call.

End of the socket (the server closed it, or died): the sender exits. So it
never outlives the server."""
from __future__ import annotations

import gc
import os
import select
import socket
import struct
import sys
import time
from collections import deque

TICK = 0.02
LATE_MS = 5.0
MAX_QUEUE = 100               # frames per call (2 s): the server keeps 0.2 s queued; more is a bug, the oldest go
MAX_DATAGRAM = 1 << 16

HEAD = struct.Struct("<BI")          # kind, call
OPEN_BODY = struct.Struct("<IHIB")   # ssrc, seq, ts, flags
FRAME_BODY = struct.Struct("<BBH")   # marker, payload type, length
DEST_BODY = struct.Struct("<HB")     # port, host length
TICK_HEAD = struct.Struct("<IffH")   # tick, behind ms, waited ms, entries
ENTRY = struct.Struct("<IIHIIIIIdB")  # call, last frame, seq, ts, sent, late, underruns, dropped, when, flags
ERROR_BODY = struct.Struct("<H")
RTP_HEAD = struct.Struct("!BBHII")
OPEN, FRAME, DEST, CLEAR, CLOSE, TICKED, ERROR = 1, 2, 3, 4, 5, 10, 11
SENT_NOW, MARKER = 1, 2              # ENTRY flags


class Call:
    __slots__ = (
        "dest",
        "dropped",
        "dry",
        "failed",
        "flags",
        "last",
        "late",
        "q",
        "received",
        "report",
        "sent",
        "seq",
        "sock",
        "ssrc",
        "ts",
        "underruns",
        "when",
    )

    def __init__(self, sock: socket.socket, ssrc: int, seq: int, ts: int, dest: tuple[str, int]) -> None:
        self.sock, self.ssrc, self.seq, self.ts, self.dest = sock, ssrc, seq, ts, dest
        self.q: deque[tuple[int, bool, int, bytes]] = deque()
        self.received = self.last = self.sent = self.late = self.underruns = self.dropped = self.dry = 0
        self.when = 0.0
        self.flags = 0
        self.report = 0      # ticks left to report this call (the one it sent on and the next: "played")
        self.failed = False


def destination(data: bytes, at: int) -> tuple[tuple[str, int], int]:
    port, n = DEST_BODY.unpack_from(data, at)
    at += DEST_BODY.size
    return (data[at:at + n].decode(), port), at + n


class Sender:
    def __init__(self, ctl: socket.socket) -> None:
        self.ctl = ctl
        self.calls: dict[int, Call] = {}
        self.errors: list[bytes] = []
        self.ticks = 0
        self.overflow = 0
        self.skipped = 0            # reports the server's full socket refused
        self.reported: list[int] = []  # the calls in this tick's report

    # -- from the server ---------------------------------------------------
    def take(self, data: bytes, fds: list[int]) -> None:
        at, end = 0, len(data)
        while at < end:
            kind, cid = HEAD.unpack_from(data, at)
            at += HEAD.size
            if kind == FRAME:
                marker, pt, n = FRAME_BODY.unpack_from(data, at)
                at += FRAME_BODY.size
                payload = data[at:at + n]
                at += n
                call = self.calls.get(cid)
                if call is not None:
                    call.received += 1
                    if len(call.q) >= MAX_QUEUE:
                        call.q.popleft()
                        self.overflow += 1
                    call.q.append((call.received, bool(marker), pt, payload))
            elif kind == OPEN:
                ssrc, seq, ts, _flags = OPEN_BODY.unpack_from(data, at)
                dest, at = destination(data, at + OPEN_BODY.size)
                if fds:
                    fd = fds.pop(0)
                    old = self.calls.pop(cid, None)
                    if old is not None:
                        old.sock.close()
                    self.calls[cid] = Call(socket.socket(fileno=fd), ssrc, seq, ts, dest)
            elif kind == DEST:
                dest, at = destination(data, at)
                if cid in self.calls:
                    self.calls[cid].dest = dest
            elif kind == CLEAR:
                if cid in self.calls:
                    self.calls[cid].q.clear()
            elif kind == CLOSE:
                call = self.calls.pop(cid, None)
                if call is not None:
                    call.sock.close()
            else:
                raise ValueError(f"sender: unknown record kind {kind} at byte {at - HEAD.size}")
        for fd in fds:  # an fd without its OPEN: not ours to keep
            os.close(fd)

    def drain(self, until: float) -> bool:
        """Take what the server sent, stopping near ``until`` (the next tick
        comes first); False once the server is gone."""
        while True:
            try:
                data, fds, flags, _ = socket.recv_fds(self.ctl, MAX_DATAGRAM, 4)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data and not fds:
                return False
            if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
                sys.stderr.write("sender: a datagram from the server was cut short; dropped\n")
                for fd in fds:
                    os.close(fd)
                continue
            try:
                self.take(data, list(fds))
            except (ValueError, struct.error) as e:  # a bug on the server's side: say so, keep sending
                sys.stderr.write(f"sender: bad datagram from the server ({e}); rest of it dropped\n")
            if time.monotonic() >= until - 0.0005:
                return True

    # -- the tick --------------------------------------------------------------
    def tick(self, late: bool, now_ms_behind: float, waited_ms: float) -> bytes:
        entries = []
        self.reported.clear()
        for cid, c in self.calls.items():
            c.flags = 0
            if c.q and not c.failed:
                serial, marker, pt, payload = c.q.popleft()
                if c.dry and not marker:
                    c.underruns += 1
                c.dry = 0
                try:
                    c.sock.sendto(RTP_HEAD.pack(0x80, (0x80 if marker else 0) | (pt & 0x7F), c.seq, c.ts, c.ssrc)
                                  + payload, c.dest)
                except BlockingIOError:
                    c.dropped += 1
                except OSError as e:
                    c.failed = True
                    c.q.clear()
                    text = f"{type(e).__name__}: {e}".encode()[:200]
                    self.errors.append(HEAD.pack(ERROR, cid) + ERROR_BODY.pack(len(text)) + text)
                    continue
                c.when = time.monotonic()
                c.seq = (c.seq + 1) & 0xFFFF
                c.ts = (c.ts + len(payload)) & 0xFFFFFFFF
                c.sent += 1
                c.late += late
                c.last = serial
                c.flags = SENT_NOW | (MARKER if marker else 0)
                c.report = 2
            elif not c.failed:
                c.dry += 1
            if c.report:
                c.report -= 1
                self.reported.append(cid)
                entries.append(ENTRY.pack(cid, c.last, c.seq, c.ts, c.sent, c.late, c.underruns, c.dropped,
                                          c.when, c.flags))
        self.ticks += 1
        return TICK_HEAD.pack(self.ticks, now_ms_behind, waited_ms, len(entries)) + b"".join(entries)

    def report(self, body: bytes) -> bool:
        """The tick's report (and any errors) to the server; False once it is gone.
        A full socket (the server's loop stalled) skips this report: the counts
        in it are totals, so the next report carries them, and its calls are in
        the next report again (the server learns their last frame played)."""
        out = [HEAD.pack(TICKED, 0) + body, *self.errors]
        self.errors.clear()
        for record in out:
            try:
                self.ctl.send(record)
            except BlockingIOError:  # the server's loop is behind: its calls go in the next report again
                self.skipped += 1
                for cid in self.reported:
                    call = self.calls.get(cid)
                    if call is not None:
                        call.report = max(call.report, 1)
            except OSError:
                return False
        return True


def schedstat_wait() -> float:
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e6
    except (OSError, ValueError, IndexError):
        return 0.0


def run(ctl: socket.socket) -> int:
    ctl.setblocking(False)
    sender = Sender(ctl)
    due = time.monotonic()
    waited = schedstat_wait()
    while True:
        due += TICK
        scheduled = due
        while True:  # until the tick is due: the server's records
            left = due - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([ctl], [], [], left)
            if ready and not sender.drain(due):
                return 0
        now = time.monotonic()
        if now - due > TICK:  # more than a frame behind (the process was stopped): restart the schedule
            due = now
        behind = (now - scheduled) * 1000
        wait_now = schedstat_wait()
        body = sender.tick(behind > LATE_MS, behind, min(behind, wait_now - waited))
        waited = wait_now
        if not sender.report(body):
            return 0


def prioritize(nice: int, realtime: int) -> None:
    """Sending 20 ms audio is the one job that cannot wait for a core. With
    ``realtime`` (a SCHED_FIFO priority, 1-99) the kernel runs this process
    as soon as it wakes, ahead of every ordinary process; it sleeps between
    ticks and uses a few per cent of a core, and the kernel's real-time
    throttling bounds it anyway. Else a ``nice`` value, for this process and
    for its autogroup (its session: the kernel shares a core between
    sessions first, so a process's own nice alone would not outweigh other
    sessions' work). Both need CAP_SYS_NICE; without it, a line and on."""
    if realtime > 0:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(realtime))
            return
        except (OSError, AttributeError) as e:
            sys.stderr.write(f"sender: no real-time priority ({getattr(e, 'strerror', None) or e}); using nice\n")
    if nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except OSError as e:
            sys.stderr.write(f"sender: runs at normal priority ({e.strerror})\n")
            return
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(nice))
        except OSError:
            pass  # no autogroups (a cgroup scheduler, or an older kernel): the process's nice is what counts


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        sys.stderr.write("usage: sender.py FD NICE REALTIME\n")
        return 2
    ctl = socket.socket(fileno=int(argv[1]))
    prioritize(int(argv[2]), int(argv[3]))
    gc.disable()  # no reference cycles are made here; a collection would be a late tick
    try:
        return run(ctl)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
