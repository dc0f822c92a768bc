import datetime as dt
from decimal import Decimal

import pytest

from ivr.errors import IvrError
from ivr.prompts import (
    VerbalizeError,
    verbalize_amount_zh,
    verbalize_date_zh,
    verbalize_digits_zh,
    verbalize_number_zh,
    verbalize_phone_zh,
)


@pytest.mark.parametrize("n,text", [
    (0, "零"), (1, "一"), (2, "二"), (9, "九"), (10, "十"), (11, "十一"), (12, "十二"), (19, "十九"),
    (20, "二十"), (22, "二十二"), (99, "九十九"), (100, "一百"), (101, "一百零一"), (110, "一百一十"),
    (111, "一百一十一"), (200, "兩百"), (202, "兩百零二"), (220, "兩百二十"), (1000, "一千"),
    (1001, "一千零一"), (1005, "一千零五"), (1010, "一千零一十"), (1100, "一千一百"), (1230, "一千兩百三十"),
    (2000, "兩千"), (2222, "兩千兩百二十二"), (9999, "九千九百九十九"), (10000, "一萬"),
    (10001, "一萬零一"), (10010, "一萬零一十"), (10050, "一萬零五十"), (10100, "一萬零一百"),
    (11000, "一萬一千"), (20000, "兩萬"), (22000, "兩萬兩千"), (100000, "十萬"), (120000, "十二萬"),
    (150000, "十五萬"), (1000000, "一百萬"), (1000001, "一百萬零一"), (1100000, "一百一十萬"),
    (10010000, "一千零一萬"), (20000000, "兩千萬"), (100000000, "一億"), (100000001, "一億零一"),
    (100010000, "一億零一萬"), (100001000, "一億零一千"), (110000000, "一億一千萬"),
    (200000000, "兩億"), (1200000000, "十二億"), (10**12, "一兆"), (10**12 + 5, "一兆零五"),
    (-7, "負七"), (-1230, "負一千兩百三十"),
])
def test_cardinal(n, text):
    assert verbalize_number_zh(n) == text


def test_bare_two_before_a_measure_word_is_liang():
    assert verbalize_number_zh(2, measure=True) == "兩"
    assert verbalize_number_zh(12, measure=True) == "十二"
    assert verbalize_number_zh(10002, measure=True) == "一萬零二"


@pytest.mark.parametrize("value,text", [
    (1230, "一千兩百三十元"), ("1230", "一千兩百三十元"), ("1,230", "一千兩百三十元"), ("NT$1,230", "一千兩百三十元"),
    ("1230元", "一千兩百三十元"), (Decimal("1230.00"), "一千兩百三十元"), (0, "零元"), (2, "兩元"),
    (10, "十元"), (12, "十二元"), (200, "兩百元"), (20000, "兩萬元"), (25600, "兩萬五千六百元"),
    (1000005, "一百萬零五元"), (-5, "負五元"), ("-1,230", "負一千兩百三十元"),
    (12.5, "十二元五角"), ("12.50", "十二元五角"), ("12.05", "十二元零五分"), ("12.55", "十二元五角五分"),
    (0.5, "五角"), ("0.05", "五分"), (2.22, "兩元兩角兩分"), ("-0.5", "負五角"),
    ("1.005", "一元零一分"),  # rounded half-up to cents
    ("0.004", "零元"),
])
def test_amount_jiao(value, text):
    assert verbalize_amount_zh(value) == text


@pytest.mark.parametrize("value,text", [
    (12.5, "十二點五元"), ("12.05", "十二點零五元"), ("0.5", "零點五元"), (2.5, "二點五元"),
    (1230, "一千兩百三十元"), ("2.00", "兩元"), ("-3.1", "負三點一元"),
])
def test_amount_point(value, text):
    assert verbalize_amount_zh(value, cents="point") == text


def test_amount_other_unit():
    assert verbalize_amount_zh(30, unit="塊") == "三十塊"


@pytest.mark.parametrize("bad", ["abc", "", "1.2.3", None, True, float("nan"), float("inf"), 10**17, [1]])
def test_amount_rejects_garbage(bad):
    with pytest.raises(VerbalizeError) as e:
        verbalize_amount_zh(bad)
    assert isinstance(e.value, IvrError) and str(e.value).startswith("amount:")


def test_amount_bad_cents_mode():
    with pytest.raises(VerbalizeError):
        verbalize_amount_zh(1.5, cents="mao")


@pytest.mark.parametrize("value,kw,text", [
    ("2026-11-25", {}, "二零二六年十一月二十五日"),
    (dt.date(2026, 1, 1), {}, "二零二六年一月一日"),
    ("2000/02/29", {}, "二零零零年二月二十九日"),
    ("2026-11-25", {"era": "roc"}, "民國一百一十五年十一月二十五日"),
    ("1912-01-01", {"era": "roc"}, "民國一年一月一日"),
    ("2011-10-10", {"era": "roc"}, "民國一百年十月十日"),
    ("2026-11-25", {"weekday": True}, "二零二六年十一月二十五日星期三"),
    ("2026-11-29", {"weekday": True}, "二零二六年十一月二十九日星期日"),
    (dt.datetime(2026, 12, 20, 9, 30), {}, "二零二六年十二月二十日"),
])
def test_dates(value, kw, text):
    assert verbalize_date_zh(value, **kw) == text


@pytest.mark.parametrize("bad,kw", [("2026-02-30", {}), ("25/11/2026", {}), ("tomorrow", {}), (20261125, {}),
                                    ("1911-12-31", {"era": "roc"}), ("2026-11-25", {"era": "jp"})])
def test_bad_dates(bad, kw):
    with pytest.raises(VerbalizeError):
        verbalize_date_zh(bad, **kw)


def test_digits_use_yao_for_one():
    assert verbalize_digits_zh("0912345678") == "零九么二三四五六七八"
    assert verbalize_digits_zh("1111") == "么么么么"
    assert verbalize_digits_zh("1234", yao=False) == "一二三四"
    assert verbalize_digits_zh("12 34-56") == "么二三四五六"


@pytest.mark.parametrize("bad", ["", "12a4", "１２", "*12", "  "])
def test_digits_reject(bad):
    with pytest.raises(VerbalizeError):
        verbalize_digits_zh(bad)


@pytest.mark.parametrize("number,text", [
    ("0912345678", "零九么二，三四五，六七八"),
    ("0912-345-678", "零九么二，三四五，六七八"),
    ("+886912345678", "零九么二，三四五，六七八"),
    ("+886 912 345 678", "零九么二，三四五，六七八"),
    ("0223456789", "零二，二三四五，六七八九"),
    ("(02) 2345-6789", "零二，二三四五，六七八九"),
    ("0800123456", "零八零零，么二三，四五六"),
    ("042345678", "零四，二三四，五六七八"),
    ("110", "么么零"),
    ("165", "么六五"),
    ("23456789", "二三四五，六七八九"),
])
def test_phone_groups(number, text):
    assert verbalize_phone_zh(number) == text


def test_phone_pause_and_one():
    assert verbalize_phone_zh("0912345678", yao=False, pause="、") == "零九一二、三四五、六七八"


@pytest.mark.parametrize("bad", ["", "09x2345678", "call me"])
def test_phone_rejects(bad):
    with pytest.raises(VerbalizeError) as e:
        verbalize_phone_zh(bad)
    assert str(e.value).startswith("phone:")
