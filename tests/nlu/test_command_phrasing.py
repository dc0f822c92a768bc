"""Global commands in natural phrasings, and sentences that hold their words
but are something else."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("text, command", [
    ("你剛剛說什麼，可以再講一次嗎", "repeat"), ("再說一次", "repeat"), ("聽不清楚", "repeat"),
    ("蛤？你說什麼", "repeat"), ("不好意思，我沒聽懂，可以再說一次嗎", "repeat"), ("你講太快了，再講一次", "repeat"),
    ("算了，重新選好了", "main_menu"), ("回到上一層", "main_menu"), ("欸，我想重選", "main_menu"),
    ("不要了，回主選單", "main_menu"),
    ("轉人工啦", "agent"), ("我要找真人", "agent"), ("幫我接客服人員", "agent"), ("我不想跟機器人講話", "agent"),
    ("那個，我要找你們的人", "agent"),
    ("我聽不懂國語，講台語", "lang_nan"), ("可以講台語嗎", "lang_nan"), ("說華語好嗎", "lang_zh"),
    ("閣講一擺", "repeat"), ("可以重複嗎", "repeat"),
    ("沒有了，再見", "goodbye"),            # a no with a goodbye after it is the goodbye
    ("你講慢一點好不好", "repeat"), ("可以說慢一點嗎", "repeat"),  # said again, slower
    ("我聽無國語", "lang_nan"), ("我不會講國語", "lang_nan"), ("我聽不懂台語", "lang_zh"),
    ("我要掛電話了", "goodbye"), ("好，我先掛電話", "goodbye"),
])
def test_commands_in_natural_phrasing(nlu, text, command):
    assert nlu.commands(text, "zh-TW") == command


@pytest.mark.parametrize("text", [
    "你說我的餘額是多少", "我想說一下我的卡不見了", "重新設定密碼", "我再查一次餘額", "我剛剛已經說過了",
    "那個專員態度很差我要投訴", "先不要，等我確認一下再說", "我改天再說", "是我本人沒錯",
    "上個月的手續費被重複扣款，打了三次電話都沒有人處理",   # 重複 inside a complaint
    "我的app掛掉了", "我的卡要掛失", "慢慢來沒關係",
])
def test_sentences_with_command_words_are_not_commands(nlu, text):
    assert nlu.commands(text, "zh-TW") is None
