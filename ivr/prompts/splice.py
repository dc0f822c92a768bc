"""Dynamic prompts from pre-rendered fragments (issue 14): a templated prompt
("{customer_name}您好，您的帳戶餘額為{balance:amount}。") reaches the renderer as
its finished text, so the renderer matches it back against the flows'
templates; the template's fixed parts come from the TTS cache (rendered at
``ivr serve`` warm-up), and only the slot values are synthesized at call time,
each while the audio before it plays. A sentence that begins with a fixed part
starts playing at once.

Number pieces (零–九, 十百千萬億, 兩, 點, 元, 年月日號, 負…) can be spliced too,
so that an amount needs no synthesis at all (``splice_numbers``). Measured with
the Kokoro voice (bench/tts.py --first-audio, tests/prompts/test_splice.py):
Whisper does not hear such a spliced amount back (a lone 五 is "u↓", heard as
我/U), while the same amount synthesized as one word is heard right; so the
renderer synthesizes values by default and number splicing is opt-in.

Slot values are personal data (a name, a balance): they are never written to
the disk cache; secret slots never reach this module (the dialog renders them
as nothing, and ``ivr validate`` refuses a template that names one).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# the flow template syntax (flows/README.md): {slot} or {slot:amount|date|digits|id}
_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([a-z_]+))?\}")
PAUSES = {"，": 0.15, ",": 0.15, "、": 0.12, "；": 0.25, ";": 0.25, "。": 0.3, "！": 0.3, "？": 0.3,
          "!": 0.3, "?": 0.3, "：": 0.15, ":": 0.15}
NUMBER_CHARS = "零一二三四五六七八九十百千萬億兆兩么點負元塊角分年月日號空箍"
# a digit with its place word reads better than two lone syllables
_PAIRS = frozenset([d + p for d in "一二三四五六七八九" for p in "十百千"] + ["兩百", "兩千"])
NUMBER_PIECES: tuple[str, ...] = tuple(sorted(_PAIRS)) + tuple(NUMBER_CHARS)


@dataclass(frozen=True, slots=True)
class Template:
    """A prompt template of one language: ``literals`` has one more item than ``slots``."""

    language: str
    text: str
    literals: tuple[str, ...]
    slots: tuple[str, ...]
    pattern: re.Pattern[str]

    @property
    def fixed_chars(self) -> int:
        return sum(len(s) for s in self.literals)


def parse_template(text: str, language: str) -> Template | None:
    """The template's fixed parts and slots; None for a text without slots."""
    literals: list[str] = []
    slots: list[str] = []
    pos = 0
    for m in _SLOT.finditer(text):
        literals.append(text[pos:m.start()])
        slots.append(m.group(1))
        pos = m.end()
    if not slots:
        return None
    literals.append(text[pos:])
    rx = "".join(re.escape(lit) + ("(.*?)" if i < len(slots) else "") for i, lit in enumerate(literals))
    return Template(language, text, tuple(literals), tuple(slots), re.compile(rx, re.DOTALL))


def spoken(fragment: str) -> bool:
    """Whether a fixed part has anything to synthesize (else it is a pause or nothing)."""
    return any(not ch.isspace() and ch not in PAUSES for ch in fragment)


def fragment_texts(templates: list[Template]) -> list[str]:
    """The fixed parts to pre-render, once each."""
    return list(dict.fromkeys(lit.strip() for t in templates for lit in t.literals if spoken(lit)))


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of a matched prompt: ``fixed`` (from the cache), ``pause``
    (silence of ``seconds``) or ``value`` (a slot's text)."""

    kind: str
    text: str
    seconds: float = 0.0


def match(text: str, templates: list[Template]) -> list[Segment] | None:
    """``text`` cut into the segments of the template it was rendered from
    (the one with the most fixed text when several fit); None if none fits."""
    best: tuple[Template, re.Match[str]] | None = None
    for t in templates:
        m = t.pattern.fullmatch(text)
        if m and (best is None or t.fixed_chars > best[0].fixed_chars):
            best = (t, m)
    if best is None:
        return None
    t, m = best
    out: list[Segment] = []
    for i, lit in enumerate(t.literals):
        out += _fixed(lit)
        if i < len(t.slots) and m.group(i + 1).strip():
            out.append(Segment("value", m.group(i + 1).strip()))
    return out


def _fixed(lit: str) -> list[Segment]:
    if spoken(lit):
        return [Segment("fixed", lit.strip())]
    pause = max((PAUSES.get(ch, 0.0) for ch in lit), default=0.0)
    return [Segment("pause", lit, pause)] if pause else []


def number_pieces(text: str) -> list[str] | None:
    """A verbalized number ("五萬兩千三百四十元") as fragment names, a digit with
    its place word kept together; None when a character is not a number word."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i:i + 2] in _PAIRS:
            out.append(text[i:i + 2])
            i += 2
        elif text[i] in NUMBER_CHARS:
            out.append(text[i])
            i += 1
        else:
            return None
    return out or None


def edge_trim(x: np.ndarray, rate: int, keep_ms: float = 15.0, floor: int = 300) -> np.ndarray:
    """Leading/trailing near-silence cut, ``keep_ms`` kept either side."""
    idx = np.flatnonzero(np.abs(x) > floor)
    if idx.size == 0:
        return x[:0]
    keep = int(rate * keep_ms / 1000)
    return x[max(0, int(idx[0]) - keep): int(idx[-1]) + keep]


def crossfade_join(parts: list[np.ndarray], rate: int, fade_ms: float = 10.0) -> np.ndarray:
    """Pieces joined end to start with a short linear crossfade (no click, no gap)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return np.zeros(0, np.int16)
    out = parts[0].astype(np.float32)
    for p in parts[1:]:
        q = p.astype(np.float32)
        n = min(int(rate * fade_ms / 1000), len(out), len(q))
        if n:
            ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
            head = out[-n:] * (1.0 - ramp) + q[:n] * ramp
            out = np.concatenate([out[:-n], head, q[n:]])
        else:
            out = np.concatenate([out, q])
    return np.clip(out, -32768, 32767).astype(np.int16)


def silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(round(seconds * rate), np.int16)
