"""The Tâi-lô -> Mandarin phone table learned from real Taiwanese speech, the
per-channel initial cepstral mean, and the decoy margin of the sphinx engine."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from ivr.asr import phone_learning as pl
from ivr.asr import phrase_eval as pe
from ivr.asr import tailo_learned
from ivr.asr.confidence import turn_score
from ivr.asr.pronounce import tailo_phones
from ivr.asr.sphinx import CMNINIT, SphinxEngine
from ivr.audio.wav import read_wav
from ivr.errors import IvrError

from .helpers import feed


def test_candidates_start_with_the_hand_written_reading_and_are_distinct():
    for syllable in ("tsiah", "gua", "oo", "sann", "ti", "kue", "ing", "lang", "m"):
        cands = pl.candidates(syllable)
        assert cands[0][3] == tailo_phones(syllable)
        keys = [" ".join(c[3]) for c in cands]
        assert len(keys) == len(set(keys)) and len(keys) > 1, syllable
    # Mandarin has only j/q/x before i: no "zh i..." rendering is offered
    assert all(not (c[3][0] in ("zh", "ch", "sh") and c[3][1].startswith("i")) for c in pl.candidates("tsiu"))
    assert ["j", "ie"] in [c[3] for c in pl.candidates("tsiah")]  # palatalised like the rules


def test_learn_keeps_clear_winners_only_and_backs_off_to_the_bare_final():
    votes = pl.Votes()
    votes.initials["l"] = Counter({"d": 8, "l": 2})      # clear: l -> d
    votes.initials["k"] = Counter({"g": 9, "k": 1})      # the hand-written one wins: nothing to learn
    votes.initials["j"] = Counter({"l": 2})              # too few votes
    votes.finals["o"] = Counter({("e",): 6, ("o",): 2})
    votes.finals["oh"] = Counter({("e",): 1})            # rare: backs off to "o"'s votes
    votes.finals["a"] = Counter({("a",): 5, ("e",): 4})  # default wins
    inis, fins = pl.learn(votes)
    assert inis == {"l": "d"}
    assert fins == {"o": ("e",), "oh": ("e",)}


def test_learned_phones_substitute_initial_and_final():
    inis, fins = {"l": "d"}, {"o": ("e",), "ang": ("an",)}
    assert pl.learned_phones("lo", inis, fins) == ["d", "e"]
    assert pl.learned_phones("li", inis, fins) == ["d", "i"]          # final kept from the rules
    assert pl.learned_phones("tsiang", inis, {"iang": ("ang",)}) == ["z", "ang"]
    assert pl.learned_phones("ka", inis, fins) == tailo_phones("ka")   # nothing learned: the rules
    assert pl.learned_phones("o", inis, fins) == ["es", "e"]           # zero initial gets an onset


def test_committed_table_uses_only_model_phones(sphinx_engine):
    assert tailo_learned.FINALS, "the learned table is empty: rerun bench/taiwanese_learn.py --write"
    for phones in tailo_learned.FINALS.values():
        assert all(p in sphinx_engine.phone_set for p in phones)
    assert all(p in sphinx_engine.phone_set for p in tailo_learned.INITIALS.values())
    # every syllable of the real sentences still has a reading
    for syllable in ("gua", "tsiah", "oo", "lang", "tshut", "m", "hiong"):
        assert pl.learned_syllable_phones(syllable)


def test_voting_on_a_real_sentence(sphinx_engine, shared_dir):
    data = shared_dir / "data" / "taiwanese-real"
    if not data.is_dir():
        pytest.skip(f"needs real Taiwanese recordings in {data}")
    sentences = dict(pe.read_sentences(data))
    x, rate = read_wav(data / "17.wav")
    votes = pl.Votes()
    assert pl.vote_sentence(sphinx_engine, x, rate, sentences["17"], votes)
    assert votes.syllables == len(sentences["17"]) == sum(sum(c.values()) for c in votes.finals.values())
    assert sum(sum(c.values()) for c in votes.initials.values()) == sum(1 for s in sentences["17"]
                                                                        if pl.split_tailo(s)[0])


def test_engine_options_are_checked_and_used(sphinx_engine):
    with pytest.raises(IvrError, match="taiwanese_phones"):
        SphinxEngine(sphinx_engine.model_dir, taiwanese_phones="guess")
    assert sphinx_engine.pronunciations("gua lo", "nan-TW")[0] == ["g ua", "l o"]
    learned = SphinxEngine(sphinx_engine.model_dir, taiwanese_phones="both", n_decoys=0, cmninit=True)
    readings = learned.pronunciations("gua lo", "nan-TW")
    assert readings[0] == ["g ua", "l o"] and readings[1] == [" ".join(pl.learned_syllable_phones("gua")),
                                                             " ".join(pl.learned_syllable_phones("lo"))]
    assert learned.cmninit_for(8000) == CMNINIT["telephone"] != learned.cmninit_for(16000)
    assert all(len(v.split(",")) == 13 for v in CMNINIT.values())
    assert sphinx_engine.cmninit_for(8000) == CMNINIT["telephone"]  # on by default
    own = SphinxEngine(sphinx_engine.model_dir, n_decoys=0, cmninit=False)
    assert own.cmninit_for(8000) is None and own.model_cmninit().startswith("54")


def test_restart_cmn_puts_back_the_initial_mean(sphinx_engine):
    rec = sphinx_engine.recognizer(8000)
    rec.set_expected(["gua beh tsa", "sin iong khah"], language="nan-TW")
    rng = np.random.default_rng(0)
    feed(rec, rng.normal(0, 2000, 8000).astype(np.int16), 8000)
    rec.finish()
    moved = [float(v) for v in rec.decoder.get_cmn(False).split(",")]
    rec.restart_cmn()
    back = [float(v) for v in rec.decoder.get_cmn(False).split(",")]
    want = [float(v) for v in CMNINIT["telephone"].split(",")]
    assert np.allclose(back, want, atol=0.01) and not np.allclose(moved, want, atol=0.01)


def test_turn_score_weighs_cohort_margin_and_pace():
    assert turn_score(-5.0, None, 100, 10, 2.0, 20.0, 10.0) == -5.0          # typical pace, no cohort
    assert turn_score(-5.0, 3.0, 100, 10, 2.0, 0.0, 10.0) == 1.0             # + 2 x margin
    slow = turn_score(0.0, 0.0, 200, 10, 0.0, 20.0, 10.0)
    fast = turn_score(0.0, 0.0, 50, 10, 0.0, 20.0, 10.0)
    assert slow == pytest.approx(fast) == pytest.approx(-20.0 * np.log(2))  # twice off either way
    assert turn_score(1.0, None, 0, 0, 2.0, 20.0) == 1.0                     # nothing to pace


def test_decoy_margin_is_reported_and_lets_a_near_phrase_through(sphinx_engine, shared_dir):
    data = shared_dir / "data"
    if not (data / "taiwanese-real").is_dir():
        pytest.skip(f"needs real Taiwanese recordings in {data / 'taiwanese-real'}")
    trials = [t for t in pe.build(sphinx_engine, data)["dev"] if t.in_grammar][:20]
    # the decoy margin is a check of the hand-set rule (the learned model weighs the margin itself)
    strict = SphinxEngine(sphinx_engine.model_dir, decoy_margin=0.0, accept="calibration")
    lenient = SphinxEngine(sphinx_engine.model_dir, decoy_margin=1e9, accept="calibration")
    strict_rec, lenient_rec = strict.recognizer(16000), lenient.recognizer(16000)
    beaten = 0
    for t in trials:
        out = []
        for rec in (strict_rec, lenient_rec):
            rec.set_expected(list(t.grammar), language="nan-TW")
            feed(rec, t.clip.samples, pe.RATE)
            rec.finish()
            out.append(rec.last)
        hard, loose = out
        if hard.decoy_margin is not None and hard.decoy_margin < 0:
            beaten += 1
            # no margin rejects it; an unlimited margin judges the best phrase on its llr
            assert hard.reason and loose.heard in t.grammar and loose.llr is not None
    assert beaten, "no decoy won on 20 real phrases: the margin path is untested"
