"""Taiwanese number words in the pocketsphinx grammar: a nan-TW digit/PIN/date
step gets a loop grammar over every reading (Taiwanese literary and colloquial,
Mandarin-borrowed), and on real speech it never turns non-numbers into digits."""
from __future__ import annotations

import pytest

from ivr.asr import phrase_eval as pe
from ivr.asr.taiwanese_numbers import (
    TAILO_READINGS,
    is_number_vocabulary,
    loop_jsgf,
    token_readings,
    vocabulary,
)

from .helpers import feed

NAN_DIGITS = list("零一二三四五六七八九空兩")  # Nlu.expected_phrases("digits", "nan-TW")


def test_the_readings_callers_use_are_all_there():
    want = {"一": {"it", "tsit"}, "二": {"ji", "li"}, "兩": {"nng"}, "三": {"sann", "sam"}, "四": {"si", "su"},
            "五": {"goo", "ngoo"}, "六": {"lak", "liok"}, "七": {"tshit"}, "八": {"pat", "peh"},
            "九": {"kau", "kiu"}, "零": {"khong", "ling"}, "十": {"tsap", "sip"}}
    for han, readings in want.items():
        assert readings <= set(TAILO_READINGS[han]), han


def test_number_vocabularies_are_told_from_phrase_menus():
    assert is_number_vocabulary(NAN_DIGITS)
    assert is_number_vocabulary(NAN_DIGITS + ["十", "年", "月", "號", "民國", "今仔日"])  # a date step
    assert not is_number_vocabulary(["查餘額", "重設密碼", "掛失"])
    assert not is_number_vocabulary(NAN_DIGITS + ["我欲查餘額"])  # a long phrase: a menu with numbers in it
    assert not is_number_vocabulary(list("一二三"))


def test_token_readings_add_mandarin_borrowings_and_answer_in_han():
    taiwanese = lambda t: [f"tw:{t}"]  # noqa: E731  (stand-ins for the lexicon's two pronouncers)
    mandarin = lambda t: [f"cmn:{t}"]  # noqa: E731
    got = token_readings("一", taiwanese, mandarin)
    assert got == [("一", ["tw:it"]), ("一", ["tw:tsit"]), ("一", ["cmn:一"])]
    assert token_readings("么", taiwanese, mandarin) == [("一", ["cmn:么"])]
    assert token_readings("年", taiwanese, mandarin) == [("年", ["tw:ni"])]  # units: Taiwanese only
    assert "么" in vocabulary(NAN_DIGITS)


def test_loop_grammar_is_one_or_more_tokens_or_one_decoy():
    g = loop_jsgf(["n1", "n2"], ["d1"])
    assert "<n> = n1 | n2;" in g and "public <turn> = <n>+ | d1;" in g


@pytest.fixture(scope="module")
def number_rec(sphinx_engine):
    rec = sphinx_engine.recognizer(8000)
    rec.set_expected(NAN_DIGITS, language="nan-TW")
    yield rec
    rec.close()


def test_a_taiwanese_digit_step_decodes_with_the_number_loop(sphinx_engine, number_rec):
    assert number_rec.decoder is number_rec._number_decoder
    readings = set(number_rec._phrases)
    assert set("零一二三四五六七八九兩") <= readings
    # the same recognizer goes back to its phrase grammar for the next (menu) step
    number_rec.set_expected(["查餘額", "重設密碼", "掛失卡片"], language="nan-TW")
    assert number_rec.decoder is number_rec._phrase_decoder
    number_rec.set_expected(NAN_DIGITS, language="nan-TW")
    mandarin = sphinx_engine.recognizer(8000)
    mandarin.set_expected(NAN_DIGITS, language="zh-TW")  # the loop is Taiwanese only
    assert mandarin.decoder is mandarin._phrase_decoder


def test_real_speech_that_is_no_number_never_comes_out_as_digits(sphinx_engine, shared_dir, number_rec):
    """Non-number phrases cut from the real sentences, and line noise, at a digit step:
    a guess here would be a PIN sent to the bank (bench/taiwanese_numbers.py measures more)."""
    from ivr.asr.number_eval import number_clips

    data = shared_dir / "data" / "taiwanese-real"
    if not data.is_dir():
        pytest.skip(f"needs real Taiwanese recordings in {data}")
    clips = number_clips(sphinx_engine, data, strings=0)
    others = clips["others"][::4]
    assert len(clips["words"]) >= 30 and len(others) >= 20
    accepted = []
    for k, c in enumerate(others):
        x, rate = pe.condition(pe.Clip("", "x", c.source, c.samples), "telephone", k)
        rec = number_rec if rate == 8000 else sphinx_engine.recognizer(rate)
        rec.set_expected(NAN_DIGITS, language="nan-TW")
        feed(rec, x, rate)
        if rec.finish().text:
            accepted.append(c.source)
    assert accepted == []
