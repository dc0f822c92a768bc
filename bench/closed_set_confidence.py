"""Accept / confirm / reject at closed-set steps (menu, plain yes/no) from the
recognizer's confidence, the NLU's confidence and the margin to the runner-up intent.

    python bench/closed_set_confidence.py [--n 60] [--conditions clean,telephone,noisy_10] [--cached-only]

Mandarin intent and yes/no lines of the understanding set (bench/understanding_set.py),
N per split, round robin over the answers, are synthesized in the voices of
bench/understanding_audio.py, heard clean / over the telephone / at 10 dB SNR, and
recognised by Whisper with the step's hints, as a call would. Transcripts are
cached under ``ivr.paths.cache_home()/bench-closed-set`` (never in the repo), so a
rerun after an NLU change only re-reads them.

The floors of ivr/dialog/closed_set.py are chosen on **dev** only: the grid point
with the lowest expected cost in caller turns (COST below: a wrong action is the
dearest), and among equal costs the one that accepts most. They are then reported
on **test**: false-accept (acted on a wrong value), accept, confirm and reject rates,
next to what the dialog did before (the NLU's outcome alone, recognizer ignored).
With reference text (recognizer confidence 1.0) the decision is the NLU's: the text
figures of bench/understanding.py do not move. Synthetic voices: floor-and-trend."""
from __future__ import annotations

import os

from cores import one_core

if __name__ == "__main__":  # as a script: one core before numpy loads
    one_core()

import argparse
import hashlib
import itertools
import json
import sys
import time
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio_fixtures"))

from understanding_audio import VOICES, Voices, channel, choose, hints, spoken
from understanding_set import MENU, ROOT, Item, build

from ivr.dialog.closed_set import FLOORS, Floors, Reading, decide, reading
from ivr.nlu import Nlu
from ivr.paths import cache_home

CONDITIONS = ("clean", "telephone", "noisy_10")
KINDS = ("intent", "yes_no")
# Expected extra caller turns each outcome costs. A wrong action (a wrong service,
# a yes taken from a hedge) is the dearest: the caller must notice, back out and
# start again. A question about a right value costs its answer; about a wrong one,
# the answer and the re-ask. Rejecting a right value loses it (a re-ask, said back);
# a wrong one, a re-ask that was due anyway. Nothing read: a re-ask when there was
# an answer to read (the NLU's miss, the same under any floors), none for a hedge.
COST = {"accept_right": 0.0, "accept_wrong": 6.0, "confirm_right": 1.0, "confirm_wrong": 2.0,
        "reject_right": 1.5, "reject_wrong": 1.0, "nothing_read_missed": 1.0, "nothing_read_hedge": 0.0}
GRID = {
    "accept_asr": (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6),
    "accept_nlu": (0.45, 0.55, 0.65, 0.75, 0.85),
    "accept_margin": (0.0, 0.1, 0.2, 0.3, 0.4),
    "confirm_asr": (0.0, 0.1, 0.15, 0.2, 0.25, 0.3),
}
CACHE = cache_home() / "bench-closed-set" / "transcripts.jsonl"


# ------------------------------------------------------------ transcripts
def _key(voice: str, text: str, cond: str) -> str:
    return hashlib.sha1(f"{voice}|{text}|{cond}".encode()).hexdigest()[:20]


def load_cache() -> dict[str, dict[str, object]]:
    if not CACHE.exists():
        return {}
    return {r["key"]: r for r in (json.loads(line) for line in CACHE.read_text(encoding="utf-8").splitlines() if line)}


def transcripts(nlu: Nlu, items: Sequence[Item], conditions: Sequence[str],
                cached_only: bool) -> list[dict[str, object]]:
    """One row per (item, condition): what Whisper heard and how sure it was."""
    cache = load_cache()
    engine = None
    voices = Voices()
    rows: list[dict[str, object]] = []
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with CACHE.open("a", encoding="utf-8") as out:
        for k, item in enumerate(items):
            name, speed = VOICES[k % len(VOICES)]
            voice = f"{name}@{speed}"
            x = None
            for cond in conditions:
                key = _key(voice, item.text, cond)
                row = cache.get(key)
                if row is None:
                    if cached_only:
                        continue
                    if engine is None:
                        from ivr.asr import load_engine
                        engine = load_engine("whisper")
                    if x is None:
                        x = voices(name, speed, spoken(item, name))
                    pcm, sr = channel(x, 16000, cond, seed=zlib.crc32(item.text.encode()))
                    rec = engine.recognizer(sample_rate=sr)  # type: ignore[attr-defined]
                    rec.set_expected(hints(nlu, item) or None, item.language)
                    rec.accept(pcm.astype(np.int16).tobytes())
                    tr = rec.finish()
                    row = {"key": key, "voice": voice, "text": item.text, "condition": cond,
                           "heard": tr.text, "asr": round(float(tr.confidence), 4)}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    out.flush()
                rows.append({**row, "kind": item.kind, "expected": item.expected})
    return rows


# ------------------------------------------------------------ decisions
def read_row(nlu: Nlu, row: dict[str, object]) -> Reading | None:
    heard = str(row["heard"])
    if not heard.strip():
        return None
    kind = str(row["kind"])
    return reading(nlu, kind, heard, "zh-TW", list(MENU) if kind == "intent" else None,
                   float(row["asr"]))  # type: ignore[arg-type]


def outcome_class(outcome: str, value: object, expected: object) -> str:
    """``reject_right``: a right value rejected; ``accept_wrong`` includes a yes taken from a hedge."""
    if value is None:
        return "nothing_read_hedge" if expected is None else "nothing_read_missed"
    return f"{outcome}_{'right' if value == expected else 'wrong'}"


def tally(readings: Iterable[tuple[Reading | None, object]], floors: Floors | None) -> dict[str, int]:
    """Counts of each outcome class; ``floors`` None: the NLU's outcome alone (before)."""
    counts = dict.fromkeys(COST, 0)
    counts["no_speech"] = 0
    for r, expected in readings:
        if r is None:
            counts["no_speech"] += 1
            continue
        outcome = r.outcome if floors is None else decide(r, floors)
        counts[outcome_class(outcome, r.value, expected)] += 1
    return counts


def cost(counts: dict[str, int]) -> float:
    n = sum(counts.values()) or 1
    return sum(COST.get(k, 0.0) * v for k, v in counts.items()) / n


def choose_floors(kind: str, readings: list[tuple[Reading | None, object]]) -> tuple[Floors, float]:
    best: tuple[float, int, Floors] | None = None
    for a_asr, a_nlu, a_margin, c_asr in itertools.product(*GRID.values()):
        if c_asr > a_asr or (kind == "yes_no" and a_margin):
            continue
        f = Floors(accept_asr=a_asr, accept_nlu=a_nlu, accept_margin=a_margin, confirm_asr=c_asr)
        counts = tally(readings, f)
        c = cost(counts)
        key = (round(c, 6), -counts["accept_right"], f)
        if best is None or key[:2] < best[:2]:
            best = key
    assert best is not None
    return best[2], best[0]


def rates(counts: dict[str, int]) -> dict[str, object]:
    n = sum(counts.values())
    heard = n - counts["no_speech"]
    out: dict[str, object] = {"n": n, **counts}
    for name, keys in (("false_accept", ("accept_wrong",)), ("accept", ("accept_right", "accept_wrong")),
                       ("confirm", ("confirm_right", "confirm_wrong")),
                       ("reject", ("reject_right", "reject_wrong", "nothing_read_missed", "nothing_read_hedge"))):
        out[f"{name}_rate"] = round(sum(counts[k] for k in keys) / heard, 4) if heard else None
    out["expected_cost_turns"] = round(cost(counts), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60, help="utterances per split (intent and yes/no in turn)")
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--cached-only", action="store_true", help="only transcripts already in the cache")
    ap.add_argument("--out", default=str(ROOT / "bench/results/closed_set_confidence.json"))
    args = ap.parse_args(argv)
    conditions = [c for c in args.conditions.split(",") if c]
    t0 = time.perf_counter()
    nlu = Nlu.load()
    sets = build()
    rows = {s: transcripts(nlu, choose(sets[s], args.n, KINDS), conditions, args.cached_only)
            for s in ("dev", "test")}
    report: dict[str, object] = {"n_per_split": args.n, "conditions": conditions,
                                 "voices": [f"{a}@{b}" for a, b in VOICES], "cost_turns": COST, "grid": GRID,
                                 "built_in_floors": {k: vars(v) for k, v in FLOORS.items()}}
    for kind in KINDS:
        dev = [(read_row(nlu, r), r["expected"]) for r in rows["dev"] if r["kind"] == kind]
        test = [(read_row(nlu, r), r["expected"]) for r in rows["test"] if r["kind"] == kind]
        floors, dev_cost = choose_floors(kind, dev)
        entry: dict[str, object] = {"chosen_on_dev": vars(floors), "dev_cost": dev_cost,
                                    "dev": rates(tally(dev, floors)),
                                    "test": rates(tally(test, floors)),
                                    "test_built_in": rates(tally(test, FLOORS[kind])),
                                    "test_before": rates(tally(test, None))}
        per_cond = {}
        for cond in conditions:
            sub = [(read_row(nlu, r), r["expected"]) for r in rows["test"] if r["kind"] == kind
                   and r["condition"] == cond]
            per_cond[cond] = {"built_in": rates(tally(sub, FLOORS[kind])), "before": rates(tally(sub, None))}
        entry["test_per_condition"] = per_cond
        report[kind] = entry
        print(f"{kind}: floors chosen on dev {vars(floors)} (built in: {vars(FLOORS[kind])})")
        for name in ("test_before", "test_built_in"):
            r = entry[name]
            assert isinstance(r, dict)
            print(f"  {name:14s} n={r['n']:4d}  false accept {r['false_accept_rate']:.1%}  accept "
                  f"{r['accept_rate']:.1%}  confirm {r['confirm_rate']:.1%}  reject {r['reject_rate']:.1%}  "
                  f"cost {r['expected_cost_turns']:.3f} turns")
    report["rows"] = {s: [{k: v for k, v in r.items() if k != "key"} for r in rs] for s, rs in rows.items()}
    report["seconds"] = round(time.perf_counter() - t0, 1)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {os.path.relpath(args.out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
