from __future__ import annotations

import pytest

from ivr.nlu import COMMANDS, DEFAULT_DATA, Nlu, NluError, load_examples

from .conftest import TEST_SET

MENU = ["check_balance", "reset_password", "report_card_loss", "technical_support", "complaint", "talk_to_agent"]


def test_held_out_accuracy(nlu):
    tests = load_examples(TEST_SET)
    assert len(tests) >= 300
    assert {e.language for e in tests} == {"zh-TW", "nan-TW"}
    right = sum((nlu.classify(e.text, e.language).intent or "out_of_scope") == e.intent for e in tests)
    assert right / len(tests) >= 0.95, f"{right}/{len(tests)}"


def test_held_out_set_is_not_training_data(nlu):
    trained = {nlu.normalize(e.text) for e in load_examples(DEFAULT_DATA)}
    overlap = [e.text for e in load_examples(TEST_SET) if nlu.normalize(e.text) in trained]
    assert overlap == []


@pytest.mark.parametrize("text, language, intent", [
    ("我想查於額", "zh-TW", "check_balance"),       # 於額 for 餘額
    ("掛時", "zh-TW", "report_card_loss"),          # 掛時 for 掛失
    ("我要充設密碼", "zh-TW", "reset_password"),    # 充設 for 重設
    ("我要客素", "zh-TW", "complaint"),             # 客素 for 客訴
    ("我欲查餘額", "nan-TW", "check_balance"),
    ("阮欲掛失", "nan-TW", "report_card_loss"),
    ("我袂記得密碼", "nan-TW", "reset_password"),
    ("我欲揣專員", "nan-TW", "talk_to_agent"),
    ("网络银行无法登录", "zh-TW", "technical_support"),   # Simplified from the recogniser
])
def test_asr_variants_and_taiwanese(nlu, text, language, intent):
    result = nlu.classify(text, language)
    assert result.intent == intent, result.ranking[:3]
    assert result.confidence == result.ranking[0][1]


@pytest.mark.parametrize("text", ["今天天氣很好", "我肚子好餓", "", "嗯", "0912345678"])
def test_out_of_scope_is_no_match(nlu, text):
    result = nlu.classify(text, "zh-TW", MENU)
    assert result.intent is None
    assert result.confidence < 0.4


def test_candidates_restrict_the_answer(nlu):
    full = nlu.classify("我要掛失信用卡", "zh-TW")
    assert full.intent == "report_card_loss"
    restricted = nlu.classify("我要掛失信用卡", "zh-TW", ["check_balance", "reset_password"])
    assert {name for name, _ in restricted.ranking} == {"check_balance", "reset_password"}
    assert restricted.intent is None   # neither allowed intent fits
    only = nlu.classify("我想查餘額", "zh-TW", ["check_balance", "complaint"])
    assert only.intent == "check_balance"
    assert [n for n, _ in only.ranking] == ["check_balance", "complaint"]


def test_agent_command_and_menu_intent_share_a_score(nlu):
    r = nlu.classify("轉接專人", "zh-TW", ["agent", "check_balance"])
    assert r.intent == "agent"


def test_unknown_candidate_is_an_error(nlu):
    with pytest.raises(NluError, match="unknown intent 'buy_stocks'"):
        nlu.classify("我要買股票", "zh-TW", ["buy_stocks"])


@pytest.mark.parametrize("text, language, command", [
    ("轉接專人", "zh-TW", "agent"), ("我要找真人", "zh-TW", "agent"), ("我欲揣專員", "nan-TW", "agent"),
    ("重聽", "zh-TW", "repeat"), ("再說一次", "zh-TW", "repeat"), ("閣講一擺", "nan-TW", "repeat"),
    ("主選單", "zh-TW", "main_menu"), ("轉去主選單", "nan-TW", "main_menu"),
    ("國語", "zh-TW", "lang_zh"), ("我欲講華語", "nan-TW", "lang_zh"),
    ("台語", "zh-TW", "lang_nan"), ("我要講台語", "zh-TW", "lang_nan"),
    ("再見", "zh-TW", "goodbye"), ("沒有了", "zh-TW", "goodbye"), ("無矣", "nan-TW", "goodbye"),
])
def test_commands(nlu, text, language, command):
    assert nlu.commands(text, language) == command


@pytest.mark.parametrize("text", [
    "0", "零", "一", "零九一二三四五六七八", "A一二三四五六七八九", "一千兩百元", "民國七十九年三月五日",
    "是", "好", "不是", "著", "毋免", "沒有", "不用了", "免矣", "好的謝謝", "明天", "我要查餘額", "我的卡掉了", "網路銀行無法登入", "今天天氣很好", "",
])
def test_commands_do_not_fire_on_ordinary_answers(nlu, text):
    assert nlu.commands(text, "zh-TW") is None


def test_expected_phrases(nlu):
    nan = nlu.expected_phrases(["check_balance", "agent"], "nan-TW")
    assert "我欲查餘額" in nan and "我欲揣專員" in nan
    assert "查餘額" not in nan                        # Mandarin wording stays out of the Taiwanese list
    zh = nlu.expected_phrases(["check_balance"], "zh-TW")
    assert "查餘額" in zh
    assert all(not any(c.isascii() and c.isalpha() for c in p) for p in nlu.expected_phrases(MENU, "zh-TW"))
    assert "毋著" in nlu.expected_phrases("yes_no", "nan-TW")
    assert "不是" in nlu.expected_phrases("yes_no", "zh-TW")
    assert "洞" in nlu.expected_phrases("digits", "zh-TW")
    assert nlu.expected_phrases("free_text", "zh-TW") == ()
    for cmd in COMMANDS:
        assert nlu.expected_phrases([cmd], "zh-TW")
    with pytest.raises(NluError, match="unknown intent or slot kind 'weather'"):
        nlu.expected_phrases("weather", "zh-TW")


def test_loading_twice_gives_identical_answers(nlu):
    again = Nlu.load()
    for text in ["我想查於額", "掛時", "我欲揣專員", "今天天氣很好"]:
        assert again.classify(text, "zh-TW") == nlu.classify(text, "zh-TW")
