"""Measure the TTS engines: intelligibility (Whisper CER of the synthesized
Mandarin) and speed (RTF = synthesis seconds / audio seconds, first-call load).

    python bench/tts.py [--engines kokoro,espeak,pyttsx3]

Prints a table and writes bench/results/tts.json.
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="kokoro,espeak,pyttsx3")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "tts.json")
    a = ap.parse_args(argv)

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
