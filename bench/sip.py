"""SIP transport under load: SIPp (Debian sip-tester) places N concurrent
calls against ``SipServer`` on loopback, in two flows:

- ``dtmf``: RFC 4733 keys only (1 at the menu, then 1234; the bot reads a
  balance and hangs up);
- ``speech``: the caller says 我要查餘額 (a G.711 pcap of the fixture WAV
  zh_balance_fast.wav) at the menu, then keys 1234;

and the ``dtmf`` flow once more with SIP over TCP (``--tcp-calls``, SIPp
``-t t1``: every call on one connection).

The server runs in this process on its own event-loop thread with the fake
dialog/prompt/recognizer parts of the transport tests (tone prompts, a
scripted recognizer, the energy endpointer): what is measured is SIP + RTP +
session plumbing, not speech recognition. Per flow and N (default 1, 16, 64;
--calls 1,16,64,128):

- setup time INVITE -> 200 OK, p50/p95 (SIPp's response-time trace);
- DTMF-to-reply: the end of the turn's last RFC 4733 key (its first end
  packet, as received) -> the first RTP packet of the bot's reply, p50/p95 ms
  (keys that arrive while the bot talks are barge-ins, not counted);
- speech turn (speech flow): the session's own per-reply latency (end of the
  caller's speech -> first reply frame, the ``latency`` event of the record:
  endpointer wait + plumbing, the same measure on every transport), p50/p95;
- bot RTP send jitter: |interval between consecutive packets - 20 ms| inside a
  talkspurt (the gap before a packet with the marker bit is the pause between
  prompts), p50/p95/max, ms;
  late frames (sent on a pacer tick over 5 ms late), the pacer's (the RTP
  sender process's, or with --rtp-sender thread the in-process thread's)
  lateness histogram (<1, <2, <5, <10, <20, >=20 ms) and the loop's 20 ms
  housekeeping tick's; dropped packets: underruns (a call's queue ran dry
  inside a prompt: the loop fell behind) and sends refused by a full socket;
- CPU: this process (CPU s / wall s, in cores), its RTP sender process, its event-loop thread (run
  time, and the time it sat runnable waiting for a core: /proc schedstat),
  SIPp's own CPU, and the whole machine (busy share of all cores, load
  average before/after) -- to tell our own cost from contention; RSS growth;
- the machine's floor: a separate process that only wakes every 20 ms, run
  during the level: how late it woke (p95, max, ticks over 5 ms). When it
  misses 5 ms itself, no sender at ordinary priority could have met the goal
  (the RTP sender process runs at a real-time priority when it may: ahead of it).

The bot's RTP is paced by the server's sender process (``offload.py``,
SCHED_FIFO ``--rtp-realtime``, default 10; 0: nice -10), or with
``--rtp-sender thread`` by the in-process pacer thread, to compare.

Goals (issue 15, 2 cores): >= 100 concurrent DTMF calls with p95 send jitter
<= 5 ms, no late frames and no dropped packets; setup p95 <= 50 ms. Prints a table and writes
bench/results/sip.json.
"""
from __future__ import annotations

import argparse
import bisect
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.session.latency import STAGES  # noqa: E402


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores so far (/proc/stat)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)
    return float(sum(f) - idle), float(sum(f))


def thread_sched(tid: int | str | None) -> tuple[float, float]:
    """(seconds on a core, seconds runnable but waiting for one) of a thread
    (a thread id, or "thread-self")."""
    where = "/proc/thread-self/schedstat" if tid == "thread-self" else f"/proc/self/task/{tid}/schedstat"
    try:
        run_ns, wait_ns = Path(where).read_text().split()[:2]
        return int(run_ns) / 1e9, int(wait_ns) / 1e9
    except (OSError, ValueError):
        return 0.0, 0.0


class LateTicks:
    """Wraps the server's ``Pacer`` (runs on its thread): for every late tick
    (> 5 ms), how much of its lateness the pacer thread spent runnable but without a core (its
    schedstat wait grew by that much since the previous tick) -- contention --
    against the rest (our own work, the GIL, a stall)."""

    def __init__(self, ticker: object) -> None:
        self.ticker = ticker
        self.inner = ticker.each  # type: ignore[attr-defined]
        self.wait = -1.0
        self.late_ticks = 0
        self.late_ms = 0.0
        self.waited_ms = 0.0
        ticker.each = self  # type: ignore[attr-defined]

    def __call__(self, late: bool) -> None:
        wait = thread_sched("thread-self")[1]
        if late and self.wait >= 0:
            behind = float(self.ticker.behind_ms)  # type: ignore[attr-defined]
            self.late_ticks += 1
            self.late_ms += behind
            self.waited_ms += min(behind, (wait - self.wait) * 1000)
        self.wait = wait
        self.inner(late)


# A process that does nothing but wake every 20 ms (its own GIL, nothing else
# to do) and measures how late it wakes: the machine's own floor for timer
# lateness while a level runs. It stops when its stdin closes.
PROBE = """
import select, sys, time
due, late = time.monotonic(), []
while True:
    due += 0.02
    if select.select([sys.stdin], [], [], max(0.0, due - time.monotonic()))[0]:
        break
    late.append((time.monotonic() - due) * 1000)
print(" ".join(f"{x:.3f}" for x in late))
"""


def start_probe() -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", PROBE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def stop_probe(probe: subprocess.Popen[str]) -> dict[str, float | int | None]:
    out, _ = probe.communicate("", timeout=10)
    late = [float(x) for x in out.split()]
    return {"idle_timer_process_lateness_ms_p95": pct(late, 95), "idle_timer_process_lateness_ms_max":
            max(late) if late else None, "idle_timer_process_ticks_over_5_ms": sum(x > 5 for x in late),
            "idle_timer_process_ticks": len(late)}


def reply_latencies(send_times: list[float], digit_times: list[float]) -> list[float]:
    """Seconds from the last key of a turn to the first packet of the reply."""
    out: list[float] = []
    for i, d in enumerate(digit_times):
        k = bisect.bisect_right(send_times, d)
        if k > 0 and d - send_times[k - 1] < 0.04:
            continue  # the bot was talking: a barge-in, not a wait for a reply
        if k == len(send_times):
            continue
        first = send_times[k]
        if i + 1 < len(digit_times) and digit_times[i + 1] < first:
            continue  # more keys of the same turn follow
        out.append(first - d)
    return out


BUCKETS = ("<1", "<2", "<5", "<10", "<20", ">=20")


class ProcessTicks:
    """The sender process's own count of the same (``offload.RtpSender``: it
    reads its schedstat at every tick and reports with the tick)."""

    def __init__(self, sender: object) -> None:
        self.sender = sender
        self.base = (sender.late_ticks, sender.late_ms, sender.waited_ms)  # type: ignore[attr-defined]

    @property
    def late_ticks(self) -> int:
        return int(self.sender.late_ticks - self.base[0])  # type: ignore[attr-defined]

    @property
    def late_ms(self) -> float:
        return float(self.sender.late_ms - self.base[1])  # type: ignore[attr-defined]

    @property
    def waited_ms(self) -> float:
        return float(self.sender.waited_ms - self.base[2])  # type: ignore[attr-defined]


def run_level(n: int, tmp: Path, flow: str, transport: str = "udp", rtp_sender: str = "process",
              realtime: int = 10) -> dict:
    from ivr.transports.sip import SipOptions
    from tests.transports.sip.harness import SipServerThread, run_sipp, scenario
    from tests.transports.sip.pcap import wav_to_pcap

    work = tmp / f"{flow}{n}{transport}"
    work.mkdir()
    if flow == "speech":
        from ivr.audio import read_wav

        wav = ROOT / "audio_fixtures" / "audio" / "zh_balance_fast.wav"
        samples, rate = read_wav(wav)
        first, first_ms = str(wav_to_pcap(wav, work / "speech.pcap")), int((len(samples) / rate + 1.6) * 1000) + 1500
    else:
        first, first_ms = "/usr/share/sip-tester/dtmf_2833_1.pcap", 1500
    from ivr.transports.sip.offload import sender_cpu_seconds

    srv = SipServerThread(work, SipOptions(max_calls=max(n, 1) + 8, measure_send=True, no_media_seconds=60,
                                           transport=transport, rtp_sender=rtp_sender,
                                           rtp_realtime=realtime))
    try:
        sf = scenario(work, "uac_balance.xml", SPEECH_PCAP=first, SPEECH_MS=str(first_ms))
        tid = srv.thread.native_id
        pacer = srv.sip.pacer
        watch: LateTicks | ProcessTicks = LateTicks(pacer.local) if pacer.in_process else ProcessTicks(pacer)
        child = pacer.proc.pid if pacer.proc is not None else None
        child0 = sender_cpu_seconds(child) if child else 0.0
        lateness0 = list(pacer.stats.lateness)
        rss0, cpu0, t0 = rss_mb(), time.process_time(), time.monotonic()
        kids0, m0, s0, load0 = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy(), thread_sched(tid), \
            os.getloadavg()[0]
        probe = start_probe()
        proc = run_sipp(work, sf, srv.port, calls=n, limit=n, rate=max(n, 1), timeout=60 + n,
                        extra=("-trace_rtt", "-rtt_freq", "1", *(("-t", "t1") if transport == "tcp" else ())))
        srv.wait_idle(30)
        floor = stop_probe(probe)
        wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
        kids1, m1, s1, load1 = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy(), thread_sched(tid), \
            os.getloadavg()[0]
        child_cpu = (sender_cpu_seconds(child) - child0) if child else 0.0
        lateness = [b - a for a, b in zip(lateness0, pacer.stats.lateness, strict=True)]
        fell_back = pacer.fell_back
        loop_lateness = list(srv.sip.ticker.lateness)
        calls = list(srv.sip.finished)
        rss1 = rss_mb()
        records = [srv.records.get(i) for i in srv.records.call_ids()]
    finally:
        srv.stop()
    setup_ms: list[float] = []
    for f in work.glob("*_rtt.csv"):
        for line in f.read_text().splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 3:
                try:
                    setup_ms.append(float(parts[2]))
                except ValueError:
                    pass
    jitter: list[float] = []
    dtmf_reply: list[float] = []
    for c in calls:
        times = c.rtp.send_times if c.rtp is not None else []
        starts = c.rtp.spurt_starts if c.rtp is not None else set()
        for i, (a, b) in enumerate(pairwise(times)):
            if i + 1 not in starts:  # a packet with the marker bit opens a prompt: the gap before is a pause
                jitter.append(abs((b - a) * 1000 - 20.0))
        if c.rtp is not None:
            dtmf_reply += [x * 1000 for x in reply_latencies(times, c.rtp.digit_times)]
    speech_turn: list[float] = []
    key_stages: dict[str, list[float]] = {k: [] for k in STAGES}
    for r in records:
        for e in (r.events if r else []):
            if e.get("kind") == "latency" and e.get("ended") != "dtmf":
                speech_turn.append(1000 * sum(float(v) for k, v in e.items() if k in STAGES))
            elif e.get("kind") == "latency":
                for k in STAGES:
                    key_stages[k].append(1000 * float(e.get(k, 0.0)))

    def expected(r: object) -> bool:
        return bool(r and r.outcome == "self_served" and r.turns and r.turns[-1].get("dtmf") == "1234")  # type: ignore[attr-defined]

    ok = sum(1 for r in records if expected(r))
    from collections import Counter

    unexpected = Counter(f"{r.outcome}/{r.end_reason} keys={[t.get('dtmf') for t in r.turns]}" for r in records
                         if r and not expected(r))
    sipp_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    busy, total = m1[0] - m0[0], m1[1] - m0[1]
    loop_run, loop_wait = s1[0] - s0[0], s1[1] - s0[1]
    return {
        "flow": flow, "transport": transport, "rtp_sender": rtp_sender, "rtp_realtime": realtime,
        "sender_fell_back": fell_back,
        "calls": n, "sipp_exit": proc.returncode, "completed_as_expected": ok,
        "sipp_error": (proc.stderr or proc.stdout or "")[-300:] if proc.returncode else "",
        "unexpected": dict(unexpected.most_common(5)),
        "setup_ms_p50": pct(setup_ms, 50), "setup_ms_p95": pct(setup_ms, 95), "setup_samples": len(setup_ms),
        "dtmf_to_reply_ms_p50": pct(dtmf_reply, 50), "dtmf_to_reply_ms_p95": pct(dtmf_reply, 95),
        "dtmf_to_reply_samples": len(dtmf_reply),
        "dtmf_turn_stages_ms_p50": {k: round(v, 2) for k, v in ((k, pct(x, 50)) for k, x in key_stages.items())
                                    if v is not None},
        "speech_turn_ms_p50": pct(speech_turn, 50), "speech_turn_ms_p95": pct(speech_turn, 95),
        "speech_turn_samples": len(speech_turn),
        "send_jitter_ms_p50": pct(jitter, 50), "send_jitter_ms_p95": pct(jitter, 95),
        "send_jitter_ms_max": max(jitter) if jitter else None, "packets_sent": sum(c.rtp.sent for c in calls if c.rtp),
        "late_frames": sum(c.late_frames for c in calls),
        "underruns": sum(c.underruns for c in calls),
        "send_dropped": sum(c.rtp.send_dropped for c in calls if c.rtp),
        "tick_lateness_ms_histogram": dict(zip(BUCKETS, lateness, strict=True)),
        "loop_housekeeping_lateness_ms_histogram": dict(zip(BUCKETS, loop_lateness, strict=True)),
        "late_ticks": watch.late_ticks,
        "late_tick_ms_waiting_for_a_core_share": round(watch.waited_ms / watch.late_ms, 3) if watch.late_ms else None,
        "caller_packets_lost": sum(int(c.stats.get("lost", 0)) for c in calls),
        "caller_packets_late": sum(int(c.stats.get("late", 0)) for c in calls),
        "cpu_share_of_one_core": round(cpu / wall, 3) if wall else None,
        "sender_process_cpu_share": round(child_cpu / wall, 3) if wall else None,
        "loop_thread_cpu_share": round(loop_run / wall, 3) if wall else None,
        "loop_thread_runnable_waiting_share": round(loop_wait / wall, 3) if wall else None,
        "sipp_cpu_share_of_one_core": round(sipp_cpu / wall, 3) if wall else None,
        "machine_busy_share_of_all_cores": round(busy / total, 3) if total else None,
        "machine_load_avg_1m_before_after": [round(load0, 2), round(load1, 2)],
        **floor,
        "cpu_s_per_call": round((cpu + child_cpu) / max(n, 1), 3), "rss_mb_growth_per_call": round((rss1 - rss0) / max(n, 1), 2),
        "wall_s": round(wall, 1),
    }


def verdict(results: list[dict]) -> tuple[dict[str, bool], str]:
    """The goals, and in one line whether missed send-jitter goals come from
    our own CPU or from waiting for a core (other processes: SIPp, the rest
    of the machine)."""
    dtmf = [r for r in results if r["flow"] == "dtmf" and r["transport"] == "udp"]
    top = max(dtmf, key=lambda r: r["calls"]) if dtmf else results[-1]
    goals = {f"p95 send jitter <= 5 ms at {top['calls']} DTMF calls": (top["send_jitter_ms_p95"] or 99) <= 5.0,
             f"no late frames at {top['calls']} DTMF calls": top["late_frames"] == 0,
             f"no dropped packets at {top['calls']} DTMF calls": top["underruns"] == 0 and top["send_dropped"] == 0,
             "setup p95 <= 50 ms at every level": all((r["setup_ms_p95"] or 999) <= 50 for r in results),
             "every call completed as expected": all(r["completed_as_expected"] == r["calls"] for r in results)}
    run = top["loop_thread_cpu_share"] or 0.0
    waited = top["late_tick_ms_waiting_for_a_core_share"]
    cause = (f"at {top['calls']} DTMF calls: {top['late_ticks']} late pacer ticks; the event-loop thread ran {run:.0%} of "
             f"the wall time (this process {top['cpu_share_of_one_core']:.2f} cores, its RTP sender process "
             f"{top.get('sender_process_cpu_share') or 0:.2f}, SIPp "
             f"{top['sipp_cpu_share_of_one_core']:.2f}), the machine was {top['machine_busy_share_of_all_cores']:.0%} "
             f"busy (load {top['machine_load_avg_1m_before_after']}); ")
    floor, floor_p95 = top.get("idle_timer_process_ticks_over_5_ms"), top.get("idle_timer_process_lateness_ms_p95")
    if (top["send_jitter_ms_p95"] or 99) <= 5.0 and top["late_frames"] == 0:
        floor_text = (f"; a process doing nothing but wake every 20 ms was over 5 ms late on {floor} of "
                      f"{top['idle_timer_process_ticks']} ticks (p95 {floor_p95:.1f} ms)") if floor else ""
        return goals, cause + f"the {top.get('rtp_sender', 'thread')} sender kept its schedule{floor_text}"
    if floor:
        cause += (f"a process doing nothing but wake every 20 ms was itself over 5 ms late on {floor} of "
                  f"{top['idle_timer_process_ticks']} ticks (p95 {floor_p95:.1f} ms): ")
        cause += ("the machine, not the server, sets the floor here; " if (floor_p95 or 0) > 5 else
                  "the machine's share; the rest is the server's; ")
    if waited is None:
        cause += "no late ticks"
    elif waited >= 0.5:
        cause += f"{waited:.0%} of the late ticks' lateness the pacer sat runnable without a core: CPU contention"
    elif run > 0.7:
        cause += f"only {waited:.0%} of it waiting for a core, and the loop near a full core: our own work"
    else:
        cause += (f"only {waited:.0%} of it waiting for a core and the loop far from a full core: stalls inside the "
                  "process (the GIL held by the loop or sippy's threads, garbage collection)")
    return goals, cause


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", default="1,16,64", help="DTMF-flow concurrency levels (default 1,16,64)")
    ap.add_argument("--speech-calls", default="1,16", help="speech-flow levels (default 1,16; '' for none)")
    ap.add_argument("--tcp-calls", default="16", help="DTMF-flow levels with SIP over TCP (SIPp -t t1; default 16)")
    ap.add_argument("--rtp-sender", default="process", choices=("process", "thread"),
                    help="who paces the bot's RTP: the sender process (default) or the in-process thread")
    ap.add_argument("--rtp-realtime", type=int, default=10,
                    help="the sender process's SCHED_FIFO priority (needs CAP_SYS_NICE; 0: nice -10 instead)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sip.json")
    args = ap.parse_args()
    runs = [("dtmf", int(x), "udp") for x in args.calls.split(",") if x.strip()]
    runs += [("speech", int(x), "udp") for x in args.speech_calls.split(",") if x.strip()]
    runs += [("dtmf", int(x), "tcp") for x in args.tcp_calls.split(",") if x.strip()]
    results = []
    with tempfile.TemporaryDirectory() as d:
        for flow, n, transport in runs:
            r = run_level(n, Path(d), flow, transport, args.rtp_sender, args.rtp_realtime)
            results.append(r)
            print(json.dumps(r), flush=True)
    f = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
    print(f"\n{'flow':>8} {'N':>4} {'ok':>4} {'setup p50/p95':>14} {'key->reply p50/p95':>19} "
          f"{'speech p50/p95':>15} {'jitter p50/p95/max':>19} {'late':>5} {'drop':>5} {'cpu':>5} {'wait':>5} {'MB/call':>7} "
          f"{'floor p95':>9}")
    for r in results:
        print(f"{r['flow'] + ('/tcp' if r['transport'] == 'tcp' else ''):>8} {r['calls']:>4} {r['completed_as_expected']:>4} "
              f"{f(r['setup_ms_p50']):>6}/{f(r['setup_ms_p95']):<7} "
              f"{f(r['dtmf_to_reply_ms_p50']):>9}/{f(r['dtmf_to_reply_ms_p95']):<9} "
              f"{f(r['speech_turn_ms_p50']):>7}/{f(r['speech_turn_ms_p95']):<7} "
              f"{f(r['send_jitter_ms_p50']):>5}/{f(r['send_jitter_ms_p95'])}/{f(r['send_jitter_ms_max']):<6} "
              f"{r['late_frames']:>5} {r['underruns'] + r['send_dropped']:>5} {r['cpu_share_of_one_core']:>5} "
              f"{r['loop_thread_runnable_waiting_share']:>5} {r['rss_mb_growth_per_call']:>7} "
              f"{f(r['idle_timer_process_lateness_ms_p95']):>9}")
    goals, cause = verdict(results)
    for goal, met in goals.items():
        print(f"{'met' if met else 'MISSED'}: {goal}")
    print(cause)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"levels": results, "goals": goals, "jitter_cause": cause,
                                    "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
