#!/usr/bin/env python3
"""End-to-end numbers from replaying every scenario through the real call session.

Prints and writes bench/results/e2e.json:
  task completion      scenarios expected to be self-served that were; a scenario marked xfail (a known
                       bug) or that errored counts as NOT completed
  intent accuracy      turns with an expected intent (or command) that got it (xfail scenarios included)
  handoff accuracy     scenarios expected to go to a queue that went to that queue (xfail = wrong queue)
  turn latency         end of the caller's speech -> first bot audio on the QA runner's virtual clock:
                       includes the endpointer's wait, but decoding and rendering take no call time, so
                       it is not a real-time figure (bench/calls.py measures that)
  CER per engine       edits / reference characters over the speech turns with a reference transcript
  replayed twice       the same audio replayed again: scenarios whose transcripts, intents, latencies or
                       verdicts differ (issue 11: none may)

These fixtures were tuned until they passed: every figure here is biased high. Callers the fixtures never
heard are measured by bench/understanding.py.

    python bench/e2e.py                       # audio_fixtures/, default engines, replayed twice and compared
    python bench/e2e.py --once                # one replay
    python bench/e2e.py --engines whisper,vosk  # also re-run speech scenarios forcing each engine
"""
from __future__ import annotations

import argparse
import json
import os
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
    from ivr.asr.scoring import cer, char_errors

    intent_ok = intent_n = 0
    cer_by_engine: dict[str, list[float]] = {}
    edits_by_engine: dict[str, list[int]] = {}
    lat_speech: list[float] = []
    lat_keys: list[float] = []
    served = served_n = routed = routed_n = 0
    xfail_names: list[str] = []
    not_run: list[str] = []
    for r in summary.results:
        sc = r.scenario
        known_bug = bool(sc.xfail)
        if known_bug:
            xfail_names.append(sc.name)
        if r.status == "skipped" and not known_bug:
            not_run.append(sc.name)  # could not run here (an engine or file missing): not a result either way
            continue
        ok = not known_bug and r.status != "error"  # a known bug or a crash is a failure, whatever the outcome
        if sc.expect.outcome == "self_served":
            served_n += 1
            served += ok and r.outcome == "self_served"
        if sc.expect.handoff is not None:
            routed_n += 1
            routed += ok and r.handoff_queue == sc.expect.handoff.queue
        for t in r.turns:
            exp = sc.turns[t.index].expect
            if exp is not None and (exp.intent or exp.command):
                intent_n += 1
                intent_ok += (exp.intent is None or t.intent == exp.intent) and (exp.command is None or t.command == exp.command)
            if t.latency_ms is not None:
                (lat_speech if t.kind in ("audio", "text") else lat_keys).append(t.latency_ms)
            if exp is not None and exp.reference and t.kind == "audio":
                cer_by_engine.setdefault(r.engine or "?", []).append(cer(exp.reference, t.transcript))
                e, n = char_errors(exp.reference, t.transcript)
                tot = edits_by_engine.setdefault(r.engine or "?", [0, 0])
                tot[0], tot[1] = tot[0] + e, tot[1] + n

    def lat(xs: list[float]) -> dict:
        p50, p90 = _pct(xs, 0.5), _pct(xs, 0.9)
        return {"n": len(xs), "mean_ms": round(statistics.fmean(xs), 1) if xs else None,
                "p50_ms": None if p50 is None else round(p50, 1), "p90_ms": None if p90 is None else round(p90, 1)}

    completion = round(served / served_n, 4) if served_n else None
    return {
        "scenarios": len(summary.results),
        "counts": {s: summary.count(s) for s in ("passed", "failed", "error", "skipped")},
        "xfail_scenarios": xfail_names, "not_run": not_run,
        "task_completion_rate": completion, "self_service_completed": served, "self_service_expected": served_n,
        "task_completion_goal": TASK_COMPLETION_GOAL,
        "task_completion_verdict": verdict(completion, TASK_COMPLETION_GOAL),
        "task_completion_note": "xfail and errored scenarios count as not completed; the goal (issue 11) is for "
                                "callers the fixtures never heard, so meeting it on these tuned fixtures proves little",
        "intent_accuracy": round(intent_ok / intent_n, 4) if intent_n else None, "intent_turns": intent_n,
        "intent_accuracy_goal": None,
        "handoff_queue_accuracy": round(routed / routed_n, 4) if routed_n else None, "handoffs_expected": routed_n,
        "handoff_queue_accuracy_goal": None,
        "turn_latency": {"all": lat(lat_speech + lat_keys), "speech": lat(lat_speech), "keys": lat(lat_keys)},
        "turn_latency_note": "virtual clock: end of the caller's speech (or the last key) -> first bot audio, "
                             "including the endpointer's wait, with decoding and rendering taking no call time; "
                             "not comparable to the real-time goals (bench/calls.py)",
        "cer_by_engine": {e: {"turns": len(v), "errors": edits_by_engine[e][0], "chars": edits_by_engine[e][1],
                              "cer": round(edits_by_engine[e][0] / edits_by_engine[e][1], 4) if edits_by_engine[e][1] else None,
                              "mean_cer_per_turn": round(statistics.fmean(v), 4)} for e, v in cer_by_engine.items()},
        "wall_seconds": round(summary.wall_seconds, 1),
    }


TASK_COMPLETION_GOAL = 0.95  # issue 11, for callers the project has never heard


def verdict(value: float | None, goal: float) -> str:
    return "not measured" if value is None else ("met" if value >= goal else "missed")


def main() -> int:
    from ivr.qa import RunOptions, load_scenarios, replay_differences, run_scenarios
    from ivr.qa.results import summary_dict

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", default=[str(ROOT / "audio_fixtures")])
    ap.add_argument("--engines", default="", help="comma list: re-run speech scenarios forcing each engine")
    ap.add_argument("--tts", default="espeak", help="prompt voice (see ivr test --tts)")
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "bench" / "results" / "e2e.json")
    ap.add_argument("--once", action="store_true",
                    help="replay once (default: twice, and report whether both replays came out the same)")
    args = ap.parse_args()
    import logging

    logging.getLogger("ivr.prompts").setLevel(logging.ERROR)  # the per-prompt "no Taiwanese voice" notes

    scenarios = load_scenarios(args.paths)
    load0 = round(os.getloadavg()[0], 2)
    t0 = time.perf_counter()
    summary = run_scenarios(scenarios, RunOptions(tts=args.tts))
    result = {"default": metrics(summary), "engines": {}, "fixtures_tuned": True,
              "fixtures_note": "the fixtures were tuned until they passed: every figure is biased high",
              "machine": {"cpus": os.cpu_count(), "load_avg_1m_at_start": load0,
                          "whisper_cpu_isa": os.environ.get("CT2_FORCE_CPU_ISA") or "default (not pinned)"}}
    if not args.once:  # issue 11: the same audio gives the same transcripts on every run
        again = run_scenarios(scenarios, RunOptions(tts=args.tts))
        differing = replay_differences(summary, again)
        result["replayed_twice"] = {"runs": 2, "scenarios": len(summary.results),
                                    "turns": sum(len(r.turns) for r in summary.results),
                                    "scenarios_differing": len(differing), "differing": differing,
                                    "identical": not differing}
    speech = [s for s in scenarios if any(t.audio for t in s.turns)]
    for eng in [e for e in args.engines.split(",") if e]:
        forced = run_scenarios(speech, RunOptions(tts=args.tts, engine=eng))
        result["engines"][eng] = metrics(forced)
    result["total_seconds"] = round(time.perf_counter() - t0, 1)
    result["machine"]["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    result["detail"] = summary_dict(summary)

    m = result["default"]
    print("fixtures tuned until they passed: every figure below is biased high")
    print(f"scenarios           {m['scenarios']}  {m['counts']}  xfail {len(m['xfail_scenarios'])}")
    print(f"task completion     {m['task_completion_rate']}  ({m['self_service_completed']}/{m['self_service_expected']} "
          f"self-service scenarios, xfail = failure)  goal {m['task_completion_goal']}: {m['task_completion_verdict']}")
    print(f"intent accuracy     {m['intent_accuracy']}  ({m['intent_turns']} turns)  goal: none set")
    print(f"handoff queue acc.  {m['handoff_queue_accuracy']}  ({m['handoffs_expected']} handoff scenarios)  goal: none set")
    for k, v in m["turn_latency"].items():
        print(f"turn latency {k:6s} (virtual clock, incl. endpointer wait) mean {v['mean_ms']} ms  p50 {v['p50_ms']}  "
              f"p90 {v['p90_ms']}  (n={v['n']})")
    for e, v in m["cer_by_engine"].items():
        print(f"CER {e:14s}  {v['cer']} = {v['errors']}/{v['chars']} characters over {v['turns']} turns "
              f"(mean per turn {v['mean_cer_per_turn']})  goal: none set")
    for eng, em in result["engines"].items():
        print(f"[{eng}] intent accuracy {em['intent_accuracy']}  CER {em['cer_by_engine']}  counts {em['counts']}")
    if "replayed_twice" in result:
        rt = result["replayed_twice"]
        print(f"replayed twice      {rt['scenarios_differing']} of {rt['scenarios']} scenarios differed "
              f"(transcripts, intents, latencies, verdicts over {rt['turns']} turns) {rt['differing'] or ''}")
    print(f"wall {result['total_seconds']} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
