"""Whisper decoding loops (issue 11): a digit step's hint list made Whisper base
recite it (二、八、四、六、七、八、四、六…); such a transcript is decoded again
without the hints, and a loop that stays is no answer, never a value."""
from __future__ import annotations

import pytest

from ivr.asr.whisper import BASE_PROMPT, runaway

from .helpers import read_pcm

DIGITS = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"]


@pytest.mark.parametrize(("text", "seconds"), [
    ("二、八、四、六、七、八、四、六、七、八、四、六、七、八、", 1.6),  # digits past what 1.6 s can hold
    ("行。行。行。行。行。行", 1.0),
    ("以下是臺灣、以下是臺灣、以下是臺灣、以下是臺灣", 3.0),
    ("日、日、日、日、日、日、日、日", 3.0),
])
def test_loops_are_runaway(text, seconds):
    assert runaway(text, seconds)


@pytest.mark.parametrize(("text", "seconds"), [
    ("七、三、四、六、這樣。", 2.0),
    ("八 八 八 八", 2.0),           # a PIN of one digit, said slowly
    ("0912345678", 3.0),
    ("1111", 1.5),
    ("我的身份證字號是T、189817299。", 4.0),
    ("請問我的帳戶還有多少錢", 2.0),
])
def test_real_answers_are_not_runaway(text, seconds):
    assert not runaway(text, seconds)


def _with_scripted_generate(monkeypatch, engine, answers):
    """Replace the decoder's text (not the encoder) with scripted answers; record the prompts."""
    prompts: list[str] = []

    def generate(encoded, n, prompt):
        prompts.append(prompt)
        return answers[min(len(prompts), len(answers)) - 1], -0.2, 0.01

    monkeypatch.setattr(engine, "_generate", generate)
    return prompts


def test_a_loop_is_decoded_again_without_hints(whisper_engine, mandarin_real, monkeypatch):
    audio, rate = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")  # 4.3 s, 16 kHz
    assert rate == 16000
    prompts = _with_scripted_generate(monkeypatch, whisper_engine,
                                      ["二、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八、七、八",
                                       "二八七六"])
    result = whisper_engine.recognize(audio, DIGITS)
    assert result.text == "二八七六"
    assert len(prompts) == 2 and "二、三" in prompts[0] and prompts[1] == BASE_PROMPT


def test_a_loop_that_stays_is_no_answer(whisper_engine, mandarin_real, monkeypatch):
    x, _ = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")
    prompts = _with_scripted_generate(monkeypatch, whisper_engine, ["行。行。行。行。行。行。行。行。"])
    result = whisper_engine.recognize(x, ["是", "不是", "好", "行"])
    assert result.text == "" and result.confidence == 0.0 and not result.alternatives
    assert len(prompts) == 2


def test_a_free_speech_loop_is_no_answer(whisper_engine, mandarin_real, monkeypatch):
    x, _ = read_pcm(mandarin_real / "wenet_BAC009S0724W0121.wav")
    prompts = _with_scripted_generate(monkeypatch, whisper_engine, ["卡,卡,卡,卡,卡,卡,卡"])
    assert whisper_engine.recognize(x, None).text == ""
    assert prompts == [BASE_PROMPT]  # nothing to drop: no second decode
