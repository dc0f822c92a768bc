"""The NLU does not depend on the recogniser's commas: Whisper writes the same
words with commas, with spaces or with nothing between the clauses
(直接轉人工拜託, 不要等我確認你下再說). Each answer below is read the same
way in all three styles; the dev half of the understanding set is understood
as well without its punctuation as with it (the test half is reported by
bench/understanding.py, not tuned on here)."""
from __future__ import annotations

import sys
from dataclasses import replace

import pytest

from ivr.nlu import Nlu
from ivr.nlu.scope import split_clauses

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from understanding import STYLES, evaluate  # the bench's own rewrites: no punctuation, spaces
from understanding_set import build


def styles(text: str) -> list[str]:
    return [text, *(rewrite(text) for rewrite in STYLES.values())]


@pytest.mark.parametrize("text, clauses", [
    ("不是不是app一直跳出來", ["不是不是", "app一直跳出來"]),         # an opening correction
    ("我剛剛按錯了行動銀行當掉了", ["我剛剛按錯了", "行動銀行當掉了"]),  # a final particle with more after it
    ("直接轉人工拜託", ["直接轉人工", "拜託"]),                        # a closing courtesy
    ("喂 你好 看我帳戶", ["喂", "你好", "看我帳戶"]),                  # spaces beside Chinese characters
    ("my app 當掉了", ["my app", "當掉了"]),                          # a space inside Latin words stays
    ("我了解了謝謝", ["我了解了", "謝謝"]),                            # 了解 is a word
    ("我要查餘額", ["我要查餘額"]),
    ("算了，重新選好了", ["算了", "重新選好了"]),
])
def test_clauses_with_and_without_marks(text: str, clauses: list[str]) -> None:
    assert split_clauses(text) == clauses


@pytest.mark.parametrize("text, value", [
    ("不行，我再想一下", False),
    ("不好喔，我再想一下", False),
    ("要啦，對，就是這個", True),
    ("喂，要，趕快幫我停卡", True),
    ("就是要啊，把卡停掉", True),
    ("不行喔，卡找到了", False),
    ("嗯，沒有，我再想一下", False),
    ("喂，我不要，謝謝", False),
    ("不是，我要查餘額", False),
    ("是，我本人", True),
])
def test_yes_no_in_every_style(nlu: Nlu, text: str, value: bool) -> None:
    for written in styles(text):
        u = nlu.understand("yes_no", written, "zh-TW")
        assert (u.outcome, u.value) == ("accept", value), written


@pytest.mark.parametrize("text, value", [
    ("我試的，對就是這個", True),       # 是的 misheard as 試的, then 對
    ("那可說，麻煩你了", True),
    ("教你，我確定", True),
    ("撲到它，不要", False),
])
def test_answer_after_a_short_misheard_clause(nlu: Nlu, text: str, value: bool) -> None:
    u = nlu.understand("yes_no", text, "zh-TW")
    assert (u.outcome, u.value) == ("accept", value)
    assert u.confidence < 0.9  # less sure than an answer said first


@pytest.mark.parametrize("text", ["我想一下，好", "我的卡片不見了，對", "試的，應該是吧"])
def test_no_answer_read_past_a_long_clause_or_a_hedge(nlu: Nlu, text: str) -> None:
    assert nlu.understand("yes_no", text, "zh-TW").value is None


@pytest.mark.parametrize("text", ["我要查餘額", "是不是要掛失", "好像是", "對嗎", "不是很確定", "好啊，我想一下",
                                  "是嗎，我不知道", "要不要"])
def test_no_answer_in_any_style(nlu: Nlu, text: str) -> None:
    """Requests, questions, hedges and a yes taken back are no answer, commas or not."""
    for written in styles(text):
        assert nlu.understand("yes_no", written, "zh-TW").value is None, written


@pytest.mark.parametrize("text, intent", [
    ("不是不是，app一直跳出來", "technical_support"),
    ("我剛剛按錯了，行動銀行當掉了", "technical_support"),
    ("行動銀行當掉了，可以幫我處理嗎", "technical_support"),
    ("喂，你好，看我帳戶現在有多少", "check_balance"),
])
def test_intents_in_every_style(nlu: Nlu, text: str, intent: str) -> None:
    menu = ["check_balance", "reset_password", "report_card_loss", "technical_support", "complaint", "talk_to_agent"]
    for written in styles(text):
        u = nlu.understand("intent", written, "zh-TW", candidates=menu)
        assert u.value == intent and u.outcome in ("accept", "confirm"), (written, u)


@pytest.mark.parametrize("text, command", [("直接轉人工，拜託", "agent"), ("麻煩，再講一次", "repeat"),
                                           ("算了，重新選好了", "main_menu")])
def test_commands_in_every_style(nlu: Nlu, text: str, command: str) -> None:
    for written in styles(text):
        assert nlu.commands(written, "zh-TW") == command, written


def test_dev_half_understood_without_punctuation(nlu: Nlu) -> None:
    dev = build()["dev"]
    written, _ = evaluate(nlu, dev)
    for rewrite in STYLES.values():
        result, misses = evaluate(nlu, [replace(i, text=rewrite(i.text)) for i in dev])
        assert result["all"]["understood"] >= 0.98, misses[:5]
        assert result["all"]["right"] >= written["all"]["right"] - 2, misses[:5]


@pytest.mark.parametrize("text, value", [
    ("不要愛，不用把卡停掉了", False),  # 暫時不要欸 as Whisper writes it
    ("好愛", True),
    ("愛，是的", True),                  # 欸 alone, as 愛
    ("不要愛", False),
])
def test_the_particle_ei_written_ai_in_a_mandarin_answer(nlu: Nlu, text: str, value: bool) -> None:
    """Whisper writes 欸 as 愛: in a Mandarin yes/no it is that particle, not Taiwanese
    愛 ("want", which made 不要愛 contradict itself and be asked again)."""
    assert nlu.extract("yes_no", text, "zh-TW") is value


def test_taiwanese_ai_and_bo_ai_keep_their_meaning(nlu: Nlu) -> None:
    assert nlu.extract("yes_no", "愛", "nan-TW") is True
    assert nlu.extract("yes_no", "無愛", "nan-TW") is False
    assert nlu.extract("yes_no", "無愛", "zh-TW") is False
