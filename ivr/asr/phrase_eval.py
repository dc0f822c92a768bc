"""A word/phrase-level test for grammar recognizers, built from real speech.

The real Taiwanese sentences (``../shared/data/taiwanese-real``) are
force-aligned with the sphinx engine (``ivr.asr.align``) and cut into phrase
clips of 2-4 syllables. Trials then pose the IVR question: the step's grammar
is a handful of phrases and the caller says

* one of them (in-grammar: the answer must be that phrase), or
* something else (out-of-grammar: the answer must be a rejection) — another
  Taiwanese phrase, a piece of real Mandarin speech, noise, a cough-like
  burst, clicks or silence.

Every clip also comes as a telephone copy (300-3400 Hz, 8 kHz, G.711 μ-law)
and a noisy copy (white noise at 10 dB SNR). Sentences and Mandarin files are
split in two halves so a threshold chosen on ``dev`` is reported on ``test``.
Nothing is written to disk; the clips live in memory."""
from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ivr.asr.align import Syllable, align_syllables
from ivr.audio.wav import read_wav
from ivr.errors import IvrError

RATE = 16000
CONDITIONS = ("clean", "telephone", "noisy")
SPLITS = ("dev", "test")
GRAMMAR_SIZE = 5        # phrases per step grammar: a three-choice menu plus a command or two
PHRASE_SYLLABLES = (2, 4)
EDGE_S = 0.04           # kept around the aligned span (the aligner's cut is frame-exact at best)
PAD_S = 0.25            # faint noise either side, as an endpointer leaves it
NOISY_SNR_DB = 10.0


@dataclass(frozen=True)
class Clip:
    text: str            # toneless Tâi-lô phrase; "" for anything that is not a Taiwanese phrase
    kind: str            # taiwanese | mandarin | noise | cough | clicks | silence
    source: str          # sentence id / file name / generator seed
    samples: np.ndarray  # int16 at RATE


@dataclass(frozen=True)
class Trial:
    grammar: tuple[str, ...]
    clip: Clip
    expected: str        # the grammar phrase said, or "" when the answer must be a rejection

    @property
    def in_grammar(self) -> bool:
        return bool(self.expected)


def read_sentences(data_dir: Path) -> list[tuple[str, list[str]]]:
    """(id, toneless syllables) from ``transcripts.txt``."""
    path = data_dir / "transcripts.txt"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise IvrError(f"cannot read transcripts: {e}", str(path)) from None
    rows = [line.split(None, 1) for line in lines if line.strip()]
    return [(r[0], r[1].lower().split()) for r in rows if len(r) == 2]


def aligned_sentences(data_dir: Path, engine: Any,
                      sentences: list[tuple[str, list[str]]] | None = None
                      ) -> Iterator[tuple[str, np.ndarray, list[Syllable]]]:
    """(id, 16 kHz audio, aligned syllables) of every real sentence the engine
    can force-align; a sentence it cannot align is left out."""
    for sid, syllables in sentences if sentences is not None else read_sentences(data_dir):
        samples, rate = read_wav(data_dir / f"{sid}.wav")
        if rate != RATE:
            from ivr.asr.resampling import resample

            samples = resample(samples, rate, RATE)
        try:
            spans: list[Syllable] = align_syllables(engine, samples, RATE, syllables)
        except IvrError:
            continue
        yield sid, samples, spans


def split_of(sentence_id: str, ids: list[str]) -> str:
    """Alternate sentences (in id order) between dev and test."""
    return SPLITS[sorted(ids).index(sentence_id) % 2]


def _pad(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    pad = rng.normal(0, 6, int(PAD_S * RATE))
    return np.concatenate([pad, x.astype(np.float64), pad])


def _to16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def phrase_clips(engine, data_dir: Path, seed: int = 0) -> dict[str, list[Clip]]:
    """Phrase clips per split: each aligned sentence cut into consecutive
    non-overlapping runs of 2-4 syllables. Sentences that cannot be aligned
    (loanwords without Tâi-lô, very long ones) are left out."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    sentences = read_sentences(data_dir)
    ids = [i for i, _ in sentences]
    out: dict[str, list[Clip]] = {s: [] for s in SPLITS}
    for sid, samples, spans in aligned_sentences(data_dir, engine, sentences):
        i = 0
        while i + PHRASE_SYLLABLES[0] <= len(spans):
            n = min(rng.randint(*PHRASE_SYLLABLES), len(spans) - i)
            part = spans[i:i + n]
            i += n
            a = max(0, int((part[0].start - EDGE_S) * RATE))
            b = min(samples.size, int((part[-1].end + EDGE_S) * RATE))
            if b - a < int(0.3 * RATE):
                continue
            text = " ".join(s.text for s in part)
            clip = Clip(text, "taiwanese", sid, _to16(_pad(samples[a:b], nrng)))
            out[split_of(sid, ids)].append(clip)
    return out


def speaker_of(file_name: str) -> str:
    """Who speaks in a Mandarin file: the AISHELL speaker (``BAC009S0764W0121``
    -> ``S0764``), else the file's own name without the toolkit prefix."""
    m = re.search(r"BAC009(S\d+)", file_name)
    return m.group(1) if m else Path(file_name).stem.split("_", 1)[-1]


def mandarin_clips(data_dir: Path, seed: int = 0) -> dict[str, list[Clip]]:
    """Real Mandarin speech cut into 0.8-1.6 s pieces. Speakers (not pieces)
    alternate between splits, in name order: a learned accept model fitted on
    dev must not have heard the test's Mandarin voices (pieces of one recording
    are near-copies of each other in voice and channel)."""
    rng = np.random.default_rng(seed)
    files = sorted(p for p in data_dir.glob("*.wav"))
    speakers = sorted({speaker_of(f.name) for f in files})
    out: dict[str, list[Clip]] = {s: [] for s in SPLITS}
    for f in files:
        x, rate = read_wav(f)
        if rate != RATE:
            from ivr.asr.resampling import resample

            x = resample(x, rate, RATE)
        split = SPLITS[speakers.index(speaker_of(f.name)) % 2]
        pos = int(0.2 * RATE)
        while pos + int(0.8 * RATE) < x.size:
            n = int(rng.uniform(0.8, 1.6) * RATE)
            piece = x[pos:pos + n]
            pos += n
            if np.sqrt(np.mean(piece.astype(np.float64) ** 2)) < 300:  # mostly a pause
                continue
            out[split].append(Clip("", "mandarin", f.name, _to16(_pad(piece, rng))))
    return out


def nonspeech_clips(split: str, count: int = 6) -> list[Clip]:
    """Synthetic out-of-grammar sounds a line carries: noise bursts,
    cough-like bursts, clicks, near-silence. Seeds differ per split."""
    out = []
    base = 1000 * (SPLITS.index(split) + 1)
    for k in range(count):
        rng = np.random.default_rng(base + k)
        n = int(rng.uniform(0.6, 1.5) * RATE)
        t = np.arange(n) / RATE
        white = rng.normal(0, 1, n)
        # noise burst: band of white noise at conversational level
        out.append(Clip("", "noise", f"noise{base + k}", _to16(_pad(white * rng.uniform(800, 3000), rng))))
        # cough-like: one or two bursts of low-passed noise, fast attack, ~150 ms decay
        env = np.zeros(n)
        for start in rng.uniform(0, 0.5, rng.integers(1, 3)):
            s = t - start
            env += np.where(s >= 0, np.exp(-np.clip(s, 0, None) / 0.15) * (1 - np.exp(-np.clip(s, 0, None) / 0.01)), 0)
        kernel = np.ones(8) / 8
        cough = np.convolve(white, kernel, mode="same") * env * rng.uniform(4000, 9000)
        out.append(Clip("", "cough", f"cough{base + k}", _to16(_pad(cough, rng))))
        # clicks: a few sharp decaying impulses
        clicks = np.zeros(n)
        for pos in rng.integers(0, n - 200, rng.integers(3, 8)):
            clicks[pos:pos + 200] += rng.uniform(3000, 12000) * np.exp(-np.arange(200) / 20) * rng.choice([-1, 1])
        out.append(Clip("", "clicks", f"clicks{base + k}", _to16(_pad(clicks + rng.normal(0, 6, n), rng))))
        out.append(Clip("", "silence", f"silence{base + k}", _to16(_pad(rng.normal(0, rng.uniform(3, 30), n), rng))))
    return out


def telephone(x: np.ndarray, rate: int = RATE) -> tuple[np.ndarray, int]:
    """300-3400 Hz band, 8 kHz, through G.711 μ-law and back."""
    from scipy.signal import butter, sosfiltfilt

    from ivr.asr.resampling import resample
    from ivr.audio.g711 import ulaw_decode, ulaw_encode

    sos = butter(6, [300, 3400], btype="bandpass", fs=rate, output="sos")
    y = resample(_to16(sosfiltfilt(sos, x.astype(np.float64))), rate, 8000)
    return ulaw_decode(ulaw_encode(y)).astype(np.int16), 8000


def noisy(x: np.ndarray, seed: int, snr_db: float = NOISY_SNR_DB) -> np.ndarray:
    """White noise at ``snr_db`` below the clip's loudest 100 ms stretch
    (so padding does not dilute the speech level)."""
    rng = np.random.default_rng(seed)
    f = x.astype(np.float64)
    win = int(0.1 * RATE)
    power = max(float(np.mean(f[i:i + win] ** 2)) for i in range(0, max(1, f.size - win), win // 2))
    noise = rng.normal(0, np.sqrt(power / 10 ** (snr_db / 10)), f.size)
    return _to16(f + noise)


def condition(clip: Clip, name: str, seed: int) -> tuple[np.ndarray, int]:
    """The clip's samples and rate as heard in condition ``name``."""
    if name == "clean":
        return clip.samples, RATE
    if name == "telephone":
        return telephone(clip.samples)
    if name == "noisy":
        return noisy(clip.samples, seed), RATE
    raise IvrError(f"unknown condition {name!r} (known: {', '.join(CONDITIONS)})", "phrase test")


def make_trials(phrases: list[Clip], others: list[Clip], seed: int = 0,
                grammar_size: int = GRAMMAR_SIZE) -> list[Trial]:
    """Each phrase clip once in grammar (with ``grammar_size - 1`` other
    phrase texts) and once out of grammar (a grammar of other phrases);
    each non-phrase clip once against a random grammar."""
    rng = random.Random(seed)
    texts = sorted({c.text for c in phrases})
    if len(texts) < grammar_size + 1:
        raise IvrError(f"only {len(texts)} distinct phrases; need more than {grammar_size}", "phrase test")
    trials = []
    for c in phrases:
        others_t = [t for t in texts if t != c.text]
        g = rng.sample(others_t, grammar_size - 1) + [c.text]
        rng.shuffle(g)
        trials.append(Trial(tuple(g), c, c.text))
        trials.append(Trial(tuple(rng.sample(others_t, grammar_size)), c, ""))
    for c in others:
        trials.append(Trial(tuple(rng.sample(texts, grammar_size)), c, ""))
    return trials


def build(engine, shared_data: Path, seed: int = 0) -> dict[str, list[Trial]]:
    """Trials per split from ``shared_data`` (the folder holding
    ``taiwanese-real`` and ``mandarin-real``)."""
    ph = phrase_clips(engine, shared_data / "taiwanese-real", seed)
    md = mandarin_clips(shared_data / "mandarin-real", seed) if (shared_data / "mandarin-real").is_dir() \
        else {s: [] for s in SPLITS}
    return {s: make_trials(ph[s], md[s] + nonspeech_clips(s), seed + k) for k, s in enumerate(SPLITS)}
