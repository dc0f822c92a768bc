"""Numbers as Whisper base writes them when a caller says them (issue 11 audio set,
number kinds): one numeral per syllable, 是 written 十, digits written as the Latin
letter of the same sound inside a Taiwan ID. Each transcript here is one Whisper
actually produced; the value is what the caller said."""
from __future__ import annotations

import datetime as dt

import pytest

from ivr.nlu.numbers import join_value_syllables, spell_digits, well_formed


@pytest.mark.parametrize(("text", "expected"), [
    ("兩、千、五、百、塊", "兩千五百、塊"),
    ("雙、雙、兩、千、五、百、塊", "雙、雙、兩千五百、塊"),
    ("三、月、二十、七日", "三月二十七日"),          # a day's number after a tens word; 三、月 is 三月
    ("三、百、五、百", "三、百、五、百"),            # two values: not one number
    ("一千、兩百", "一千、兩百"),                    # whole values said apart stay apart
    ("四、八、八、四", "四、八、八、四"),            # no unit: the digit joiner's business
    ("十一、二十", "十一、二十"),
])
def test_value_syllables_glue_only_into_one_well_formed_number(text, expected):
    assert join_value_syllables(text) == expected


@pytest.mark.parametrize(("run", "ok"), [
    ("兩千五百", True), ("三萬五千二", True), ("十五萬", True), ("三百五百", False), ("五十百", False),
    ("二二千", False),
])
def test_well_formed(run, ok):
    assert well_formed(run) is ok


@pytest.mark.parametrize(("text", "expected"), [
    ("雙、雙、兩、千、五、百、塊", 2500),
    ("兩、千、五、百、元", 2500),
])
def test_amount_said_one_syllable_at_a_time(nlu, text, expected):
    assert nlu.extract("amount", text) == expected


def test_date_said_one_syllable_at_a_time(nlu):
    assert nlu.extract("date", "能明國八、五年、而三月二十、七日") == dt.date(1996, 3, 27)


@pytest.mark.parametrize(("text", "length", "expected"), [
    ("十零九一零九三零三七四", 10, "0910930374"),       # 是零九一… : 十零 is not a number
    ("十零九一、零九三零三七四", 10, "0910930374"),
    ("十二六五六零七", 6, "265607"),                    # 是二六五六零七
])
def test_shi_before_a_digit_string_is_the_word_shi(nlu, text, length, expected):
    assert nlu.extract("digits", text, min_len=length, max_len=length) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("十二三四", "十二三四"),  # twelve, three, four: a tens word before three digits stays
    ("十一月", "十一月"),
    ("二十零", "二十零"),      # after a numeral 十 is part of it
])
def test_tens_words_that_stay(text, expected):
    assert spell_digits(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Z、H、T、R、五、四、六、八、三、八、六、七、謝謝", "T254683867"),   # 二 written R
    ("此後是T、R54683867,謝謝", "T254683867"),
    ("P、E、三、九、一、四、五、九、三、一", "P139145931"),                # 一 written E
    ("我的身份證字號是大寫的愛,204537154", "A204537154"),                   # A said ei, written 愛
    ("神奮等您問求,以七、三、七、五、七、四、以二", "Q173757412"),          # Q said kiu, written 求
])
def test_id_digits_and_letters_written_by_sound(nlu, text, expected):
    assert nlu.extract("taiwan_id", text) == expected


@pytest.mark.parametrize("text", [
    "P、E、三、九、一、四、五、九、三、二",   # the last digit misheard: the checksum fails, no guess
    "字號是T、E、C、三、九、一、五、六、六",  # a digit lost
])
def test_misheard_ids_stay_unread(nlu, text):
    assert nlu.extract("taiwan_id", text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("甚至是五、十、九、年、八、月、二、十、七、號", dt.date(1970, 8, 27)),   # 生日是五十九年八月二十七號
    ("能命國,六、十、七年、五、月、十、號、後", dt.date(1978, 5, 10)),         # 民國六十七年5月10號齁
])
def test_date_with_every_syllable_apart(nlu, text, expected):
    assert nlu.extract("date", text) == expected


def test_a_letter_sound_written_in_another_character_of_its_reading(nlu):
    # 英文字母欸，數字是二七九… : A said ei, written 艾
    assert nlu.extract("taiwan_id", "英文字母艾,書字是二七九二八四七九三") == "A279284793"
    assert nlu.extract("taiwan_id", "身份長艾姆,E70669707") == "M170669707"  # 艾姆 is M, E is 一


@pytest.mark.parametrize(("text", "length", "expected"), [
    ("五年、四六八、三、八、九", 6, "468389"),      # 我念喔，四六八三八九: 我念喔 written 五年
    ("1234年", 4, "1234"),                          # all of it fits: taken as it is
    ("五年、四六八、三", 6, None),                  # too short with or without the counted number
    ("我有3個，123456", 6, "123456"),
])
def test_a_counted_number_is_not_part_of_the_digit_string(nlu, text, length, expected):
    assert nlu.extract("digits", text, min_len=length, max_len=length) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("十千六百元，謝謝", 4600),   # 四千 with s and sh blurred (Taiwan Mandarin): 十千 is no number as written
    ("十百塊", 400),
    ("十萬", 100000),              # a real number: untouched
    ("二十千", None),              # still no number: asked again
])
def test_shi_before_thousand_is_si(nlu, text, expected):
    assert nlu.extract("amount", text) == expected


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("amount", "兩千吧", None),         # about 2000, or 兩千八 misheard: neither taken, asked again
    ("amount", "大概兩千吧。", None),
    ("amount", "兩千八", 2800),
    ("amount", "兩千塊吧", 2000),       # the 吧 is not glued to the number: 2000 either way
    ("date", "民國七十四年三月五號吧", dt.date(1985, 3, 5)),
])
def test_final_ba_is_a_particle_not_eight(nlu, kind, text, expected):
    got = nlu.extract(kind, text)
    assert (dt.date.fromisoformat(got) if isinstance(got, str) and kind == "date" else got) == expected
