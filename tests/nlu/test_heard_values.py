"""How Whisper writes spoken identities and dates (issue 11 audio set). A Taiwan ID
letter said as its sound and written by Whisper in other characters
of the same reading (issue 11 audio set: 欸姆 for M came back as 艾姆 and 埃姆)."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize(("text", "expected"), [
    ("身份長艾姆,170669707", "M170669707"),
    ("身份長埃姆170669707", "M170669707"),
    ("省份長艾姆,一七零六六九七零七。", "M170669707"),
    ("埃洛開頭177150719", "L177150719"),
    ("艾斯，一二三四五六七八九", None),   # S123456789 fails the checksum: no ID, not a guess
])
def test_multi_syllable_letter_sounds_match_by_reading(nlu, text, expected):
    assert nlu.extract("taiwan_id", text) == expected


def test_a_one_syllable_sound_in_other_characters_is_not_a_letter(nlu):
    # 伊 is E; 以 (same reading) opens many sentences and is the digit 一 in a digit run
    assert nlu.extract("taiwan_id", "以後170669707") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("就是1987年,而6月15號", "1987-06-15"),     # 呃 written as 而 between year and month
    ("民國78年，呃，六月四號", "1989-06-04"),
])
def test_a_filler_after_the_year_keeps_the_date(nlu, text, expected):
    assert str(nlu.extract("date", text)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("金額是15萬塊", 150_000),       # was read as 15
    ("1.5萬元", 15_000),
    ("12萬3000元", 123_000),         # was read as 3000
    ("3萬5千塊", 35_000),
    ("2千5", 2500),
    ("1,500萬", 15_000_000),
    ("5萬零200元", 50_200),          # was read as 200: 零 says the next part is not one unit lower
    ("2千零5塊", 2005),
    ("3萬5", 35_000),
])
def test_arabic_digits_with_chinese_units_are_one_amount(nlu, text, expected):
    """Whisper writes amounts as 15萬塊: the unit multiplies, it is not dropped."""
    assert nlu.extract("amount", text) == expected


@pytest.mark.parametrize(("text", "expected"), [("1999年", "1999年"), ("1.2345萬", "12345"), ("1.23456萬", "1 23456萬")])
def test_only_whole_values_fold(nlu, text, expected):
    assert nlu.normalize(text) == expected
