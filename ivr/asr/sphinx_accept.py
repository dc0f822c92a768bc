"""A learned accept/reject model for nan-TW grammar answers.

The grammar search always answers with some phrase; whether to take it is a
yes/no question asked of a few numbers the decoder already has for the turn
(``turn_features``): how the phrase path compares with the free phone loop
(``llr``), with the cohort of Taiwanese decoys (``cohort``) and with the
grammar's second-best phrase (``runner_up``, the same audio decoded again
without the winner), how fast the phrase was said against its phone count
(``pace``), how much of the turn is voiced, is speech, how many phones the
loop needed, and how far the loop's phones are from the phrase's
(``loop_agree``). A logistic regression over them (standardised,
L2-regularised, fitted by Newton's method in numpy) gives the probability that
the answer is right; it is accepted at or above a threshold chosen per channel (telephone =
8 kHz in, wideband = anything else) for at most 5 % false accepts on the dev
half of the phrase test.

The weights live in ``sphinx_accept.json`` beside this module; ``python
bench/taiwanese_fit.py`` refits them on the dev half and rewrites it, choosing
the feature set, L2 strength and weight of the rejects by cross-validation on
dev (folds grouped by sentence). Measured there (right answers accepted at
<= 5 % false accepts, all conditions): llr + cohort + |pace| 49.8 %, with the
runner-up 48.2 %, every feature 46.3 %; with 150 decoys instead of 50, 50.2 %
(not kept: three times the cohort's decoding). The hand-set map this replaces
(``ivr.asr.confidence``) scores alike: the features, not the rule, are the limit."""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ivr.errors import IvrError

MODEL_PATH = Path(__file__).with_name("sphinx_accept.json")
CHANNELS = ("wideband", "telephone")
FEATURES = ("llr", "cohort", "runner_up", "pace", "pace_abs", "voiced", "speech_share", "loop_rate",
            "acoustic", "phones", "loop_agree")
RUNNER_UP_CAP = 50.0  # per speech frame: no second phrase (or none reaching the end) counts as this far behind


def channel_of(sample_rate: int) -> str:
    """A turn arriving at 8 kHz or less came over a telephone line."""
    return "telephone" if sample_rate <= 8000 else "wideband"


def turn_features(*, llr: float, cohort: float | None, runner_up: float | None, speech_frames: int,
                  total_frames: int, phones: int, loop_phones: int, voiced: float, grammar_score: float,
                  frames_per_phone: float, loop_agree: float = 0.0) -> dict[str, float]:
    """The model's inputs for one turn, from what the three searches (and the
    runner-up re-decode) reported. Scores are log base 1.0001; frames 10 ms."""
    frames = max(speech_frames, 1)
    pace = math.log(frames / max(phones, 1) / frames_per_phone) if frames_per_phone > 0 else 0.0
    return {
        "llr": llr,
        "cohort": RUNNER_UP_CAP if cohort is None else cohort,
        "runner_up": RUNNER_UP_CAP if runner_up is None else min(RUNNER_UP_CAP, max(0.0, runner_up)),
        "pace": pace,
        "pace_abs": abs(pace),
        "voiced": voiced,
        "speech_share": speech_frames / max(total_frames, 1),
        "loop_rate": 100.0 * loop_phones / frames,
        "acoustic": grammar_score / frames / 100.0,
        "phones": math.log(max(phones, 1)),
        "loop_agree": loop_agree,
    }


def phone_agreement(heard: Sequence[str], loop: Sequence[str]) -> float:
    """1 - (phone edit distance between the phrase's pronunciation and what the
    free loop heard) / the longer of the two: 1 when the loop heard exactly the
    phrase's phones, near 0 when it heard something else."""
    if not heard or not loop:
        return 0.0
    prev = list(range(len(loop) + 1))
    for i, a in enumerate(heard, 1):
        cur = [i]
        for j, b in enumerate(loop, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return 1.0 - prev[-1] / max(len(heard), len(loop))


@dataclass(frozen=True)
class AcceptModel:
    """p(right) = sigmoid(bias + sum(weight * (x - mean) / scale)); accepted at
    or above the turn's channel threshold."""
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    thresholds: Mapping[str, float]
    info: Mapping[str, object] = field(default_factory=dict)  # how and on what it was fitted

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias
        for name, mu, sd, w in zip(self.features, self.mean, self.scale, self.weights, strict=True):
            z += w * (float(features[name]) - mu) / sd
        z = max(-50.0, min(50.0, z))
        return 1.0 / (1.0 + math.exp(-z))

    def threshold(self, channel: str) -> float:
        return self.thresholds[channel]

    def accepts(self, features: Mapping[str, float], channel: str) -> bool:
        return self.probability(features) >= self.threshold(channel)

    def to_json(self) -> dict[str, object]:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias, "thresholds": dict(self.thresholds),
                "info": dict(self.info)}


def _floats(doc: Mapping[str, object], key: str, n: int, where: str) -> tuple[float, ...]:
    v = doc.get(key)
    if not isinstance(v, list) or len(v) != n or not all(isinstance(x, int | float) and math.isfinite(x) for x in v):
        raise IvrError(f"{key!r} must be a list of {n} finite numbers", where)
    return tuple(float(x) for x in v)


def model_from_json(doc: object, where: str, known: Sequence[str] = FEATURES) -> AcceptModel:
    """An ``AcceptModel`` from its JSON document, or one ``IvrError`` naming what is wrong;
    its features must be among ``known``."""
    if not isinstance(doc, dict):
        raise IvrError("accept model must be a JSON object", where)
    names = doc.get("features")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise IvrError("'features' must be a non-empty list of feature names", where)
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise IvrError(f"unknown features {unknown} (known: {', '.join(known)})", where)
    n = len(names)
    mean, scale, weights = (_floats(doc, k, n, where) for k in ("mean", "scale", "weights"))
    if any(s <= 0 for s in scale):
        raise IvrError("'scale' values must be > 0", where)
    bias = doc.get("bias")
    if not isinstance(bias, int | float) or not math.isfinite(bias):
        raise IvrError("'bias' must be a finite number", where)
    th = doc.get("thresholds")
    if not isinstance(th, dict) or set(th) != set(CHANNELS) or \
            not all(isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in th.values()):
        raise IvrError(f"'thresholds' must map {' and '.join(CHANNELS)} to probabilities in [0, 1]", where)
    info = doc.get("info", {})
    return AcceptModel(tuple(names), mean, scale, weights, float(bias), {k: float(v) for k, v in th.items()},
                       info if isinstance(info, dict) else {})


def load_model(path: Path = MODEL_PATH, known: Sequence[str] = FEATURES) -> AcceptModel:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise IvrError(f"cannot read the accept model: {e.strerror or e}", str(path)) from None
    except ValueError as e:
        raise IvrError(f"accept model is not valid JSON: {e}", str(path)) from None
    return model_from_json(doc, str(path), known)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50,
                 sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method on standardised
    columns: (mean, scale, weights, bias). The bias is not penalised; each
    row's loss counts ``sample_weight`` times (default 1)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError("x must be rows x features with one label per row")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((x.shape[0], 1))])
    sw = np.ones(x.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    w = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
        grad = z.T @ (sw * (p - y)) + penalty * w
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(z.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return mean, scale, w[:-1], float(w[-1])


def choose_threshold(negatives: Sequence[float], max_rate: float) -> float:
    """The lowest threshold t with at most ``max_rate`` of ``negatives`` (scores
    that must be rejected) at or above it: accepting >= t then keeps false
    accepts within the rate on these scores."""
    neg = sorted(negatives, reverse=True)
    allowed = math.floor(max_rate * len(neg) + 1e-9)
    if allowed >= len(neg):
        return 0.0
    # the (allowed+1)-th highest must fall below t; nudge just above it
    return min(1.0, max(0.0, neg[allowed] + 1e-9))


Row = tuple[Mapping[str, float] | None, bool, bool, str]


def build_model(rows: Sequence[Row], max_fa: float, l2: float = 1.0,
                features: Sequence[str] = FEATURES, conditions: Mapping[str, str] | None = None,
                info: Mapping[str, object] | None = None, neg_weight: float = 1.0) -> AcceptModel:
    """Fit on ``rows`` = (features, answer right, must be rejected, condition)
    and choose each channel's threshold as the strictest its conditions need
    for at most ``max_fa`` false accepts (``conditions`` maps condition to
    channel; by default a condition named telephone is the telephone channel).
    Features None: the turn was rejected by the checks before the model; such
    rows are not fitted but count in the false-accept rates. Rows that are not
    right answers weigh ``neg_weight`` in the fit."""
    usable = [(f, right) for f, right, _, _ in rows if f is not None]
    x = np.array([[float(f[n]) for n in features] for f, _ in usable])
    y = np.array([1.0 if right else 0.0 for _, right in usable])
    mean, scale, w, b = fit_logistic(x, y, l2, sample_weight=np.where(y > 0, 1.0, neg_weight))
    # weighting the rejects shifts the intercept by -log(neg_weight): undo it, so the
    # probability stays one (the dialog reads it as the recognizer's confidence)
    b += math.log(neg_weight)
    model = AcceptModel(tuple(features), tuple(map(float, mean)), tuple(map(float, scale)),
                        tuple(map(float, w)), b, dict.fromkeys(CHANNELS, 0.0), dict(info or {}))
    chan = dict(conditions or {})
    thresholds = dict.fromkeys(CHANNELS, 0.0)
    for cond in sorted({c for *_, c in rows}):
        neg = [-1.0 if f is None else model.probability(f) for f, _, reject, c in rows if c == cond and reject]
        ch = chan.get(cond, "telephone" if cond == "telephone" else "wideband")
        thresholds[ch] = max(thresholds[ch], choose_threshold(neg, max_fa))
    # rounded up, so dev false accepts cannot creep past the goal through rounding
    th = {k: math.ceil(v * 1e4) / 1e4 for k, v in thresholds.items()}
    return AcceptModel(model.features, model.mean, model.scale, model.weights, model.bias, th, model.info)
