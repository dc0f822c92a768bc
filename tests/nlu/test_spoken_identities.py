"""PINs, IDs and birth dates the way callers say them: one number reader
(ivr.nlu.numbers) for every kind."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.nlu.numbers import spell_digits


@pytest.mark.parametrize("text, length, expected", [
    ("四三二一", 4, "4321"), ("四三，二一", 4, "4321"), ("四三 二一", 4, "4321"), ("我的密碼是么兩三四", 4, "1234"),
    ("洞洞么么", 4, "0011"), ("嗯…五五六六喔", 4, "5566"), ("驗證碼三八一，九二零", 6, "381920"),
    ("零九一二，三四五，六七八", 10, "0912345678"), ("0912-345-678", 10, "0912345678"),
    ("２４６８", 4, "2468"),                   # full-width digits
])
def test_pins_and_numbers_said_in_groups(nlu, text, length, expected):
    assert nlu.extract("digits", text, min_len=length, max_len=length) == expected


@pytest.mark.parametrize("text", ["我等一下再打", "兩個", "一下"])
def test_words_with_numerals_are_not_pins(nlu, text):
    assert nlu.extract("digits", text, min_len=4, max_len=4) is None


@pytest.mark.parametrize("text", [
    "A一二三四五六七八九", "a，一二三，四五六，七八九", "英文字母A，數字是一二三四五六七八九", "大寫的A 123456789",
    "Alpha，一二三四五六七八九", "A，Apple的A，一二三 四五六 七八九", "A開頭，一二三四五六七八九",
    "欸，一二三，四五六，七八九",              # the letter's sound as a recogniser writes it
    "一零，一二三四五六七八九", "10123456789",   # the phone key code: 10 is A
    "那個，A一二 三四 五六 七八 九",
])
def test_taiwan_id_letter_said_every_way(nlu, text):
    assert nlu.extract("taiwan_id", text) == "A123456789"


def test_taiwan_id_filler_before_the_letter(nlu):
    assert nlu.extract("taiwan_id", "欸，F一三一一零四零九三") == "F131104093"   # 欸 is a filler here, F the letter
    assert nlu.extract("taiwan_id", "一一，一三一一零四零九三") is None        # 11 is B: checksum fails


@pytest.mark.parametrize("text, expected", [
    ("呃，七四年三月五號", dt.date(1985, 3, 5)), ("呃，七四年，呃，三月五號", dt.date(1985, 3, 5)),
    ("民國七十四年三月五日", dt.date(1985, 3, 5)), ("一九八五年三月五號", dt.date(1985, 3, 5)),
    ("民國七十一年的三月五號", dt.date(1982, 3, 5)), ("我是一九八五年三月五號出生的", dt.date(1985, 3, 5)),
    ("西元一九八五年，三月五號", dt.date(1985, 3, 5)), ("零七四零三一五", dt.date(1985, 3, 15)),
    ("19850315", dt.date(1985, 3, 15)),
])
def test_birth_dates_with_fillers_and_eras(nlu, text, expected):
    assert nlu.extract("date", text) == expected


def test_spell_digits_leaves_values_and_words():
    assert spell_digits("兩千五百元") == "兩千五百元"
    assert spell_digits("三月五號") == "三月五號"
    assert spell_digits("等一下") == "等一下"
    assert spell_digits("二七 七三 三") == "27733"
