from __future__ import annotations

import pytest

from ivr.nlu import fold_numerals, parse_value


@pytest.mark.parametrize("text, expected", [
    ("嗯，请问我想查余额？", "我想查餘額"),           # Simplified -> Traditional, fillers, punctuation
    ("呃 那個 我要掛失信用卡", "我要掛失信用卡"),
    ("ＡＰＰ 无法 登录", "app無法登入"),              # full width, s2twp wording
    ("我想查一下餘額", "我想查一下餘額"),             # 一下 is not a number
    ("兩個問題", "兩個問題"),
    ("萬一卡片不見", "萬一卡片不見"),
    ("零九一二三四五六七八", "0912345678"),
    ("帳號是么洞拐兩", "帳號是1072"),                 # radio-style digits inside a run
    ("洞", "洞"),                                     # alone it is a word
    ("空九一二", "0912"),                             # Taiwanese zero
    ("一千兩百三十元", "1230元"),
    ("NT$1,230", "nt 1230"),
    ("十一月二十五號", "11月25號"),
    ("七十九年三月五日", "79年3月5日"),
    ("二零二六年", "2026年"),
])
def test_normalize(nlu, text, expected):
    assert nlu.normalize(text) == expected


@pytest.mark.parametrize("run, value", [
    ("一千兩百三十", 1230), ("三萬五", 35_000), ("兩百", 200), ("兩百五", 250), ("三千五", 3500),
    ("一萬二", 12_000), ("一千零五", 1005), ("十五", 15), ("二十", 20), ("一百萬", 1_000_000),
    ("三億五千萬", 350_000_000), ("一萬二千五百", 12_500), ("十萬零三百", 100_300),
])
def test_parse_value(run, value):
    assert parse_value(run) == value


def test_parse_value_rejects_malformed():
    assert parse_value("萬") is None
    assert parse_value("一二百") is None


def test_fold_numerals_keeps_text_around_numbers():
    assert fold_numerals("我要轉兩百塊給他") == "我要轉200塊給他"
    assert fold_numerals("拐彎") == "拐彎"


def test_normalize_is_deterministic(nlu):
    text = "嗯 我想查於額 零九一二"
    assert len({nlu.normalize(text) for _ in range(5)}) == 1
