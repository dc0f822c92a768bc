"""Digits Whisper wrote as other characters of the same sound, at number steps.

A caller reading digits one by one says single syllables with no word around
them, and Whisper base often writes a syllable as a common character that
sounds the same (measured on the understanding set's dev split, synthetic
voices: 零 as 鈴/林, 七 as 起/期, 六 as 留/流, 五 as 午/無, 洞 as 東/動, 么 as 要,
一 as 伊/衣). Here such a character is read as its digit only where it sits in a
run of digits, never alone: 我要 and 所以 stay words.

The reading is by toneless pinyin (the character's first reading; ling/lin both
零, as Taiwan Mandarin merges -ing/-in); the retroflex/dental blur the intent
matcher allows (sh/s) is not allowed here, or 是 and 十 would read as 四.
Nlu.extract reads a number step's turn by ear only to complete the plain reading:
when the transcript as written gives no valid value (digit count, ID checksum, a
real date), or when a date's or amount's number has a sound-alike glued to it
(民國起11年); a caller's own digits valid as written are never overridden."""
from __future__ import annotations

import re

from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict

from .numbers import BIG_UNITS, DIGIT_CHARS, SMALL_UNITS

# syllable -> the numeral written for it (么 and 洞 stay radio-style, numbers.py reads them)
DIGIT_SYLLABLES = {
    "ling": "零", "lin": "零", "yi": "一", "yao": "么", "er": "二", "liang": "兩", "san": "三", "si": "四",
    "wu": "五", "liu": "六", "qi": "七", "ba": "八", "jiu": "九", "dong": "洞", "guai": "拐",
}
# Characters never read as a digit: numerals and units themselves, words that are
# number words of their own (幾 in 十幾 is "some", 億 a unit), and question words.
NEVER = set(DIGIT_CHARS) | set(SMALL_UNITS) | set(BIG_UNITS) | set("幾個年月日號号元塊點分")
_SEPARATOR = "、,，;；·・ "
_HAN = re.compile(r"[\u3400-\u9fff]")


def _syllable(ch: str) -> str:
    raw = pinyin_dict.get(ord(ch))
    if not raw:
        return ""
    return str(to_normal(raw.split(",")[0]))


def sounds_like_digit(ch: str) -> str | None:
    """The numeral ``ch`` sounds like (鈴 -> 零), or None (numerals themselves are None)."""
    if ch in NEVER or not _HAN.fullmatch(ch):
        return None
    return DIGIT_SYLLABLES.get(_syllable(ch))


# 七 (qi) heard with the initial of its neighbours in the palatal series j/q/x (八幾八,
# 七 as 幾 or 西): read so only squeezed between two digits, where 幾 cannot be "some"
# (that is 十幾, 幾百: a unit beside it) and no word of that sound fits.
NEAR_SEVEN = ("ji", "xi")


def _between_digits(chars: list[str], i: int) -> str | None:
    if not 0 < i < len(chars) - 1 or not _HAN.fullmatch(chars[i]) or chars[i] in DIGIT_CHARS:
        return None
    if not (chars[i - 1] in DIGIT_CHARS and chars[i + 1] in DIGIT_CHARS):
        return None
    return "七" if _syllable(chars[i]) in NEAR_SEVEN else None


# 萬 (wan) heard as a word of a near sound (以往 for 一萬, 臺灣 for 一萬) right before
# a value of thousands, at an amount step (read_by_ear)
WAN = ("wan", "wang")


def _ten_thousand(chars: list[str], i: int) -> str | None:
    if i + 2 >= len(chars) or not _HAN.fullmatch(chars[i]) or chars[i] in NEVER:
        return None
    if not (_is_digit(chars[i + 1]) and chars[i + 2] in "千仟"):
        return None
    return "萬" if _syllable(chars[i]) in WAN else None


_BARE_WAN = re.compile(f"(?<![{''.join(DIGIT_CHARS)}{''.join(SMALL_UNITS)}0-9])萬")


def lost_multiplier(text: str, heard: str) -> bool:
    """True when reading ``text`` by ear found a 萬 with no number before it (臺灣兩千五百
    -> 臺萬兩千五百): the amount said had ten-thousands that the transcript lost."""
    return len(_BARE_WAN.findall(heard)) > len(_BARE_WAN.findall(text))


def _is_numeral(ch: str) -> bool:
    return ch in DIGIT_CHARS or ch in SMALL_UNITS or ch in BIG_UNITS or ch.isdigit()


def _is_digit(ch: str) -> bool:
    return ch in DIGIT_CHARS or ch.isdigit()


def with_digit_sounds(text: str, allow_yao: bool = True) -> str:
    """``text`` with each sound-alike of a digit that stands in a run of digits
    replaced by that digit. In a run: a sound-alike touching a numeral or another
    sound-alike directly (起11, 東午二六), or standing between numerals with only
    separators around it (零、伊、九). A sound-alike at the edge of a run must touch
    it directly: 四三二一，要 keeps its 要. The run needs a real numeral.
    ``allow_yao=False`` (amounts) keeps 要/藥 as words: 么 is never said in an amount."""
    return read_by_ear(text, allow_yao)[0]


def read_by_ear(text: str, allow_yao: bool = True) -> tuple[str, bool]:
    """(``with_digit_sounds(text)``, whether every character read as a digit touches
    the number directly: 起11年 is one word of the number, 零、伊、九 only a neighbour).
    With ``allow_yao=False`` (an amount) a syllable wan/wang right before a value of
    thousands is its 萬 (以往兩千五百 is 一萬兩千五百); with nothing that reads as its
    multiplier before it (臺灣兩千五百) the 萬 stays bare and the amount reads as none."""
    chars = list(text)
    alike = [sounds_like_digit(c) or _between_digits(chars, i) for i, c in enumerate(chars)]
    if not allow_yao:
        alike = [None if a == "么" else a for a in alike]
        alike = [a or _ten_thousand(chars, i) for i, a in enumerate(alike)]
    n = len(chars)
    kind = ["n" if _is_numeral(c) else "a" if alike[i] else "s" if c in _SEPARATOR else "x"
            for i, c in enumerate(chars)]
    out = list(chars)
    glued = True
    i = 0
    while i < n:
        if kind[i] not in "na":
            i += 1
            continue
        j = i
        while j < n and kind[j] in "nas":
            j += 1
        while kind[j - 1] == "s":
            j -= 1
        glued = _read_run(chars, alike, kind, out, i, j) and glued
        i = j
    return _TENS_SPLIT.sub(_tens, "".join(out)), glued


def _read_run(chars: list[str], alike: list[str | None], kind: list[str], out: list[str], a: int, b: int) -> bool:
    """Replace the sound-alikes of chars[a:b] (a run of numerals, sound-alikes, separators);
    False when one replaced stands apart from the others behind separators."""
    if not any(_is_digit(c) for c in chars[a:b]):
        return True
    keep = [True] * (b - a)
    # peel sound-alikes off the edges that are not glued to the run
    for order in (range(a, b), range(b - 1, a - 1, -1)):
        for i in order:
            if kind[i] == "n":
                break
            if kind[i] == "s":
                continue
            step = 1 if order.step == 1 else -1
            nxt = i + step
            if a <= nxt < b and kind[nxt] in "na" and keep[nxt - a]:
                break  # glued to the rest: it and what lies inward stay
            keep[i - a] = False
    glued = True
    for i in range(a, b):
        if kind[i] == "a" and keep[i - a]:
            out[i] = alike[i] or chars[i]
            touches = (i > a and kind[i - 1] in "na") or (i + 1 < b and kind[i + 1] in "na")
            glued = glued and touches
    return glued


# Whisper heard 七十一年 as 起11年: the tens digit as a word, 十一 in Arabic. Once the
# word is read back (七11年), the Arabic 1x after a lone Han digit is that digit's
# tens (七十一), never a digit string (a year, month or day has no "711").
_TENS_SPLIT = re.compile(f"(?<![{''.join(DIGIT_CHARS)}{''.join(SMALL_UNITS)}0-9])"
                         "([一二三四五六七八九])1([0-9])(?=[年月日號号])")


def _tens(m: re.Match[str]) -> str:
    return m.group(1) + "十" + ("" if m.group(2) == "0" else "零一二三四五六七八九"[int(m.group(2))])
