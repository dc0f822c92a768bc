"""OPTIONAL audio condition of bench/understanding.py (``--audio N``): N test
utterances synthesized in several voices and speeds, then heard through

    clean      16 kHz, as synthesized
    telephone  8 kHz band-limit + G.711 mu-law round trip
    noisy_20 / noisy_10 / noisy_5   telephone plus pink noise at that SNR (dB)

and recognised by the Whisper engine with the step's hints, as a call would.
The transcript is judged exactly like the reference text. Slow (one Whisper
decode per utterance per condition); N bounds it. Synthetic voices are not
callers: treat these figures as a floor-and-trend check, not the product's
real-caller rate. Goals (issue 11): clean >= 95 %, telephone >= 92 %, 10 dB >= 80 %."""
from __future__ import annotations

import re
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from understanding_set import MENU, Item, han_digits, round_robin

from ivr.audio import resample, ulaw_decode, ulaw_encode
from ivr.nlu import Nlu

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio_fixtures"))
from make_fixtures import Synth, add_noise

GOALS = {"clean": 0.95, "telephone": 0.92, "noisy_10": 0.80}
CONDITIONS = ("clean", "telephone", "noisy_20", "noisy_10", "noisy_5")
# (TTS engine, speaking rate): a few voices and speeds, used in turn
VOICES = (("kokoro", 1.0), ("kokoro", 0.85), ("kokoro", 1.15), ("espeak", 1.0))


def spoken(item: Item) -> str:
    """The text as the caller says it, for the voice: digit strings and years are said
    digit by digit (a TTS reads 139145931 or 1962 as one big number)."""
    text = item.text
    if item.kind in ("digits", "taiwan_id"):
        return re.sub(r"\d", lambda m: han_digits(m.group()), text)
    if item.kind == "date":
        return re.sub(r"\d{4}(?=年)", lambda m: han_digits(m.group()), text)
    return text


def channel(x: np.ndarray, rate: int, condition: str, seed: int) -> tuple[np.ndarray, int]:
    if condition == "clean":
        return resample(x, rate, 16000), 16000
    tel = resample(x, rate, 8000)
    if condition.startswith("noisy_"):
        tel = add_noise(tel, float(condition.split("_")[1]), seed=seed)
    return ulaw_decode(ulaw_encode(tel)), 8000


def hints(nlu: Nlu, item: Item) -> tuple[str, ...]:
    if item.kind == "intent":
        return nlu.expected_phrases(list(MENU), item.language)
    if item.kind == "commands":
        return ()
    return nlu.expected_phrases(item.kind, item.language)


def run_audio(nlu: Nlu, items: list[Item], n: int,
              judge: Callable[[Nlu, Item], dict[str, object]]) -> dict[str, object]:
    from ivr.asr import load_engine

    engine = load_engine("whisper")
    synths = {name: Synth(name) for name, _ in VOICES}
    chosen = round_robin(list(items), n, key=lambda i: i.kind)
    right: dict[str, list[int]] = {c: [0, 0] for c in CONDITIONS}
    per_kind: dict[str, dict[str, list[int]]] = defaultdict(lambda: {c: [0, 0] for c in CONDITIONS})
    rows = []
    t0 = time.perf_counter()
    for k, item in enumerate(chosen):
        name, speed = VOICES[k % len(VOICES)]
        try:
            x, rate = synths[name](spoken(item), speed)
        except Exception as err:  # a voice that cannot load is reported, not fatal
            rows.append({"text": item.text, "voice": f"{name}@{speed}", "error": str(err).splitlines()[0]})
            continue
        row: dict[str, object] = {"text": item.text, "kind": item.kind, "voice": f"{name}@{speed}"}
        for cond in CONDITIONS:
            pcm, sr = channel(x, rate, cond, seed=zlib.crc32(item.text.encode()))
            rec = engine.recognizer(sample_rate=sr)
            rec.set_expected(hints(nlu, item) or None, item.language)
            rec.accept(pcm.astype(np.int16).tobytes())
            heard = rec.finish().text
            ok = bool(judge(nlu, replace(item, text=heard))["ok"]) if heard.strip() else item.expected is None
            right[cond][0] += ok
            right[cond][1] += 1
            per_kind[item.kind][cond][0] += ok
            per_kind[item.kind][cond][1] += 1
            row[cond] = {"heard": heard, "ok": ok}
        rows.append(row)
    real = run_real(nlu, engine)
    rates = {c: round(v[0] / v[1], 4) if v[1] else None for c, v in right.items()}
    print(f"audio (optional, {len(chosen)} test utterances, voices {', '.join(f'{a}@{b}' for a, b in VOICES)}):")
    for c in CONDITIONS:
        goal = GOALS.get(c)
        r = rates[c]
        flag = "" if goal is None or r is None else ("  MISSED" if r < goal else "")
        goal_s = f"  goal {goal:.0%}" if goal else ""
        print(f"  {c:10s} {r if r is None else f'{r:7.1%}'}  {right[c][0]}/{right[c][1]}{goal_s}{flag}")
    return {"optional": True, "n": len(chosen), "voices": [f"{a}@{b}" for a, b in VOICES],
            "understood": rates, "goals": GOALS,
            "missed": {c: rates[c] is not None and rates[c] < g for c, g in GOALS.items()},
            "per_kind": {k: {c: round(v[0] / v[1], 4) if v[1] else None for c, v in d.items()}
                         for k, d in sorted(per_kind.items())},
            "real_speech": real, "seconds": round(time.perf_counter() - t0, 1), "utterances": rows}


def run_real(nlu: Nlu, engine: object) -> dict[str, object]:
    """The real Mandarin clips in ../shared/data (none is a banking request), heard at the
    menu with its hints over clean and telephone channels: nothing may be taken for a service
    or a command. Counts false triggers (accepted intent or command); a 'confirm' is a question,
    counted apart."""
    from ivr.audio import read_wav

    folder = Path(__file__).resolve().parents[2] / "shared" / "data" / "mandarin-real"
    listing = folder / "transcripts.tsv"
    if not listing.exists():
        print(f"  real speech: skipped ({folder} not found)")
        return {"skipped": f"{folder} not found"}
    rows, triggers, confirms, n = [], 0, 0, 0
    for line in listing.read_text(encoding="utf-8").splitlines():
        name = line.split("\t", 1)[0].strip()
        if not name:
            continue
        x, rate = read_wav(folder / name)
        for cond in ("clean", "telephone"):
            pcm, sr = channel(x, rate, cond, seed=zlib.crc32(name.encode()))
            rec = engine.recognizer(sample_rate=sr)  # type: ignore[attr-defined]
            rec.set_expected(nlu.expected_phrases(list(MENU), "zh-TW"), "zh-TW")
            rec.accept(pcm.astype(np.int16).tobytes())
            heard = rec.finish().text
            u = nlu.understand("intent", heard, "zh-TW", candidates=list(MENU))
            cmd = nlu.commands(heard, "zh-TW")
            fired = u.outcome == "accept" or cmd is not None
            triggers += fired
            confirms += u.outcome == "confirm"
            n += 1
            rows.append({"clip": name, "condition": cond, "heard": heard, "intent": u.value, "outcome": u.outcome,
                         "command": cmd})
    print(f"  real speech (not requests), {n} clip-conditions: {triggers} false triggers, {confirms} confirmations"
          f"  goal 0")
    return {"n": n, "false_triggers": triggers, "confirmations": confirms, "goal_false_triggers": 0,
            "missed": triggers > 0, "clips": rows}
