"""Closed-set decisions with an explicit outcome: accept, confirm (heard by
sound or weakly: the dialog asks "請問您是要…嗎？"), reject (reprompt)."""
from __future__ import annotations

import pytest

from ivr.nlu import NluDataError
from ivr.nlu.nlu import SOUNDS_DATA, _load_sounds
from ivr.nlu.phonetic import PhoneticMatcher, PinyinTable, syllable_similarity

MENU = ["check_balance", "reset_password", "report_card_loss", "technical_support", "complaint", "talk_to_agent"]


@pytest.mark.parametrize("text, intent", [
    ("我想查餘額", "check_balance"), ("不是不是，我的卡不見了", "report_card_loss"),
    ("我剛剛按錯了，我要找真人", "talk_to_agent"), ("我要人工服務", "talk_to_agent"),
])
def test_clear_requests_are_accepted(nlu, text, intent):
    u = nlu.understand("intent", text, candidates=MENU)
    assert (u.value, u.outcome) == (intent, "accept")


@pytest.mark.parametrize("text, intent, heard", [
    ("卦石", "report_card_loss", "掛失"), ("瓜石", "report_card_loss", "掛失"),
    ("我想問一下掛石", "report_card_loss", "掛失"),
])
def test_sound_alikes_are_confirmed_not_accepted(nlu, text, intent, heard):
    u = nlu.understand("intent", text, candidates=MENU)
    assert (u.value, u.outcome, u.heard) == (intent, "confirm", heard)
    assert u.confidence < 0.45          # below the step's accept line
    assert nlu.classify(text, "zh-TW", MENU).confidence < 0.45   # the classifier alone: a blind reprompt


@pytest.mark.parametrize("text", ["今天天氣很好", "畫師", "掛", "喂喂喂", ""])
def test_nothing_like_a_service_is_rejected(nlu, text):
    u = nlu.understand("intent", text, candidates=MENU)
    assert u.value is None and u.outcome == "reject"


def test_candidates_limit_the_sound_match(nlu):
    u = nlu.understand("intent", "卦石", candidates=["check_balance", "complaint"])
    assert u.outcome == "reject"


def test_other_kinds_accept_or_reject(nlu):
    assert nlu.understand("digits", "四三二一", min_len=4, max_len=4).value == "4321"
    assert nlu.understand("taiwan_id", "一二三").outcome == "reject"


def test_describe_names_intents_for_the_question(nlu):
    assert nlu.describe("check_balance") == "查詢餘額"
    assert nlu.describe("agent", "nan-TW") == "轉專人"
    assert nlu.describe("goodbye") is None


def test_syllables():
    assert syllable_similarity("gua", "gua") == 1.0
    assert syllable_similarity("lan", "nan") == 0.6     # l/n, as many Taiwan speakers say them
    assert syllable_similarity("gua", "hua") == 0.0
    m = PhoneticMatcher(PinyinTable(), {"reset_password": ("密碼",)})
    assert m.best("秘馬忘了", ["reset_password"])[1] == 1.0
    assert m.best("秘密", ["reset_password"])[1] == 0.5     # 秘密 is a word of its own: not by sound alone
    assert m.best("今天天氣很好", ["reset_password"])[1] == 0.0


def test_bad_sounds_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "sounds.yml"
    bad.write_text("check_balance: {label: {zh-TW: x}}\n", encoding="utf-8")
    with pytest.raises(NluDataError, match="needs a 'phrases' list") as err:
        _load_sounds(bad)
    assert str(bad) in str(err.value)
    labels, phrases = _load_sounds(SOUNDS_DATA)
    assert set(phrases) == set(MENU) and all(labels[i]["zh-TW"] for i in MENU)
