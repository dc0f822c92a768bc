"""The learned accept/reject model of nan-TW grammar answers (ivr.asr.sphinx_accept):
fitting, threshold choice, the JSON it ships as, and the features it reads."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ivr.asr.sphinx_accept import (
    CHANNELS,
    FEATURES,
    MODEL_PATH,
    RUNNER_UP_CAP,
    AcceptModel,
    build_model,
    channel_of,
    choose_threshold,
    fit_logistic,
    load_model,
    model_from_json,
    turn_features,
)
from ivr.errors import IvrError


def _separable(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(float)
    x = np.column_stack([np.where(y > 0, 2.0, -2.0) + rng.normal(0, 0.5, n),  # informative
                         rng.normal(5, 3, n)])                                # noise
    return x, y


def test_fit_separates_separable_data_and_ignores_noise():
    x, y = _separable()
    mean, scale, w, b = fit_logistic(x, y, l2=1.0)
    p = 1 / (1 + np.exp(-(((x - mean) / scale) @ w + b)))
    assert np.mean((p >= 0.5) == (y > 0)) == 1.0
    assert w[0] > 2.0 and abs(w[1]) < 0.5 * w[0]
    # more regularisation, smaller weights; labels flipped, weights flipped
    assert abs(fit_logistic(x, y, l2=100.0)[2][0]) < w[0]
    assert fit_logistic(x, 1 - y, l2=1.0)[2][0] < 0


def test_fit_rejects_malformed_input():
    with pytest.raises(ValueError):
        fit_logistic(np.zeros((3, 2)), np.zeros(4))


def test_threshold_keeps_false_accepts_within_the_rate():
    neg = [i / 100 for i in range(100)]  # 0.00 .. 0.99
    t = choose_threshold(neg, 0.05)
    assert sum(v >= t for v in neg) == 5 and 0.94 < t <= 0.95
    assert sum(v >= choose_threshold(neg, 0.0) for v in neg) == 0
    assert choose_threshold(neg, 1.0) == 0.0
    # ties: never more false accepts than allowed, even when it costs more
    tied = [0.9] * 10 + [0.1] * 90
    assert sum(v >= choose_threshold(tied, 0.05) for v in tied) == 0


def _rows(seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for cond in ("clean", "telephone", "noisy"):
        for k in range(120):
            right = k % 3 == 0
            reject = not right and k % 3 == 1
            base = 3.0 if right else -1.0
            f = {n: float(rng.normal(base if n == "llr" else 0.0, 1.0)) for n in FEATURES}
            rows.append((f, right, reject, cond))
        rows.append((None, False, True, cond))  # rejected before the model
    return rows


def test_build_model_chooses_a_threshold_per_channel():
    rows = _rows()
    m = build_model(rows, 0.05, l2=1.0)
    assert set(m.thresholds) == set(CHANNELS)
    for cond, ch in (("clean", "wideband"), ("noisy", "wideband"), ("telephone", "telephone")):
        neg = [f for f, _, reject, c in rows if c == cond and reject]
        fa = sum(1 for f in neg if f is not None and m.accepts(f, ch))
        assert fa <= math.floor(0.05 * len(neg))
        right = [f for f, ok, _, c in rows if c == cond and ok]
        assert sum(m.accepts(f, ch) for f in right) > 0.8 * len(right)
    assert m.weights[m.features.index("llr")] > 1.0


def test_model_round_trips_through_json(tmp_path):
    m = build_model(_rows(), 0.05, features=("llr", "cohort"), info={"note": "synthetic"})
    path = tmp_path / "m.json"
    path.write_text(json.dumps(m.to_json()), encoding="utf-8")
    back = load_model(path)
    f = {"llr": 1.5, "cohort": 0.2}
    assert back.features == ("llr", "cohort") and back.probability(f) == pytest.approx(m.probability(f))
    assert back.info["note"] == "synthetic"


@pytest.mark.parametrize("doc, what", [
    ([], "must be a JSON object"),
    ({"features": []}, "'features'"),
    ({"features": ["llr", "shoe_size"]}, "unknown features ['shoe_size']"),
    ({"features": ["llr"], "mean": [0], "scale": [1], "weights": [1, 2], "bias": 0}, "'weights'"),
    ({"features": ["llr"], "mean": [0], "scale": [0], "weights": [1], "bias": 0}, "'scale'"),
    ({"features": ["llr"], "mean": [0], "scale": [1], "weights": [1], "bias": "x"}, "'bias'"),
    ({"features": ["llr"], "mean": [0], "scale": [1], "weights": [1], "bias": 0,
      "thresholds": {"wideband": 0.5}}, "'thresholds'"),
    ({"features": ["llr"], "mean": [0], "scale": [1], "weights": [1], "bias": 0,
      "thresholds": {"wideband": 0.5, "telephone": 7}}, "'thresholds'"),
])
def test_bad_model_json_is_one_clear_error(tmp_path, doc, what):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(IvrError) as e:
        load_model(path)
    assert what in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)


def test_a_model_with_extra_evidence_loads_only_where_that_evidence_is_known(tmp_path):
    """bench/taiwanese.py --model decides with a model that also reads Whisper's
    evidence (bench/whisper_evidence.py); the engine's loader still refuses it."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from whisper_evidence import FEATURES as WHISPER

    rows = [(None if f is None else {**f, "w_zh": 0.2 if right else 0.8}, right, reject, c)
            for f, right, reject, c in _rows()]
    m = build_model(rows, 0.05, features=("llr", "w_zh"))
    path = tmp_path / "m.json"
    path.write_text(json.dumps(m.to_json()), encoding="utf-8")
    with pytest.raises(IvrError, match="unknown features \\['w_zh'\\]"):
        load_model(path)
    back = load_model(path, FEATURES + WHISPER)
    assert back.features == ("llr", "w_zh")
    assert back.probability({"llr": 0.0, "w_zh": 0.0}) > back.probability({"llr": 0.0, "w_zh": 1.0})


def test_unreadable_model_file_is_one_clear_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(IvrError, match="not valid JSON"):
        load_model(path)
    with pytest.raises(IvrError, match="cannot read"):
        load_model(tmp_path / "missing.json")


def test_shipped_model_loads_and_prefers_clear_answers():
    m = load_model(MODEL_PATH)
    assert isinstance(m, AcceptModel) and set(m.features) <= set(FEATURES)
    assert m.info.get("fitted_on", "").startswith("dev half")
    clear = turn_features(llr=10.0, cohort=20.0, runner_up=20.0, speech_frames=100, total_frames=150, phones=8,
                          loop_phones=9, voiced=0.6, grammar_score=-60000, frames_per_phone=13.0)
    vague = turn_features(llr=-20.0, cohort=-10.0, runner_up=0.1, speech_frames=100, total_frames=150, phones=8,
                          loop_phones=9, voiced=0.6, grammar_score=-60000, frames_per_phone=13.0)
    assert m.probability(clear) > m.probability(vague)


def test_features_and_channels():
    f = turn_features(llr=1.0, cohort=None, runner_up=None, speech_frames=130, total_frames=200, phones=10,
                      loop_phones=13, voiced=0.5, grammar_score=-13000, frames_per_phone=13.0)
    assert set(f) == set(FEATURES)
    assert f["cohort"] == RUNNER_UP_CAP and f["runner_up"] == RUNNER_UP_CAP
    assert f["pace"] == pytest.approx(0.0) and f["speech_share"] == pytest.approx(0.65)
    assert f["loop_rate"] == pytest.approx(10.0) and f["acoustic"] == pytest.approx(-1.0)
    assert channel_of(8000) == "telephone" and channel_of(16000) == "wideband"
    with pytest.raises(IvrError):
        model_from_json({"features": ["llr"]}, "here")
