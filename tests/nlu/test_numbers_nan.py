"""Taiwanese number words (Tâi-lô and Taiwanese Han forms) read by the NLU in nan-TW."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.nlu.numbers_nan import taiwanese_numerals


@pytest.mark.parametrize("text,want", [
    ("it jī sann sì", "一二三四"),                      # literary digit readings, as a PIN is read
    ("tsi̍t nn̄g sann sì", "一兩三四"),                  # colloquial
    ("khòng kiú it jī", "零九一二"),
    ("it ji sann si", "一二三四"),                       # toneless
    ("kau2 pah4 khoo1", "九百箍"),                       # tone numbers
    ("tsi̍t-tsa̍p-gōo hō", "一十五號"),
    ("bîn-kok tshit-tsa̍p-sì nî sann gue̍h tsa̍p-gōo hō", "民國七十四年三月十五號"),
    ("sann", "三"),                                      # a lone number word is the answer
    ("蜀二三四", "一二三四"), ("廿五號", "二十五號"), ("卅一", "三十一"),
])
def test_number_words_become_han_numerals(text, want):
    assert taiwanese_numerals(text) == want


@pytest.mark.parametrize("text", [
    "lí sī tsi̍t ê lâng",   # 你是一个人: lí (你) is not lī (二), sī (是) is not sì (四)
    "li si tsit e lang",    # toneless: only everyday words in a row, so not a number
    "kàu tsia",             # kàu 到 is not káu 九
    "guá beh sann",         # one number word inside a sentence
    "查餘額",
])
def test_everyday_words_stay(text):
    assert taiwanese_numerals(text) == text


@pytest.fixture(scope="module")
def nlu():
    from ivr.nlu import Nlu

    return Nlu.load()


def test_nlu_reads_taiwanese_numbers_in_nan_tw_only(nlu):
    assert nlu.extract("digits", "it jī sann sì", "nan-TW", min_len=4, max_len=4) == "1234"
    assert nlu.extract("digits", "khòng kiú it jī sann sì gōo la̍k tshit pat", "nan-TW") == "0912345678"
    assert nlu.extract("digits", "蜀二三四", "nan-TW") == "1234"
    assert nlu.extract("amount", "kau2 pah4 khoo1", "nan-TW") == 900
    assert nlu.extract("date", "bîn-kok tshit-tsa̍p-sì nî sann gue̍h tsa̍p-gōo hō", "nan-TW") == dt.date(1985, 3, 15)
    assert nlu.extract("digits", "it jī sann sì", "zh-TW") is None  # Mandarin text is not read as Tâi-lô
    assert not set("一二三四1234") & set(nlu.extract("free_text", "it jī sann sì", "nan-TW"))  # only number slots
