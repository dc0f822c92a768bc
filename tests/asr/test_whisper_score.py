"""Closed-set steps: Whisper scores the step's expected phrases against the
audio (ivr.asr.whisper_score + WhisperEngine.score) and the Transcript carries
them ranked; the free transcript stays the text."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ivr.asr.whisper_score import MAX_PHRASES, MIN_LOGPROB, MarginCalibration, candidates, phrase_score, rank
from ivr.frames import Alternative, Transcript

from .helpers import feed, read_pcm

SONG = "fr_IT0011W0001.wav"  # a real speaker: 换一首歌
DISTRACTORS = ["我要查餘額", "轉接專人", "是", "不是", "換一首歌", "重設密碼"]


# ------------------------------------------------------------------ pure parts
def test_candidates_keep_small_sets_whole_and_reduce_long_ones_to_core_phrases():
    assert candidates([" 是 ", "是", "", "不是", "對"]) == ["是", "不是", "對"]
    menu = ["查餘額", "我想查餘額", "我要查詢餘額"] + [f"選項{i}號" for i in range(40)]
    got = candidates(menu)
    assert "查餘額" in got and "我想查餘額" not in got and len(got) <= MAX_PHRASES
    assert got == [p for p in menu if p in got]  # the step's order


def test_phrase_score_is_mean_log_probability_with_a_floor():
    assert phrase_score([1.0, 1.0]) == 0.0
    assert phrase_score([0.5, 0.25]) == pytest.approx((math.log(0.5) + math.log(0.25)) / 2)
    assert phrase_score([0.9, 0.0]) == pytest.approx((math.log(0.9) + MIN_LOGPROB) / 2)  # not -inf
    assert phrase_score([]) == MIN_LOGPROB


def test_rank_orders_best_first_and_confidence_follows_the_margin():
    cal = MarginCalibration(slope=2.0, intercept=0.0)
    alts = rank([("是", -3.0), ("不是", -0.5), ("對", -1.0)], cal)
    assert [a.text for a in alts] == ["不是", "對", "是"]
    assert alts[0].confidence == pytest.approx(1 / (1 + math.exp(-2.0 * 0.5)))
    assert alts[1].confidence == pytest.approx(1 / (1 + math.exp(2.0 * 0.5)))  # behind the best: below 0.5
    assert alts[0].confidence > alts[1].confidence > alts[2].confidence
    wide = rank([("是", -0.1), ("不是", -5.0)], cal)
    assert wide[0].confidence > alts[0].confidence  # a wider margin, a surer answer
    assert rank([("是", -0.2)], cal)[0].confidence == 0.0  # no other phrase, no margin
    assert rank([], cal) == ()


def test_transcript_alternatives_are_validated():
    a, b = Alternative("是", -0.2, 0.9), Alternative("不是", -3.0, 0.01)
    assert Transcript("是", True, alternatives=(a, b)).alternatives[0].text == "是"
    with pytest.raises(ValueError, match="ranked"):
        Transcript("是", True, alternatives=(b, a))
    with pytest.raises(ValueError, match="tuple of Alternative"):
        Transcript("是", True, alternatives=[a])  # type: ignore[arg-type]
    for bad in (("", -1.0, 0.5), ("是", 0.5, 0.5), ("是", float("nan"), 0.5), ("是", -1.0, 1.5)):
        with pytest.raises(ValueError):
            Alternative(*bad)
    assert Transcript("x", True).alternatives == ()


# ------------------------------------------------------------------ with the model
@pytest.fixture
def rescoring(whisper_engine):
    """The shared engine with phrase ranking on (it is off by default), restored after."""
    saved = whisper_engine.rescore
    whisper_engine.rescore = True
    yield whisper_engine
    whisper_engine.rescore = saved


def _audio16k(mandarin_real, name=SONG):
    from ivr.asr.resampling import resample

    x, rate = read_pcm(mandarin_real / name)
    return resample(x, rate, 16000)


def test_score_ranks_the_spoken_phrase_first(whisper_engine, mandarin_real):
    scored = whisper_engine.score(_audio16k(mandarin_real), DISTRACTORS)
    assert scored[0][0] == "換一首歌", scored
    assert sorted(p for p, _ in scored) == sorted(DISTRACTORS)
    assert all(s <= 0.0 for _, s in scored)
    assert scored[0][1] - scored[1][1] > 2.0, scored  # not a coin toss
    assert whisper_engine.score(_audio16k(mandarin_real), []) == []


def test_closed_set_turn_carries_ranked_alternatives_and_keeps_the_free_text(rescoring, mandarin_real):
    x, rate = read_pcm(mandarin_real / SONG)
    rec = rescoring.recognizer(rate)
    feed(rec, x, rate)
    assert rec.finish().alternatives == ()  # free speech: nothing to rank
    rec.set_expected(DISTRACTORS)
    feed(rec, x, rate)
    t = rec.finish()
    assert t.alternatives[0].text == "換一首歌"
    assert t.alternatives[0].confidence > 0.9 > t.alternatives[1].confidence
    # one encoder pass serves both: the text is the same free transcript as without ranking
    rescoring.rescore = False
    feed(rec, x, rate)
    plain = rec.finish()
    assert plain.alternatives == () and plain.text == t.text


def test_speculative_turn_carries_the_same_alternatives(rescoring, mandarin_real):
    x, rate = read_pcm(mandarin_real / SONG)
    padded = np.concatenate([x, np.zeros(rate, dtype=np.int16)])  # a pause after speech: decoded in the background
    plain = rescoring.recognizer(rate, speculative=False)
    spec = rescoring.recognizer(rate, speculative=True)
    out = []
    for rec in (plain, spec):
        rec.set_expected(DISTRACTORS)
        feed(rec, padded, rate)
        out.append(rec.finish())
    spec.close()
    assert spec.speculative_hits == 1
    # the background decode saw the turn up to the pause, the plain one all of it: same winner
    assert out[0].alternatives[0].text == out[1].alternatives[0].text == "換一首歌"
    assert out[0].text == out[1].text


def test_a_silent_turn_has_no_alternatives(whisper_engine):
    r = whisper_engine.recognize(np.zeros(16000, dtype=np.int16), DISTRACTORS, rescore=True)
    assert r.text == "" and r.alternatives == ()
