"""A Taiwanese number-word test cut from real speech.

The 33 real sentences hold number syllables (tsi̍t, sann, sì, káu, tsa̍p, lī…; as
often meaning 這/是/到/你 as a number: the same syllables, which is what the
recognizer hears). Each is force-aligned (``ivr.asr.align``) and cut out:

* **words**: one number syllable alone, decoded by the nan-TW digit-loop grammar;
* **strings**: 3–4 of those real syllables spliced with short pauses, as a caller
  reads a PIN; right only when every digit is;
* **others**: non-number phrase clips and line noise, which must not come out as digits.

Only measuring: cut audio stays in memory, nothing is written."""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.asr.phrase_eval import EDGE_S, RATE, _pad, _to16, aligned_sentences, nonspeech_clips
from ivr.asr.taiwanese_numbers import TAILO_READINGS

# toneless syllable -> the digit (or 十) it is read as
HAN_DIGIT = {**{c: str(i) for i, c in enumerate("零一二三四五六七八九")}, "空": "0", "兩": "2", "十": "10"}
SYLLABLE_DIGIT = {r: HAN_DIGIT[tok] for tok, readings in TAILO_READINGS.items() if tok in HAN_DIGIT for r in readings}
GAP_S = (0.08, 0.2)  # pause between digits a caller leaves


@dataclass(frozen=True)
class NumberClip:
    digits: tuple[str, ...]  # ("1", "3") for tsit sann; () for a clip that holds no number
    source: str
    samples: np.ndarray      # 16 kHz int16, padded like the phrase clips


def answer_digits(text: str) -> tuple[str, ...]:
    """The digits (and 十) a recognizer's Han answer spells: 一三 -> ("1", "3")."""
    return tuple(HAN_DIGIT[c] for c in text if c in HAN_DIGIT)


def number_syllables(data_dir: Path, engine) -> tuple[list[tuple[str, str, np.ndarray]], list[np.ndarray]]:
    """([(syllable, sentence id, 16 kHz audio)] of every number syllable,
    [audio of non-number runs of 2 syllables]) from the aligned real sentences."""
    words: list[tuple[str, str, np.ndarray]] = []
    others: list[np.ndarray] = []
    for sid, samples, spans in aligned_sentences(data_dir, engine):

        def cut(a: float, b: float, samples: np.ndarray = samples) -> np.ndarray:
            return samples[max(0, int((a - EDGE_S) * RATE)):min(samples.size, int((b + EDGE_S) * RATE))]

        for i, sp in enumerate(spans):
            if sp.text in SYLLABLE_DIGIT:
                words.append((sp.text, sid, cut(sp.start, sp.end)))
            elif i % 3 == 0 and i + 1 < len(spans) and spans[i + 1].text not in SYLLABLE_DIGIT:
                others.append(cut(sp.start, spans[i + 1].end))
    return words, others


def number_clips(engine, data_dir: Path, seed: int = 0, strings: int = 40) -> dict[str, list[NumberClip]]:
    """{"words", "strings", "others"} clips (see the module doc)."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    syl, runs = number_syllables(data_dir, engine)
    words = [NumberClip((SYLLABLE_DIGIT[s],), sid, _to16(_pad(x, nrng))) for s, sid, x in syl]
    digits_only = [(s, sid, x) for s, sid, x in syl if SYLLABLE_DIGIT[s] != "10"]
    spliced = []
    for _ in range(strings if len(digits_only) >= 4 else 0):
        pick = rng.sample(digits_only, rng.choice((3, 4)))
        parts: list[np.ndarray] = []
        for k, (_, _, x) in enumerate(pick):
            if k:
                parts.append(nrng.normal(0, 6, int(rng.uniform(*GAP_S) * RATE)))
            parts.append(x.astype(np.float64))
        spliced.append(NumberClip(tuple(SYLLABLE_DIGIT[s] for s, _, _ in pick), "+".join(sid for _, sid, _ in pick),
                                  _to16(_pad(np.concatenate(parts), nrng))))
    others = [NumberClip((), "phrase", _to16(_pad(x, nrng))) for x in runs]
    others += [NumberClip((), c.source, c.samples) for c in nonspeech_clips("test", 4)]
    return {"words": words, "strings": spliced, "others": others}
