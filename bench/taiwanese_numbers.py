"""Taiwanese number words through the nan-TW digit-loop grammar, on real speech.

No recording of Taiwanese digits read aloud exists in ../shared/data, so the test
is cut from the 33 real sentences (``ivr.asr.number_eval``): every syllable that
is a number word (tsi̍t, lī, sì, káu, sann…, however it is meant there) alone,
3-4 of them spliced into PIN-like strings, and non-number clips plus line noise
that must not come out as digits. Syllables cut from running speech are short and
reduced: a pessimistic stand-in for a caller reading a PIN slowly.

    python bench/taiwanese_numbers.py      # -> bench/results/taiwanese_numbers.json
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("IVR_SHARED", ROOT.parent / "shared")).resolve()
OUT = ROOT / "bench" / "results" / "taiwanese_numbers.json"
CONDITIONS = ("clean", "telephone")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from ivr.asr import load_engine
    from ivr.asr import phrase_eval as pe
    from ivr.asr.number_eval import answer_digits, number_clips
    from ivr.nlu import Nlu

    data = SHARED / "data" / "taiwanese-real"
    if not data.is_dir():
        print(f"needs the real Taiwanese recordings in {data}", file=sys.stderr)
        return 2
    engine = load_engine("sphinx")
    vocab = list(Nlu.load().expected_phrases("digits", "nan-TW"))
    clips = number_clips(engine, data)
    result: dict = {"vocabulary": vocab, "clips": {k: len(v) for k, v in clips.items()}, "conditions": {}}
    for cond in CONDITIONS:
        rows: dict = {}
        audio_s = cpu_s = 0.0
        for kind, cs in clips.items():
            right = accepted = 0
            for k, c in enumerate(cs):
                x, rate = pe.condition(pe.Clip("", kind, c.source, c.samples), cond, k)
                rec = engine.recognizer(rate)
                rec.set_expected(vocab, language="nan-TW")
                step = rate // 50
                t0 = time.perf_counter()
                for i in range(0, x.size, step):
                    rec.accept(x[i:i + step].astype("<i2").tobytes())
                text = rec.finish().text
                cpu_s += time.perf_counter() - t0
                audio_s += x.size / rate
                accepted += bool(text)
                right += bool(text) and answer_digits(text) == c.digits
                rec.close()
            n = len(cs)
            if kind == "others":
                rows[kind] = {"n": n, "false_accepts": accepted, "false_accept_rate": round(accepted / max(1, n), 3)}
            else:
                rows[kind] = {"n": n, "right": right, "accepted": accepted, "right_rate": round(right / max(1, n), 3),
                              "wrong_accepted": accepted - right}
        rows["rtf"] = round(cpu_s / max(audio_s, 1e-9), 3)
        result["conditions"][cond] = rows
        print(cond, json.dumps(rows, ensure_ascii=False), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"-> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
