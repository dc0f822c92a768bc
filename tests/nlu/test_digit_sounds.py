"""Kinds of number failure Whisper base makes on spoken numbers (issue 11, number
kinds of the understanding set's dev split): a digit written as another character
of the same sound, a number's syllable written as a word beside Arabic digits, a
value cut by a separator, and pieces of a value that did not parse. Each kind is
either read back or made into no value (the step asks again): never a guess."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.nlu.digit_sounds import read_by_ear, sounds_like_digit, with_digit_sounds


@pytest.mark.parametrize(("ch", "digit"), [
    ("鈴", "零"), ("林", "零"), ("伊", "一"), ("衣", "一"), ("兒", "二"), ("死", "四"), ("午", "五"),
    ("留", "六"), ("流", "六"), ("起", "七"), ("期", "七"), ("吧", "八"), ("酒", "九"), ("久", "九"),
    ("東", "洞"), ("要", "么"),
])
def test_a_character_sounding_like_a_digit(ch, digit):
    assert sounds_like_digit(ch) == digit


@pytest.mark.parametrize("ch", ["是", "十", "事", "幾", "年", "號", "七", "A", "3", "山"])
def test_numerals_units_and_retroflex_syllables_are_not_sound_alikes(ch):
    # 是/十/事 (shi) are not 四 (si): the sh/s blur the intent matcher allows is not allowed here
    assert sounds_like_digit(ch) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("東午二六七要對", "洞五二六七么對"),        # glued into the run at both ends
    ("那八幾八洞洞起", "那八七八洞洞七"),        # 幾 (ji) squeezed between two digits is 七
    ("零、伊、九", "零、一、九"),                # between numerals, separators around it
    ("四三二一，要", "四三二一，要"),            # at the run's edge behind a separator: a word
    ("我要繳費", "我要繳費"),                    # no numeral: nothing is a digit
    ("所以是2002", "所以是2002"),
    ("六十幾年", "六十幾年"),                    # 十幾 is "ten-some", never 十七
    ("民國起11年的3月5號", "民國七十一年的3月5號"),  # the tens word beside an Arabic 1x
    ("民國起10年", "民國七十年"),
])
def test_sound_alikes_are_read_only_inside_a_run_of_digits(text, expected):
    assert with_digit_sounds(text) == expected


def test_amounts_keep_yao_as_a_word():
    assert with_digit_sounds("要一千", allow_yao=False) == "要一千"
    assert with_digit_sounds("要一千") == "么一千"


def test_glued_tells_a_syllable_of_the_number_from_a_neighbour():
    assert read_by_ear("民國起11年")[1] is True
    assert read_by_ear("零、伊、九")[1] is False


@pytest.mark.parametrize(("text", "length", "expected"), [
    ("那八幾八洞洞起", 6, "878007"),
    ("東午二六七要對", 6, "052671"),
    ("嚴重馬鈴九九二八四六六二五", 10, "0992846625"),
    ("四三二一，要", 4, "4321"),           # valid as written: the caller's words win
    ("嚴重馬鈴、九、九、八、四", 5, None),   # 鈴 only beside the run: not read, 4 digits is no PIN
])
def test_digit_step_reads_sound_alikes_when_the_plain_reading_fails(nlu, text, length, expected):
    assert nlu.extract("digits", text, min_len=length, max_len=length) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("民國起11年的3月5號", dt.date(1982, 3, 5)),     # plain 民國11年 skipped a syllable of the year
    ("生日是留一年七月二十五號", dt.date(1972, 7, 25)),
    ("生日死留一年七月二十五號", None),              # 四六一年 is no ROC year: ask again
    ("民國461年7月25號", None),
    ("我的生日喔，六十幾年二月二十四號", None),       # 六十幾 is not a year
    ("我生日是三月十五號，民國七十四年", dt.date(1985, 3, 15)),  # the year said last
    ("三月十五號，1985年", dt.date(1985, 3, 15)),
    ("三月十五號", None),                             # no year, no call date: none
    ("呃，七四年三月五號", dt.date(1985, 3, 5)),       # ROC year digit by digit, after a filler
])
def test_dates_heard_by_ear(nlu, text, expected):
    assert nlu.extract("date", text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("腳1200、30塊錢", 1230),             # 一千兩百、三十 written apart: one amount
    ("兩千、五百元", 2500),
    ("三千五、百元", 3500),               # the last unit cut off by a separator
    ("1,000,000元", 1_000_000),
    ("十二萬、千五百元", None),           # 120000千500: 500 is not what was said
    ("十、二、千、五、百、元", None),     # pieces that make no number: not 10
    ("十二千五百元", None),               # units out of order: not 2510
    ("二十五百元", None),
    ("臺灣,一千,兩千,兩千", None),        # three numbers, not 100020002000
    ("1000,2000元", 2000),                # 1000,2000 is no thousands group: not 10002000
    ("五百、八百", None),
    ("我要繳一千兩百三十塊", 1230),
    ("而一萬兩千五百塊", 12500),           # 而 is the filler 呃 as Whisper writes it, not 二
    ("二、一萬兩千五百塊", 12500),         # ... or 二 itself: a lone digit before is no piece
    ("以往兩千五百塊錢", 12500),           # 萬 heard as 往 after its 一
    ("臺灣兩千五百塊錢哦", None),          # ... with its multiplier lost: not 2500
    ("三萬五啦", 35000),
])
def test_amount_is_one_whole_value_or_none(nlu, text, expected):
    assert nlu.extract("amount", text) == expected
