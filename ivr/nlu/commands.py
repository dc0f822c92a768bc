"""Global commands said in any natural phrasing at any step: repeat, back to
the menu, an agent, a language. Each command is a few phrase shapes (verb +
object), not a list of sentences, so "你剛剛說什麼，可以再講一次嗎" and
"算了，重新選好了" are found inside whatever the caller wraps them in.

False positives cost more than misses here (a PIN step that jumps to the menu),
so a shape must be specific: "你說我的餘額是多少" holds 說 but is not repeat,
"重新設定密碼" holds 重新 but is not main_menu, and a complaint about an agent
("那個專員態度很差") is not a request for one."""
from __future__ import annotations

import re

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("repeat", re.compile(
        r"(?:再|重新|重)(?:說|講|念|唸|播|讲)(?:一次|一遍|一下|一擺|一遍)"
        r"|(?:請|再|可以)?重複(?:一次|一遍|一下|嗎|$)|重播|^重聽"
        r"|聽(?:不|無)(?:太|啥)?(?:清楚|到|懂|見|著)"
        r"|沒(?:有)?聽(?:清楚|到|懂|見)"
        r"|(?:你|妳|您)(?:剛剛|剛才|頭拄仔|拄才)?(?:是)?(?:說|講)(?:了)?(?:什麼|甚麼|啥|蝦米)"
        r"|^(?:蛤|什麼|啥|你說什麼)$"
        r"|閣(?:講|念)一(?:擺|遍)")),
    ("main_menu", re.compile(
        r"主選單|主畫面|主頁面|上一層|上一頁|上一步|重新選|重選|重新來|從頭|重來|重新開始"
        r"|回(?:到|去)?(?:選單|開始|最前面)|一開始的選單|倒轉去|轉去(?:主)?選單|對頭")),
    ("agent", re.compile(
        r"真人|人工|專人|專員|客服人員|服務人員|你們的人|恁的人"
        r"|(?:轉|接|找|叫|給我|要|揣)(?:一個|一下)?客服|客服(?:來|聽)"
        r"|(?:跟|佮|和)(?:一個)?人(?:講|說|談)|不(?:要|想)跟機器|無愛佮機器")),
    ("lang_nan", re.compile(r"(?<!不懂)(?<!不會)(?:講|說|用|換|換成|聽|改)(?:成)?(?:台語|臺語|閩南語|台灣話)")),
    ("lang_zh", re.compile(r"(?<!不懂)(?<!不會)(?:講|說|用|換|換成|聽|改)(?:成)?(?:國語|華語|中文|北京話)")),
)
# A complaint about staff names them; it is not a request to talk to one.
_COMPLAINT = re.compile(r"投訴|客訴|抱怨|申訴|檢舉|態度|很差|太差|不滿|主管|經理")
MAX_LEN = 24  # a command is said briefly; a long sentence is about something else


def find_command(clean: str) -> str | None:
    """The command in a cleaned utterance (see Normalizer.clean), or None. When
    two are said ("我聽不懂國語，講台語"), the last one is what the caller wants."""
    if not clean or len(clean) > MAX_LEN:
        return None
    best: tuple[int, str] | None = None
    for name, pattern in _RULES:
        for m in pattern.finditer(clean):
            if name == "agent" and _COMPLAINT.search(clean):
                continue
            if best is None or m.start() >= best[0]:
                best = (m.start(), name)
    return best[1] if best else None
