"""How should Whisper decode a number step (digits, PIN/OTP, date, Taiwan ID, amount)?

    python bench/number_decoding.py [--split test] [--n 64] [--conditions clean,telephone,noisy_10]
                                    [--variants hints,plain,closed_set,example,closed_set_example,nbest4,nbest5]
                                    [--out bench/results/number_nbest_test.json]

The understanding set's number lines (bench/understanding_audio.py: same voices,
channels and cache), each turn encoded once and decoded by every variant:

    hints               the step's vocabulary listed in the prompt (零、一、…、年、月、日),
                        decoded again without it when Whisper loops: what a number step does
                        (WhisperEngine.recognize), the measure the others must beat
    plain               the base prompt only
    closed_set          plain, with every token suppressed that cannot be part of the
                        answer: Arabic and Chinese digits, units, 么洞拐兩, 年月日號民國 (dates),
                        A-Z (IDs), 元塊 (amounts), separators; end-of-text is always allowed
    example             the base prompt followed by digit-string examples of the kind
    closed_set_example  both
    nbest4, nbest5      the hints decode with beam 4 (5) returning its 4 (5) best transcripts:
                        judged three ways, "<v>" = the first transcript (score order) from
                        which the step reads a valid value (digit count, ID checksum, a
                        real date, an amount), "<v>_top1" = the first alone (what the
                        wider beam gives without the n-best), "<v>_any" = any of them right
                        (the ceiling of any choice among them)

Each transcript is judged as the audio bench judges it (the dialog's own extraction).
Measured (issue 11; dev and test split, clean / telephone / 10 dB, 64 lines each): no
variant beat the hints (test 18/14/8 of 64, dev 21/18/11); plain 19/15/6 and 19/15/6 at
about half the decoder time; closed-set decoding 13/10/2 and 14/14/7.
N-best (same sets, hints vs beam 4 / beam 5; bench/results/number_nbest_{dev,test}.json):
first valid of 4 dev 26/21/11, test 25/19/8 against the hints' 24/20/11 and 19/14/8,
but the best alone of beam 4 gives dev 24/20/11, test 22/16/8, and the next-best it
picks are as often wrong as right except at Taiwan IDs (checksum: 2 right, 0 wrong;
digit counts 5 / 7, dates 2 / 3, amounts 0 / 4). Beam 5 lost lines at 10 dB (test 6).
Wired: beam 4 at number steps, next-best read at ID steps (ivr.session.decoding).
Reading the transcripts by ear (ivr/nlu/digit_sounds.py: 鈴/林 -> 零, 起/期 -> 七, 以往 -> 一萬
inside a number only) and refusing values heard in pieces (120000千500, 1000 2000 2000):
same transcripts, dev hints 24/20/11 -> 28/23/11 with wrong values 5/6/5 -> 0/1/3; test
19/14/8 -> 19/14/8 (no line of those kinds), wrong values 9/10/11 -> 6/8/10; wired
(beam 4 + ID alternatives) dev 24/20/11 -> 28/23/11, test 23/17/8 -> 23/17/8.
Prompts with an example answer (我的號碼是零九一一，三三五，七七八。, per kind) read 4/3/0 more
dev lines but Whisper wrote the example's values into noisy turns (兩萬七千四百元 for 五百塊,
二十九號 for 二十四號): not wired. Doubled digits in the hint list (零零、一一、…): 7/6/1
against 6/5/1 of 32 dev lines, within run-to-run noise: not wired.
The decode time per turn (decoder only: the encoder pass is shared and the same for
all) is the extra cost a variant brings. Writes bench/results/number_decoding.json.
Synthetic voices are not callers: a floor-and-trend check."""
from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from understanding_audio import VOICES, Voices, channel, choose, hints, letter_sounds, spoken

from ivr.asr.resampling import resample
from ivr.asr.text import to_traditional
from ivr.asr.whisper import BASE_PROMPT, WhisperEngine, compact_hints, runaway
from ivr.dialog.extract import ALTERNATIVE_KINDS
from ivr.nlu import Nlu

KINDS = ("digits", "date", "taiwan_id", "amount")
VARIANTS = ("hints", "plain", "closed_set", "example", "closed_set_example", "nbest4", "nbest5")
OUT = Path(__file__).resolve().parent / "results" / "number_decoding.json"
NUMERALS = "0123456789零〇一二三四五六七八九十百千萬万兩两么幺洞拐"
SEPARATORS = " 、，,。.-"
KIND_CHARS = {"digits": "", "date": "年月日號号民國国",
              "taiwan_id": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "amount": "元塊块"}
EXAMPLES = {"digits": "0912345678、2468、135790。", "date": "1985年3月15日、民國74年3月15號。",
            "taiwan_id": "A123456789、F223456781。", "amount": "1230元、12500塊、3萬5000元。"}


def closed_set(engine: WhisperEngine, allowed: str) -> list[int]:
    """Token ids to suppress so that only ``allowed`` characters can be written. A
    character the tokenizer splits into byte pieces keeps those pieces."""
    tok = engine._tokenizer
    pieces: set[int] = set()
    for ch in allowed:
        for s in (ch, " " + ch):
            ids = tok.encode(s)
            if len(ids) > 1:
                pieces.update(ids)
    out = []
    for i in range(tok.eot):
        text = tok.decode([i])
        if "\ufffd" in text:
            if i not in pieces:
                out.append(i)
        elif not text.strip() or not all(c in allowed for c in text.replace(" ", "")):
            out.append(i)
    return out


def heard(engine: WhisperEngine, encoded: object, n: int, seconds: float, variant: str, kind: str,
          step_hints: Sequence[str], suppress: dict[str, list[int]]) -> str:
    """The transcript a variant gives, cleaned as WhisperEngine.recognize cleans it."""
    prompt = BASE_PROMPT + (EXAMPLES[kind] if variant.endswith("example") else "")
    sup = suppress[kind] if variant.startswith("closed_set") else []
    if variant == "hints":
        listed = compact_hints(step_hints)
        text, avg, no_speech = engine._generate(encoded, n, BASE_PROMPT + "、".join(listed) + "。")
        if runaway(text, seconds):
            text, avg, no_speech = engine._generate(encoded, n, BASE_PROMPT)
    else:
        text, avg, no_speech = engine._generate(encoded, n, prompt, sup)
    if (no_speech >= 0.8 and avg <= -0.6) or runaway(text, seconds):
        return ""
    return to_traditional(text.replace(BASE_PROMPT.rstrip("。"), "").strip("。, "))


def heard_all(engine: WhisperEngine, encoded: object, n: int, seconds: float, count: int,
              step_hints: Sequence[str]) -> list[str]:
    """The n-best transcripts of the hints decode, best first, each cleaned as
    WhisperEngine.recognize cleans its one; loops dropped."""
    listed = compact_hints(step_hints)
    hyps, no_speech = engine._hypotheses(encoded, n, BASE_PROMPT + "、".join(listed) + "。", count)
    if not hyps or runaway(hyps[0][0], seconds):
        hyps, no_speech = engine._hypotheses(encoded, n, BASE_PROMPT, count)
    if not hyps or (no_speech >= 0.8 and hyps[0][1] <= -0.6):
        return []
    out = []
    for text, _ in hyps:
        if runaway(text, seconds):
            continue
        out.append(to_traditional(text.replace(BASE_PROMPT.rstrip("。"), "").strip("。, ")))
    return out


def run(split: str, n: int, conditions: Sequence[str], variants: Sequence[str]) -> dict[str, object]:
    from understanding import judge, one_core

    one_core()
    from understanding_set import build

    from ivr.asr import load_engine

    engine = load_engine("whisper")
    assert isinstance(engine, WhisperEngine)
    nlu = Nlu.load()
    voices, sounds = Voices(), letter_sounds()
    chosen = choose(build()[split], n, KINDS)
    suppress = {k: closed_set(engine, NUMERALS + SEPARATORS + KIND_CHARS[k]) for k in KINDS}
    right: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    seconds: dict[str, list[float]] = defaultdict(list)
    wrong: dict[tuple[str, str], int] = defaultdict(int)  # a valid value that is not what was said
    rows = []
    t0 = time.perf_counter()
    for k, item in enumerate(chosen):
        name, speed = VOICES[k % len(VOICES)]
        x = voices(name, speed, spoken(item, name, sounds))
        for cond in conditions:
            pcm, sr = channel(x, 16000, cond, seed=zlib.crc32(item.text.encode()))
            x16 = resample(pcm.astype(np.int16), sr, 16000)
            with engine.lock:
                encoded, frames = engine._encode(x16.astype(np.float32) / 32768.0)
            row: dict[str, object] = {"text": item.text, "kind": item.kind, "voice": f"{name}@{speed}",
                                      "condition": cond}
            for v in variants:
                t1 = time.perf_counter()
                with engine.lock:
                    if v.startswith("nbest"):
                        texts = heard_all(engine, encoded, frames, x16.size / 16000, int(v[5:]), hints(nlu, item))
                    else:
                        texts = [heard(engine, encoded, frames, x16.size / 16000, v, item.kind, hints(nlu, item),
                                       suppress)]
                seconds[v].append(time.perf_counter() - t1)
                verdicts = [judge(nlu, replace(item, text=t)) if t.strip() else {"got": None, "ok": False}
                            for t in texts]
                valid = [i for i, r in enumerate(verdicts) if r["got"] is not None]
                first = valid[0] if valid else None  # the transcript whose value the step takes
                picks: dict[str, int | None] = {v: first}
                if v.startswith("nbest"):
                    # "_top1": the best alone; "_wired": what the dialog does (the next-best
                    # read only at ALTERNATIVE_KINDS steps); "_any": the ceiling
                    picks[f"{v}_top1"] = 0 if first == 0 else None
                    picks[f"{v}_wired"] = first if item.kind in ALTERNATIVE_KINDS else picks[f"{v}_top1"]
                scored = {name_: pick is not None and bool(verdicts[pick]["ok"]) for name_, pick in picks.items()}
                for name_, pick in picks.items():
                    wrong[(name_, cond)] += pick is not None and not scored[name_]
                if v.startswith("nbest"):
                    scored[f"{v}_any"] = any(bool(r["ok"]) for r in verdicts)
                for name_, ok in scored.items():
                    for key in ((name_, cond, item.kind), (name_, cond, "all")):
                        right[key][0] += ok
                        right[key][1] += 1
                row[v] = {"heard": texts if v.startswith("nbest") else texts[0], "chosen": first, "ok": scored[v]}
            rows.append(row)
    variants = [w for v in variants
                for w in ((v, f"{v}_top1", f"{v}_wired", f"{v}_any") if v.startswith("nbest") else (v,))]
    table = {v: {c: {kind: _rate(right[(v, c, kind)]) for kind in (*KINDS, "all")} for c in conditions}
             for v in variants}
    counts = {v: {c: f"{right[(v, c, 'all')][0]}/{right[(v, c, 'all')][1]}" for c in conditions} for v in variants}
    cost = {v: round(float(np.mean(seconds[v.split("_")[0] if v.startswith("nbest") else v])), 3) for v in variants}
    print(f"number decoding, {split} split, {len(chosen)} lines; understood (all number kinds) and decode s/turn:")
    print("  " + " " * 20 + "".join(f"{c:>12s}" for c in conditions) + f"{'decode s':>10s}")
    for v in variants:
        print(f"  {v:20s}" + "".join(f"{counts[v][c]:>12s}" for c in conditions) + f"{cost[v]:>10.3f}")
    return {"split": split, "n": len(chosen), "conditions": list(conditions), "variants": list(variants),
            "understood": table, "right": counts, "decode_seconds_mean": cost,
            "wrong_value": {v: {c: wrong[(v, c)] for c in conditions} for v in variants if not v.endswith("_any")},
            "load_average_1min_at_end": round(_load(), 2), "seconds": round(time.perf_counter() - t0, 1),
            "turns": rows}


def _rate(v: list[int]) -> float | None:
    return round(v[0] / v[1], 4) if v[1] else None


def _load() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return -1.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="test", choices=("dev", "test"))
    ap.add_argument("--n", type=int, default=64, help="number lines, 16 per kind by default")
    ap.add_argument("--conditions", default="clean,telephone,noisy_10")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        ap.error(f"unknown variant {bad[0]!r} (known: {', '.join(VARIANTS)})")
    result = run(args.split, args.n, [c for c in args.conditions.split(",") if c], variants)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
