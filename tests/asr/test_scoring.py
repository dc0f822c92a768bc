"""The one character error rate (ivr.asr.scoring) and its stated normalisation."""
import pytest

from ivr.asr.scoring import cer, char_errors, contains, diff_ops, normalize_for_cer, shown_form


def test_numbers_are_read_as_han_numerals() -> None:
    assert shown_form("您的餘額是1,230元。") == "您的餘額是一千兩百三十元"
    assert shown_form("2026年12月15日") == "二零二六年十二月十五日"  # a year digit by digit
    assert shown_form("0912") == "零九一二"  # a leading zero: digit by digit
    assert shown_form("臺灣 么么零！") == "臺灣一一零"  # 么 in a number is 一


def test_script_and_variants_are_folded() -> None:
    assert normalize_for_cer("一千兩百三十元") == normalize_for_cer("一千二百三十元")
    assert normalize_for_cer("我要查餘額") == normalize_for_cer("我要查余额")
    assert normalize_for_cer("臺灣") == normalize_for_cer("台湾")
    assert normalize_for_cer("賬戶") == normalize_for_cer("帳戶")
    # 什么 (Simplified) keeps its 么: only a 么 inside a number reads 一
    assert normalize_for_cer("什么") == normalize_for_cer("什麼") != normalize_for_cer("什一")


def test_shown_and_compared_forms_align() -> None:
    for text in ("您的餘額是1,230元。", "甚至出現交易幾乎停滯的情況", "OK，好的 ABC 么二三", ""):
        assert len(shown_form(text)) == len(normalize_for_cer(text))


def test_cer_counts_edits_over_reference_characters() -> None:
    assert cer("您好，歡迎致電", "您好歡迎致電") == 0
    assert cer("您好歡迎致電", "你好歡迎致電") == pytest.approx(1 / 6)
    assert cer("我要查餘額", "我要查詢餘額") == pytest.approx(0.2)
    assert cer("您好", "") == 1.0
    assert cer("", "") == 0.0
    assert cer("", "喂") == 1.0
    assert char_errors("广州市房地产中介协会分析", "廣州市佛地產中間協會分析") == (2, 12)


def test_contains_and_diff_use_the_same_normalisation() -> None:
    assert contains("我要查余额喔", "餘額")
    assert not contains("我要查询", "餘額")
    # a script difference is not a difference; the transcript is shown as written
    assert diff_ops("我要查余额", "我要查詢餘額") == [("eq", "我要查"), ("ins", "詢"), ("eq", "餘額")]
