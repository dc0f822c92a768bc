"""Intelligibility scoring of synthesized speech: character error rate of what
a recognizer heard against the text we asked the voice to say.

Both sides are normalised so only misheard words count: punctuation and
spaces dropped, Arabic numerals read as Han numerals (Whisper writes 1230 for
一千兩百三十), and spelling variants folded (兩/二, 么/一, 臺/台, 零/〇).
"""
from __future__ import annotations

import re

from ivr.prompts.numbers import cardinal

_FOLD = str.maketrans({"兩": "二", "么": "一", "臺": "台", "〇": "零", "○": "零", "妳": "你", "裏": "裡", "賬": "帳"})


def normalize_for_cer(text: str) -> str:
    def han(m: re.Match) -> str:
        digits = m.group(1).replace(",", "")
        # years (2026年), numbers with a leading zero and long strings are read digit by digit
        if (m.group(2) == "年" and len(digits) == 4) or digits.startswith("0") or len(digits) > 16:
            return "".join("零一二三四五六七八九"[int(c)] for c in digits) + m.group(2)
        return cardinal(int(digits)) + m.group(2)

    text = re.sub(r"(\d[\d,]*)(年?)", han, text)
    text = re.sub(r"[\W_]+", "", text)
    return text.translate(_FOLD).lower()


def cer(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over characters / reference length (can exceed 1)."""
    from rapidfuzz.distance import Levenshtein

    ref, hyp = normalize_for_cer(reference), normalize_for_cer(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)
