"""Global commands said in any natural phrasing at any step: repeat, back to
the menu, an agent, a language. Each command is a few phrase shapes (verb +
object), not a list of sentences, so "你剛剛說什麼，可以再講一次嗎" and
"算了，重新選好了" are found inside whatever the caller wraps them in.

False positives cost more than misses here (a PIN step that jumps to the menu),
so a shape must be specific: "你說我的餘額是多少" holds 說 but is not repeat,
"重新設定密碼" holds 重新 but is not main_menu, and a complaint about an agent
("那個專員態度很差") is not a request for one.

``sound_command`` finds a short command heard only by sound (青醬中文 for
請講中文, 將過於 for 講國語); see SOUND_PHRASES for which commands it may take."""
from __future__ import annotations

import re

from .phonetic import PhoneticMatcher

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("repeat", re.compile(
        r"(?:再|重新|重)(?:說|講|念|唸|播|讲)(?:一次|一遍|一下|一擺|一遍)"
        r"|(?:請|再|可以)?重複(?:一次|一遍|一下|嗎|$)|重播|^重聽"
        r"|聽(?:不|無)(?:太|啥)?(?:清楚|到|懂|見|著)"
        r"|沒(?:有)?聽(?:清楚|到|懂|見)"
        r"|(?:你|妳|您)(?:剛剛|剛才|頭拄仔|拄才)?(?:是)?(?:說|講)(?:了)?(?:什麼|甚麼|啥|蝦米)"
        r"|^(?:蛤|什麼|啥|你說什麼)$"
        r"|閣(?:講|念)一(?:擺|遍)"
        r"|(?:講|說|念|唸)(?:慢|較慢|卡慢)(?:一點|一些|一下|咧)?|慢慢(?:講|說|念|唸)")),
    ("main_menu", re.compile(
        r"主選單|主畫面|主頁面|上一層|上一頁|上一步|重新選|重選|重新來|從頭|重來|重新開始"
        r"|回(?:到|去)?(?:選單|開始|最前面)|一開始的選單|倒轉去|轉去(?:主)?選單|對頭")),
    ("agent", re.compile(
        r"真人(?!秀)|人工(?!智慧|智能)|專人|專員|客服人員|服務人員|你們的人|恁的人"
        r"|(?:轉|接|找|叫|給我|要|揣)(?:一個|一下)?客服|客服(?:來|聽)"
        r"|(?:跟|佮|和)(?:一個)?人(?:講|說|談)|不(?:要|想)跟機器|無愛佮機器")),
    ("lang_nan", re.compile(r"(?<!不懂)(?<!不會)(?:講|說|用|換|換成|聽|改)(?:成)?(?:台語|臺語|閩南語|台灣話)"
                            r"|聽(?:不懂|無|嘸|袂曉|不太懂)(?:國語|華語|中文)|(?:不|袂|毋)會(?:講|說|聽)(?:國語|華語|中文)")),
    ("lang_zh", re.compile(r"(?<!不懂)(?<!不會)(?:講|說|用|換|換成|聽|改)(?:成)?(?:國語|華語|中文|北京話)"
                           r"|聽(?:不懂|無|不太懂)(?:台語|臺語|閩南語)|不會(?:講|說|聽)(?:台語|臺語|閩南語)")),
    ("goodbye", re.compile(r"(?:要|先|可以)掛(?:電話|斷)|掛電話了")),
)
# A complaint about staff names them; it is not a request to talk to one.
_COMPLAINT = re.compile(r"投訴|客訴|抱怨|申訴|檢舉|態度|很差|太差|不滿|主管|經理")
MAX_LEN = 24  # a command is said briefly; a long sentence is about something else
# the normalizer writes 一 as 1 (再說1次): commands are words, so read digits back as Han
_HAN_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")


def find_command(clean: str) -> str | None:
    """The command in a cleaned utterance (see Normalizer.clean), or None. When
    two are said ("我聽不懂國語，講台語"), the last one is what the caller wants."""
    if not clean or len(clean) > MAX_LEN:
        return None
    clean = clean.translate(_HAN_DIGITS)
    best: tuple[int, str] | None = None
    for name, pattern in _RULES:
        for m in pattern.finditer(clean):
            if name == "agent" and _COMPLAINT.search(clean):
                continue
            if best is None or m.start() >= best[0]:
                best = (m.start(), name)
    return best[1] if best else None


# ------------------------------------------------------------ by sound
# What each command sounds like, for a transcript that holds it by sound but not
# by characters (青醬中文 for 請講中文, 將過於 for 講國語, 轉人公 for 轉人工).
# Only commands whose wrong guess is cheap or undone at once are taken by sound:
# agent (the agent can send the caller back) and repeat (the prompt is said
# again) cost seconds; a language switch is heard at once in the next prompt and
# undone by one word or key, and its phrases are matched in full (verb and
# language name, three or more syllables), so it is taken too. main_menu
# (drops what the caller was doing) and goodbye (ends the call) are never taken
# by sound: the engine has no question for a command, and they cost too much.
SOUND_PHRASES: dict[str, tuple[str, ...]] = {
    "agent": ("轉人工", "找真人", "轉專人", "人工客服", "接客服", "找專員", "真人客服"),
    "repeat": ("再說一次", "再講一次", "重複一次", "再說一遍", "再講一遍", "沒聽清楚"),
    "lang_zh": ("講國語", "說國語", "講中文", "說中文", "講華語", "說華語", "用國語", "用中文", "請講中文"),
    "lang_nan": ("講台語", "說台語", "用台語", "講閩南語", "說閩南語"),
}
# every syllable the same toneless sound, or one near syllable (l/n, b/p…) in three
SOUND_MATCH = 0.85
# a sound-alike command is the whole short utterance, give or take two characters
SOUND_SLACK = 2


def sound_command(core: str, matcher: PhoneticMatcher) -> tuple[str | None, float, str]:
    """(command, score, phrase) when the short utterance ``core`` (cleaned, wrapper
    words like 我要/請 removed) sounds like a command phrase; (None, 0, "") otherwise."""
    if not core or core.isascii():
        return None, 0.0, ""
    core = core.translate(_HAN_DIGITS)
    name, score, phrase = matcher.best(core, tuple(SOUND_PHRASES))
    if name is None or score < SOUND_MATCH or len(core) > len(phrase) + SOUND_SLACK:
        return None, 0.0, ""
    return name, score, phrase
