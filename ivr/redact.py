"""Personal data out of logs and exports.

Taiwan national IDs, card numbers, account numbers and phone numbers are
masked before any text leaves the agent's screen, however the recognizer or a
person wrote them: any separators between the digits (space, - . / , 、 and
their full-width forms: "11,2345,6789", "4111.1111.1111.1111"), full-width
digits, Chinese numerals read digit by digit (零九一二…, with 么/洞/兩/拐/空),
and IDs whose letter is spelled (欸一二三…, "alpha 123456789").

The text is folded onto a same-length shadow (every digit form -> 0-9, every
separator -> one space), numbers are found on the shadow, and their spans are
masked in the original. What is not personal survives: amounts with a
currency (1,234 元, NT$12,345,678), dates (2024-01-15, 113/01/15), IP
addresses, decimals, and our own identifiers (call ids, ticket ids: long
letter-and-digit tokens like UUIDs)."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_DIGIT_FORMS = {
    "0": "零〇○洞空０", "1": "一么幺壹１", "2": "二兩两貳２", "3": "三參叁３", "4": "四肆４",
    "5": "五伍５", "6": "六陸６", "7": "七柒拐７", "8": "八捌８", "9": "九玖勾９",
}
# folded (for the amount/date/decimal checks, which care which separator it is)
_FOLD = {c: d for d, forms in _DIGIT_FORMS.items() for c in forms}
_FOLD |= {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)} | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
_FOLD |= {"，": ",", "．": ".", "／": "/", "－": "-", "　": " ", "＄": "$", "（": "(", "）": ")"}
_FOLD |= dict.fromkeys("‐‑‒–—―−", "-")
_FOLD_T = str.maketrans(_FOLD)
# every separator a number may be written with, after folding
_SEPS = " \t-./,、・·･_()"
_NORM_T = str.maketrans(dict.fromkeys(_SEPS, " "))

# How a recognizer writes a spoken ID letter (Han transcriptions and NATO words), as the NLU reads them.
_LETTER_WORDS = {
    "A": "alpha alfa 欸 誒 ㄟ", "B": "bravo 逼 比 必", "C": "charlie 西 細", "D": "delta 低 迪 弟",
    "E": "echo 伊 衣", "F": "foxtrot 艾符 欸夫", "G": "golf 雞 基 吉", "H": "hotel 欸取", "I": "india 愛",
    "J": "juliet juliett 傑 街", "K": "kilo 開 凱", "L": "lima 欸囉 愛囉", "M": "mike 欸姆 恩姆",
    "N": "november 恩", "O": "oscar 歐 喔", "P": "papa 批 屁", "Q": "quebec 丘 摳", "R": "romeo 阿爾 啊",
    "S": "sierra 愛司 艾斯", "T": "tango 替 踢", "U": "uniform 優 悠", "V": "victor 威",
    "W": "whiskey whisky 達布溜", "X": "xray x-ray 愛克斯", "Y": "yankee 歪", "Z": "zulu 賊 如",
}
_WORD_LETTER = {w: letter for letter, words in _LETTER_WORDS.items() for w in words.split()}
_SPELLED = "|".join(re.escape(w) for w in sorted(_WORD_LETTER, key=len, reverse=True))
_SEP = " {0,3}"  # up to three separator characters between two digits
_D8 = "(?:" + _SEP + "[0-9]){8}"
# Taiwan ID / resident certificate: letter + 1/2 (citizen) or 8/9 (ARC), or letter + A-D (old ARC), + 8 digits
_TW_ID = re.compile(r"(?<![0-9A-Za-z])(?:[A-Za-z]|(?i:" + _SPELLED + "))" + _SEP
                    + r"(?:[12890]|[A-Da-d])" + _D8 + r"(?![0-9A-Za-z])")
# any other run of 6+ digits (cards 13-19, accounts 10-16, phones, one-time codes)
_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9](?:" + _SEP + "[0-9]){5,}(?![0-9A-Za-z])")

# Not personal: checked on the folded text, and blanked out of the shadow before the number search.
_UNIT = r"(?:元|塊|圓|箍|萬|億|dollars?|NTD|TWD)"
_CURRENCY = r"(?:NT\$|\$|NTD|TWD|新台幣|新臺幣|台幣|臺幣)"
_AMOUNT = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,9})(?:\.[0-9]{1,2})?"
_KEEP = [
    re.compile(r"(?<![0-9.,])" + _AMOUNT + r"(?= ?" + _UNIT + ")", re.I),
    re.compile(_CURRENCY + r" ?" + _AMOUNT + r"(?![0-9])", re.I),
    # dates: 2024-01-15, 2024/1/5, 2024.01.15, ROC 113/01/15 or 74/03/15 (years 20-119); one separator
    # (standing alone: not a piece of a longer run like 30-00-00-00-01-1)
    re.compile(r"(?<![0-9])(?<![0-9][-/.,])(?:(?:19|20)[0-9]{2}|1[01][0-9]|[2-9][0-9])([-/.])(?:0?[1-9]|1[0-2])\1"
               r"(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])(?![-/.,][0-9])"),
    # private and loopback IPv4 (ours, not a caller's): 127.0.0.1, 10.x, 192.168.x, 172.16-31.x
    re.compile(r"(?<![0-9.])(?:127|10|192\.168|172\.(?:1[6-9]|2[0-9]|3[01]))(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|"
               r"[1-9]?[0-9])){2,3}(?![0-9]|\.[0-9])"),
    re.compile(r"(?<![0-9][-./, ])(?<![0-9])[0-9]\.[0-9]+(?![0-9]|[-./,][0-9])"),  # a decimal: 0.412345
    # our identifiers: UUIDs, ticket ids, Twilio sids — 12+ letters and digits with a letter, one token
    re.compile(r"(?<![0-9A-Za-z])(?=[0-9A-Za-z_-]*[A-Za-z])(?=[0-9A-Za-z_-]*[0-9])"
               r"[0-9A-Za-z]+(?:[-_][0-9A-Za-z]+)*(?![0-9A-Za-z])"),
]
_MIN_ID_TOKEN = 12
_ANY_DIGIT = re.compile("[0-9" + "".join(sorted(set("".join(_DIGIT_FORMS.values())))) + "]")


def _shadow(text: str) -> tuple[str, str]:
    """(folded, shadow): same length as ``text``; the shadow has digits 0-9,
    one space for any separator, and everything else as folded."""
    folded = text.translate(_FOLD_T)
    if len(folded) != len(text):  # the tables map one character to one; keep spans aligned whatever happens
        folded = "".join(ch.translate(_FOLD_T)[:1] or ch for ch in text)
    return folded, folded.translate(_NORM_T)


def _not_personal(folded: str, shadow: str) -> str:
    """The shadow with amounts, dates, addresses, decimals and our identifiers blanked out."""
    chars = list(shadow)
    for rx in _KEEP:
        for m in rx.finditer(folded):
            if rx is _KEEP[-1] and sum(c.isalnum() for c in m.group()) < _MIN_ID_TOKEN:
                continue
            chars[m.start():m.end()] = "#" * (m.end() - m.start())
    return "".join(chars)


def _keep_tail(text: str, shadow: str, a: int, b: int) -> str:
    """Masked span: one '*' per character that is not a separator, the last
    two digits kept for a long number (so an agent or auditor can still tell
    records apart)."""
    pos = [i for i in range(a, b) if shadow[i] != " "]
    digits = [i for i in pos if shadow[i].isdigit()]
    keep = set(digits[-2:]) if len(digits) > 8 else set()
    return "".join(text[i] if i in keep else "*" for i in pos)


def _sub(text: str, masker: Callable[[str, str, int, int], str], numbers: bool = True) -> str:
    if not text or len(_ANY_DIGIT.findall(text)) < 6:  # nothing to mask: most log lines (fast path)
        return text
    folded, shadow = _shadow(text)
    # IDs first: an ID is a letter (or its spoken word) at a token's start and 9 digits to its end, which
    # no UUID or ticket id can hold; everything else must first not be an amount, date or our own id
    spans = [(m.start(), m.end()) for m in _TW_ID.finditer(shadow)]
    if numbers:
        taken = list(_not_personal(folded, shadow))
        for a, b in spans:
            taken[a:b] = "#" * (b - a)
        spans += [(m.start(), m.end()) for m in _NUMBER.finditer("".join(taken))]
    if not spans:
        return text
    out, last = [], 0
    for a, b in sorted(spans):
        out.append(text[last:a])
        out.append(masker(text, shadow, a, b))
        last = b
    out.append(text[last:])
    return "".join(out)


def redact(text: str) -> str:
    """Mask personal data in free text; keeps the last two digits of a long
    number so records can still be told apart."""
    return _sub(text, _keep_tail)


def _agent_id(text: str, shadow: str, a: int, b: int) -> str:
    span = shadow[a:b]
    digits = [c for c in span if c.isdigit()]
    m = re.match(_SPELLED, span, re.I)
    if m and (len(m.group()) > 1 or not span[:1].isascii()):  # a spelled letter: echo, 欸
        head = _WORD_LETTER.get(m.group().lower(), "?")
    else:
        head = span[:1].upper()
    if len(digits) == 8:  # the old ARC form: letter, letter, 8 digits
        second = next(c for c in span[1:] if c.isalpha()).upper()
        return f"{head}{second}{digits[0]}****{''.join(digits[-3:])}"
    return f"{head}{''.join(digits[:2])}****{''.join(digits[-3:])}"


def mask_taiwan_ids(text: str) -> str:
    """Taiwan IDs as an agent sees them: A12****789 (letter, two digits, the
    last three), however they were written; other text is left as it is."""
    return _sub(text, _agent_id, numbers=False)


def redact_obj(obj: Any) -> Any:
    """Redact every string inside dicts/lists/tuples (for JSON logs and exports)."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact_obj(v) for v in obj)
    return obj
