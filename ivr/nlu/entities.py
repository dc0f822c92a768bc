"""Slot value extraction from folded text (see Normalizer.fold).

Each extractor returns the value or None when the utterance does not hold
one; it never guesses: a wrong account number or birth date is worse than
asking again."""
from __future__ import annotations

import datetime as dt
import re

# Longest phrases first so 毋是 wins over 是, 不對 over 對, 沒問題 over 沒.
YES_NO: dict[str, tuple[tuple[str, bool], ...]] = {
    "zh-TW": (
        ("沒問題", True), ("沒有錯", True), ("沒錯", True), ("不錯", True),
        ("不是", False), ("不要", False), ("不對", False), ("不用", False), ("不行", False),
        ("不可以", False), ("不需要", False), ("不好", False), ("不確定", False), ("沒有", False),
        ("取消", False), ("錯了", False), ("否", False),
        ("是的", True), ("是", True), ("對的", True), ("對", True), ("好的", True), ("好", True),
        ("可以", True), ("確定", True), ("正確", True), ("要", True), ("需要", True),
        ("有", True), ("行", True), ("ok", True), ("yes", True), ("no", False),
    ),
    "nan-TW": (
        ("無問題", True), ("毋著", False), ("毋是", False), ("毋免", False), ("毋好", False),
        ("毋要", False), ("毋欲", False), ("無愛", False), ("袂使", False), ("免矣", False),
        ("毋", False), ("免", False), ("無", False),
        ("著", True), ("是", True), ("好", True), ("欲", True), ("愛", True), ("會使", True),
        ("有", True), ("對", True), ("ok", True),
    ),
}

LETTER_CODES = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36)))
# How a recogniser writes a spoken English letter in Han characters, and NATO words.
LETTER_WORDS = {
    "A": ("alpha", "alfa", "欸", "誒", "ㄟ", "a"), "B": ("bravo", "逼", "比", "必"),
    "C": ("charlie", "西", "細"), "D": ("delta", "低", "迪", "弟"), "E": ("echo", "伊", "衣"),
    "F": ("foxtrot", "艾符", "欸夫"), "G": ("golf", "雞", "基", "吉"), "H": ("hotel", "欸取"),
    "I": ("india", "愛"), "J": ("juliet", "juliett", "傑", "街"), "K": ("kilo", "開", "凱"),
    "L": ("lima", "欸囉", "愛囉"), "M": ("mike", "欸姆", "恩姆"), "N": ("november", "恩"),
    "O": ("oscar", "歐", "喔"), "P": ("papa", "批", "屁"), "Q": ("quebec", "丘", "摳"),
    "R": ("romeo", "阿爾", "啊"), "S": ("sierra", "愛司", "艾斯"), "T": ("tango", "替", "踢"),
    "U": ("uniform", "優", "悠"), "V": ("victor", "威"), "W": ("whiskey", "whisky", "達布溜"),
    "X": ("xray", "x-ray", "愛克斯"), "Y": ("yankee", "歪"), "Z": ("zulu", "賊", "如"),
}
_ID_TAIL = re.compile(r"[1289]\d{8}")

CURRENCY_AFTER = ("元", "塊", "箍", "圓", "dollars", "dollar")
_NUMBER = re.compile(r"\d+")


# Words that may surround a yes/no answer without changing it (好的謝謝, 我不要).
# 得 and 這 are what Whisper writes for an unstressed 的 / a hesitation (好得沒問題, 好,這沒問題).
YES_NO_NEUTRAL = ("麻煩你", "謝謝", "多謝", "感謝", "這樣", "按呢", "真的", "就是", "確定", "我", "阮",
                  "你", "了", "的", "得", "這", "矣", "囉", "啦", "喔", "啊", "呀", "嗯", "欸", "請", "嘛", "咧", "耶")


def yes_no(text: str, language: str) -> bool | None:
    """True/False when the whole utterance is a yes/no answer (with polite
    words around it), else None: 我要查餘額 holds 要 but answers nothing."""
    text = text.replace(" ", "")
    if not text:
        return None
    # The caller's language first, then the other: people mix them.
    lexicon: list[tuple[str, bool | None]] = []
    for lang in [language] + [lang for lang in YES_NO if lang != language]:
        lexicon.extend(YES_NO[lang])
    lexicon.extend((w, None) for w in YES_NO_NEUTRAL)
    lexicon.sort(key=lambda item: -len(item[0]))  # stable: caller's language wins ties
    answer: bool | None = None
    pos = 0
    while pos < len(text):
        for phrase, value in lexicon:
            if text.startswith(phrase, pos):
                if answer is None and value is not None:
                    answer = value
                pos += len(phrase)
                break
        else:
            return None
    return answer


def digits(text: str, min_len: int = 1, max_len: int = 64) -> str | None:
    if re.search(r"[a-z]", text):
        return None
    runs = _NUMBER.findall(text)
    if not runs:
        return None
    value = "".join(runs)
    if not min_len <= len(value) <= max_len:
        return None
    return value


def amount(text: str) -> int | None:
    numbers = list(_NUMBER.finditer(text))
    if not numbers:
        return None
    for m in numbers:
        tail = text[m.end():].lstrip()
        if tail.startswith(CURRENCY_AFTER):
            return int(m.group())
    return int(numbers[0].group()) if len(numbers) == 1 else None


def taiwan_id(text: str) -> str | None:
    """'A123456789' if the utterance spells a national ID (or new-style ARC
    number) whose checksum holds."""
    compact = text.replace(" ", "")
    for letter, words in LETTER_WORDS.items():
        for word in (letter.lower(),) + words:
            start = 0
            while (pos := compact.find(word, start)) >= 0:
                start = pos + 1
                m = _ID_TAIL.match(compact, pos + len(word))
                if m and (m.end() == len(compact) or not compact[m.end()].isdigit()):
                    candidate = letter + m.group()
                    if id_checksum_ok(candidate):
                        return candidate
    return None


def id_checksum_ok(value: str) -> bool:
    if not re.fullmatch(r"[A-Z][1289]\d{8}", value):
        return False
    code = LETTER_CODES[value[0]]
    nums = [code // 10, code % 10] + [int(c) for c in value[1:]]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    return sum(n * w for n, w in zip(nums, weights)) % 10 == 0


RELATIVE_DAYS = (
    ("大後天", 3), ("大前天", -3), ("今仔日", 0), ("明仔載", 1), ("明仔日", 1), ("後日", 2),
    ("昨昏", -1), ("今天", 0), ("今日", 0), ("明天", 1), ("明日", 1), ("後天", 2),
    ("昨天", -1), ("昨日", -1), ("前天", -2), ("前日", -2),
)
_YMD = re.compile(r"(?:民國|西元)?\s*(\d{2,4})\s*(?:年|/|-|\.|\s)\s*(\d{1,2})\s*(?:月|/|-|\.|\s)\s*(\d{1,2})")
_MD = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|號)?")


def date(text: str, today: dt.date | None = None) -> dt.date | None:
    """Absolute dates (1990/01/02, 民國115年3月5日, 七十九年三月五日 = ROC 79)
    and, when ``today`` is given, relative ones (明天, 明仔載) and month-day
    without a year. Without ``today`` a relative date is None: the NLU has no
    clock of its own, the dialog passes the call's date."""
    m = _YMD.search(text)
    if m:
        year, month, day = (int(g) for g in m.groups())
        roc = "民國" in text[: m.end()] or year < 1000
        if roc:
            year += 1911
        return _valid(year, month, day)
    if today is None:
        return None
    for word, delta in RELATIVE_DAYS:
        if word in text:
            return today + dt.timedelta(days=delta)
    m = _MD.search(text)
    if m:
        return _valid(today.year, int(m.group(1)), int(m.group(2)))
    return None


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
