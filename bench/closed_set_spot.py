"""The keyword spotter's part of bench/closed_set_engines.py (``--engines spot``).

Each utterance of the understanding set's chosen half (synthesized voices,
cached; ``understanding_audio``) goes through the channel and into the spotter
in 20 ms chunks, as on a live line; the turn's answer is what the dialog makes
of the spotter's text (the NLU's accepted value). A spotted keyword the NLU does
not accept is no answer (a switch would only take a spotted answer the
dialog accepts): counted as ``gated`` and as a rejection.

Per kind and condition: turns, decided (accepted), right, PRECISION = right /
decided (goal >= 97 %), COVERAGE = decided / turns; plus the real Mandarin
clips that are not requests (any decision there is a false accept), and the
spotter's time per turn: all of it (accept + finish) and the part after the
end of the turn (finish alone, what a caller waits)."""
from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

PRECISION_GOAL = 0.97
USEFUL_COVERAGE = 0.10  # below this share of turns decided, the switch would change little
CHUNK_S = 0.02


def labeler(nlu, kind: str, menu: Sequence[str]) -> Callable[[str], str | None]:
    """keyword -> the answer the NLU accepts for it (as text), or None."""
    cache: dict[str, str | None] = {}

    def label(keyword: str) -> str | None:
        if keyword not in cache:
            u = nlu.understand(kind, keyword, "zh-TW", candidates=list(menu) if kind == "intent" else None)
            cache[keyword] = str(u.value) if u.outcome == "accept" and u.value is not None else None
        return cache[keyword]
    return label


def answer(nlu, kind: str, text: str, menu: Sequence[str]) -> object:
    if not text:
        return None
    u = nlu.understand(kind, text, "zh-TW", candidates=list(menu) if kind == "intent" else None)
    return u.value if u.outcome == "accept" else None


def _turn(rec, pcm: np.ndarray, rate: int) -> tuple[str, float, float]:
    step = int(rate * CHUNK_S)
    t0 = time.perf_counter()
    data = pcm.astype("<i2")
    for i in range(0, data.size, step):
        rec.accept(data[i:i + step].tobytes())
    t1 = time.perf_counter()
    text = rec.finish().text
    t2 = time.perf_counter()
    return text, t2 - t0, t2 - t1


def _pct(v: list[float], q: float) -> float | None:
    return round(float(np.percentile(v, q)) * 1000, 1) if v else None


def run_spot(nlu, items, n: int, kinds: Sequence[str], conditions: Sequence[str], menu: Sequence[str],
             threshold: float | None = None, margin: float | None = None, show: bool = False) -> dict[str, object]:
    from understanding_audio import VOICES, Voices, channel, choose, hints, letter_sounds, spoken

    from ivr.asr.sphinx_spot import SpotEngine
    from ivr.registry import Registry

    opts = {k: v for k, v in (("threshold", threshold), ("margin", margin)) if v is not None}
    engine = SpotEngine(Registry().path("pocketsphinx-zh"), **opts)
    rec = engine.recognizer(8000)
    labels = {k: labeler(nlu, k, menu) for k in kinds}
    voices, sounds = Voices(), letter_sounds()
    chosen = choose(items, n, kinds)
    table: dict[str, dict[str, dict[str, int]]] = {k: {c: {"turns": 0, "decided": 0, "right": 0, "gated": 0}
                                                       for c in conditions} for k in kinds}
    whole: list[float] = []
    after: list[float] = []
    wrong: list[dict[str, object]] = []
    for k, item in enumerate(chosen):
        name, speed = VOICES[k % len(VOICES)]
        x = voices(name, speed, spoken(item, name, sounds))
        rec.set_expected(hints(nlu, item), "zh-TW", label=labels[item.kind])
        for cond in conditions:
            pcm, sr = channel(x, 16000, cond, seed=zlib.crc32(item.text.encode()))
            text, all_s, end_s = _turn(rec, pcm, sr)
            whole.append(all_s)
            after.append(end_s)
            cell = table[item.kind][cond]
            cell["turns"] += 1
            got = answer(nlu, item.kind, text, menu)
            if text and got is None:
                cell["gated"] += 1
            if got is not None:
                cell["decided"] += 1
                cell["right"] += got == item.expected
                if got != item.expected:
                    wrong.append({"text": item.text, "condition": cond, "spotted": text, "got": str(got),
                                  "want": str(item.expected)})
            if show:
                print(f"  {cond:9s} {item.kind:7s} {item.text} | {text or '-'} | {got} (want {item.expected})")
    real = _real(nlu, rec, kinds, labels, menu)
    per_kind: dict[str, object] = {}
    for kind in kinds:
        cells = table[kind]
        tot = {f: sum(c[f] for c in cells.values()) for f in ("turns", "decided", "right", "gated")}
        fa = real["false_accepts"].get(kind, 0) if isinstance(real["false_accepts"], dict) else 0
        decided = tot["decided"] + fa
        precision = round(tot["right"] / decided, 4) if decided else None
        coverage = round(tot["decided"] / tot["turns"], 4) if tot["turns"] else None
        per_kind[kind] = {
            "per_condition": {c: {**v, "precision": round(v["right"] / v["decided"], 4) if v["decided"] else None,
                                  "coverage": round(v["decided"] / v["turns"], 4) if v["turns"] else None}
                              for c, v in cells.items()},
            **tot, "real_false_accepts": fa, "precision": precision, "coverage": coverage,
            "precision_goal": PRECISION_GOAL,
            "qualifies": precision is not None and precision >= PRECISION_GOAL and (coverage or 0) >= USEFUL_COVERAGE,
        }
    return {"threshold": engine.threshold, "margin": engine.margin, "n": len(chosen), "per_kind": per_kind,
            "real_speech": real, "wrong": wrong,
            "ms_per_turn_all": {"mean": round(float(np.mean(whole)) * 1000, 1) if whole else None,
                                "p50": _pct(whole, 50), "p95": _pct(whole, 95)},
            "ms_after_end_of_turn": {"mean": round(float(np.mean(after)) * 1000, 1) if after else None,
                                     "p50": _pct(after, 50), "p95": _pct(after, 95)},
            "note": "precision counts the real non-request clips' decisions as wrong; coverage is over the "
                    "synthesized turns; a spotted keyword the NLU does not accept is a rejection (gated)"}


def _real(nlu, rec, kinds: Sequence[str], labels, menu: Sequence[str]) -> dict[str, object]:
    """Real Mandarin speech that is no request nor answer: every decision is a false accept."""
    from understanding_audio import channel

    from ivr.audio import read_wav

    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "mandarin-real"
    listing = folder / "transcripts.tsv"
    if not listing.exists():
        return {"skipped": f"{folder} not found", "false_accepts": {}}
    fa: dict[str, int] = dict.fromkeys(kinds, 0)
    taken: list[dict[str, object]] = []
    n = 0
    for line in listing.read_text(encoding="utf-8").splitlines():
        name = line.split("\t", 1)[0].strip()
        if not name:
            continue
        x, rate = read_wav(folder / name)
        pcm, sr = channel(x, rate, "telephone", seed=zlib.crc32(name.encode()))
        n += 1
        for kind in kinds:
            rec.set_expected(nlu.expected_phrases(list(menu) if kind == "intent" else kind, "zh-TW"), "zh-TW",
                             label=labels[kind])
            text, _, _ = _turn(rec, pcm, sr)
            if answer(nlu, kind, text, menu) is not None:
                fa[kind] += 1
                d = rec.last
                taken.append({"clip": name, "kind": kind, "spotted": text,
                              "score": None if d is None or d.score is None else round(d.score, 1),
                              "margin": None if d is None or d.margin is None else round(d.margin, 1)})
    return {"clips": n, "condition": "telephone", "false_accepts": fa, "taken": taken}
