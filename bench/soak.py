"""Soak: ``--calls`` concurrent callers (default 50) ring ``ivr serve`` over
AudioSocket again and again for ``--minutes`` (default 10), each doing the
whole balance call by keys. At the end every call the callers made must have
a finished record with the right outcome: reports dropped calls (no bot
hangup, or the wrong outcome), lost records (a call with no finished row),
server CPU/RSS over time. The goals are no dropped call, no lost record and
no failed connection; each is judged (met / missed). Not run in CI; writes
bench/results/soak.json.

    python bench/soak.py --minutes 10 --calls 50
    python bench/soak.py --minutes 1 --calls 20     # a short check
    python bench/soak.py --relabel bench/results/soak.json   # re-judge a stored result, no calls made
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calls import ROOT, Server, scripts, verdict

GOALS = {"calls_dropped": 0, "records_lost": 0, "connect_failures": 0}


def label(result: dict) -> dict:
    """Add the goals and a verdict per goal; the measured figures are not touched."""
    result["goals"] = dict(GOALS)
    result["verdicts"] = {k: verdict(result.get(k), limit) for k, limit in GOALS.items()}
    result["goals_missed"] = sum(v == "missed" for v in result["verdicts"].values())
    return result


def print_verdicts(result: dict) -> None:
    print(f"{result['calls_made']} calls by {result['concurrent_calls']} concurrent callers over {result['minutes']} min; "
          f"RSS {result['rss_mb_first']} -> {result['rss_mb_last']} MB")
    for k, v in result["verdicts"].items():
        print(f"  {k:18s} {result.get(k)}  goal {GOALS[k]}: {v.upper() if v == 'missed' else v}")


async def caller_loop(server: Server, script: list[tuple], until: float, made: list, failed: list) -> None:
    from ivr.transports import audiosocket_call

    host, port = server.addr
    while time.monotonic() < until:
        try:
            r = await audiosocket_call(host, port, script, max_seconds=180)
            made.append(r)
        except (ConnectionError, OSError) as e:
            failed.append(str(e))
            await asyncio.sleep(1.0)


async def soak(server: Server, n: int, minutes: float) -> dict:
    script = scripts(None)["dtmf"]
    made: list = []
    failed: list[str] = []
    until = time.monotonic() + minutes * 60
    samples = []
    t0, cpu0 = time.monotonic(), server.cpu_seconds()
    loops = [asyncio.ensure_future(caller_loop(server, script, until, made, failed)) for _ in range(n)]
    while not all(x.done() for x in loops):
        await asyncio.sleep(5.0)
        samples.append({"t": round(time.monotonic() - t0, 1), "rss_mb": round(server.rss_mb(), 1),
                        "calls_done": len(made)})
    wall = time.monotonic() - t0
    return {"made": made, "connect_failures": failed, "samples": samples,
            "server_cpu_core_share": round((server.cpu_seconds() - cpu0) / wall, 3), "wall_s": round(wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--calls", type=int, default=50, help="concurrent callers")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "soak.json"))
    ap.add_argument("--relabel", metavar="JSON", help="only re-judge a stored result against GOALS (no calls)")
    args = ap.parse_args()
    if args.relabel:
        stored = label(json.loads(Path(args.relabel).read_text(encoding="utf-8")))
        Path(args.relabel).write_text(json.dumps(stored, ensure_ascii=False, indent=2) + "\n")
        print_verdicts(stored)
        return

    with tempfile.TemporaryDirectory(prefix="ivr-soak-") as tmp:
        server = Server(Path(tmp))
        try:
            res = asyncio.run(soak(server, args.calls, args.minutes))
        finally:
            server.stop()  # SIGTERM: drains, then every record is final
        with sqlite3.connect(Path(tmp) / "calls.sqlite3") as db:
            rows = dict(db.execute("SELECT call_id, outcome FROM calls").fetchall())
    made = res["made"]
    lost = [r.call_id for r in made if rows.get(r.call_id) is None]
    dropped = [r.call_id for r in made if not r.hung_up_by_bot or rows.get(r.call_id) != "self_served"]
    by_outcome: dict[str, int] = {}
    for o in rows.values():
        by_outcome[o or "unfinished"] = by_outcome.get(o or "unfinished", 0) + 1
    result = label({
        "bench": "soak", "minutes": args.minutes, "concurrent_calls": args.calls,
        "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)},
        "calls_made": len(made), "calls_dropped": len(dropped), "records_lost": len(lost),
        "connect_failures": len(res["connect_failures"]), "records_by_outcome": by_outcome,
        "server_cpu_core_share": res["server_cpu_core_share"], "wall_s": res["wall_s"],
        "rss_mb_first": res["samples"][0]["rss_mb"] if res["samples"] else None,
        "rss_mb_last": res["samples"][-1]["rss_mb"] if res["samples"] else None,
        "samples": res["samples"], "dropped_call_ids": dropped[:20],
    })
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, ensure_ascii=False, indent=2))
    print_verdicts(result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
