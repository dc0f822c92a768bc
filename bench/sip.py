"""SIP transport under load: SIPp (Debian sip-tester) places N concurrent
DTMF-flow calls (RFC 4733 keys: 1 at the menu, then 1234; the bot reads a
balance and hangs up) against ``SipServer`` on loopback.

The server runs in this process on its own event-loop thread with the fake
dialog/prompt parts of the transport tests (tone prompts, no speech models):
what is measured is SIP + RTP + session plumbing, the DTMF-flow case of
issue 15. Per N (default 1, 16, 64; add 128 with --calls):

- setup time INVITE -> 200 OK, p50/p95 (SIPp's response-time trace);
- bot RTP send jitter: |interval between consecutive packets - 20 ms| inside a
  prompt (a gap over 60 ms is the pause between prompts; a stall inside a
  prompt shows as a late frame), p50/p95/max, ms;
- late frames (sent behind schedule by the pacer), packets lost/late from the
  caller, calls that did not end as expected;
- server CPU (this process, share of one core) and RSS growth per call.

Goals (issue 15, 2 cores): >= 100 concurrent DTMF calls with p95 send jitter
<= 5 ms and no dropped packets; setup p95 <= 50 ms. Prints a table and writes
bench/results/sip.json.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


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


def run_level(n: int, tmp: Path) -> dict:
    from ivr.transports.sip import SipOptions
    from tests.transports.sip.harness import SipServerThread, run_sipp, scenario

    work = tmp / f"n{n}"
    work.mkdir()
    srv = SipServerThread(work, SipOptions(max_calls=max(n, 1) + 8, measure_send=True, no_media_seconds=60))
    try:
        sf = scenario(work, "uac_balance.xml", SPEECH_PCAP="/usr/share/sip-tester/dtmf_2833_1.pcap",
                      SPEECH_MS="1500")
        rss0, cpu0, t0 = rss_mb(), time.process_time(), time.monotonic()
        proc = run_sipp(work, sf, srv.port, calls=n, limit=n, rate=max(n, 1), timeout=60 + n,
                        extra=("-trace_rtt", "-rtt_freq", "1"))
        srv.wait_idle(30)
        wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
        calls = list(srv.sip.finished)  # type: ignore[attr-defined]
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
    for c in calls:
        times = c.rtp.send_times if c.rtp is not None else []
        for a, b in pairwise(times):
            gap = (b - a) * 1000
            if gap < 60:  # longer: the pause between two prompts (a stall inside one is a late frame)
                jitter.append(abs(gap - 20.0))
    ok = sum(1 for r in records if r and r.outcome == "self_served" and r.turns and r.turns[-1].get("dtmf") == "1234")
    from collections import Counter

    unexpected = Counter(f"{r.outcome}/{r.end_reason} keys={[t.get('dtmf') for t in r.turns]}" for r in records
                         if r and not (r.outcome == "self_served" and r.turns and r.turns[-1].get("dtmf") == "1234"))
    return {
        "calls": n, "sipp_exit": proc.returncode, "completed_as_expected": ok,
        "unexpected": dict(unexpected.most_common(5)),
        "setup_ms_p50": pct(setup_ms, 50), "setup_ms_p95": pct(setup_ms, 95), "setup_samples": len(setup_ms),
        "send_jitter_ms_p50": pct(jitter, 50), "send_jitter_ms_p95": pct(jitter, 95),
        "send_jitter_ms_max": max(jitter) if jitter else None, "packets_sent": sum(c.rtp.sent for c in calls if c.rtp),
        "late_frames": sum(c.late_frames for c in calls),
        "caller_packets_lost": sum(int(c.stats.get("lost", 0)) for c in calls),
        "caller_packets_late": sum(int(c.stats.get("late", 0)) for c in calls),
        "cpu_share_of_one_core": round(cpu / wall, 3) if wall else None,
        "cpu_s_per_call": round(cpu / max(n, 1), 3), "rss_mb_growth_per_call": round((rss1 - rss0) / max(n, 1), 2),
        "wall_s": round(wall, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", default="1,16,64", help="concurrency levels (default 1,16,64)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sip.json")
    args = ap.parse_args()
    levels = [int(x) for x in args.calls.split(",") if x.strip()]
    results = []
    with tempfile.TemporaryDirectory() as d:
        for n in levels:
            r = run_level(n, Path(d))
            results.append(r)
            print(json.dumps(r), flush=True)
    print(f"\n{'N':>4} {'ok':>4} {'setup p50/p95 ms':>18} {'jitter p50/p95/max ms':>24} {'late':>5} "
          f"{'lost':>5} {'cpu':>6} {'MB/call':>8}")
    for r in results:
        f = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
        print(f"{r['calls']:>4} {r['completed_as_expected']:>4} {f(r['setup_ms_p50']):>8}/{f(r['setup_ms_p95']):<9} "
              f"{f(r['send_jitter_ms_p50']):>7}/{f(r['send_jitter_ms_p95'])}/{f(r['send_jitter_ms_max']):<8} "
              f"{r['late_frames']:>5} {r['caller_packets_lost']:>5} {r['cpu_share_of_one_core']:>6} "
              f"{r['rss_mb_growth_per_call']:>8}")
    goals = {"p95 send jitter <= 5 ms at the top level": (results[-1]["send_jitter_ms_p95"] or 99) <= 5.0,
             "setup p95 <= 50 ms at every level": all((r["setup_ms_p95"] or 999) <= 50 for r in results),
             "every call completed as expected": all(r["completed_as_expected"] == r["calls"] for r in results)}
    for goal, met in goals.items():
        print(f"{'met' if met else 'MISSED'}: {goal}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"levels": results, "goals": goals, "cpus": 2,
                                    "when": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
