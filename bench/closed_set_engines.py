"""Would the grammar engine do for closed-set steps when Whisper's queue is long? (issue 14)

    python bench/closed_set_engines.py [--n 64] [--kinds intent,yes_no] [--conditions telephone,noisy_10]
                                       [--engines whisper,sphinx,spot] [--split test|dev]

The same synthesized test utterances as bench/understanding_audio.py (its
``run_audio``, cached audio), heard at 8 kHz by Whisper base (with the step's
hints) and by pocketsphinx-zh (the step's expected phrases as its grammar),
judged the same way; plus the real Mandarin clips that are not requests
(false triggers at the menu: a grammar engine always answers with some
phrase of its grammar). Also the decode time per utterance. Writes
bench/results/closed_set_engines.json. The switch is wired only if
understanding does not drop by more than ``MAX_DROP``.

``spot`` (issue 14): pocketsphinx as a keyword spotter (``ivr.asr.sphinx_spot``)
that decides a turn or rejects it (the turn then waits for Whisper): its
precision when it decides (goal >= 97 %), its coverage (share of turns decided)
and its time per turn, per kind (``bench/closed_set_spot.py``). Tune on
``--split dev``; the test half is run once. Each run replaces only the sections
it measured (``spot_<split>``, or the whisper/sphinx comparison).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

MAX_DROP = 0.05  # absolute drop in the understood rate that would still be acceptable under load


def main(argv: list[str] | None = None) -> int:
    from understanding import judge, one_core

    one_core()
    from understanding_audio import run_audio
    from understanding_set import build

    from ivr.asr import load_engine
    from ivr.nlu import Nlu

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64, help="distinct test utterances over the kinds (default 64)")
    ap.add_argument("--kinds", default="intent,yes_no")
    ap.add_argument("--conditions", default="telephone,noisy_10")
    ap.add_argument("--engines", default="whisper,sphinx", help="whisper,sphinx (the comparison) and/or spot")
    ap.add_argument("--split", choices=("test", "dev"), default="test", help="half of the set (tune on dev only)")
    ap.add_argument("--threshold", type=float, default=None, help="spotter score threshold (default the shipped)")
    ap.add_argument("--margin", type=float, default=None, help="spotter margin over a rival (default the shipped)")
    ap.add_argument("--show", action="store_true", help="print every spotter turn")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "closed_set_engines.json")
    a = ap.parse_args(argv)
    kinds = [k for k in a.kinds.split(",") if k]
    conditions = [c for c in a.conditions.split(",") if c]
    if "clean" in conditions:
        ap.error("pocketsphinx-zh hears 8 kHz only: use telephone or noisy_* conditions")
    engines = [e for e in a.engines.split(",") if e]
    nlu, items = Nlu.load(), build()[a.split]
    load0 = round(os.getloadavg()[0], 2)
    old = json.loads(a.out.read_text(encoding="utf-8")) if a.out.exists() else {}
    if "spot" in engines:
        from closed_set_spot import run_spot
        from understanding_set import MENU

        print(f"== spot ({a.split})", flush=True)
        spot = run_spot(nlu, items, a.n, kinds, conditions, MENU, a.threshold, a.margin, a.show)
        old[f"spot_{a.split}"] = {"load_avg_1m_at_start": load0, "load_avg_1m": round(os.getloadavg()[0], 2),
                                  "kinds": kinds, "conditions": conditions, **spot}
        _print_spot(spot, a.split)
    if not {"whisper", "sphinx"} & set(engines):
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(old, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {a.out}")
        return 0
    if a.split != "test":
        ap.error("the whisper/sphinx comparison runs on the test half")
    out: dict[str, object] = {}
    for name in ("whisper", "sphinx"):
        print(f"== {name}", flush=True)
        res = run_audio(nlu, items, a.n, judge, conditions, kinds, real=True, engine=load_engine(name))
        out[name] = {k: res[k] for k in ("understood", "per_kind", "decode_seconds_mean", "decodes", "real_speech")}
        real = res["real_speech"]
        if isinstance(real, dict):
            real.pop("clips", None)
    w, s = out["whisper"], out["sphinx"]
    assert isinstance(w, dict) and isinstance(s, dict)
    drops = {c: round(w["understood"][c] - s["understood"][c], 4) for c in conditions}
    ok = all(d <= MAX_DROP for d in drops.values())
    doc = {"bench": "closed_set_engines", "load_avg_1m_at_start": load0, "load_avg_1m": round(os.getloadavg()[0], 2),
           "n": a.n, "kinds": kinds, "conditions": conditions, "engines": out,
           "drop_whisper_minus_sphinx": drops, "max_drop": MAX_DROP,
           "verdict": "sphinx may stand in" if ok else "understanding drops: not wired",
           "note": "synthesized voices (bench/understanding_audio.py), Whisper with the step's hints, pocketsphinx "
                   "with the expected phrases as grammar; real_speech counts false triggers on non-requests"}
    doc |= {k: v for k, v in old.items() if k.startswith("spot_")}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for c in conditions:
        print(f"{c:10s} whisper {w['understood'][c]:.1%}  sphinx {s['understood'][c]:.1%}  drop {drops[c]:+.1%}"
              f" (at most {MAX_DROP:.0%})")
    print(f"decode mean: whisper {w['decode_seconds_mean']} s, sphinx {s['decode_seconds_mean']} s; "
          f"false triggers on real speech: whisper {_ft(w)}, sphinx {_ft(s)}; {doc['verdict']}; "
          f"load {load0}..{doc['load_avg_1m']}")
    print(f"wrote {a.out}")
    return 0


def _print_spot(spot: dict[str, object], split: str) -> None:
    from closed_set_spot import PRECISION_GOAL

    per_kind = spot["per_kind"]
    assert isinstance(per_kind, dict)
    for kind, r in per_kind.items():
        prec, cov = r["precision"], r["coverage"]
        miss = "" if prec is not None and prec >= PRECISION_GOAL else "  MISSED"
        print(f"{split} {kind:7s} decided {r['decided']}/{r['turns']} right {r['right']} (+{r['real_false_accepts']} "
              f"false accepts on real non-requests): precision {_pc(prec)} (goal >= {PRECISION_GOAL:.0%}){miss}, "
              f"coverage {_pc(cov)}; gated by the NLU {r['gated']}")
    print(f"spotter ms per turn: all {spot['ms_per_turn_all']}, after the end of turn {spot['ms_after_end_of_turn']}")


def _pc(v: object) -> str:
    return "-" if not isinstance(v, float) else f"{v:.1%}"


def _ft(res: dict[str, object]) -> object:
    real = res.get("real_speech")
    return real.get("false_triggers", "-") if isinstance(real, dict) else "-"


if __name__ == "__main__":
    sys.exit(main())
