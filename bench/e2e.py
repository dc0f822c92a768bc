#!/usr/bin/env python3
"""End-to-end numbers from replaying every scenario through the real call session.

Prints and writes bench/results/e2e.json:
  intent accuracy      turns with an expected intent (or command) that got it
  task completion      scenarios expected to be self-served that were
  handoff accuracy     scenarios expected to go to a queue that went to that queue
  turn latency         end of the caller's turn -> first bot audio (mean, p50, p90; speech and keys)
  CER per engine       speech turns with a reference transcript, by the engine that decoded them

    python bench/e2e.py                       # audio_fixtures/, default engines
    python bench/e2e.py --engines whisper,vosk  # also re-run speech scenarios forcing each engine
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def metrics(summary) -> dict:
    from ivr.qa.cer import cer

    intent_ok = intent_n = 0
    cer_by_engine: dict[str, list[float]] = {}
    lat_speech: list[float] = []
    lat_keys: list[float] = []
    served = served_n = routed = routed_n = 0
    for r in summary.results:
        if r.status in ("skipped", "error"):
            continue
        sc = r.scenario
        if sc.expect.outcome == "self_served":
            served_n += 1
            served += r.outcome == "self_served"
        if sc.expect.handoff is not None:
            routed_n += 1
            routed += r.handoff_queue == sc.expect.handoff.queue
        for t in r.turns:
            exp = sc.turns[t.index].expect
            if exp is not None and (exp.intent or exp.command):
                intent_n += 1
                intent_ok += (exp.intent is None or t.intent == exp.intent) and (exp.command is None or t.command == exp.command)
            if t.latency_ms is not None:
                (lat_speech if t.kind in ("audio", "text") else lat_keys).append(t.latency_ms)
            if exp is not None and exp.reference and t.kind == "audio":
                cer_by_engine.setdefault(r.engine or "?", []).append(cer(exp.reference, t.transcript))

    def lat(xs: list[float]) -> dict:
        p50, p90 = _pct(xs, 0.5), _pct(xs, 0.9)
        return {"n": len(xs), "mean_ms": round(statistics.fmean(xs), 1) if xs else None,
                "p50_ms": None if p50 is None else round(p50, 1), "p90_ms": None if p90 is None else round(p90, 1)}

    return {
        "scenarios": len(summary.results),
        "counts": {s: summary.count(s) for s in ("passed", "failed", "error", "skipped")},
        "intent_accuracy": round(intent_ok / intent_n, 4) if intent_n else None, "intent_turns": intent_n,
        "task_completion_rate": round(served / served_n, 4) if served_n else None, "self_service_expected": served_n,
        "handoff_queue_accuracy": round(routed / routed_n, 4) if routed_n else None, "handoffs_expected": routed_n,
        "turn_latency": {"all": lat(lat_speech + lat_keys), "speech": lat(lat_speech), "keys": lat(lat_keys)},
        "cer_by_engine": {e: {"turns": len(v), "mean_cer": round(statistics.fmean(v), 4)} for e, v in cer_by_engine.items()},
        "wall_seconds": round(summary.wall_seconds, 1),
    }


def main() -> int:
    from ivr.qa import RunOptions, load_scenarios, run_scenarios
    from ivr.qa.results import summary_dict

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", default=[str(ROOT / "audio_fixtures")])
    ap.add_argument("--engines", default="", help="comma list: re-run speech scenarios forcing each engine")
    ap.add_argument("--tts", default="espeak", help="prompt voice (see ivr test --tts)")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "bench" / "results" / "e2e.json")
    args = ap.parse_args()
    import logging

    logging.getLogger("ivr.prompts").setLevel(logging.ERROR)  # the per-prompt "no Taiwanese voice" notes

    scenarios = load_scenarios(args.paths)
    t0 = time.perf_counter()
    summary = run_scenarios(scenarios, RunOptions(tts=args.tts))
    result = {"default": metrics(summary), "engines": {}, "machine": {"cpus": __import__("os").cpu_count()}}
    speech = [s for s in scenarios if any(t.audio for t in s.turns)]
    for eng in [e for e in args.engines.split(",") if e]:
        forced = run_scenarios(speech, RunOptions(tts=args.tts, engine=eng))
        result["engines"][eng] = metrics(forced)
    result["total_seconds"] = round(time.perf_counter() - t0, 1)
    result["detail"] = summary_dict(summary)

    m = result["default"]
    print(f"scenarios           {m['scenarios']}  {m['counts']}")
    print(f"intent accuracy     {m['intent_accuracy']}  ({m['intent_turns']} turns)")
    print(f"task completion     {m['task_completion_rate']}  ({m['self_service_expected']} self-service scenarios)")
    print(f"handoff queue acc.  {m['handoff_queue_accuracy']}  ({m['handoffs_expected']} handoff scenarios)")
    for k, v in m["turn_latency"].items():
        print(f"turn latency {k:6s} mean {v['mean_ms']} ms  p50 {v['p50_ms']}  p90 {v['p90_ms']}  (n={v['n']})")
    for e, v in m["cer_by_engine"].items():
        print(f"CER {e:14s}  {v['mean_cer']}  ({v['turns']} turns)")
    for eng, em in result["engines"].items():
        print(f"[{eng}] intent accuracy {em['intent_accuracy']}  CER {em['cer_by_engine']}  counts {em['counts']}")
    print(f"wall {result['total_seconds']} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
