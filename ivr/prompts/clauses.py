"""Cutting a prompt's text into clauses, so a sentence synthesized at call
time (the balance with the caller's name and amount) starts playing when its
first clause is ready instead of when the whole sentence is.

A clause ends at Chinese or Western clause punctuation; the punctuation stays
with it (the TTS voice pauses there anyway, so the seam is where a speaker
breathes). Very short pieces join the clause before them: a voice reading
"好，" alone sounds clipped."""
from __future__ import annotations

BREAKS = frozenset("，。；！？、,;!?")
MIN_CHARS = 4  # a clause shorter than this (punctuation not counted) joins its neighbour


def clauses(text: str, min_chars: int = MIN_CHARS) -> list[str]:
    """``text`` in speaking order as clauses; joined they are ``text`` again."""
    out: list[str] = []
    cur = ""
    for ch in text:
        cur += ch
        if ch in BREAKS and _chars(cur) >= min_chars:
            out.append(cur)
            cur = ""
    if cur:
        if out and (_chars(cur) < min_chars or not cur.strip()):
            out[-1] += cur
        else:
            out.append(cur)
    return [c for c in out if c.strip()] or ([text] if text else [])


def _chars(s: str) -> int:
    return sum(1 for c in s if c not in BREAKS and not c.isspace())
