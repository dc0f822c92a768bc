from __future__ import annotations

import datetime as dt

import pytest

from ivr.nlu import NluError
from ivr.nlu.entities import id_checksum_ok

TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize("text, language, expected", [
    ("是", "zh-TW", True), ("是的", "zh-TW", True), ("對", "zh-TW", True), ("好", "zh-TW", True),
    ("沒錯", "zh-TW", True), ("可以", "zh-TW", True), ("嗯對啊", "zh-TW", True), ("好的謝謝", "zh-TW", True),
    ("是的沒錯", "zh-TW", True), ("沒問題", "zh-TW", True), ("好得沒問題", "zh-TW", True), ("好,這沒問題", "zh-TW", True), ("這不是", "zh-TW", False),
    ("不是", "zh-TW", False), ("不要", "zh-TW", False), ("不對", "zh-TW", False), ("不是啦", "zh-TW", False),
    ("我不要", "zh-TW", False), ("不用了謝謝", "zh-TW", False),
    ("著", "nan-TW", True), ("著啦", "nan-TW", True), ("好", "nan-TW", True), ("欲", "nan-TW", True),
    ("毋著", "nan-TW", False), ("毋免", "nan-TW", False), ("免", "nan-TW", False), ("毋是", "nan-TW", False),
    ("無愛", "nan-TW", False), ("毋免矣多謝", "nan-TW", False),
    ("毋是", "zh-TW", False),   # a Taiwanese answer in a Mandarin call still counts
    ("我要查餘額", "zh-TW", None), ("今天天氣很好", "zh-TW", None), ("嗯", "zh-TW", None), ("", "zh-TW", None),
])
def test_yes_no(nlu, text, language, expected):
    assert nlu.extract("yes_no", text, language) is expected


@pytest.mark.parametrize("text, params, expected", [
    ("零九一二三四五六七八", {}, "0912345678"),
    ("0912-345-678", {}, "0912345678"),
    ("零九一二 三四五 六七八", {"min_len": 10, "max_len": 10}, "0912345678"),
    ("我的帳號是一二三四五", {}, "12345"),
    ("么洞拐", {}, "107"),
    ("空九一二", {}, "0912"),
    ("一二三", {"min_len": 4}, None),
    ("一二三四五六七八九零一二", {"max_len": 10}, None),
    ("我要查餘額", {}, None),
    ("A一二三", {}, None),   # letters mean this is not a digit string
])
def test_digits(nlu, text, params, expected):
    assert nlu.extract("digits", text, "zh-TW", **params) == expected


@pytest.mark.parametrize("text, expected", [
    ("一千兩百三十元", 1230), ("三萬五", 35_000), ("兩百塊", 200), ("NT$1,230", 1230),
    ("轉五千塊給他", 5000), ("兩百箍", 200), ("一萬二千五百", 12_500), ("三千五百元", 3500),
    ("1200", 1200), ("不知道", None), ("帳號12345轉500元", 500), ("12 和 34", None),
])
def test_amount(nlu, text, expected):
    assert nlu.extract("amount", text, "zh-TW") == expected


@pytest.mark.parametrize("text, expected", [
    ("1990/01/02", dt.date(1990, 1, 2)),
    ("1990-1-2", dt.date(1990, 1, 2)),
    ("民國115年3月5日", dt.date(2026, 3, 5)),
    ("七十九年三月五日", dt.date(1990, 3, 5)),        # no era: a two-digit year is ROC
    ("民國七十九年十二月三十一號", dt.date(1990, 12, 31)),
    ("一九九零年一月二號", dt.date(1990, 1, 2)),
    ("79/3/5", dt.date(1990, 3, 5)),
    ("2月30日", None),
    ("一百年二月二十九日", None),                      # ROC 100 = 2011, not a leap year
    ("一百零一年二月二十九日", dt.date(2012, 2, 29)),
])
def test_absolute_dates(nlu, text, expected):
    assert nlu.extract("date", text, "zh-TW") == expected


@pytest.mark.parametrize("text, language, expected", [
    ("今天", "zh-TW", TODAY), ("明天", "zh-TW", dt.date(2026, 11, 26)), ("後天", "zh-TW", dt.date(2026, 11, 27)),
    ("昨天", "zh-TW", dt.date(2026, 11, 24)), ("今仔日", "nan-TW", TODAY), ("明仔載", "nan-TW", dt.date(2026, 11, 26)),
    ("昨昏", "nan-TW", dt.date(2026, 11, 24)), ("十一月二十五號", "zh-TW", TODAY), ("十二月一日", "zh-TW", dt.date(2026, 12, 1)),
])
def test_relative_dates_need_today(nlu, text, language, expected):
    assert nlu.extract("date", text, language, today=TODAY) == expected
    assert nlu.extract("date", text, language) is None   # no hidden clock


@pytest.mark.parametrize("text, expected", [
    ("A一二三四五六七八九", "A123456789"),
    ("a123456789", "A123456789"),
    ("alpha 一二三四五六七八九", "A123456789"),
    ("欸 一二三四五六七八九", "A123456789"),             # how a recogniser writes the letter A
    ("我的身分證是F一三一一零四零九三", "F131104093"),
    ("A123456788", None),                                  # checksum fails
    ("A323456789", None),                                  # second digit must be 1, 2, 8 or 9
    ("一二三四五六七八九", None),                          # no letter
    ("A一二三四五六七八", None),                           # too short
])
def test_taiwan_id(nlu, text, expected):
    assert nlu.extract("taiwan_id", text, "zh-TW") == expected


def test_id_checksum():
    assert id_checksum_ok("A123456789")
    assert id_checksum_ok("F131104093")
    assert not id_checksum_ok("F131104094")
    assert not id_checksum_ok("a123456789")
    # every letter has one valid check digit for a given body
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        valid = [d for d in range(10) if id_checksum_ok(f"{letter}12345678{d}")]
        assert len(valid) == 1, letter


def test_free_text(nlu):
    assert nlu.extract("free_text", "嗯，我的卡好像被盗刷了。", "zh-TW") == "我的卡好像被盜刷了"
    assert nlu.extract("free_text", "嗯。", "zh-TW") is None


def test_bad_calls_are_one_line_errors(nlu):
    with pytest.raises(NluError, match="unknown slot kind 'colour'"):
        nlu.extract("colour", "紅色", "zh-TW")
    with pytest.raises(NluError, match="unexpected parameter 'max'"):
        nlu.extract("digits", "一二三", "zh-TW", max=3)
    with pytest.raises(NluError, match="unknown language 'en-US'"):
        nlu.extract("yes_no", "yes", "en-US")
