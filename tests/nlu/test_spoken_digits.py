"""Digits read one by one, written the way Whisper writes them (一、二、三、四)."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.nlu.numbers import join_spoken_digits

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize("text", [
    "一、二、三、四", "一 二 三 四", "1、2、3、4", "一，二，三，四", "一,二,三,四", "么兩三四",
    "么、兩、三、四", "1 2 3 4", "我的密碼是一、二、三、四。", "嗯，一、二、三、四",
])
def test_separated_digits_are_one_digit_string(nlu, text):
    assert nlu.extract("digits", text, min_len=4, max_len=4) == "1234"


def test_phone_number_read_digit_by_digit(nlu):
    assert nlu.extract("digits", "零、九、一、二、三、四、五、六、七、八") == "0912345678"


@pytest.mark.parametrize("text", [
    "A、1、2、3、4、5、6、7、8、9", "A、一、二、三、四、五、六、七、八、九",
    "A 一 二 三 四 五 六 七 八 九", "欸，一、二、三、四、五、六、七、八、九",
])
def test_taiwan_id_with_separated_digits(nlu, text):
    assert nlu.extract("taiwan_id", text) == "A123456789"


@pytest.mark.parametrize("text, expected", [
    ("一千兩百", 1200), ("一千兩百元", 1200), ("三萬五", 35000), ("五百塊", 500),
])
def test_amounts_are_not_split(nlu, text, expected):
    assert nlu.extract("amount", text) == expected


@pytest.mark.parametrize("text, expected", [
    ("十一月二十五號", dt.date(2026, 11, 25)), ("三月五號", dt.date(2026, 3, 5)),
    ("1990 1 2", dt.date(1990, 1, 2)), ("民國七十九年三月五日", dt.date(1990, 3, 5)),
])
def test_dates_are_not_glued(nlu, text, expected):
    assert nlu.extract("date", text, today=TODAY) == expected


@pytest.mark.parametrize("text, expected", [
    ("一、二、三", "一二三"),
    ("1 2 3", "123"),
    ("一千、兩百", "一千、兩百"),      # values with units stay apart
    ("十一、二十", "十一、二十"),
    ("1990 1 2", "1990 1 2"),          # two lone digits apart by a space only: a date's month and day
    ("空 洞", "空 洞"),                # words, not zeros
])
def test_join_spoken_digits(text, expected):
    assert join_spoken_digits(text) == expected


def test_words_with_numerals_survive(nlu):
    assert nlu.normalize("等一下") == "等一下"
    assert nlu.extract("digits", "我等一下再打") is None


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("taiwan_id", "我的身份證字號是T、以89817299。", "T189817299"),
    ("digits", "以二三四", "1234"),
])
def test_yi_written_as_yi3_opens_a_digit_string(nlu, kind, text, expected):
    """Whisper writes a leading 一 of a digit string as 以 (issue 11 audio set)."""
    assert nlu.extract(kind, text) == expected


@pytest.mark.parametrize(("text", "expected"), [("可以12", "12"), ("以後再說", None), ("所以123", "123")])
def test_yi3_inside_words_is_not_a_digit(nlu, text, expected):
    assert nlu.extract("digits", text) == expected
