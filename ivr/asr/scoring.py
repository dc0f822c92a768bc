"""Character error rate: the one scoring of "what was said" against "what
was heard" (ASR benchmark, QA fixtures, TTS intelligibility).

Normalisation, applied to both sides before counting edits:

1. Unicode NFKC (full-width letters and digits become half-width).
2. Numbers read as Han numerals: ``1,230`` -> 一千二百三十; years (``2026年``),
   numbers with a leading zero and strings of more than 16 digits digit by
   digit (``0912`` -> 零九一二). Whisper writes digits where callers and
   prompts use words. 么/幺 inside a number is read 一 (phone numbers).
3. Punctuation, symbols and spaces dropped; Latin letters lower-cased.
4. Script and spelling variants folded, character by character: Traditional
   to Simplified (OpenCC ``t2s``), then 两->二, 〇->零, 妳->你, 账->帐, 著->着.
   An engine is not charged for writing the other script or a variant.

CER = Levenshtein distance (substitutions + insertions + deletions) / number
of reference characters, both after normalisation; over a corpus, sum the
edits and the characters (``char_errors``) rather than averaging per clip.
Steps 1-3 give the *shown* form (the script as written, for reports); step 4
maps it one character to one character to the *compared* form, so a position
in one is the same position in the other.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from ivr.asr.text import to_simplified

_VARIANTS = str.maketrans({"两": "二", "〇": "零", "○": "零", "妳": "你", "账": "帐", "著": "着"})
_NUMBER = re.compile(r"(\d[\d,]*)(年?)")
_NUMERAL = "零〇一二三四五六七八九十百千萬万億亿两兩0-9"
_YAO = re.compile(rf"[么幺](?=[{_NUMERAL}么幺])|(?<=[{_NUMERAL}么幺])[么幺]")


def _read_number(m: re.Match[str]) -> str:
    from ivr.prompts.numbers import cardinal  # the one Chinese number reader (prompts loads lazily)

    digits = m.group(1).replace(",", "")
    if (m.group(2) == "年" and len(digits) == 4) or digits.startswith("0") or len(digits) > 16:
        return "".join("零一二三四五六七八九"[int(c)] for c in digits) + m.group(2)
    return cardinal(int(digits)) + m.group(2)


def shown_form(text: str) -> str:
    """Steps 1-3: NFKC, numbers as Han numerals, no punctuation or spaces, lower case."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _NUMBER.sub(_read_number, text)
    text = _YAO.sub("一", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN").lower()


@lru_cache(maxsize=8192)
def _fold(ch: str) -> str:
    s = to_simplified(ch)
    return (s if len(s) == 1 else ch).translate(_VARIANTS)


def normalize_for_cer(text: str) -> str:
    """The compared form (steps 1-4); the same length as ``shown_form(text)``."""
    return "".join(_fold(ch) for ch in shown_form(text))


def char_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edits, reference characters) after normalisation: sum both over a corpus."""
    ref, hyp = normalize_for_cer(reference), normalize_for_cer(hypothesis)
    return Levenshtein.distance(ref, hyp), len(ref)


def cer(reference: str, hypothesis: str) -> float:
    """Edits / reference characters; can exceed 1. An empty reference scores 0 if nothing was heard, else 1."""
    errors, chars = char_errors(reference, hypothesis)
    if not chars:
        return 0.0 if not normalize_for_cer(hypothesis) else 1.0
    return errors / chars


def contains(haystack: str, needle: str) -> bool:
    return normalize_for_cer(needle) in normalize_for_cer(haystack)


def diff_ops(expected: str, actual: str) -> list[tuple[str, str]]:
    """(op, text) runs in the shown form: 'eq', 'del' (expected but missing), 'ins' (extra).
    Aligned on the compared form, so a script variant is not shown as a difference."""
    a_shown, b_shown = shown_form(expected), shown_form(actual)
    a, b = normalize_for_cer(expected), normalize_for_cer(actual)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(("eq", b_shown[j1:j2]))
        else:
            if i2 > i1:
                out.append(("del", a_shown[i1:i2]))
            if j2 > j1:
                out.append(("ins", b_shown[j1:j2]))
    return out
