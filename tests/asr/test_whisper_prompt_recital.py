"""Whisper reading its base prompt back on a noisy line (issue 11): transcripts
seen on the 10 dB audio set are no answer; callers' own words that share a
piece with the prompt stay."""
from __future__ import annotations

import pytest

from ivr.asr.whisper import BASE_PROMPT, _answer
from ivr.asr.whisper_text import recites_prompt


@pytest.mark.parametrize("text", [
    "以下是臺灣國語",           # heard for 要齁，麻煩你了 at 10 dB
    "臺灣國語的客服電話",       # for 蛤，我要聽台語
    "我認為是臺灣的客服電話",   # for 欸，可以再說一遍嗎 at 5 dB
    "中國人的客服電話",
    "那是臺灣國語",
    "以下是台湾国语的客服电话",  # Simplified, as Whisper writes unprompted
])
def test_prompt_read_back_is_no_answer(text):
    assert recites_prompt(text, BASE_PROMPT)
    assert _answer(text, 2.0, None) == ""


@pytest.mark.parametrize("text", [
    "台灣國語", "說台灣國語", "我要講國語", "請幫我轉客服電話", "以下是我的問題", "我要找客服",
    "臺灣國語要找證人",  # half prompt, half words: left to the NLU
])
def test_callers_words_stay(text):
    assert not recites_prompt(text, BASE_PROMPT)
    assert _answer(text, 2.0, None) != ""


LANGUAGE_HINTS = ["國語", "華語", "中文", "臺語", "台語", "閩南語", "我要講台語", "我要講國語"]
MENU_HINTS = ["查詢餘額", "我要投訴", "人工", "專人", "客服", "掛失", "密碼"]


@pytest.mark.parametrize("text, hints", [
    ("國語、華語、臺語", LANGUAGE_HINTS),                 # re-voiced callers (bench/scenarios_revoiced.py)
    ("我要投訴、人工、專人、客服", MENU_HINTS),
    ("我不要跟機器講話、請幫我轉接客服、轉", ["我不要跟機器講話", "請幫我轉接客服", "轉人工"]),
])
def test_the_hint_list_read_back_is_no_answer(text, hints):
    from ivr.asr.whisper_text import recites_hints

    assert recites_hints(text, hints)


@pytest.mark.parametrize("text, hints", [
    ("國語", LANGUAGE_HINTS), ("國語、國語", LANGUAGE_HINTS), ("人工、專人", MENU_HINTS),
    ("我要投訴", MENU_HINTS),
    ("一、二、三、四", ["一", "二", "三", "四"]),          # digits said one by one, as Whisper writes them
    ("十一、二十、三十", ["十一", "二十", "三十"]),
])
def test_a_caller_naming_one_thing_or_reading_digits_is_heard(text, hints):
    from ivr.asr.whisper_text import recites_hints

    assert not recites_hints(text, hints)
