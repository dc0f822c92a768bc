"""Character error rate between what was said and what was recognized.

Both sides go to Traditional characters (OpenCC s2twp) with punctuation and
spaces dropped, so a Simplified engine output is not charged for its script."""
from __future__ import annotations

import difflib
import functools
import unicodedata

from rapidfuzz.distance import Levenshtein


@functools.lru_cache(maxsize=1)
def _converter():
    try:
        import opencc

        return opencc.OpenCC("s2twp")
    except Exception:  # OpenCC missing: compare as-is
        return None


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    conv = _converter()
    if conv is not None:
        text = conv.convert(text)
    return "".join(c for c in text.lower() if c.isalnum())


def cer(reference: str, hypothesis: str) -> float:
    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)


def contains(haystack: str, needle: str) -> bool:
    return normalize_text(needle) in normalize_text(haystack)


def diff_ops(expected: str, actual: str) -> list[tuple[str, str]]:
    """(op, text) runs: 'eq', 'del' (expected but missing), 'ins' (extra)."""
    a, b = normalize_text(expected), normalize_text(actual)
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(("eq", a[i1:i2]))
        else:
            if i2 > i1:
                out.append(("del", a[i1:i2]))
            if j2 > j1:
                out.append(("ins", b[j1:j2]))
    return out
