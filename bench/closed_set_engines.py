"""Would the grammar engine do for closed-set steps when Whisper's queue is long? (issue 14)

    python bench/closed_set_engines.py [--n 64] [--kinds intent,yes_no] [--conditions telephone,noisy_10]

The same synthesized test utterances as bench/understanding_audio.py (its
``run_audio``, cached audio), heard at 8 kHz by Whisper base (with the step's
hints) and by pocketsphinx-zh (the step's expected phrases as its grammar),
judged the same way; plus the real Mandarin clips that are not requests
(false triggers at the menu: a grammar engine always answers with some
phrase of its grammar). Also the decode time per utterance. Writes
bench/results/closed_set_engines.json. The switch is wired only if
understanding does not drop by more than ``MAX_DROP``.
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
    from understanding import judge
    from understanding_audio import run_audio
    from understanding_set import build

    from ivr.asr import load_engine
    from ivr.nlu import Nlu

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64, help="distinct test utterances over the kinds (default 64)")
    ap.add_argument("--kinds", default="intent,yes_no")
    ap.add_argument("--conditions", default="telephone,noisy_10")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "closed_set_engines.json")
    a = ap.parse_args(argv)
    kinds = [k for k in a.kinds.split(",") if k]
    conditions = [c for c in a.conditions.split(",") if c]
    if "clean" in conditions:
        ap.error("pocketsphinx-zh hears 8 kHz only: use telephone or noisy_* conditions")
    nlu, items = Nlu.load(), build()["test"]
    load0 = round(os.getloadavg()[0], 2)
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


def _ft(res: dict[str, object]) -> object:
    real = res.get("real_speech")
    return real.get("false_triggers", "-") if isinstance(real, dict) else "-"


if __name__ == "__main__":
    sys.exit(main())
