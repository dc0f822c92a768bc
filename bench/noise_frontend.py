"""Levers against line noise, measured on the issue-11 audio set (bench/understanding_audio.py):

    python bench/noise_frontend.py [--split dev|test] [--n 60] [--kinds intent,yes_no,commands]
                                   [--conditions clean,telephone,noisy_10] [--configs base,denoise]
                                   [--seeds 1] [--out FILE]

Each config decodes the same synthesized utterances through the same channel
(one process, one NLU state, so configs compare fairly):

    base       the engine as shipped
    before     the engine without the prompt-recital filter (ivr.asr.whisper_text.recites_prompt);
               it also reports "after": the same decodes read with the filter, as the engine does now
    denoise    ivr.audio.denoise in front of the decoder (WhisperEngine(denoise=True))
    denoise:F:O  the same with floor_db F and over-subtraction O
    trim       the turn cut to its voiced part by the VAD's frame classifier before decoding
    nohints    no step hints in the prompt
    noprompt   neither hints nor the base prompt
    beam5      beam 5 instead of 2

Per config, condition and kind: understood rate, and of the misses how many were
a *wrong value* (the dialog would act on or confirm a wrong answer) vs *nothing read*
(the step asks again). ``--seeds`` > 1 draws that many noise signals per noisy
utterance (more noisy samples without synthesizing more). Also the front end's
cost in ms of CPU per second of audio and its SNR gain on the noisy turns
(known clean reference: the telephone version of the same utterance)."""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audio_fixtures"))

from understanding_audio import VOICES, Voices, channel, choose, hints, letter_sounds, spoken
from understanding_set import MENU, Item

from ivr.asr.whisper import BASE_PROMPT
from ivr.asr.whisper_text import recites_prompt
from ivr.audio import resample
from ivr.audio.denoise import Denoiser
from ivr.dialog.closed_set import FLOORS, KINDS, MOVING_COMMANDS, decide, reading
from ivr.nlu import Nlu

CONFIGS = ("base", "before", "denoise", "nohints", "noprompt", "beam5", "trim")


def vad_trim(x: np.ndarray, rate: int) -> np.ndarray:
    """The turn cut to its voiced part (ivr.audio.vad's frame classifier) with
    0.2 s before and 0.3 s after; the whole turn when no frame is voiced."""
    from ivr.audio.vad import Endpointer

    ep = Endpointer(rate)
    n = rate // 50
    voiced = [i for i in range(0, x.size - n + 1, n) if ep.is_voiced(x[i:i + n].tobytes())]
    if not voiced:
        return x
    return x[max(0, voiced[0] - rate // 5): voiced[-1] + n + int(0.3 * rate)]
RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def configured(engine: object, name: str) -> Iterator[bool]:
    """The engine set up as ``name`` for the block; yields whether hints are given."""
    import ivr.asr.whisper as w

    saved = (engine.front_end, engine.beam_size, w.BASE_PROMPT)  # type: ignore[attr-defined]
    saved_filter = w.recites_prompt
    try:
        if name == "denoise":
            engine.front_end = Denoiser()  # type: ignore[attr-defined]
        elif name.startswith("denoise:"):  # denoise:FLOOR_DB:OVER, e.g. denoise:-10:1.0
            _, floor, over = name.split(":")
            engine.front_end = Denoiser(floor_db=float(floor), over=float(over))  # type: ignore[attr-defined]
        elif name == "before":  # the engine before this round: no prompt-recital filter
            w.recites_prompt = lambda text, prompt: False
        elif name == "trim":
            engine.front_end = vad_trim  # type: ignore[attr-defined]
        elif name == "beam5":
            engine.beam_size = 5  # type: ignore[attr-defined]
        elif name == "noprompt":
            w.BASE_PROMPT = ""
        elif name not in ("base", "nohints"):
            raise ValueError(f"unknown config {name!r} (known: {', '.join(CONFIGS)})")
        yield name not in ("nohints", "noprompt")
    finally:
        engine.front_end, engine.beam_size, w.BASE_PROMPT = saved  # type: ignore[attr-defined]
        w.recites_prompt = saved_filter


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """SNR of ``noisy`` against its clean reference, gain-matched (least squares)."""
    c = clean.astype(np.float64)
    y = noisy.astype(np.float64)
    a = float(np.dot(c, y) / max(np.dot(c, c), 1e-9))
    err = y - a * c
    return float(10 * np.log10(max(np.sum((a * c) ** 2), 1e-9) / max(np.sum(err ** 2), 1e-9)))


def front_end_figures(pairs: list[tuple[np.ndarray, np.ndarray, int]]) -> dict[str, object]:
    """Cost (ms per s of audio) and SNR before/after on (reference, noisy, rate) pairs at 16 kHz."""
    dn = Denoiser()
    spent = seconds = 0.0
    before: list[float] = []
    after: list[float] = []
    for ref, noisy, rate in pairs:
        t0 = time.perf_counter()
        out = dn(noisy, rate)
        spent += time.perf_counter() - t0
        seconds += noisy.size / rate
        before.append(snr_db(ref, noisy))
        after.append(snr_db(ref, out))
    return {"turns": len(pairs), "ms_cpu_per_s_audio": round(1000 * spent / seconds, 2) if seconds else None,
            "snr_db_mean_before": round(float(np.mean(before)), 2) if before else None,
            "snr_db_mean_after": round(float(np.mean(after)), 2) if after else None}


def run(nlu: Nlu, items: Sequence[object], n: int, kinds: Sequence[str], conditions: Sequence[str],
        configs: Sequence[str], seeds: int, judge: Callable[[Nlu, object], dict[str, object]],
        pad: tuple[float, float] = (0.0, 0.0)) -> dict[str, object]:
    from ivr.asr import load_engine

    engine = load_engine("whisper")
    voices = Voices()
    sounds = letter_sounds()
    chosen = choose(items, n, kinds)  # type: ignore[arg-type]
    turns = []  # (item, condition, seed, pcm, rate)
    pairs = []
    for k, item in enumerate(chosen):
        name, speed = VOICES[k % len(VOICES)]
        x = voices(name, speed, spoken(item, name, sounds))
        if pad != (0.0, 0.0):  # the line before and after the words, as a call's turn has (noise fills it)
            x = np.concatenate([np.zeros(int(pad[0] * 16000), np.int16), x, np.zeros(int(pad[1] * 16000), np.int16)])
        ref = None
        for cond in conditions:
            for s in range(seeds if cond.startswith("noisy_") else 1):
                seed = zlib.crc32(item.text.encode()) + s
                pcm, sr = channel(x, 16000, cond, seed=seed)
                pcm = pcm.astype(np.int16)
                turns.append((item, cond, s, pcm, sr))
                if cond == "telephone":
                    ref = resample(pcm, sr, 16000)
                elif cond.startswith("noisy_") and ref is not None:
                    pairs.append((cond, ref, resample(pcm, sr, 16000)))
    table: dict[str, dict[str, dict[str, dict[str, int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: {"n": 0, "ok": 0, "wrong": 0, "none": 0,
                                                         "accepted_wrong": 0})))
    lines: list[dict[str, object]] = []

    def tally(cfg: str, item: Item, cond: str, s: int, heard: str, confidence: float) -> None:
        v = judge(nlu, replace(item, text=heard)) if heard.strip() else {"ok": item.expected is None, "got": None}
        ok = bool(v["ok"])
        acted = acted_on(nlu, item, heard, confidence)
        for key in (item.kind, "all"):
            cell = table[cfg][cond][key]
            cell["n"] += 1
            cell["ok"] += ok
            cell["wrong"] += (not ok) and v["got"] is not None
            cell["none"] += (not ok) and v["got"] is None
            cell["accepted_wrong"] += acted is not None and acted != item.expected
        lines.append({"config": cfg, "condition": cond, "seed": s, "kind": item.kind, "text": item.text,
                      "heard": heard, "confidence": round(confidence, 3), "ok": ok,
                      "got": v["got"] if isinstance(v["got"], (str, int, bool, type(None))) else str(v["got"])})

    for cfg in configs:
        t0 = time.perf_counter()
        with configured(engine, cfg) as with_hints:
            for item, cond, s, pcm, sr in turns:
                rec = engine.recognizer(sample_rate=sr)
                rec.set_expected((hints(nlu, item) or None) if with_hints else None, item.language)
                rec.accept(pcm.tobytes())
                t = rec.finish()
                tally(cfg, item, cond, s, t.text, t.confidence)
                if cfg == "before":  # the same decode as the engine reads it now (text filters only)
                    tally("after", item, cond, s, "" if recites_prompt(t.text, BASE_PROMPT) else t.text,
                          t.confidence if not recites_prompt(t.text, BASE_PROMPT) else 0.0)
        print(f"{cfg}: {time.perf_counter() - t0:.0f} s", flush=True)
    _print(table, [c for c in table if c in configs or c == "after"], conditions, kinds)
    by_cond: dict[str, list[tuple[np.ndarray, np.ndarray, int]]] = defaultdict(list)
    for cond, ref, noisy in pairs:
        by_cond[cond].append((ref, noisy, 16000))
    fe = {cond: front_end_figures(p) for cond, p in sorted(by_cond.items())}
    for cond, f in fe.items():
        print(f"front end {cond}: SNR {f['snr_db_mean_before']} -> {f['snr_db_mean_after']} dB, "
              f"{f['ms_cpu_per_s_audio']} ms CPU per s of audio")
    return {"n": len(chosen), "pad_seconds": list(pad), "kinds": list(kinds), "conditions": list(conditions),
            "seeds": seeds, "configs": list(table), "table": table, "front_end": fe, "lines": lines}


def acted_on(nlu: Nlu, item: Item, heard: str, confidence: float) -> object:
    """The value a call would act on without asking (None: it confirms or asks
    again): a menu or yes/no through the shipped closed-set floors
    (ivr.dialog.closed_set), a command when the recognizer clears the menu's
    accept floor (unsure_command), other steps whenever a value is read."""
    if not heard.strip():
        return None
    if item.kind in KINDS:
        r = reading(nlu, item.kind, heard, item.language, list(MENU) if item.kind == "intent" else None, confidence)
        return r.value if decide(r, FLOORS[item.kind]) == "accept" else None
    if item.kind == "commands":
        cmd = nlu.commands(heard, item.language)
        if cmd in MOVING_COMMANDS and confidence < FLOORS["intent"].accept_asr:
            return None
        return cmd
    return None


def _print(table: dict, configs: Sequence[str], conditions: Sequence[str], kinds: Sequence[str]) -> None:
    print("understood; of the misses w = a wrong value read, n = nothing read; a = a wrong value acted on "
          "(closed-set floors)")
    print(f"{'':22s}" + "".join(f"{c:>19s}" for c in conditions))
    for cfg in configs:
        for kind in [*kinds, "all"]:
            cells = []
            for c in conditions:
                d = table[cfg][c][kind]
                cells.append(f"{d['ok'] / d['n']:6.1%} w{d['wrong']:<2d}n{d['none']:<2d}a{d['accepted_wrong']:<2d}"
                             if d["n"] else "-")
            print(f"{cfg:9s} {kind:12s}" + "".join(f"{x:>19s}" for x in cells))


def main(argv: list[str] | None = None) -> int:
    from understanding import judge, one_core

    one_core()
    from understanding_set import build

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--kinds", default="intent,yes_no,commands")
    ap.add_argument("--conditions", default="clean,telephone,noisy_10")
    ap.add_argument("--configs", default="base,denoise")
    ap.add_argument("--pad", default="0,0", help="seconds of line added before,after each utterance "
                    "(a call's turn: 0.3 s pre-roll, the end silence after; default 0,0 = the audio set as is)")
    ap.add_argument("--seeds", type=int, default=1, help="noise signals per noisy utterance")
    ap.add_argument("--out", default="", help="JSON file (default bench/results/noise_frontend_<split>.json)")
    args = ap.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    configs = [c for c in args.configs.split(",") if c]
    bad = [c for c in configs if c not in CONFIGS and not c.startswith("denoise:")]
    if bad:
        ap.error(f"unknown config {bad[0]!r} (known: {', '.join(CONFIGS)})")
    conditions = [c for c in args.conditions.split(",") if c]
    if "telephone" in conditions:  # the SNR reference must come before the noisy versions
        conditions.remove("telephone")
        conditions.insert(0 if conditions[:1] != ["clean"] else 1, "telephone")
    before, after = (float(v) for v in args.pad.split(","))
    result = run(Nlu.load(), build()[args.split], args.n, kinds, conditions, configs, args.seeds, judge,
                 (before, after))
    out = Path(args.out) if args.out else RESULTS / f"noise_frontend_{args.split}.json"
    result = {"split": args.split, **result}
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
