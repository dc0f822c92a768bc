"""Slot value extraction from folded text (see Normalizer.fold).

Each extractor returns the value or None when the utterance does not hold
one; it never guesses: a wrong account number or birth date is worse than
asking again."""
from __future__ import annotations

import datetime as dt
import re

from .numbers import BIG_UNITS, DIGIT_CHARS, SMALL_UNITS
from .phonetic import PinyinTable

LETTER_CODES = dict(zip("ABCDEFGHJKLMNPQRSTUVXYWZIO", range(10, 36), strict=True))
_CODE_LETTERS = {v: k for k, v in LETTER_CODES.items()}
# A letter said as a word: NATO, the example word callers use (Apple 的 A), and how
# a recogniser writes the letter's sound in Han characters.
LETTER_WORDS = {
    "A": ("alpha", "alfa", "apple", "欸", "誒", "ㄟ", "愛", "艾"), "B": ("bravo", "boy", "逼", "比", "必"),
    "C": ("charlie", "cat", "西", "細"), "D": ("delta", "dog", "低", "迪", "弟"), "E": ("echo", "egg", "伊", "衣"),
    "F": ("foxtrot", "fish", "艾符", "欸夫"), "G": ("golf", "girl", "雞", "基", "吉"),
    "H": ("hotel", "happy", "欸取"), "I": ("india", "ice", "愛", "艾"), "J": ("juliet", "juliett", "jack", "傑", "街"),
    "K": ("kilo", "king", "開", "凱"), "L": ("lima", "lion", "欸囉", "愛囉"), "M": ("mike", "mother", "欸姆", "恩姆"),
    "N": ("november", "nice", "恩"), "O": ("oscar", "orange", "歐"), "P": ("papa", "pig", "批", "屁"),
    "Q": ("quebec", "queen", "丘", "摳", "求"), "R": ("romeo", "red", "阿爾"), "S": ("sierra", "sun", "愛司", "艾斯"),
    "T": ("tango", "tiger", "替", "踢"), "U": ("uniform", "umbrella", "優", "悠"), "V": ("victor", "威"),
    "W": ("whiskey", "whisky", "達布溜"), "X": ("xray", "x-ray", "愛克斯"), "Y": ("yankee", "yellow", "歪"),
    "Z": ("zulu", "zoo", "賊"),
}
_WORD_LETTER = {w: letter for letter, words in LETTER_WORDS.items() for w in words if w.isascii()}
_SOUND_LETTER = sorted(((w, letter) for letter, words in LETTER_WORDS.items() for w in words if not w.isascii()),
                       key=lambda item: -len(item[0]))
# A letter's sound of two or more syllables (欸姆 for M) heard in other characters of the
# same toneless pinyin (艾姆, 埃姆: Whisper picks any): matched by reading, not by
# characters. One-syllable sounds (欸, 西) stay character-exact: too many words share them.
_PINYIN = PinyinTable()
_SOUND_READINGS = {tuple(_PINYIN.first(w).split()): letter for letter, words in LETTER_WORDS.items()
                   for w in words if not w.isascii() and len(w) >= 2}
# ... and a one-syllable sound in another character of its reading (秋 for 丘 = Q) only
# where the ID's digits follow it at once: there the checksum tells a letter from a word
_SYLLABLE_LETTERS: dict[str, list[str]] = {}
for _letter, _words in LETTER_WORDS.items():
    for _w in _words:
        if len(_w) == 1 and not _w.isascii():
            _SYLLABLE_LETTERS.setdefault(_PINYIN.first(_w), []).append(_letter)
# Words around the letter that are not letters (開頭 holds 開 = K)
_ID_FRAME_WORDS = re.compile(r"英文字母|英文|字母|大寫的|大寫|小寫|開頭|數字是|數字|身分證字號|身分證|字號|號碼")
_LATIN_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?")

# Numeral characters left unread after folding (a value that did not parse); before an
# amount only a unit counts: a lone digit there is the filler 呃 as Whisper writes it (二)
_UNIT_CHARS = frozenset(SMALL_UNITS) | frozenset(BIG_UNITS)
_NUMERAL_CHARS = frozenset(DIGIT_CHARS) | _UNIT_CHARS
CURRENCY_AFTER = ("元", "塊", "箍", "圓", "dollars", "dollar")
_NUMBER = re.compile(r"\d+")


# A number with its own counter (5年, 3個, 2點) is a quantity, not part of a code
_COUNTED = re.compile(r"\d+(?=[年月日號号個个歲岁點点分樓楼次位塊块元])")


def digits(text: str, min_len: int = 1, max_len: int = 64) -> str | None:
    """The digit string of a digits step. When all the digits together are not of
    the step's length, a number with its own counter is left out and the rest tried
    again (我念喔 written 五年: 5年468389 is 468389); never a guess among runs."""
    if re.search(r"[a-z]", text):
        return None
    runs = _NUMBER.findall(text)
    if not runs:
        return None
    value = "".join(runs)
    if not min_len <= len(value) <= max_len:
        rest = "".join(_NUMBER.findall(_COUNTED.sub(" ", text)))
        return rest if rest and min_len <= len(rest) <= max_len else None
    return value


def amount(text: str) -> int | None:
    """The amount said before its currency word (or the only number). None when
    pieces of numbers that were not read touch it (十二萬、千五百 came out as
    120000千500: 500 is not what was said): a wrong amount is worse than asking
    again. A number right before it that it completes is one amount with it (1200 30
    is 1230, as 一千兩百、三十 is said); one it cannot complete is left out, as before
    (the filler 呃 written 二: 二、一萬兩千五百塊 is 12500)."""
    numbers = list(_NUMBER.finditer(text))
    if not numbers:
        return None
    chosen = next((k for k, m in enumerate(numbers) if text[m.end():].lstrip().startswith(CURRENCY_AFTER)), None)
    if chosen is None:
        if len(numbers) > 1:
            return None
        chosen = 0
    m = numbers[chosen]
    before, after = text[:m.start()].rstrip(), text[m.end():].lstrip()
    if (before and before[-1] in _UNIT_CHARS) or (after and after[0] in _NUMERAL_CHARS):
        return None
    value = int(m.group())
    if chosen and not text[numbers[chosen - 1].end():m.start()].strip():
        head = numbers[chosen - 1].group()
        zeros = len(head) - len(head.rstrip("0"))
        touching = chosen > 1 and not text[numbers[chosen - 2].end():numbers[chosen - 1].start()].strip()
        if value < 10 ** zeros and not touching:
            return int(head) + value
    return value


def taiwan_id(text: str) -> str | None:
    """'A123456789' if the utterance spells a national ID (or new-style ARC
    number) whose checksum holds: the letter as a letter (A, a, 大寫的A), as a
    word (Alpha, Apple 的 A), as its sound (欸), or as its two-digit phone key code
    (10 for A) before the nine digits. Digits must already be ASCII (see
    numbers.spell_digits)."""
    compact = _ID_FRAME_WORDS.sub(" ", text.replace(" ", ""))
    latin: list[tuple[int, str]] = []
    for m in _LATIN_WORD.finditer(compact):
        word = m.group()
        letter = word.upper() if len(word) == 1 else _WORD_LETTER.get(word)
        if letter:
            latin.append((m.end(), letter))
        elif len(word) <= 4 and word.isalpha():
            # letters said one by one and written apart (Z、H、T、R5468…) fold into one
            # word: each is a mention, the checksum decides which one is the ID's
            latin += [(m.start() + k + 1, c.upper()) for k, c in enumerate(word)]
    spans: list[tuple[int, int, str]] = []  # (start, end, letter)
    for word, letter in _SOUND_LETTER:
        start = 0
        while (pos := compact.find(word, start)) >= 0:
            spans.append((pos, pos + len(word), letter))
            start = pos + 1
    spans += _sounds_by_reading(compact)
    # a one-syllable sound inside a longer one is part of it: the 艾 of 艾斯 (S) is not A
    longer = [(a, b) for a, b, _ in spans if b - a >= 2]
    sounds = [(b, letter) for a, b, letter in spans
              if b - a >= 2 or not any(x <= a and b <= y for x, y in longer)]
    # a letter said as a letter beats a Han syllable that may be a filler (欸, 喔)
    for mentions in (latin, sorted(sounds)):
        for end, letter in reversed(mentions):
            for tail in dict.fromkeys((_tail_digits(compact[end:], False), _tail_digits(compact[end:], True))):
                if len(tail) == 9 and id_checksum_ok(letter + tail):
                    return letter + tail
    return id_from_key_code("".join(re.findall(r"\d", compact)))


# After the ID's letter only digits follow, and Whisper writes some digits said in
# Mandarin as the Latin letter of the same sound: 一 (yī) as E, 二 (èr) as R
# (P、E、三、九… for P 1 3 9…; T、R54683867 for T 2 5 4 6…). Tried only after the
# plain reading fails, and kept only when the ID's checksum then holds.
_DIGIT_AS_LETTER = str.maketrans({"e": "1", "r": "2"})


def _tail_digits(tail: str, sound_alikes: bool) -> str:
    return "".join(re.findall(r"\d", tail.translate(_DIGIT_AS_LETTER) if sound_alikes else tail))


def _sounds_by_reading(text: str) -> list[tuple[int, int, str]]:
    """(start, end, letter) for each multi-syllable letter sound in ``text`` by its toneless pinyin."""
    readings = [_PINYIN.readings(c)[0] if "\u3400" <= c <= "\u9fff" else "" for c in text]
    found = []
    for syllables, letter in _SOUND_READINGS.items():
        n = len(syllables)
        for i in range(len(text) - n + 1):
            if tuple(readings[i:i + n]) == syllables:
                found.append((i, i + n, letter))
    for i, reading in enumerate(readings[:-1]):
        if reading and text[i + 1].isdigit():
            found += [(i, i + 1, letter) for letter in dict.fromkeys(_SYLLABLE_LETTERS.get(reading, ()))]
    return found


def id_from_key_code(digits: str) -> str | None:
    """11 digits: the letter's two-digit code (10 for A, as keyed on a phone or
    said aloud) then the nine digits; the ID if its checksum holds."""
    if len(digits) != 11 or not digits.isdigit():
        return None
    letter = _CODE_LETTERS.get(int(digits[:2]))
    candidate = letter + digits[2:] if letter else ""
    return candidate if candidate and id_checksum_ok(candidate) else None


def id_checksum_ok(value: str) -> bool:
    if not re.fullmatch(r"[A-Z][1289]\d{8}", value):
        return False
    code = LETTER_CODES[value[0]]
    nums = [code // 10, code % 10] + [int(c) for c in value[1:]]
    weights = [1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1]
    return sum(n * w for n, w in zip(nums, weights, strict=False)) % 10 == 0


# ROC years said today are at most ~115; three digits past this are not a year
MAX_ROC_YEAR = 200
RELATIVE_DAYS = (
    ("大後天", 3), ("大前天", -3), ("今仔日", 0), ("明仔載", 1), ("明仔日", 1), ("後日", 2),
    ("昨昏", -1), ("今天", 0), ("今日", 0), ("明天", 1), ("明日", 1), ("後天", 2),
    ("昨天", -1), ("昨日", -1), ("前天", -2), ("前日", -2),
)
# After 年 a filler may stand before the month: Whisper writes 呃 as 而 (1987年而6月15號)
_YMD = re.compile(r"(?:民國|西元)?\s*(\d{2,4})\s*(?:年的|年[^\d年月日號]{0,2}|/|-|\.|\s)\s*(\d{1,2})\s*"
                  r"(?:月的|月|/|-|\.|\s)\s*(\d{1,2})")
# the keyed form said aloud: 0740315 (ROC) or 19850315
_KEYED_DATE = re.compile(r"^\D*?(\d{6,8})\D*$")
_YEAR = re.compile(r"(民國)?\s*(\d{2,4})\s*年")
_MD = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|號)?")


def date(text: str, today: dt.date | None = None) -> dt.date | None:
    """Absolute dates (1990/01/02, 民國115年3月5日, 七十九年三月五日 = ROC 79)
    and, when ``today`` is given, relative ones (明天, 明仔載) and month-day
    without a year. Without ``today`` a relative date is None: the NLU has no
    clock of its own, the dialog passes the call's date."""
    m = _YMD.search(text)
    if m:
        year, month, day = (int(g) for g in m.groups())
        return _year_month_day(year, "民國" in text[: m.end()], month, day)
    years, days = _YEAR.findall(text), _MD.findall(text)
    if len(years) == 1 and len(days) == 1 and text.find(years[0][1] + "年") > text.find("月"):
        # the year said last (三月十五號，民國七十四年): one of each, nothing else to pick from
        return _year_month_day(int(years[0][1]), bool(years[0][0]), int(days[0][0]), int(days[0][1]))
    m = _KEYED_DATE.match(text.replace(" ", ""))
    if m:
        return date_from_digits(m.group(1))
    if today is None:
        return None
    for word, delta in RELATIVE_DAYS:
        if word in text:
            return today + dt.timedelta(days=delta)
    m = _MD.search(text)
    if m:
        return _valid(today.year, int(m.group(1)), int(m.group(2)))
    return None


def _year_month_day(year: int, said_roc: bool, month: int, day: int) -> dt.date | None:
    roc = said_roc or year < 1000
    if roc and year >= MAX_ROC_YEAR:
        return None  # 461年 is no year anyone says (a digit heard too many)
    return _valid(year + 1911 if roc else year, month, day)


def date_from_digits(keys: str) -> dt.date | None:
    """A date keyed or said as digits: YYYYMMDD, or a Minguo YYYMMDD / YYMMDD
    (0740315 = 1985-03-15) as callers in Taiwan key it."""
    if not keys.isdigit() or len(keys) not in (6, 7, 8):
        return None
    year = int(keys[:-4]) + (0 if len(keys) == 8 else 1911)
    return _valid(year, int(keys[-4:-2]), int(keys[-2:]))


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
