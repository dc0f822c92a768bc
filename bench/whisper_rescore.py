"""Closed-set steps: is the expected phrase Whisper scores best against the
audio (ivr.asr.whisper_score) right more often than the NLU of the free
transcript? And what confidence does the margin between the best and the
second phrase give?

    python bench/whisper_rescore.py [--dev 48] [--test 96]

Data: the understanding set's intent (menu) and yes/no utterances
(bench/data/understanding_{dev,test}.jsonl: colloquial answers written by
pattern, some of which must be rejected), synthesized in turn by Kokoro
(speeds 1.0/0.85/1.15) and espeak-ng, then heard clean (16 kHz), through the
telephone channel (8 kHz band-limit + G.711 mu-law) and with pink noise at
10 dB on that channel (bench/understanding_audio.py's channel). Each turn goes
through the Whisper recognizer with the step's expected phrases, as a call
would; its Transcript carries the free text and the ranked alternatives.

* free: the dialog's own extraction from the free transcript is right
  (bench/understanding.judge: the right value, or no value where the answer
  must be rejected).
* top: the best-scored phrase's value is right (a phrase's value: the intent
  whose training phrase it is; yes/no through the NLU).
* calibration: logistic fit of P(top right) on the margin, on *dev*; on
  *test*: accuracy at a confidence line, how much is decided, Brier score.
* combined: the free transcript's value when the NLU gives one, else the top
  phrase when its confidence clears the line, else a reject (re-ask).

Synthetic voices are not callers: these are a floor-and-trend check.
Writes bench/results/whisper_rescore.json."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import zlib
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from cores import one_core

if __name__ == "__main__":  # as a script: one core before numpy loads
    one_core()
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from understanding import judge
from understanding_audio import VOICES, channel
from understanding_set import MENU, ROOT, Item

from ivr.nlu import Nlu

sys.path.insert(0, str(ROOT / "audio_fixtures"))
from make_fixtures import Synth

CONDITIONS = ("clean", "telephone", "noisy_10")
KINDS = ("intent", "yes_no")
LINES = (0.5, 0.7, 0.8, 0.9, 0.95)
OUT = ROOT / "bench" / "results" / "whisper_rescore.json"


def load(split: str, n: int) -> list[Item]:
    rows = [json.loads(line) for line in (ROOT / "bench" / "data" / f"understanding_{split}.jsonl").open()]
    items = [Item(**r) for r in rows if r["kind"] in KINDS and r["language"] == "zh-TW"]
    by_kind = {k: [i for i in items if i.kind == k] for k in KINDS}
    out: list[Item] = []
    while len(out) < n and any(by_kind.values()):
        for k in KINDS:
            if by_kind[k] and len(out) < n:
                out.append(by_kind[k].pop(0))
    return out


class Values:
    """What a scored phrase means at a step: its intent, or yes/no."""

    def __init__(self, nlu: Nlu) -> None:
        self.nlu = nlu
        self.intent_of = {p: name for name in MENU for p in nlu.expected_phrases(name, "zh-TW")}

    def expected(self, kind: str) -> tuple[str, ...]:
        return self.nlu.expected_phrases(list(MENU) if kind == "intent" else kind, "zh-TW")

    def value(self, kind: str, phrase: str) -> object:
        if kind == "intent":
            return self.intent_of.get(phrase)
        return self.nlu.extract("yes_no", phrase, "zh-TW")


def run(items: list[Item], split: str, engine, values: Values, synths: dict) -> list[dict]:
    rows = []
    for k, item in enumerate(items):
        name, speed = VOICES[k % len(VOICES)]
        try:
            x, rate = synths[name](item.text, speed)
        except Exception as err:  # a voice that cannot load is reported, not fatal
            print(f"  {name}: {str(err).splitlines()[0]}", file=sys.stderr)
            continue
        for cond in CONDITIONS:
            pcm, sr = channel(x, rate, cond, seed=zlib.crc32(item.text.encode()))
            rec = engine.recognizer(sample_rate=sr)
            rec.set_expected(values.expected(item.kind), "zh-TW")
            rec.accept(pcm.astype(np.int16).tobytes())
            t = rec.finish()
            heard = t.text
            free = judge(values.nlu, replace(item, text=heard)) if heard.strip() else {"got": None}
            alts = t.alternatives
            top = values.value(item.kind, alts[0].text) if alts else None
            margin = alts[0].score - alts[1].score if len(alts) > 1 else 0.0
            rows.append({"split": split, "kind": item.kind, "condition": cond, "voice": f"{name}@{speed}",
                         "expected": item.expected, "heard": heard,
                         "free_value": _plain(free["got"]), "free_ok": free["got"] == item.expected,
                         "top": alts[0].text if alts else None, "top_value": _plain(top),
                         "top_ok": top is not None and top == item.expected, "margin": round(margin, 4),
                         "top_score": round(alts[0].score, 4) if alts else None,
                         "seconds": round(t.decode_seconds, 3), "audio_seconds": round(pcm.size / sr, 3)})
        if (k + 1) % 8 == 0:
            print(f"  {split}: {k + 1}/{len(items)}", file=sys.stderr, flush=True)
    return rows


def _plain(v: object) -> object:
    return v if isinstance(v, (str, int, bool, type(None))) else str(v)


def fit_logistic(margins: np.ndarray, right: np.ndarray, iters: int = 50) -> tuple[float, float]:
    """P(right) = sigmoid(a*m + b), maximum likelihood by Newton's method (lightly regularised)."""
    a, b = 1.0, 0.0
    X = np.stack([margins, np.ones_like(margins)], axis=1)
    y = right.astype(float)
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(X @ np.array([a, b]))))
        grad = X.T @ (p - y) + 1e-3 * np.array([a, b])
        H = (X * (p * (1 - p))[:, None]).T @ X + 1e-3 * np.eye(2)
        step = np.linalg.solve(H, grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def summarise(rows: list[dict], a: float, b: float) -> dict[str, object]:
    out: dict[str, object] = {}
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[f"{r['kind']}/{r['condition']}"].append(r)
        groups[f"all/{r['condition']}"].append(r)
    for key in sorted(groups):
        g = groups[key]
        n = len(g)
        conf = [sigmoid(a * r["margin"] + b) for r in g]
        entry: dict[str, object] = {
            "n": n,
            "free_right": round(sum(r["free_ok"] for r in g) / n, 4),
            "top_right": round(sum(r["top_ok"] for r in g) / n, 4),
            "brier": round(sum((c - r["top_ok"]) ** 2 for c, r in zip(conf, g, strict=True)) / n, 4),
        }
        for line in LINES:
            took = [r for c, r in zip(conf, g, strict=True) if c >= line]
            # combined: the NLU's value from the free transcript when it has one, else a confident top phrase
            comb_right = comb_wrong = 0
            for c, r in zip(conf, g, strict=True):
                if r["free_value"] is not None:
                    comb_right += r["free_ok"]
                    comb_wrong += not r["free_ok"]
                elif c >= line:
                    comb_right += r["top_ok"]
                    comb_wrong += not r["top_ok"]
                else:
                    comb_right += r["expected"] is None  # a reject is right where the answer must be rejected
            entry[f"at_{line}"] = {
                "decided": round(len(took) / n, 4),
                "right_when_decided": round(sum(r["top_ok"] for r in took) / len(took), 4) if took else None,
                "combined_right": round(comb_right / n, 4), "combined_wrong_value": round(comb_wrong / n, 4)}
        out[key] = entry
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", type=int, default=48, help="dev utterances (calibration fit)")
    ap.add_argument("--test", type=int, default=96, help="test utterances (reported)")
    args = ap.parse_args()
    from ivr.asr import load_engine

    nlu = Nlu.load()
    values = Values(nlu)
    engine = load_engine("whisper", rescore=True)
    synths = {name: Synth(name) for name, _ in VOICES}
    t0 = time.perf_counter()
    load1 = os.getloadavg()[0]
    dev = run(load("dev", args.dev), "dev", engine, values, synths)
    a, b = fit_logistic(np.array([r["margin"] for r in dev]), np.array([r["top_ok"] for r in dev]))
    test = run(load("test", args.test), "test", engine, values, synths)
    summary = summarise(test, a, b)
    secs = [r["seconds"] for r in test]
    print(f"calibration (dev, {len(dev)} turns): confidence = sigmoid({a:.3f} * margin + {b:.3f})")
    print(f"test: {len(test)} turns; decode+score mean {np.mean(secs):.2f} s, p95 {np.percentile(secs, 95):.2f} s "
          f"(load average {load1:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, machine shared)")
    print(f"{'kind/condition':22s} {'n':>4s} {'free':>6s} {'top':>6s}  decided@0.9  right@0.9  combined@0.9 (wrong)")
    for key, e in summary.items():
        at = e["at_0.9"]
        rw = "-" if at["right_when_decided"] is None else f"{at['right_when_decided']:.1%}"
        print(f"{key:22s} {e['n']:4d} {e['free_right']:6.1%} {e['top_right']:6.1%}  {at['decided']:10.1%}  "
              f"{rw:>9s}  {at['combined_right']:10.1%} ({at['combined_wrong_value']:.1%})")
    OUT.write_text(json.dumps({
        "what": "Whisper base: expected phrases scored against the audio vs the NLU of the free transcript",
        "calibration": {"fit_on": "dev", "turns": len(dev), "slope": round(a, 4), "intercept": round(b, 4)},
        "summary": summary, "seconds": {"mean": round(float(np.mean(secs)), 3),
                                        "p95": round(float(np.percentile(secs, 95)), 3)},
        "load_average": [round(load1, 2), round(os.getloadavg()[0], 2)], "cpus": os.cpu_count(),
        "wall_seconds": round(time.perf_counter() - t0, 1), "turns": dev + test}, ensure_ascii=False, indent=1))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
