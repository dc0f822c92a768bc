"""Evidence about a turn from Whisper, for judging another recognizer's answer
(bench tooling: measured for the nan-TW accept model by bench/taiwanese.py
--whisper and bench/taiwanese_fit.py --whisper, not kept: see bench/taiwanese.py).

A grammar recognizer (pocketsphinx on nan-TW steps) always answers with some
phrase; whether to take it can also ask a second, independent model what the
turn sounds like. ``turn_evidence`` runs Whisper's encoder once on the turn
(the window sized as ``WhisperEngine`` does) and reads off:

* ``w_no_speech``: Whisper's no-speech probability (silence, coughs, noise),
* ``w_logprob``: the mean log-probability per token of its own greedy
  Mandarin transcript (fluent Mandarin scores high, mumbling low),
* ``w_zh``: the probability its language identification gives Chinese,
* ``w_lang_entropy``: the entropy (nats) of that language distribution.

Cost: one encoder pass, one language detection and one greedy decode of at
most ~8 tokens a second (bench/taiwanese.py ``--whisper`` reports the
seconds per turn: ~0.5 s for a 1.5 s turn on the shared 2-core machine, of
which encoder + language detection ~0.33 s). Nothing here decides: the numbers
are candidate accept features. Measured for nan-TW grammar answers
(bench/taiwanese.py ``--whisper``, bench/taiwanese_fit.py ``--whisper``): they
do not separate right answers from other Taiwanese phrases, the false accepts
that remain, so the shipped accept model (``ivr.asr.sphinx_accept``) does not
use them."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ivr.asr.resampling import resample

if TYPE_CHECKING:
    from ivr.asr.whisper import WhisperEngine

RATE = 16000
FEATURES = ("w_no_speech", "w_logprob", "w_zh", "w_lang_entropy")
LOGPROB_FLOOR = -5.0  # no token decoded (or a turn too short to encode) counts as this unlikely
MIN_SAMPLES = RATE // 10


def turn_evidence(engine: WhisperEngine, samples: np.ndarray, rate: int = RATE) -> dict[str, float]:
    """The four ``FEATURES`` of one turn of int16 audio at ``rate`` Hz."""
    import ctranslate2

    x = np.asarray(samples)
    if rate != RATE:
        x = resample(x, rate, RATE)
    if x.size < MIN_SAMPLES:
        return {"w_no_speech": 1.0, "w_logprob": LOGPROB_FLOOR, "w_zh": 0.0, "w_lang_entropy": 0.0}
    model = engine.model
    feats = model.feature_extractor(x.astype(np.float32) / 32768.0)
    n = feats.shape[1]
    width = min(3000, max(n + 200, engine.window_frames)) if engine.window_frames else 3000
    feats = feats[:, :width] if n >= width else np.pad(feats, ((0, 0), (0, width - n)))
    tok = engine._tokenizer  # the engine's own tokenizer (language zh, transcribe)
    with engine.lock:
        encoded = model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(feats[None], dtype=np.float32)), to_cpu=True)
        langs = model.model.detect_language(encoded)[0]
        max_new = int(16 + 8 * min(n, width) / 100)
        prompt = [*tok.sot_sequence, tok.no_timestamps]
        res = model.model.generate(encoded, [prompt], beam_size=1, max_length=min(448, len(prompt) + max_new),
                                   return_scores=True, return_no_speech_prob=True, suppress_blank=True)[0]
    probs = {lang.strip("<|>"): float(p) for lang, p in langs}
    total = sum(probs.values()) or 1.0
    entropy = -sum(p / total * math.log(p / total) for p in probs.values() if p > 0)
    tokens = [t for t in (res.sequences_ids[0] if res.sequences_ids else []) if t < tok.eot]
    logprob = float(res.scores[0]) if tokens and res.scores else LOGPROB_FLOOR
    return {"w_no_speech": float(res.no_speech_prob), "w_logprob": max(LOGPROB_FLOOR, logprob),
            "w_zh": probs.get("zh", 0.0) / total, "w_lang_entropy": entropy}
