"""Yes/no as callers in Taiwan answer: with a reason, particles, fillers,
self-corrections; hedges and contradictions are no answer at all."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("text", [
    "是，確定要掛失", "嗯，要", "對啊", "好喔", "是的，麻煩你了", "對對對", "OK", "沒錯，把卡停掉", "嗯嗯，對",
    "呃…好啊，趕快幫我停卡", "確定", "可以啊", "當然要", "是確定要掛失", "好停卡",
])
def test_clear_yes_with_its_reason(nlu, text):
    assert nlu.extract("yes_no", text) is True
    u = nlu.understand("yes_no", text)
    assert (u.value, u.outcome) == (True, "accept") and u.confidence >= 0.85


@pytest.mark.parametrize("text", [
    "不要，先不要", "不用了", "沒有啦", "不是，我是要查餘額", "先不要喔，我再想一下", "不要不要", "不是不是",
    "暫時不要，卡找到了", "不用，謝謝", "不想，我弄錯了", "不要先不要",
])
def test_clear_no_with_its_reason(nlu, text):
    assert nlu.extract("yes_no", text) is False
    assert nlu.understand("yes_no", text).outcome == "accept"


@pytest.mark.parametrize("text", [
    "應該是吧", "可能吧", "我不確定", "等一下", "我想想", "好像是", "大概吧", "不知道耶", "是嗎", "應該可以吧",
    "沒差啦", "隨便",
    "好，不用了",            # yes then no: ask again
    "是，不要掛失",
    "不要，趕快幫我停卡",
    "我要查餘額",            # a request, not an answer
    "嗯", "嗯嗯", "呃…", "",
])
def test_hedges_contradictions_and_non_answers_are_no_value(nlu, text):
    assert nlu.extract("yes_no", text) is None
    u = nlu.understand("yes_no", text)
    assert u.value is None and u.outcome == "reject"


@pytest.mark.parametrize("text, language, expected", [
    ("著啦", "nan-TW", True), ("毋免啦，多謝", "nan-TW", False), ("無愛", "nan-TW", False), ("毋是", "zh-TW", False),
])
def test_taiwanese_answers(nlu, text, language, expected):
    assert nlu.extract("yes_no", text, language) is expected


@pytest.mark.parametrize("text, expected", [("使得", True), ("隊", True)])
def test_sound_alike_answer_is_only_confirmed(nlu, text, expected):
    """使得 sounds like 是的: worth asking, never enough to act on."""
    assert nlu.extract("yes_no", text) is None
    u = nlu.understand("yes_no", text)
    assert (u.value, u.outcome) == (expected, "confirm") and u.confidence < 0.85
