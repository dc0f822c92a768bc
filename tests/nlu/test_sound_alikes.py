"""Commands and yes/no answers heard by sound (the recogniser wrote a
homophone): 青醬中文 for 請講中文, 將過於 for 講國語, 去小 for 取消, 撲退 for 不對.

The inputs are made by a different method than the matcher uses: characters are
swapped for others read the same (pypinyin's character table turned around,
exact toneless reading, no folding of zh/z or -ing/-in, no near initials), from
caller phrasings written here, not from the matcher's phrase lists. A sound-alike
yes/no is always a question (``confirm``), never an answer."""
from __future__ import annotations

import random
from collections import defaultdict

import pytest
from pypinyin import Style, lazy_pinyin

from ivr.nlu import Nlu

# What the audio runs heard (Whisper base, synthetic voices).
HEARD_COMMANDS = [("青醬中文", "lang_zh"), ("將過於", "lang_zh"), ("我要將過於", "lang_zh")]
HEARD_ANSWERS = [("去小", False), ("撲退", False)]

# Caller phrasings (wrapped as callers say them).
SAID_COMMANDS = [("請講中文", "lang_zh"), ("講國語", "lang_zh"), ("我要說國語", "lang_zh"),
                 ("請說台語", "lang_nan"), ("講台語好嗎", "lang_nan"),
                 ("轉人工", "agent"), ("幫我轉人工", "agent"), ("我要找真人", "agent"),
                 ("再說一次", "repeat"), ("請再講一次", "repeat")]
SAID_ANSWERS = [("不對", False), ("取消", False), ("不要", False), ("沒有", False), ("不需要", False),
                ("是的", True), ("可以", True), ("沒錯", True), ("確定", True), ("正確", True)]
# Short lines that are neither, some sharing syllables with a command or an answer.
OFF_TOPIC = ["今天天氣很好", "晴天中午", "我要去小吃店", "換一首歌", "中文老師", "台語歌很好聽", "國語日報",
             "人工智慧", "部隊在哪裡", "中午吃什麼", "講故事給我聽", "一次就好", "我想睡覺"]
VARIANTS = 4


def _homophones() -> dict[str, list[str]]:
    """toneless reading -> characters with that one reading, among those Big5
    (Traditional Chinese as Taiwan writes it) has."""
    from pypinyin.pinyin_dict import pinyin_dict

    by_sound: dict[str, list[str]] = defaultdict(list)
    for code, readings in pinyin_dict.items():
        ch = chr(code)
        if 0x4E00 <= code <= 0x9FFF and "," not in readings and _big5(ch):
            by_sound[lazy_pinyin(ch, style=Style.NORMAL)[0]].append(ch)
    return by_sound


def _big5(ch: str) -> bool:
    try:
        ch.encode("big5")
    except UnicodeEncodeError:
        return False
    return True


HOMOPHONES = _homophones()


def misheard(text: str, rng: random.Random, keep: str = "") -> str:
    """``text`` with every Han character (except those in ``keep``) replaced by
    another character read the same."""
    out = []
    for ch, sound in zip(text, lazy_pinyin(text, style=Style.NORMAL), strict=True):
        others = [c for c in HOMOPHONES.get(sound, ()) if c != ch]
        out.append(rng.choice(others) if others and ch not in keep else ch)
    return "".join(out)


def _variants(items, keep: str = ""):
    rng = random.Random(11)
    return [(misheard(text, rng, keep), want, text) for text, want in items for _ in range(VARIANTS)]


@pytest.mark.parametrize(("heard", "want"), HEARD_COMMANDS)
def test_commands_heard_in_audio_runs(nlu: Nlu, heard, want):
    assert nlu.commands(heard) == want


@pytest.mark.parametrize(("heard", "want"), HEARD_ANSWERS)
def test_answers_heard_in_audio_runs_are_asked_not_taken(nlu: Nlu, heard, want):
    u = nlu.understand("yes_no", heard)
    assert (u.outcome, u.value) == ("confirm", want) and u.heard
    assert nlu.extract("yes_no", heard) is None  # a non-protective yes/no step does not take it either


def test_misheard_commands_are_found(nlu: Nlu):
    # the wrapper words (我要, 請, 好嗎) are kept: a recogniser gets those right
    cases = _variants(SAID_COMMANDS, keep="我要請幫好嗎")
    missed = [(h, want, said) for h, want, said in cases if nlu.commands(h) != want]
    assert len(missed) <= len(cases) // 10, missed  # measured: see the report in the issue


def test_misheard_answers_are_confirmed_never_accepted(nlu: Nlu):
    cases = _variants(SAID_ANSWERS)
    wrong, missed = [], []
    for heard, want, said in cases:
        u = nlu.understand("yes_no", heard)
        if u.outcome == "accept":
            continue  # the homophone is itself an answer word (確定 -> 確定): not a sound-alike
        if u.outcome != "confirm":
            missed.append((heard, said))
        elif u.value != want:
            wrong.append((heard, said, u.value))
    assert not wrong
    assert len(missed) <= len(cases) // 10, missed


@pytest.mark.parametrize("line", OFF_TOPIC)
def test_off_topic_lines_are_neither(nlu: Nlu, line):
    assert nlu.commands(line) is None
    assert nlu.understand("yes_no", line).outcome == "reject"


@pytest.mark.parametrize("line", ["不過你剛剛說的利率是多少", "去小港機場怎麼走", "將過於的人很多嗎", "青醬中文的義大利麵"])
def test_a_sound_alike_inside_a_long_sentence_is_not_a_command(nlu: Nlu, line):
    assert nlu.commands(line) is None
    assert nlu.understand("yes_no", line).outcome == "reject"


@pytest.mark.parametrize(("heard", "want"), [("迷將太快了，再將一次拜託", "repeat"), ("你這樣太快了，再相一次拜火", "repeat"),
                                             ("傾向中文了", "lang_zh"), ("川人公", "agent")])
def test_a_sound_alike_command_in_its_own_clause(nlu: Nlu, heard, want):
    """Whisper's transcripts of 你講太快了，再講一次，拜託 / 請講中文啦 / 轉人工 in the audio runs."""
    assert nlu.commands(heard) == want


@pytest.mark.parametrize("text", ["今天天氣很好，可以再說一次嗎", "不好意思，請再講一次"])
def test_one_written_as_a_digit_still_reads_as_a_word(nlu: Nlu, text):
    """The normalizer writes 一次 as 1次; the repeat shapes still match it."""
    from ivr.nlu.commands import find_command

    assert find_command(nlu.normalize(text)) == "repeat"
