import pytest

from ivr.prompts.scoring import cer, normalize_for_cer


def test_normalize_folds_numbers_punctuation_and_variants():
    assert normalize_for_cer("您的餘額是1,230元。") == "您的餘額是一千二百三十元"
    assert normalize_for_cer("一千兩百三十元") == "一千二百三十元"
    assert normalize_for_cer("臺灣 么么零！") == "台灣一一零"


def test_cer_counts_edits():
    assert cer("您好，歡迎致電", "您好歡迎致電") == 0
    assert cer("您好歡迎致電", "你好歡迎致電") == pytest.approx(1 / 6)
    assert cer("您好", "") == 1.0
    assert cer("", "") == 0.0


def test_years_and_leading_zero_read_as_digits():
    assert normalize_for_cer("2026年12月15日") == "二零二六年十二月十五日"
    assert normalize_for_cer("0912") == "零九一二"
