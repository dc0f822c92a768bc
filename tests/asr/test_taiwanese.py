"""Taiwanese grammar recognition: forced alignment, the word/phrase-level test
built from real speech, out-of-grammar rejection and the calibrated confidence."""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from ivr.asr import phrase_eval as pe
from ivr.asr.align import align_syllables
from ivr.asr.confidence import (
    TAIWANESE,
    Calibration,
    phone_bigram_arpa,
    speech_frames,
    taiwanese_phone_sequences,
    voiced_fraction,
)
from ivr.asr.pronounce import taiwanese_variant_words
from ivr.errors import IvrError

from .helpers import feed, read_pcm


@pytest.fixture(scope="module")
def trials(sphinx_engine, shared_dir):
    if not (shared_dir / "data" / "taiwanese-real").is_dir():
        pytest.skip(f"needs real Taiwanese recordings in {shared_dir / 'data' / 'taiwanese-real'}")
    return pe.build(sphinx_engine, shared_dir / "data")


def _decode(rec, trial, cond="clean", seed=0):
    x, rate = pe.condition(trial.clip, cond, seed)
    rec.set_expected(list(trial.grammar), language="nan-TW")
    feed(rec, x, rate)
    return rec.finish()


# --- pure parts -------------------------------------------------------------

def test_calibration_is_monotone_and_bounded():
    cal = Calibration(0.2, 1.0, 0.5)
    values = [cal.confidence(v) for v in (-1e6, -40, -10, 0, 10, 1e3)]
    assert values == sorted(values) and values[0] == 0.0 and 0 < values[2] < values[3] < 1
    assert 0 < TAIWANESE.threshold < 1


def test_voicing_tells_vowels_from_noise():
    rate = 8000
    t = np.arange(rate) / rate
    vowel = (3000 * np.sin(2 * np.pi * 180 * t) + 1500 * np.sin(2 * np.pi * 360 * t)).astype(np.int16)
    noise = np.random.default_rng(1).normal(0, 3000, rate).astype(np.int16)
    assert voiced_fraction(vowel, rate) > 0.9
    assert voiced_fraction(noise, rate) < 0.05
    assert voiced_fraction(np.zeros(rate, dtype=np.int16), rate) == 0.0


def test_speech_frames_ignore_silence_and_fillers():
    grammar = [("<sil>", 0, 19), ("p1_0_0", 20, 59), ("<sil>", 60, 99)]
    loop = [("SIL", 0, 9), ("b", 10, 19), ("a", 20, 69), ("++breath++", 70, 80), ("SIL", 81, 99)]
    assert speech_frames(grammar, loop) == 60  # frames 10..69


def test_phone_bigram_is_valid_arpa():
    arpa = phone_bigram_arpa(taiwanese_phone_sequences({"gua": 3, "tsha": 2, "sann": 1}))
    n1 = int(re.search(r"ngram 1=(\d+)", arpa).group(1))
    n2 = int(re.search(r"ngram 2=(\d+)", arpa).group(1))
    body1 = arpa.split("\\1-grams:\n")[1].split("\n\n")[0].splitlines()
    body2 = arpa.split("\\2-grams:\n")[1].split("\n\n")[0].splitlines()
    assert (len(body1), len(body2)) == (n1, n2)
    assert {"g", "ua", "c", "a", "s", "SIL", "<s>", "</s>"} <= {line.split()[1] for line in body1}
    # each history's probabilities sum to one
    rows: dict[str, float] = {}
    for line in body2:
        lp, a, _ = line.split()
        rows[a] = rows.get(a, 0.0) + 10 ** float(lp)
    assert all(abs(v - 1) < 1e-3 for v in rows.values())


def test_variant_readings():
    assert taiwanese_variant_words("kue") == [["g ei"]]       # Tsiang-tsiu ke
    assert taiwanese_variant_words("ji") == [["l i"]]         # jī / lī
    assert taiwanese_variant_words("sann") == [["s an"]]      # nasal vowel
    assert taiwanese_variant_words("gua") == []


# --- the real engine on real speech ------------------------------------------

def test_alignment_of_a_real_sentence(sphinx_engine, taiwanese_real):
    x, rate = read_pcm(taiwanese_real / "4.wav")
    syllables = ["gua", "khah", "siunn", "ma", "si", "tshu", "lai", "e", "kau", "a"]
    spans = align_syllables(sphinx_engine, x, rate, syllables)
    assert [s.text for s in spans] == syllables
    assert all(0.03 <= s.end - s.start <= 1.0 for s in spans)
    assert all(a.end <= b.start + 1e-9 for a, b in itertools.pairwise(spans))
    assert spans[-1].end <= x.size / rate + 0.01
    with pytest.raises(IvrError, match="no pronunciation"):
        align_syllables(sphinx_engine, x, rate, ["clinton"])


def test_phrase_test_is_split_and_honest(trials):
    for split in pe.SPLITS:
        ts = trials[split]
        ig = [t for t in ts if t.in_grammar]
        oog = [t for t in ts if not t.in_grammar]
        assert len(ig) >= 40 and len(oog) >= 60
        assert all(t.expected in t.grammar and len(t.grammar) == pe.GRAMMAR_SIZE for t in ig)
        assert all(t.clip.text not in t.grammar for t in oog)
        assert {"taiwanese", "mandarin", "noise", "cough", "clicks", "silence"} <= {t.clip.kind for t in oog}
    dev_src = {t.clip.source for t in trials["dev"] if t.clip.kind == "taiwanese"}
    test_src = {t.clip.source for t in trials["test"] if t.clip.kind == "taiwanese"}
    assert not dev_src & test_src  # no sentence feeds both halves
    # nor a Mandarin voice: the learned accept model is fitted on dev
    dev_spk = {pe.speaker_of(t.clip.source) for t in trials["dev"] if t.clip.kind == "mandarin"}
    test_spk = {pe.speaker_of(t.clip.source) for t in trials["test"] if t.clip.kind == "mandarin"}
    assert dev_spk and test_spk and not dev_spk & test_spk
    x, rate = pe.condition(trials["dev"][0].clip, "telephone", 0)
    assert rate == 8000 and x.dtype == np.int16


def test_non_speech_is_rejected(sphinx_engine, trials):
    rec = sphinx_engine.recognizer(16000)
    others = [t for t in trials["test"] if t.clip.kind in ("noise", "cough", "clicks", "silence")][:8]
    for t in others:
        tr = _decode(rec, t)
        assert tr.text == "" and tr.confidence == 0.0, (t.clip.kind, rec.last)
        assert rec.last.reason and not rec.last.accepted


def test_confidence_separates_right_answers_from_out_of_grammar(sphinx_engine, trials):
    """On real phrases: answers accepted are mostly right, Taiwanese phrases
    outside the grammar are mostly rejected, and the confidence (the learned
    accept model's probability) is a graded value, not 0.5 or 1."""
    assert sphinx_engine.accept_model is not None  # the shipped default
    rec = sphinx_engine.recognizer(16000)
    ig = [t for t in trials["dev"] if t.in_grammar][:30]
    oog = [t for t in trials["dev"] if not t.in_grammar and t.clip.kind == "taiwanese"][:30]
    right = wrong = 0
    right_conf, oog_conf = [], []
    for t in ig:
        tr = _decode(rec, t)
        right += tr.text == t.expected
        wrong += tr.text not in ("", t.expected)
        if rec.last.heard == t.expected:
            right_conf.append(rec.last.confidence)
            assert rec.last.features is not None and set(sphinx_engine.accept_model.features) <= set(rec.last.features)
    false_accepts = 0
    for t in oog:
        tr = _decode(rec, t)
        false_accepts += bool(tr.text)
        oog_conf.append(rec.last.confidence)
    assert right >= 15 and wrong <= 2, (right, wrong)          # measured 22 of these 30 (learned model)
    assert false_accepts <= 4, false_accepts                    # measured 1 of these 30
    assert np.mean(right_conf) > np.mean(oog_conf) + 0.2
    assert len({round(c, 2) for c in right_conf + oog_conf}) > 10


def test_runner_up_decode_leaves_the_call_alone(trials):
    """The second decode of a turn (the grammar without the winner) runs on a
    decoder of its own: the call's decoders, their cepstral mean and search,
    are as they were, and the next turn hears what it would have."""
    from ivr.asr import load_engine

    rec = load_engine("sphinx", record_features=True).recognizer(8000)
    plain = load_engine("sphinx").recognizer(8000)  # no runner-up decode
    t = next(t for t in trials["dev"] if t.in_grammar)
    for _ in range(2):  # the second turn starts from the mean the first one taught
        heard = _decode(rec, t, "telephone").text
        assert rec.last.features is not None and rec.last.features["runner_up"] >= 0, rec.last
        assert _decode(plain, t, "telephone").text == heard
        assert plain.decoder.get_cmn(False) == rec.decoder.get_cmn(False)
    model = plain.engine.accept_model
    assert plain.last.features is not None and ("runner_up" in plain.last.features) == ("runner_up" in model.features)
    assert rec.decoder.current_search() == rec._grammar and rec._second is not None
    assert rec._second.current_search() != rec._grammar  # the runner-up grammar lived elsewhere


def test_telephone_copy_decodes_at_8k(sphinx_engine, trials):
    """8 kHz μ-law telephone copies go in at 8 kHz, without resampling."""
    rec = sphinx_engine.recognizer(8000)
    ig = [t for t in trials["test"] if t.in_grammar][:12]
    right = wrong = 0
    for k, t in enumerate(ig):
        tr = _decode(rec, t, "telephone", k)
        right += tr.text == t.expected
        wrong += tr.text not in ("", t.expected)
    # measured on these 12: 6 right, 1 wrong, 5 re-asked (59.4 % right on all 64, learned model)
    assert right >= 4 and wrong <= 2, (right, wrong)


def test_long_speech_beyond_a_short_grammar_is_rejected(sphinx_engine, taiwanese_real):
    x, rate = read_pcm(taiwanese_real / "14.wav")  # 9.5 s sentence
    rec = sphinx_engine.recognizer(rate)
    rec.set_expected(["tsha u giah", "kua sit", "tsuan tsuan uan"], language="nan-TW")
    feed(rec, x, rate)
    tr = rec.finish()
    assert tr.text == "" and tr.confidence == 0.0 and rec.last.reason, rec.last
