"""Measure the TTS engines: intelligibility (Whisper CER of the synthesized
Mandarin) and speed (RTF = synthesis seconds / audio seconds, first-call load).

    python bench/tts.py [--engines kokoro,espeak,pyttsx3]
    python bench/tts.py --first-audio [--engines kokoro,espeak]

Prints a table and writes bench/results/tts.json. ``--first-audio``: for
sentences made at call time (the balance with the caller's name and amount,
never in the cache), the time from the decision to the first audio ready,
rendered whole versus clause by clause (``PromptRenderer.render_parts``,
what a call plays); goal (issue 14) 0.1 s. Writes
bench/results/tts_first_audio.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ivr.asr.scoring import cer
from ivr.prompts import load_tts, verbalize_amount_zh, verbalize_date_zh, verbalize_phone_zh
from ivr.prompts.wavio import resample

SENTENCES = [
    "您好，歡迎致電，請問需要什麼服務？",
    "查詢餘額請按一，重設密碼請按二，信用卡掛失請按三。",
    "您的帳戶餘額是" + verbalize_amount_zh(1230) + "。",
    "本期應繳金額為" + verbalize_amount_zh(25600) + "，繳款截止日是" + verbalize_date_zh("2026-12-15") + "。",
    "請輸入您的身分證字號，輸入完畢請按井字鍵。",
    "我們將為您轉接專人服務，請稍候。",
    "客服專線是" + verbalize_phone_zh("0800123456") + "。",
    "謝謝您的來電，再見。",
]


# made at call time: a name and an amount the cache has never seen
DYNAMIC = [
    "王小明您好，您的帳戶餘額為" + verbalize_amount_zh(52340) + "。",
    "陳美玲您好，您的帳戶餘額為" + verbalize_amount_zh(1873205) + "。",
    "林志豪您好，本期應繳金額為" + verbalize_amount_zh(25600) + "，繳款截止日是" + verbalize_date_zh("2026-12-15") + "。",
]
FIRST_AUDIO_GOAL_S = 0.1


def first_audio(engines: list[str], out: Path) -> int:
    import os
    import tempfile

    from ivr.frames import Say
    from ivr.prompts import PromptRenderer

    load0 = round(os.getloadavg()[0], 2)
    results: dict[str, dict] = {}
    for name in engines:
        tts = load_tts(name)
        tts.synthesize("你好。")  # the model loaded: a server has it loaded before its first call
        rows = []
        for text in DYNAMIC:
            with tempfile.TemporaryDirectory() as cache:
                t0 = time.perf_counter()
                PromptRenderer(tts=tts, cache_dir=cache).render_text(text, "zh-TW", 8000)
                whole = time.perf_counter() - t0
            with tempfile.TemporaryDirectory() as cache:
                parts = PromptRenderer(tts=tts, cache_dir=cache).render_parts(Say("balance", "zh-TW", text), 8000)
                t0 = time.perf_counter()
                first = next(parts)
                by_clause = time.perf_counter() - t0
                lead = len(first) / 8000  # audio the first clause plays while the next one renders
                t1 = time.perf_counter()
                gaps = 0
                for part in parts:
                    gaps += (time.perf_counter() - t1) > lead
                    lead = len(part) / 8000
                    t1 = time.perf_counter()
            rows.append({"text": text, "whole_s": round(whole, 3), "first_clause_s": round(by_clause, 3),
                         "first_clause_audio_s": round(len(first) / 8000, 2), "gaps_between_clauses": gaps})
            print(f"{name:8s} whole {whole:.3f} s  first clause {by_clause:.3f} s  gaps {gaps}  {text}", flush=True)
        p50 = lambda key, rows=rows: round(float(np.median([r[key] for r in rows])), 3)  # noqa: E731
        results[name] = {"first_audio_whole_p50_s": p50("whole_s"), "first_audio_by_clause_p50_s": p50("first_clause_s"),
                         "goal_s": FIRST_AUDIO_GOAL_S,
                         "verdict": "met" if p50("first_clause_s") <= FIRST_AUDIO_GOAL_S else "missed",
                         "sentences": rows}
    doc = {"bench": "tts_first_audio", "load_avg_1m_at_start": load0, "load_avg_1m": round(os.getloadavg()[0], 2),
           "note": "decision -> first audio ready for a sentence not in the cache, on the shared 2-core machine",
           "engines": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for n, r in results.items():
        print(f"{n:8s} first audio p50: whole {r['first_audio_whole_p50_s']} s, by clause "
              f"{r['first_audio_by_clause_p50_s']} s (goal {FIRST_AUDIO_GOAL_S} s: {r['verdict'].upper()})")
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="kokoro,espeak,pyttsx3")
    ap.add_argument("--first-audio", action="store_true", help="only the first-audio figures (no Whisper)")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    results_dir = Path(__file__).parent / "results"
    if a.first_audio:
        return first_audio([e for e in a.engines.split(",") if e != "pyttsx3"],
                           a.out or results_dir / "tts_first_audio.json")
    a.out = a.out or results_dir / "tts.json"

    from ivr.asr import load_engine

    asr = load_engine("whisper")
    results = {}
    for name in a.engines.split(","):
        tts = load_tts(name)
        t0 = time.perf_counter()
        tts.synthesize("你好。")
        first_call = time.perf_counter() - t0
        synth_s = audio_s = 0.0
        rows = []
        for text in SENTENCES:
            t0 = time.perf_counter()
            pcm, rate = tts.synthesize(text)
            dt = time.perf_counter() - t0
            synth_s += dt
            audio_s += len(pcm) / rate
            rec = asr.recognizer(16000)
            rec.set_expected(None, "zh-TW")
            rec.accept(resample(pcm, rate, 16000).tobytes())
            heard = rec.finish().text
            rows.append({"text": text, "heard": heard, "cer": round(cer(text, heard), 3),
                         "seconds": round(len(pcm) / rate, 2), "rtf": round(dt / (len(pcm) / rate), 3)})
            print(f"{name:8s} cer={rows[-1]['cer']:.2f} rtf={rows[-1]['rtf']:.2f}  {text} -> {heard}", flush=True)
        results[name] = {
            "voice": tts.voice,
            "settings": tts.variant,
            # capped at 1 per sentence: Whisper hallucinates loops on unintelligible audio
            "cer_mean": round(float(np.mean([min(1.0, r["cer"]) for r in rows])), 3),
            "rtf": round(synth_s / audio_s, 3),
            "first_call_seconds": round(first_call, 2),
            "sentences": rows,
        }
    best = min(results, key=lambda n: results[n]["cer_mean"])
    out = {"recognizer": "whisper-base (ivr.asr)", "machine": f"{platform.machine()} {platform.python_version()}",
           "note": "CER (capped at 1 per sentence) of Whisper's transcript of the synthesized audio; real Mandarin speech scores ~0.20. "
                   "Shared 2-core machine: RTF is pessimistic when other jobs run.",
           "most_intelligible": best, "engines": results}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print()
    for n, r in results.items():
        print(f"{n:8s} voice={r['voice']:16s} {r['settings']:10s} CER={r['cer_mean']:.3f} RTF={r['rtf']:.3f} first_call={r['first_call_seconds']:.1f}s")
    print(f"most intelligible: {best}; wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
