"""Refit the learned accept/reject model of nan-TW grammar answers
(``ivr.asr.sphinx_accept``) on the DEV half of the phrase test only, and write
it to ``ivr/asr/sphinx_accept.json``.

Every dev trial (clean, telephone, noisy) is decoded with the hand-set
calibration (the features do not depend on the accept rule), a logistic
regression is fitted on the features of the turns that reached the rule
(label: the grammar's answer is the phrase said), its L2 strength chosen
among ``--l2`` by cross-validated log-loss over folds grouped by source
(a sentence, a Mandarin file, a generated sound: the three conditions and
the in/out-of-grammar trials of one clip stay in one fold), and a threshold
per channel (telephone = 8 kHz; wideband = clean and noisy, the stricter of
the two) keeps dev false accepts <= ``--max-fa``. The test half is never read.

    python bench/taiwanese_fit.py                      # decode dev, fit, write the model
    python bench/taiwanese_fit.py --rows rows.json     # fit from bench/taiwanese.py --rows (dev rows only)
    python bench/taiwanese_fit.py --features llr,cohort --out /tmp/m.json   # a smaller model, elsewhere
    python bench/taiwanese_fit.py --rows rows.json --whisper  # also each set + Whisper's evidence (kept none)
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("IVR_SHARED", ROOT.parent / "shared")).resolve()
MAX_FA = 0.05
FOLDS = 4
# feature sets to choose among: everything, the hand-set score's parts plus the runner-up, and
# the hand-set score's parts alone (ivr.asr.confidence.turn_score: llr, decoy margin, pace)
CANDIDATES: dict[str, tuple[str, ...]] = {
    "all": ("llr", "cohort", "runner_up", "pace", "pace_abs", "voiced", "speech_share", "loop_rate", "acoustic",
            "phones", "loop_agree"),
    "core4": ("llr", "cohort", "runner_up", "pace_abs"),
    "hand3": ("llr", "cohort", "pace_abs"),
}
# with --whisper (rows from bench/taiwanese.py --whisper --rows): Whisper's evidence on the turn
# (bench/whisper_evidence.py.FEATURES) added to each set, all of it ("+w") or the no-speech and language parts
WHISPER_PARTS = ("w_no_speech", "w_zh")


def _label(r: dict) -> tuple[bool, bool]:
    """(the answer is right, the trial must be rejected)."""
    return bool(r["expected"]) and r["heard"] == r["expected"], not r["expected"]


def dev_rows(path: Path | None, options: dict, save: Path | None) -> list[dict]:
    if path is not None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise SystemExit(f"{path}: cannot read rows: {e}") from None
        return [dict(r, condition=key.split()[1]) for key, rs in doc.items() if key.startswith("dev ") for r in rs]
    from ivr.asr import load_engine
    from ivr.asr import phrase_eval as pe

    sys.path.insert(0, str(ROOT / "bench"))
    from taiwanese import run_trials  # the bench's own trial loop: same seeds, same rows

    engine = load_engine("sphinx", accept="calibration", record_features=True, **options)
    trials = pe.build(engine, SHARED / "data")
    rows: list[dict] = []
    for k, cond in enumerate(pe.CONDITIONS):
        rows += run_trials(engine, trials["dev"], cond, 100 * k)
    if save is not None:
        save.write_text(json.dumps({f"dev {c}": [r for r in rows if r["condition"] == c] for c in pe.CONDITIONS}),
                        encoding="utf-8")
    return rows


def _probabilities(model_parts: tuple, rows: list[dict], features: Sequence[str]) -> list[float]:
    mean, scale, w, b = model_parts
    out = []
    for r in rows:
        if not r["features"]:
            out.append(-1.0)  # rejected before the model: never accepted
            continue
        z = (np.array([r["features"][k] for k in features]) - mean) / scale @ w + b
        out.append(float(1 / (1 + np.exp(-np.clip(z, -50, 50)))))
    return out


def fit_parts(rows: list[dict], features: Sequence[str], l2: float, neg_weight: float) -> tuple:
    from ivr.asr.sphinx_accept import fit_logistic

    usable = [r for r in rows if r["features"]]
    x = np.array([[r["features"][k] for k in features] for r in usable])
    y = np.array([float(_label(r)[0]) for r in usable])
    return fit_logistic(x, y, l2, sample_weight=np.where(y > 0, 1.0, neg_weight))


def cross_validate(rows: list[dict], features: Sequence[str], l2: float, neg_weight: float, max_fa: float,
                   channels: dict[str, str], repeats: int = 3) -> tuple[float, float]:
    """(right answers accepted, false accepts) over dev, each fold decided by a
    model and thresholds fitted on the other folds; folds group rows by source."""
    from ivr.asr.sphinx_accept import choose_threshold

    sources = sorted({r["source"] for r in rows})
    right = fa = 0
    for rep in range(repeats):
        perm = np.random.default_rng(rep).permutation(len(sources))
        fold = {s: int(perm[k]) % FOLDS for k, s in enumerate(sources)}
        for f in range(FOLDS):
            train = [r for r in rows if fold[r["source"]] != f]
            held = [r for r in rows if fold[r["source"]] == f]
            parts = fit_parts(train, features, l2, neg_weight)
            p_train = _probabilities(parts, train, features)
            th: dict[str, float] = {}
            for cond in channels:
                neg = [p for p, r in zip(p_train, train, strict=True) if r["condition"] == cond and _label(r)[1]]
                ch = channels[cond]
                th[ch] = max(th.get(ch, 0.0), choose_threshold(neg, max_fa))
            for p, r in zip(_probabilities(parts, held, features), held, strict=True):
                if r["features"] and p >= th[channels[r["condition"]]]:
                    right += _label(r)[0]
                    fa += _label(r)[1]
    n_in = sum(1 for r in rows if r["expected"]) * repeats
    return right / max(n_in, 1), fa / max((len(rows) * repeats - n_in), 1)


def main() -> int:
    from whisper_evidence import FEATURES as WHISPER

    from ivr.asr.sphinx_accept import FEATURES, MODEL_PATH, build_model, channel_of

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=Path, default=None, help="rows written by bench/taiwanese.py --rows (dev used)")
    ap.add_argument("--features", default=None,
                    help="comma-separated features to use (default: choose among the candidate sets)")
    ap.add_argument("--l2", default="1,10", help="L2 strengths to choose among (cross-validated)")
    ap.add_argument("--neg-weights", default="1,3",
                    help="weights of the rows to reject in the fit, to choose among (cross-validated)")
    ap.add_argument("--max-fa", type=float, default=MAX_FA, help="dev false-accept rate each channel may reach")
    ap.add_argument("--decoys", type=int, default=None, help="decoys in the cohort (default: the engine's)")
    ap.add_argument("--save-rows", type=Path, default=None, help="write the decoded dev rows here")
    ap.add_argument("--whisper", action="store_true",
                    help="also try every candidate set with Whisper's evidence (rows from bench/taiwanese.py "
                         "--whisper --rows)")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args()
    if args.rows is None and not (SHARED / "data" / "taiwanese-real").is_dir():
        print(f"skipped: needs real Taiwanese recordings at {SHARED / 'data' / 'taiwanese-real'}")
        return 0
    features = [f.strip() for f in (args.features or "").split(",") if f.strip()]
    known = FEATURES + WHISPER
    unknown = sorted(set(features) - set(known))
    if unknown:
        print(f"--features: unknown {unknown} (known: {', '.join(known)})")
        return 2
    t0 = time.perf_counter()
    rows = dev_rows(args.rows, {} if args.decoys is None else {"n_decoys": args.decoys}, args.save_rows)
    if not any(r["features"] for r in rows):
        print("no dev row carries features (rows from a run before the learned model existed?)")
        return 2
    conds = sorted({r["condition"] for r in rows})
    channels = {c: channel_of(next(r["rate"] for r in rows if r["condition"] == c)) for c in conds}
    sets = {"given": features} if args.features else dict(CANDIDATES)
    if args.whisper and not args.features:
        if not any(r["features"] and "w_zh" in r["features"] for r in rows):
            print("--whisper: the rows carry no Whisper evidence (write them with bench/taiwanese.py --whisper --rows)")
            return 2
        sets.update({name + w: fs + ws for name, fs in CANDIDATES.items()
                     for w, ws in (("+w", WHISPER), ("+wlang", WHISPER_PARTS))})
    scan = {}
    for (name, fs), l2, nw in itertools.product(sets.items(), map(float, args.l2.split(",")),
                                                map(float, args.neg_weights.split(","))):
        right, fa = cross_validate(rows, fs, l2, nw, args.max_fa, channels)
        scan[f"{name} l2 {l2} negatives x{nw}"] = {"right": round(right, 4), "false_accepts": round(fa, 4),
                                                    "features": list(fs), "l2": l2, "neg_weight": nw}
        print(f"cv {name:8s} l2 {l2:4} negatives x{nw}: right accepted {right:.1%}, false accepts {fa:.1%}")
    within = [k for k, v in scan.items() if v["false_accepts"] <= args.max_fa] or list(scan)
    best = max(within, key=lambda k: (scan[k]["right"], -scan[k]["false_accepts"]))
    features, l2, neg_weight = scan[best]["features"], scan[best]["l2"], scan[best]["neg_weight"]
    fit_rows = [(r["features"], *_label(r), r["condition"]) for r in rows]
    info = {"fitted_on": "dev half of bench/taiwanese.py's phrase test (bench/taiwanese_fit.py)",
            "rows": len(rows), "rows_fitted": sum(1 for r in rows if r["features"]),
            "right_answers": sum(1 for r in rows if r["features"] and _label(r)[0]),
            "chosen": best, "max_false_accepts": args.max_fa, "channels": channels,
            "cross_validated": {k: {"right": v["right"], "false_accepts": v["false_accepts"]} for k, v in scan.items()}}
    model = build_model(fit_rows, args.max_fa, l2, features, channels, info, neg_weight)
    print(f"{len(rows)} dev rows ({info['rows_fitted']} fitted, {info['right_answers']} right answers), "
          f"chosen: {best}, {time.perf_counter() - t0:.0f} s")
    print("weights (per standard deviation): " + ", ".join(f"{n} {w:+.2f}" for n, w in zip(model.features, model.weights,
                                                                                           strict=True)))
    print(f"thresholds: {dict(model.thresholds)}")
    for cond in conds:
        rs = [r for r in rows if r["condition"] == cond]
        acc = [r for r in rs if r["features"] and model.accepts(r["features"], channels[cond])]
        ig = sum(1 for r in rs if r["expected"])
        oog = len(rs) - ig
        right = sum(1 for r in acc if _label(r)[0])
        fa = sum(1 for r in acc if _label(r)[1])
        print(f"dev {cond:9s} right accepted {right}/{ig} = {right / max(ig, 1):.1%}, "
              f"false accepts {fa}/{oog} = {fa / max(oog, 1):.1%}")
    args.out.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0 if all(math.isfinite(w) for w in model.weights) else 1


if __name__ == "__main__":
    sys.exit(main())
