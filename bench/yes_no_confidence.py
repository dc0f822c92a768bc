"""Recognizer confidence on yes/no answers: where a protective step's floor goes.

    python bench/yes_no_confidence.py [--out bench/results/yes_no_confidence.json]

Every yes/no answer in the audio fixtures and the understanding set's Mandarin
yes/no lines already synthesized into the user cache by bench/understanding_audio.py
(any voice), plus up to 50 dev/test lines in espeak (synthesized into the same cache),
each heard clean, over the telephone and at 10 dB SNR by Whisper with the yes/no
hints, as a call would. Each turn is classed by what the NLU makes of the
transcript: right (the caller's answer), wrong (another answer, or an answer to a
hedge) or undecided; the report gives the recognizer's confidence
(UserInput.confidence) for each class and, per candidate floor, how many right
and wrong answers would still decide. ivr/dialog/protect.py MIN_ASR_CONFIDENCE is
chosen from this: the lowest floor that lets no wrong answer decide.
With --rescore, also the top phrase of Whisper's rescoring (ivr/asr/whisper_score.py)
and its calibrated confidence. Synthetic voices: a floor-and-trend check."""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio_fixtures"))

from understanding_audio import VOICES, Voices, channel, spoken
from understanding_set import ROOT, build

from ivr.audio import read_wav, resample
from ivr.nlu import Nlu
from ivr.paths import cache_home

FIXTURES = (("zh_yes", True), ("zh_no", False), ("zh_short_shide", True), ("zh_short_dui", True),
            ("zh_short_buyong", False), ("zh_short_hao", True), ("zh_short_en", True))
CONDITIONS = ("clean", "telephone", "noisy_10")
FLOORS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
EXTRA_ESPEAK = 50


def _quantiles(values: list[float]) -> dict[str, float | int | None]:
    v = sorted(values)

    def q(p: float) -> float | None:
        return round(v[min(len(v) - 1, int(p * len(v)))], 4) if v else None

    return {"n": len(v), "min": v[0] if v else None, "p10": q(0.1), "p25": q(0.25), "median": q(0.5),
            "max": v[-1] if v else None}


def main(argv: list[str] | None = None) -> int:
    from ivr.asr import load_engine

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "bench/results/yes_no_confidence.json"))
    ap.add_argument("--rescore", action="store_true", help="also rank the yes/no phrases by the audio")
    args = ap.parse_args(argv)
    nlu, engine, voices = Nlu.load(), load_engine("whisper"), Voices()
    hints = nlu.expected_phrases("yes_no", "zh-TW")
    turns: list[tuple[str, str, np.ndarray, int, object]] = []
    for name, answer in FIXTURES:
        x, rate = read_wav(ROOT / "audio_fixtures" / "audio" / f"{name}.wav")
        turns.append(("fixture", name, x, rate, answer))
    sets = build()
    items = [i for s in ("test", "dev") for i in sets[s] if i.kind == "yes_no" and i.language == "zh-TW"]
    for item in items:
        for voice, speed in VOICES:
            text = spoken(item, voice)
            key = hashlib.sha1(f"{voice}|{speed}|{text}".encode()).hexdigest()[:20]
            if (cache_home() / "bench-audio" / f"{voice}@{speed}" / f"{key}.wav").exists():
                turns.append((f"{voice}@{speed}", item.text, voices(voice, speed, text), 16000, item.expected))
    have = {(source, said) for source, said, *_ in turns}
    for item in items[:: max(1, len(items) // EXTRA_ESPEAK)][:EXTRA_ESPEAK]:
        if ("espeak@1.0", item.text) not in have:  # (once synthesized, it is in the cache and counted above)
            turns.append(("espeak@1.0", item.text, voices("espeak", 1.0, spoken(item, "espeak")), 16000,
                          item.expected))
    rows: list[dict[str, object]] = []
    for source, said, x, rate, expected in turns:
        for cond in CONDITIONS:
            pcm, sr = channel(x, rate, cond, seed=zlib.crc32(said.encode()))
            a16 = pcm.astype(np.int16) if sr == 16000 else resample(pcm.astype(np.int16), sr, 16000)
            tr = engine.recognize(a16, hints, rescore=args.rescore)  # type: ignore[attr-defined]
            u = nlu.understand("yes_no", tr.text) if tr.text.strip() else None
            value: object = u.value if u is not None and u.outcome == "accept" else None
            cls = "undecided" if value is None else "right" if value == expected else "wrong"
            row: dict[str, object] = {"source": source, "said": said, "condition": cond, "expected": expected,
                                      "heard": tr.text, "confidence": round(tr.confidence, 4), "class": cls}
            if args.rescore and tr.alternatives:
                top = tr.alternatives[0]
                row.update(top=top.text, top_confidence=round(top.confidence, 3),
                           top_value=nlu.extract("yes_no", top.text))
            rows.append(row)
    by = {c: [float(r["confidence"]) for r in rows if r["class"] == c]  # type: ignore[arg-type]
          for c in ("right", "wrong", "undecided")}
    floors = {str(f): {"right_decided": sum(v >= f for v in by["right"]),
                       "wrong_decided": sum(v >= f for v in by["wrong"])} for f in FLOORS}
    safe = [f for f in FLOORS if floors[str(f)]["wrong_decided"] == 0]
    report: dict[str, Any] = {"turns": len(rows), "conditions": list(CONDITIONS),
              "confidence": {c: _quantiles(v) for c, v in by.items()}, "floors": floors, "lowest_floor_with_no_wrong_decision": safe[0] if safe else None, "rows": rows}
    print(f"{len(rows)} yes/no turns; recognizer confidence by what the NLU made of the transcript:")
    for c, q in report["confidence"].items():
        print(f"  {c:10s} {q}")
    for f, d in floors.items():
        print(f"  floor {f:5s} right decided {d['right_decided']}/{len(by['right'])}"
              f"  wrong decided {d['wrong_decided']}/{len(by['wrong'])}")
    print(f"  lowest floor with no wrong decision: {report['lowest_floor_with_no_wrong_decision']}")
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
