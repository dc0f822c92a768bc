"""Scoring helpers shared by tests and bench: character error rate on one script."""
from __future__ import annotations

import unicodedata

from rapidfuzz.distance import Levenshtein

from ivr.asr.text import to_simplified


def normalize_for_cer(text: str) -> str:
    """Simplified script, no punctuation or spaces, half-width."""
    text = to_simplified(unicodedata.normalize("NFKC", text))
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def cer(hyp: str, ref: str) -> tuple[int, int]:
    """(edit distance, reference length) after normalisation; sum these over a corpus."""
    h, r = normalize_for_cer(hyp), normalize_for_cer(ref)
    return Levenshtein.distance(h, r), len(r)
