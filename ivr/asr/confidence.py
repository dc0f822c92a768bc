"""Out-of-grammar rejection and a calibrated confidence for grammar decoding.

A grammar search always answers with *some* phrase. Whether the caller said
one is judged by these checks, in order (``SphinxRecognizer._decide``):

1. the grammar path must reach the end of the turn (else pocketsphinx answers
   with a partial path whose score covers part of the audio);
2. the turn must be voiced speech (``voiced_fraction``: noise bursts, coughs,
   clicks and silence have no pitch);
3. the grammar path is compared with a free phone loop decoding the same
   audio, whose phone bigram follows Taiwanese syllable structure (taibun's
   word list mapped onto the model's phones) and Mandarin words (so Mandarin
   speech finds its own phonotactics there):

       llr = (grammar path score - loop path score) / speech frames

   (log base 1.0001 per 10 ms frame; speech frames = frames either path
   spends outside silence, so the silence an endpointer leaves around a turn
   does not dilute it);
4. and with a cohort of decoys — a fixed sample of other Taiwanese words,
   decoded apart in their own grammar:

       margin = (grammar path score - best decoy path score) / speech frames

   clipped to +-COHORT_CAP; a margin below -DECOY_MARGIN rejects outright.

The shipped nan-TW phrase decision is a logistic model learned over these
terms (``ivr.asr.sphinx_accept``); what follows is the hand-set rule it
replaced, kept as the engine's ``accept="calibration"`` and for steps without
a cohort. A logistic map fitted on the dev half of the word/phrase test
(``bench/taiwanese.py --fit``) turns ``llr + COHORT_WEIGHT * margin`` into
the probability that the answer is right; a turn is accepted at or above a
threshold chosen there for at most 5 % false accepts (margin, weight and
threshold chosen together, on dev only).

Until the cohort was decoded apart, the decoys competed inside the grammar and
one winning was a rejection: on dev that threw away a third of the right
answers (the phrase-only search was right 87 % of the time where the grammar
with decoys was right 64 %).

Measured and not kept: the lattice posterior (0.5 or 1), the grammar score
alone (at 5 % false accepts it kept 3 % of right answers), a uniform phone
loop (23 %), a phone loop normalised over all frames (21 %), free-loop phone
error rate, and a loop of all Taiwanese syllables (too slow as a grammar; as a
unigram language model no better than the phone loop and twice as slow)."""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np

from ivr.asr.pronounce import strip_tones, tailo_phones

NON_SPEECH = frozenset({"<sil>", "SIL", "<s>", "</s>", "(NULL)", "sil"})
LOOP_LW = 6.5  # language weight of the phone loop (pocketsphinx's default)
# weight of Mandarin words in the loop's phone bigram, relative to Taiwanese
# syllables: Mandarin speech must find its own phonotactics there to be rejected
# (measured without decoys: Mandarin false accepts 22 % -> 11 % clean, in-grammar 45 % -> 48 %;
# a weight of 3 changed nothing)
LOOP_MANDARIN = 1.0


@dataclass(frozen=True, slots=True)
class Calibration:
    """confidence = 1 / (1 + exp(-(slope * llr + offset))); accept at >= threshold."""
    slope: float
    offset: float
    threshold: float

    def confidence(self, llr: float) -> float:
        z = self.slope * llr + self.offset
        if z < -50:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))


# Fitted by ``python bench/taiwanese.py --fit --weights 0,1,2 --margins 0,1e9
# --durations 0,5,10,20`` on the dev half (all three conditions pooled); the threshold
# keeps dev false accepts <= 5 % in each condition. Maps ``turn_score``.
TAIWANESE = Calibration(slope=0.0735, offset=1.2268, threshold=0.5637)
# a nan-TW number loop has no cohort: its llr alone, calibrated before the cohort existed
NUMBERS = Calibration(slope=0.1522, offset=2.4925, threshold=0.6483)
# a decoy beating the best phrase by less than this (log units per speech frame) does
# not reject it; chosen with the threshold on the dev half (bench/taiwanese.py --fit)
# (1e9: no hard cut; on dev every finite margin tried kept fewer right answers)
DECOY_MARGIN = 1e9
# the score calibrated is llr + COHORT_WEIGHT * margin to the best decoy (clipped to
# +-COHORT_CAP per frame); chosen on the dev half like the margin
COHORT_WEIGHT = 2.0
COHORT_CAP = 50.0
# a phrase said far faster or slower than phrases are (frames per phone of its path, on a
# log scale, against the median of right dev answers) is less likely the phrase
DURATION_WEIGHT = 20.0
FRAMES_PER_PHONE = 13.0


@dataclass(frozen=True, slots=True)
class Decision:
    """What the recognizer made of the last turn (for logs, QA and the bench)."""
    heard: str          # the grammar's best phrase, accepted or not
    text: str           # heard if accepted, else ""
    llr: float | None   # None when there was no usable path
    confidence: float
    accepted: bool
    reason: str         # "" when accepted; else why not
    # (phrase path - best path with the decoys) per speech frame: 0 when a phrase won,
    # negative by how much a decoy beat the best phrase; None without decoys
    decoy_margin: float | None = None
    speech_frames: int = 0  # frames of speech the scores were normalised by
    phones: int = 0         # phones of the heard phrase's pronunciation
    # what the learned accept model (ivr.asr.sphinx_accept) was given; None when it was not asked
    features: Mapping[str, float] | None = None


def turn_score(llr: float, margin: float | None, frames: int, phones: int, cohort_weight: float,
               duration_weight: float, frames_per_phone: float = FRAMES_PER_PHONE) -> float:
    """What the calibration maps: the llr against the phone loop, plus the weighted
    margin to the decoys, minus the weighted log-distance of the phrase's pace from
    the typical one."""
    s = llr + cohort_weight * (margin or 0.0)
    if duration_weight and frames > 0 and phones > 0 and frames_per_phone > 0:
        s -= duration_weight * abs(math.log(frames / phones / frames_per_phone))
    return s


def speech_frames(*segmentations: Iterable[tuple[str, int, int]]) -> int:
    """Frames that any segmentation spends in a word or phone other than
    silence (fillers such as ++breath++ count as non-speech)."""
    frames: set[int] = set()
    for segs in segmentations:
        for word, start, end in segs:
            if word not in NON_SPEECH and not word.startswith("++"):
                frames.update(range(start, end + 1))
    return len(frames)


def llr_per_frame(grammar_score: int, loop_score: int, frames: int) -> float:
    return (grammar_score - loop_score) / max(frames, 1)


@lru_cache(maxsize=1)
def taiwanese_words() -> tuple[str, ...]:
    """taibun's word list as toneless Tâi-lô, syllables separated by spaces."""
    import os

    import msgpack
    import taibun

    path = os.path.join(os.path.dirname(taibun.__file__), "data", "words.msgpack")
    with open(path, "rb") as f:
        words = msgpack.unpackb(f.read(), raw=False)
    out = []
    for reading in words.values():
        syllables = [s for s in re.split(r"[^a-z]+", strip_tones(str(reading).split("/")[0])) if s]
        if syllables:
            out.append(" ".join(syllables))
    return tuple(out)


@lru_cache(maxsize=1)
def taiwanese_syllable_counts() -> Counter:
    """Toneless Tâi-lô syllables over taibun's word list, one count per word."""
    counts: Counter = Counter()
    for word in taiwanese_words():
        counts.update(word.split())
    return counts


def taiwanese_phone_sequences(syllable_counts: Counter, phones: Callable[[str], list[str]] | None = None
                              ) -> list[tuple[list[str], float]]:
    """Each Tâi-lô syllable's phones on the Mandarin model (``phones``, by default
    the hand-written ``tailo_phones``), with its count."""
    to_phones = phones or tailo_phones
    return [(ph, float(n)) for syl, n in syllable_counts.items() if (ph := to_phones(syl))]


def mandarin_phone_sequences(dictionary: Mapping[str, str], total: float) -> list[tuple[list[str], float]]:
    """The model dictionary's words as phone sequences, together weighing ``total``."""
    words = [w.split() for w in dictionary.values() if w]
    return [(ph, total / max(len(words), 1)) for ph in words]


def phone_bigram_arpa(sequences: Sequence[tuple[list[str], float]], phones: Sequence[str] | None = None,
                      k: float = 0.05) -> str:
    """A phone bigram (ARPA text) over weighted phone sequences (syllables or
    words): transitions inside a sequence as counted, sequence ends to
    sequence starts in proportion, silence and sentence ends after any
    sequence end. Every pair gets ``k`` so no phone sequence is impossible,
    only unlikely."""
    seqs = [(ph, n) for ph, n in sequences if ph and (phones is None or all(p in phones for p in ph))]
    inner: defaultdict[tuple[str, str], float] = defaultdict(float)
    first: defaultdict[str, float] = defaultdict(float)
    last: defaultdict[str, float] = defaultdict(float)
    uni: defaultdict[str, float] = defaultdict(float)
    for ph, n in seqs:
        first[ph[0]] += n
        last[ph[-1]] += n
        for p in ph:
            uni[p] += n
        for a, b in pairwise(ph):
            inner[a, b] += n
    vocab = sorted(uni)
    total_first = sum(first.values())
    lines_1: list[str] = []
    total_uni = sum(uni.values())
    lines_1.append("-99.0000 <s> 0.0000")
    lines_1.append(f"{math.log10(0.05):.4f} </s> 0.0000")
    lines_1.append(f"{math.log10(0.05):.4f} SIL 0.0000")
    for p in vocab:
        lines_1.append(f"{math.log10((uni[p] + 1) / (total_uni + len(vocab))):.4f} {p} 0.0000")
    lines_2: list[str] = []
    for a in ("<s>", "SIL", *vocab):
        if a in ("<s>", "SIL"):
            row = {b: first[b] / total_first + k for b in vocab}
            row["SIL"] = k
            row["</s>"] = 10 * k if a == "SIL" else k
        else:
            out = sum(v for (x, _), v in inner.items() if x == a) + last[a]
            row = {b: (inner[a, b] + last[a] * first[b] / total_first) / max(out, 1) + k for b in vocab}
            row["SIL"] = last[a] / max(out, 1) * 0.3 + k
            row["</s>"] = last[a] / max(out, 1) * 0.3 + k
        tot = sum(row.values())
        lines_2.extend(f"{math.log10(v / tot):.4f} {a} {b}" for b, v in row.items())
    return ("\\data\\\n" f"ngram 1={len(lines_1)}\n" f"ngram 2={len(lines_2)}\n\n\\1-grams:\n"
            + "\n".join(lines_1) + "\n\n\\2-grams:\n" + "\n".join(lines_2) + "\n\n\\end\\\n")


def voiced_fraction(x: np.ndarray, rate: int = 8000) -> float:
    """Share of the turn's loud 32 ms frames that are periodic (normalised
    autocorrelation > 0.5 at a pitch lag of 2.5-15 ms, i.e. 67-400 Hz).
    Speech has vowels; noise bursts, clicks and coughs barely any."""
    n = int(0.032 * rate)
    f = np.asarray(x, dtype=np.float64)
    if f.size < n:
        return 0.0
    frames = f[: f.size // n * n].reshape(-1, n)
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames ** 2).sum(axis=1)
    loud = frames[energy > max(energy.max() * 0.01, n * 100.0)]
    if not len(loud):
        return 0.0
    lo, hi = int(0.0025 * rate), int(0.015 * rate)
    spec = np.fft.rfft(loud, 2 * n, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :n]
    peak = ac[:, lo:hi].max(axis=1) / np.maximum(ac[:, 0], 1e-9)
    return float(np.mean(peak > 0.5))
