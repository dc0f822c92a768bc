"""Taiwanese number words -> the Han numerals ``numbers.py`` reads.

A Taiwanese recognizer may answer in Tâi-lô ("it jī sann sì", "tsi̍t-tsa̍p-gōo hō",
"kau2 pah4 khoo1") or in Han characters with Taiwanese forms (蜀 for one, 廿 and 卅
for twenty and thirty). Both become plain Han numerals here, so the one number
reader serves both languages: 一二三四 -> "1234", 十五號 -> the 15th, 九百箍 -> 900.

Tâi-lô syllables are common words too (sì 是 "is", káu 到, tsi̍t 這, lí 你): one is read
as a number only inside a run of number syllables, or when it is the whole answer;
a unit (pah, tshing, bān, khoo, nî, gue̍h, hō, ji̍t) only next to a number."""
from __future__ import annotations

import re
import unicodedata

# toneless Tâi-lô (literary and colloquial readings, Tsiang-tsiu/Tsuan-tsiu forms) -> Han
TAILO_DIGITS = {
    "khong": "零", "ling": "零", "leng": "零",
    "it": "一", "tsit": "一", "chit": "一", "ji": "二", "li": "二", "nng": "兩",
    "sann": "三", "sam": "三", "san": "三", "si": "四", "su": "四", "goo": "五", "ngoo": "五",
    "lak": "六", "liok": "六", "tshit": "七", "chhit": "七", "pat": "八", "peh": "八", "poeh": "八",
    "kau": "九", "kiu": "九", "tsap": "十", "chap": "十", "sip": "十",
    "jiap": "二十", "liap": "二十", "siap": "三十",
}
TAILO_UNITS = {
    "pah": "百", "tshing": "千", "chheng": "千", "ban": "萬", "khoo": "箍", "kho": "箍", "guan": "元",
    "ni": "年", "gueh": "月", "geh": "月", "goeh": "月", "ho": "號", "jit": "日", "lit": "日",
}
# Han forms a Taiwanese transcript uses that the Mandarin reader does not know
HAN_FORMS = {"蜀": "一", "廿": "二十", "卅": "三十"}
# the tone each reading has; a marked syllable in another tone is another word
# (lí 你 is not lī 二, sī 是 is not sì 四, kàu 到 is not káu 九, tsit 這 is not tsi̍t 一)
TONES = {
    "khong": {3}, "ling": {5}, "leng": {5}, "it": {4}, "tsit": {8}, "chit": {8}, "ji": {7}, "li": {7}, "nng": {7},
    "sann": {1}, "sam": {1}, "san": {1}, "si": {3}, "su": {3}, "goo": {7}, "ngoo": {2}, "lak": {8}, "liok": {8},
    "tshit": {4}, "chhit": {4}, "pat": {4}, "peh": {4}, "poeh": {4}, "kau": {2}, "kiu": {2}, "tsap": {8},
    "chap": {8}, "sip": {8}, "jiap": {8}, "liap": {8}, "siap": {8}, "pah": {4}, "tshing": {1}, "chheng": {1},
    "ban": {7}, "khoo": {1}, "kho": {1}, "guan": {5}, "ni": {5}, "gueh": {8}, "geh": {8}, "goeh": {8},
    "ho": {7}, "jit": {8}, "lit": {8},
}
# syllables that are everyday words as often as numbers: a run of only these is not read
COMMON_WORDS = frozenset({"li", "si", "su", "tsit", "chit", "kau", "it"})
_MARKS = {"\u0301": 2, "\u0300": 3, "\u0302": 5, "\u0304": 7, "\u030d": 8}
_LATIN = re.compile(r"[A-Za-z]")
_SEP = re.compile(r"([\s\-\u2013]+)")


def _toneless(word: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    return re.sub(r"[0-9]", "", base).lower().replace("ⁿ", "nn")


def _tone(word: str) -> int | None:
    """The syllable's tone when it is written (diacritic or number), else None."""
    digits = re.findall(r"[1-9]", word)
    if digits:
        return int(digits[-1])
    for mark in unicodedata.normalize("NFD", word):
        if mark in _MARKS:
            return _MARKS[mark]
    return None


def _reading(word: str, marked: bool) -> str | None:
    """The Han numeral or unit a syllable can be, given its written tone."""
    w = _toneless(word)
    han = TAILO_DIGITS.get(w) or TAILO_UNITS.get(w)
    if han is None:
        return None
    tone = _tone(word)
    if marked:  # a toned text: an unmarked syllable is tone 1 or 4 (4 ends in p/t/k/h)
        tone = tone or (4 if w[-1] in "ptkh" else 1)
        if tone not in TONES.get(w, {tone}):
            return None
    return han


def _tailo_numbers(text: str) -> str:
    parts = _SEP.split(text)
    idx = [i for i, t in enumerate(parts) if t and not _SEP.fullmatch(t)]
    marked = any(_tone(parts[i]) is not None for i in idx)
    han = [_reading(parts[i], marked) for i in idx]
    words = [_toneless(parts[i]) for i in idx]
    is_digit = [h is not None and w in TAILO_DIGITS for h, w in zip(han, words, strict=True)]
    # runs of number syllables (digits, and units after a digit)
    k = 0
    while k < len(idx):
        if not is_digit[k]:
            k += 1
            continue
        j = k
        while j + 1 < len(idx) and han[j + 1] is not None:
            j += 1
        run = range(k, j + 1)
        meaningful = len(idx) == 1 or (j > k and any(words[r] not in COMMON_WORDS for r in run))
        if meaningful:
            for r in run:
                parts[idx[r]] = han[r] or parts[idx[r]]
        k = j + 1
    joined = "".join(parts)
    # bîn-kok (民國) before a year
    joined = re.sub(r"(?i)b[iî]n[\s\-\u2013]*kok(?=[\s\-\u2013]*[零一二三四五六七八九十])", "民國", joined)
    # the separators between converted Han numerals go; those between words stay
    return re.sub(r"(?<=[\u4e00-\u9fff])[\s\-\u2013]+(?=[\u4e00-\u9fff])", "", joined)


def taiwanese_numerals(text: str) -> str:
    """Tâi-lô number words and Taiwanese Han forms -> Han numerals; anything else unchanged."""
    for form, plain in HAN_FORMS.items():
        text = text.replace(form, plain)
    if _LATIN.search(text):
        text = _tailo_numbers(unicodedata.normalize("NFC", text))
    return text
