"""What a Whisper transcript is not: a decoding loop, or the step's hint list
read back; and which hints are worth Whisper's prompt. Pure text functions,
apart from the engine so they can be tested and benchmarked alone."""
from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from ivr.asr.text import to_traditional

__all__ = ["MAX_UNITS_PER_S", "compact_hints", "recites_hints", "recites_prompt", "runaway"]


def compact_hints(expected: Sequence[str], budget: int = 90) -> list[str]:
    """The few phrases worth putting in Whisper's prompt.

    A grammar engine wants every wording; Whisper wants keywords. Given the
    menu's ~110 training phrases, Whisper base read the tail of the list back
    on noise and heard 我要查餘額 as 我要找一個. Keep phrases that contain no
    other phrase (查餘額, not 我想查餘額), shortest first, within ``budget``
    characters, in the caller's original order."""
    phrases = list(dict.fromkeys(p.strip() for p in expected if p and p.strip()))
    core = [p for p in phrases if not any(q != p and q in p for q in phrases)]
    keep: set[str] = set()
    used = 0
    for p in sorted(core, key=len):
        if used + len(p) > budget:
            break
        keep.add(p)
        used += len(p) + 1
    return [p for p in core if p in keep]


# A caller says at most ~6 syllables a second (digits read fast ~5); a transcript
# well past that for the turn's length is Whisper looping, not the caller.
MAX_UNITS_PER_S = 7.0
_UNIT = re.compile(r"[\u3400-\u9fff]|[0-9]|[A-Za-z]")
_NOT_UNIT = re.compile(r"[^\u3400-\u9fff0-9A-Za-z]+")
# the same word (2-6 characters) 4 times in a row, or one Han character or letter 5 times
_REPEATED = re.compile(r"(.{2,6}?)\1{3,}|([\u3400-\u9fffA-Za-z])\2{4,}")


def runaway(text: str, seconds: float) -> bool:
    """True when a transcript is a decoding loop: more syllables than the turn
    could hold (``MAX_UNITS_PER_S``), or one word repeated over and over.
    Measured on synthetic callers at digit, date and ID steps (bench/understanding_audio.py):
    with the step's numerals in the prompt Whisper base answered 二八七六 with
    二、八、四、六、七、八、四、六、七、八… and a noisy yes/no with 行。行。行。行。行。
    Digits said slowly (八 八 八 八) stay within the rate."""
    units = len(_UNIT.findall(text))
    if units > MAX_UNITS_PER_S * seconds + 2:
        return True
    return bool(_REPEATED.search(_NOT_UNIT.sub("", text)))


_LIST_SEP = re.compile(r"[、，,]")
_NUMERALS = set("零〇一二三四五六七八九十百千萬万兩两么洞拐0123456789")
_STRIP = re.compile(r"[\s。．.！!？?；;：:]+")


def recites_hints(text: str, expected: Sequence[str] | None) -> bool:
    """True when the 'transcript' is the hint list read back: two or more
    whole hint phrases (3+ characters) separated the way the prompt joins
    them, the last maybe cut short. On noise or mumbling Whisper base does
    this (a 5 dB SNR hesitation came back as 我不要跟機器講話、請幫我轉接客服、轉),
    which would send the caller somewhere they never asked to go. A caller
    saying one phrase, or digits separated by 、, is not affected. Short hints
    (國語、華語、臺語) count when three different ones or more are read back in a row."""
    if not expected:
        return False
    every = {_STRIP.sub("", to_traditional(h)) for h in expected}  # the prompt's hints are a subset
    hints = {h for h in every if len(h) >= 3}
    pieces = [p for p in (_STRIP.sub("", x) for x in _LIST_SEP.split(to_traditional(text))) if p]
    if len(pieces) < 2:
        return False
    *whole, last = pieces
    if hints and all(p in hints for p in whole) and any(h.startswith(last) for h in hints):
        return True
    # three or more hints of any length in a row, the prompt's own list (國語、華語、臺語;
    # 我要投訴、人工、專人、客服): a caller names one thing, not the menu
    words = {h for h in every if len(h) >= 2 and not all(c in _NUMERALS for c in h)}  # digits said one by one stay
    return len(pieces) >= 3 and len(set(pieces)) >= 3 and all(p in words for p in whole) \
        and any(h.startswith(last) for h in words)


# a transcript this much made of the prompt's own words is the prompt read back
_PROMPT_SHARE = 0.6
_PROMPT_MIN_UNITS = 5
_PROMPT_PIECE = 3


@functools.lru_cache(maxsize=8)
def _units_of(prompt: str) -> str:
    """The prompt's characters in Traditional form (the same few prompts every turn)."""
    return "".join(_UNIT.findall(to_traditional(prompt)))


def recites_prompt(text: str, prompt: str) -> bool:
    """True when the 'transcript' is Whisper reading its base prompt back.

    On a 10 dB noisy line Whisper base answered a caller with 以下是臺灣國語,
    臺灣國語的客服電話, 我認為是臺灣的客服電話 (the prompt is 以下是台灣國語的客服電話):
    noise, not words, and 國語 would even choose a language. A transcript counts
    when at least 60 % of its characters lie in pieces (3+ characters) of the
    prompt and those pieces add up to 5+ characters, so a caller saying
    台灣國語 or 說國語 at the language step is still heard."""
    units = "".join(_UNIT.findall(to_traditional(text)))
    source = _units_of(prompt)
    if len(units) < _PROMPT_MIN_UNITS or not source:
        return False
    covered = [False] * len(units)
    i = 0
    while i < len(units):
        best = 0
        for j in range(len(units), i + _PROMPT_PIECE - 1, -1):  # the longest prompt piece starting here
            if units[i:j] in source:
                best = j - i
                break
        if best >= _PROMPT_PIECE:
            covered[i:i + best] = [True] * best
            i += best
        else:
            i += 1
    n = sum(covered)
    return n >= _PROMPT_MIN_UNITS and n >= _PROMPT_SHARE * len(units)
