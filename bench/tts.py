"""Measure the TTS engines: intelligibility (Whisper CER of the synthesized
Mandarin) and speed (RTF = synthesis seconds / audio seconds, first-call load).

    python bench/tts.py [--engines kokoro,espeak,pyttsx3]
    python bench/tts.py --first-audio [--hear] [--engines kokoro,espeak]

Prints a table and writes bench/results/tts.json. ``--first-audio``: for
sentences made at call time (the balance with the caller's name and amount,
never in the cache), the time from the decision to the first audio ready,
rendered whole, clause by clause, and spliced from the template's
pre-rendered fixed parts (``PromptRenderer.render_parts``, what a call
plays), with the total render time; ``--hear`` has Whisper check that the
spliced values are heard back. Goal (issue 14) 0.1 s. Writes
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


# made at call time: a name and an amount the cache has never seen; (template, text, spoken values)
DYNAMIC = [
    ("{customer_name}您好，您的帳戶餘額為{balance:amount}。",
     "王小明您好，您的帳戶餘額為" + verbalize_amount_zh(52340) + "。", [verbalize_amount_zh(52340)]),
    ("{customer_name}您好，您的帳戶餘額為{balance:amount}。",
     "陳美玲您好，您的帳戶餘額為" + verbalize_amount_zh(1873205) + "。", [verbalize_amount_zh(1873205)]),
    ("{customer_name}您好，提醒您本期信用卡應繳金額為{amount:amount}，繳款期限是{due_date:date}。",
     "林志豪您好，提醒您本期信用卡應繳金額為" + verbalize_amount_zh(25600) + "，繳款期限是"
     + verbalize_date_zh("2026-12-15") + "。", [verbalize_amount_zh(25600)]),
    ("您的帳戶餘額為{balance:amount}。", "您的帳戶餘額為" + verbalize_amount_zh(3080) + "。", [verbalize_amount_zh(3080)]),
    ("您尾號{card_last4:digits}的卡片已經掛失停用，案件編號{case_id}。",
     "您尾號么二三四的卡片已經掛失停用，案件編號C一二零五。", ["么二三四"]),
]
FIRST_AUDIO_GOAL_S = 0.1


def _timed_parts(parts, rate: int) -> tuple[float, float, int, np.ndarray]:
    """(first part s, all parts s, parts not ready when the one before finished playing, audio)."""
    t0 = time.perf_counter()
    first = next(parts)
    first_s = time.perf_counter() - t0
    lead, got, gaps = len(first) / rate, [first], 0
    t1 = time.perf_counter()
    for part in parts:
        gaps += (time.perf_counter() - t1) > lead
        lead = len(part) / rate
        got.append(part)
        t1 = time.perf_counter()
    return first_s, time.perf_counter() - t0, gaps, np.concatenate(got)


def first_audio(engines: list[str], out: Path, hear: bool = False) -> int:
    import os
    import tempfile

    from ivr.asr.scoring import contains
    from ivr.frames import Say
    from ivr.prompts import PromptRenderer

    asr = None
    if hear:
        from ivr.asr import load_engine
        asr = load_engine("whisper")

    def heard_ok(pcm: np.ndarray, values: list[str]) -> tuple[str, bool]:
        if asr is None:
            return "", False
        rec = asr.recognizer(16000)
        rec.set_expected(None, "zh-TW")
        rec.accept(resample(pcm, 8000, 16000).tobytes())
        text = rec.finish().text
        return text, all(contains(text, v) for v in values)

    load0 = round(os.getloadavg()[0], 2)
    results: dict[str, dict] = {}
    templates = list(dict.fromkeys(("zh-TW", t) for t, _, _ in DYNAMIC))
    for name in engines:
        tts = load_tts(name)
        tts.synthesize("你好。")  # the model loaded: a server has it loaded before its first call
        with tempfile.TemporaryDirectory() as frag_cache:
            # the fragments a server renders at warm-up (not part of any call's wait)
            t0 = time.perf_counter()
            made = PromptRenderer(tts=tts, cache_dir=frag_cache, splice_numbers=True).prewarm_templates(templates, (8000,))
            warm_s = time.perf_counter() - t0
            rows = []
            for template, text, values in DYNAMIC:
                say = Say("dynamic", "zh-TW", text)
                with tempfile.TemporaryDirectory() as cache:
                    t0 = time.perf_counter()
                    PromptRenderer(tts=tts, cache_dir=cache).render_text(text, "zh-TW", 8000)
                    whole = time.perf_counter() - t0
                with tempfile.TemporaryDirectory() as cache:
                    by_clause, _, clause_gaps, _ = _timed_parts(
                        PromptRenderer(tts=tts, cache_dir=cache).render_parts(say, 8000), 8000)
                row = {"template": template, "text": text, "whole_s": round(whole, 3),
                       "first_clause_s": round(by_clause, 3), "gaps_between_clauses": clause_gaps}
                for mode, numbers in (("spliced", False), ("spliced_numbers", True)):
                    r = PromptRenderer(tts=tts, cache_dir=frag_cache, splice=True, splice_numbers=numbers)
                    first_s, total_s, gaps, pcm = _timed_parts(r.render_parts(say, 8000), 8000)
                    heard, ok = heard_ok(pcm, values)
                    row[mode] = {"first_audio_s": round(first_s, 3), "total_s": round(total_s, 3), "gaps": gaps,
                                 "audio_s": round(len(pcm) / 8000, 2),
                                 **({"heard": heard, "values_heard": ok} if asr is not None else {})}
                rows.append(row)
                print(f"{name:8s} whole {whole:.3f}  clause {by_clause:.3f}  spliced first {row['spliced']['first_audio_s']:.3f}"
                      f" total {row['spliced']['total_s']:.3f} gaps {row['spliced']['gaps']}  numbers-spliced first "
                      f"{row['spliced_numbers']['first_audio_s']:.3f}  {text}", flush=True)
        p50 = lambda f, rows=rows: round(float(np.median([f(r) for r in rows])), 3)  # noqa: E731
        fixed_first = [r for r in rows if not r["template"].startswith("{")]
        res = {"first_audio_whole_p50_s": p50(lambda r: r["whole_s"]),
               "first_audio_by_clause_p50_s": p50(lambda r: r["first_clause_s"]),
               "first_audio_spliced_p50_s": p50(lambda r: r["spliced"]["first_audio_s"]),
               "first_audio_spliced_fixed_first_p50_s": round(float(np.median(
                   [r["spliced"]["first_audio_s"] for r in fixed_first])), 3),
               "total_spliced_p50_s": p50(lambda r: r["spliced"]["total_s"]),
               "first_audio_spliced_numbers_p50_s": p50(lambda r: r["spliced_numbers"]["first_audio_s"]),
               "fragments_rendered": made, "fragments_warm_up_s": round(warm_s, 1),
               "goal_s": FIRST_AUDIO_GOAL_S}
        res["verdict"] = "met" if res["first_audio_spliced_p50_s"] <= FIRST_AUDIO_GOAL_S else "missed"
        res["verdict_fixed_first"] = "met" if res["first_audio_spliced_fixed_first_p50_s"] <= FIRST_AUDIO_GOAL_S else "missed"
        res["sentences_n"] = len(rows)
        res["name_first_n"] = len(rows) - len(fixed_first)
        if asr is not None:
            for mode in ("spliced", "spliced_numbers"):
                res[f"{mode}_values_heard"] = sum(r[mode]["values_heard"] for r in rows)
        res["sentences"] = rows
        results[name] = res
    doc = {"bench": "tts_first_audio", "load_avg_1m_at_start": load0, "load_avg_1m": round(os.getloadavg()[0], 2),
           "note": "decision -> first audio ready for a sentence not in the cache, on the shared 2-core machine. "
                   "spliced: the template's fixed parts from the cache, values synthesized while the audio before "
                   "them plays (what a call does); spliced_numbers: numbers from pre-rendered pieces too (opt-in). "
                   "A sentence that begins with a name waits for the name's synthesis.",
           "engines": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for n, r in results.items():
        print(f"{n:8s} first audio p50: whole {r['first_audio_whole_p50_s']} s, by clause "
              f"{r['first_audio_by_clause_p50_s']} s, spliced {r['first_audio_spliced_p50_s']} s "
              f"(goal {FIRST_AUDIO_GOAL_S} s: {r['verdict'].upper()}); fixed part first "
              f"{r['first_audio_spliced_fixed_first_p50_s']} s ({r['verdict_fixed_first'].upper()}); "
              f"spliced total {r['total_spliced_p50_s']} s; load {doc['load_avg_1m_at_start']}..{doc['load_avg_1m']}")
        if "spliced_values_heard" in r:
            print(f"{n:8s} values heard back by Whisper: spliced {r['spliced_values_heard']}/{r['sentences_n']}, "
                  f"numbers spliced too {r['spliced_numbers_values_heard']}/{r['sentences_n']}")
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="kokoro,espeak,pyttsx3")
    ap.add_argument("--first-audio", action="store_true", help="only the first-audio figures (no Whisper)")
    ap.add_argument("--hear", action="store_true", help="with --first-audio: Whisper checks the spliced values")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    results_dir = Path(__file__).parent / "results"
    if a.first_audio:
        return first_audio([e for e in a.engines.split(",") if e != "pyttsx3"],
                           a.out or results_dir / "tts_first_audio.json", hear=a.hear)
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
