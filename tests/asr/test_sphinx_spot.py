"""The pocketsphinx keyword spotter for closed-set steps (issue 14), on the real
model: synthesized menu requests are decided right, out-of-set speech and
noise are rejected; the decision rule itself on hand-made detections."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivr.asr.sphinx_spot import MARGIN, THRESHOLD, Spot, core, decide, keywords

from .helpers import feed, read_pcm

FIXTURES = Path(__file__).resolve().parents[2] / "audio_fixtures" / "audio"
MENU = ("check_balance", "reset_password", "report_card_loss", "technical_support", "complaint", "talk_to_agent")


@pytest.fixture(scope="module")
def nlu():
    from ivr.nlu import Nlu

    return Nlu.load()


@pytest.fixture(scope="module")
def spot_engine():
    from ivr.asr.sphinx_spot import load_spotter
    from ivr.errors import ModelMissingError

    try:
        return load_spotter()
    except (ModelMissingError, ImportError) as e:
        pytest.skip(f"pocketsphinx-zh unavailable: {e}")


@pytest.fixture(scope="module")
def menu_spotter(spot_engine, nlu):
    """A spotter per sample rate at the menu, each keyword labelled with the answer the NLU accepts for it."""
    def label(keyword: str) -> str | None:
        u = nlu.understand("intent", keyword, "zh-TW", candidates=list(MENU))
        return str(u.value) if u.outcome == "accept" and u.value is not None else None

    recs = {}

    def make(rate: int = 8000):
        if rate not in recs:
            rec = spot_engine.recognizer(rate)
            rec.set_expected(nlu.expected_phrases(list(MENU), "zh-TW"), "zh-TW", label=label)
            recs[rate] = rec
        return recs[rate]
    return make


# ---------------------------------------------------------------- the rule

def test_core_strips_function_words_at_the_edges_only():
    assert core("我要查詢餘額") == "查詢餘額"
    assert core("可以幫我看一下餘額嗎") == "看一下餘額"
    assert core("查餘額") == "查餘額"
    assert core("我要") == "我要"  # never to nothing


def test_keywords_hold_phrases_cores_and_words_but_no_function_words():
    words = {"餘額": "", "查詢": "", "我要": "", "一下": "", "帳戶": ""}
    keys = keywords(["我要查詢餘額", "查一下帳戶"], words)
    assert {"我要查詢餘額", "查詢餘額", "餘額", "查詢", "查一下帳戶", "帳戶"} <= set(keys)
    assert "我要" not in keys and "一下" not in keys
    assert keywords(["OK", "123"], words) == []  # no Han characters: nothing to spot


def _spot(keyword, label, score, start=10, end=60):
    return Spot(keyword, label, start, end, score)


def test_decide_accepts_a_clear_best_and_rejects_the_rest():
    clear = decide([_spot("查餘額", "check_balance", THRESHOLD + 5),
                    _spot("掛失", "report_card_loss", THRESHOLD + 5 - MARGIN - 1)])
    assert clear.accepted and clear.text == "查餘額" and clear.label == "check_balance"
    assert 0.5 < clear.confidence < 1.0
    # same answer twice is no rival
    same = decide([_spot("查餘額", "check_balance", THRESHOLD + 1), _spot("餘額", "check_balance", THRESHOLD)])
    assert same.accepted and same.margin is None
    weak = decide([_spot("查餘額", "check_balance", THRESHOLD - 0.1)])
    assert not weak.accepted and weak.reason == "below threshold" and weak.text == "" and weak.confidence == 0.0
    close = decide([_spot("查餘額", "check_balance", THRESHOLD + 5),
                    _spot("掛失", "report_card_loss", THRESHOLD + 5 - MARGIN + 1)])
    assert not close.accepted and close.reason == "a rival answer is close"
    unlabelled = decide([_spot("服務", None, THRESHOLD + 20), _spot("客訴", "complaint", THRESHOLD - 20)])
    assert not unlabelled.accepted and unlabelled.reason == "keyword without an answer"
    # a keyword meaning nothing on its own is no rival (金額 heard in 查餘額)
    inside = decide([_spot("查餘額", "check_balance", THRESHOLD + 5), _spot("金額", None, THRESHOLD + 4)])
    assert inside.accepted and inside.label == "check_balance"
    assert decide([]).reason == "no keyword"


# ---------------------------------------------------------------- real model

@pytest.mark.parametrize("clip, want", [
    ("zh_password.wav", "reset_password"),        # 我忘記密碼了
    ("zh_tech.wav", "technical_support"),         # 網路銀行無法登入
    ("zh_card_loss.wav", "report_card_loss"),     # 我的金融卡不見了
    ("zh_balance.wav", "check_balance"),          # 請問我的帳戶還有多少錢 (a sentence around the keywords)
    ("zh_complaint_detail.wav", "complaint"),     # 你們的服務態度很差，我等了很久
    ("zh_agent.wav", "talk_to_agent"),            # 請幫我轉接客服人員
])
def test_menu_request_is_spotted_with_its_answer(menu_spotter, clip, want):
    x, rate = read_pcm(FIXTURES / clip)
    rec = menu_spotter(rate)
    feed(rec, x, rate)
    t = rec.finish()
    assert t.is_final and t.engine == "sphinx-spot"
    assert rec.last is not None and rec.last.accepted, rec.last
    assert rec.last.label == want and t.text and t.confidence > 0.5


def test_wideband_audio_is_resampled(menu_spotter):
    x, rate = read_pcm(FIXTURES / "zh_balance_wide.wav")
    assert rate == 16000
    rec = menu_spotter(rate)
    feed(rec, x, rate)
    rec.finish()
    assert rec.last is not None and rec.last.label == "check_balance" and rec.last.accepted


@pytest.mark.parametrize("clip", ["zh_offtopic.wav", "zh_goodbye.wav", "zh_lang_nan.wav", "zh_mumble.wav",
                                  "zh_digits.wav", "zh_short_en.wav"])
def test_out_of_set_speech_is_rejected(menu_spotter, clip):
    x, rate = read_pcm(FIXTURES / clip)
    rec = menu_spotter(rate)
    feed(rec, x, rate)
    t = rec.finish()
    assert t.text == "" and t.confidence == 0.0 and rec.last is not None and not rec.last.accepted


def test_real_mandarin_that_is_no_request_is_rejected(menu_spotter, mandarin_real):
    for wav in sorted(mandarin_real.glob("*.wav")):
        x, rate = read_pcm(wav)
        rec = menu_spotter(rate)
        feed(rec, x, rate)
        assert rec.finish().text == "", (wav.name, rec.last)


def test_noise_and_silence_are_rejected(menu_spotter):
    rng = np.random.default_rng(7)
    rec = menu_spotter(8000)
    for x in (rng.normal(0, 3000, 16000), np.zeros(16000), rng.normal(0, 300, 8000)):
        feed(rec, x.astype(np.int16), 8000)
        assert rec.finish().text == ""
    assert rec.finish().text == ""  # no audio at all


def test_partial_answers_while_the_caller_is_still_on_the_line(menu_spotter):
    x, rate = read_pcm(FIXTURES / "zh_password.wav")
    rec = menu_spotter(rate)
    assert rec.partial() is None  # nothing heard yet
    feed(rec, x, rate)
    p = rec.partial()
    assert p is not None and not p.is_final and p.text
    assert rec.finish().text == p.text


def test_no_phrases_or_taiwanese_means_nothing_is_spotted(spot_engine):
    x, rate = read_pcm(FIXTURES / "zh_password.wav")
    rec = spot_engine.recognizer(rate)
    for phrases, language in ((None, "zh-TW"), (["忘記密碼"], "nan-TW")):
        rec.set_expected(phrases, language)
        feed(rec, x, rate)
        assert rec.finish().text == ""
